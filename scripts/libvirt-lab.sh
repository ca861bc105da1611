#!/usr/bin/env bash
# Ferry's libvirt lab: two libvirtd "hosts" on this one machine, each in its own network
# namespace (and private mount namespace), joined by a bridge, plus sshd in host 1.
#
#   scripts/libvirt-lab.sh up --dir DIR [--guests N | --guest WSS:RATE ...]  # guests on host 1 (default one, 64 MiB working set at 20 MiB/s)
#   scripts/libvirt-lab.sh down --dir DIR             # stop and delete everything it started
#   scripts/libvirt-lab.sh status --dir DIR           # print DIR/lab.json, exit 1 if not up
#   scripts/libvirt-lab.sh daemon-stop|daemon-start --dir DIR --host 1|2   # one libvirtd away and back
#
# From the root namespace:  qemu+tcp://10.213.7.11/system, qemu+ssh://root@10.213.7.11/system
# (key DIR/id_ed25519, known hosts DIR/known_hosts) and qemu+tcp://10.213.7.12/system, which
# also listens for qemu+tls:// (lab CA and client certificate in DIR/pki/client).
# `up` prints progress on stderr and the path of DIR/lab.json as its last stdout line.
# Network: bridge ferrylv0 (10.213.7.1/24, its ifalias records the owning DIR), netns
# ferry-lv1 (.11) and ferry-lv2 (.12). Only one lab at a time; a second `up` is refused.
#
# Odd settings, and why:
#  - each libvirtd gets DIR/hN/{etc,run,lib,cache,log} bind-mounted over /etc/libvirt,
#    /run/libvirt, ... in a private mount namespace, so the two daemons share no state;
#    sshd is started with nsenter into host 1's namespaces so that /run/libvirt/libvirt-sock
#    seen by ssh sessions (virsh, virt-ssh-helper, direct-streamlocal) is host 1's socket.
#  - host_uuid differs per daemon: libvirt refuses to migrate to a host with its own UUID.
#  - qemu.conf: cgroup_controllers = [] (else both daemons share one cgroup tree and one
#    deletes the other's guest cgroup); migration_address/host = the daemon's own address
#    (loopback is refused); stdio_handler = "file" (no virtlogd in the lab); user root, no
#    security driver, no dynamic ownership (files live in DIR). libvirtd still insists on
#    a libvirt-qemu user existing, so it is created if missing.
#  - guest RAM is 256 MiB + 8 KiB: QEMU 7.2's TCG dirty tracking loses writes when guest
#    RAM is a multiple of 256 KiB. Serial file uses append='on' so a migration's
#    destination QEMU does not truncate it.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NET=10.213.7 BR=ferrylv0
T0=$EPOCHREALTIME STEP="starting"
log() { printf 'libvirt-lab: [%5.1fs] %s\n' "$(bc_sub "$EPOCHREALTIME" "$T0")" "$*" >&2; }
bc_sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
step() { STEP="$*"; log "$*"; }
die() { echo "libvirt-lab: error: $*" >&2; exit 1; }
usage() { sed -n '5,7s/^# *//p' "$0" >&2; exit 2; }

cmd="${1:-}"; [ $# -gt 0 ] && shift
dir="" guests=1 wss=() rate=() host=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="${2:-}"; shift 2 || usage ;;
    --guests) guests="${2:-}"; shift 2 || usage ;;
    --host) host="${2:-}"; shift 2 || usage ;;
    --guest) # WSS_MiB:RATE_MiBps, one guest each (lv-guest1, lv-guest2...), instead of --guests
      [[ "${2:-}" =~ ^([0-9]{1,3}):([0-9]{1,4})$ ]] || die "--guest takes WSS:RATE in MiB and MiB/s (e.g. 64:20), not '${2:-}'"
      wss+=("${BASH_REMATCH[1]}") rate+=("${BASH_REMATCH[2]}"); guests=${#wss[@]}; shift 2 ;;
    *) usage ;;
  esac
done
[ -n "$dir" ] || usage
[[ "$guests" =~ ^[0-9]$ ]] || die "--guests must be 0..9"
DIR="$(realpath -m "$dir")"
[[ "$DIR" =~ [[:space:]\'\"] ]] && die "--dir must not contain spaces or quotes (it goes into sshd_config)"

ns() { echo "ferry-lv$1"; }
addr() { echo "$NET.1$1"; }
hdir() { echo "$DIR/h$1"; }
tcp_uri() { echo "qemu+tcp://$(addr "$1")/system"; }
alive_pid() { local p; [ -s "$1" ] && p="$(<"$1")" && [[ "$p" =~ ^[0-9]+$ ]] && pid_alive "$p" && echo "$p"; }
pid_alive() { # kill -0 alone is fooled by zombies (PID 1 here may not reap daemons)
  local st; st="$(cat "/proc/$1/stat" 2>/dev/null)" && st="${st##*) }" && [ "${st%% *}" != Z ]
}
bridge_owner() { cat "/sys/class/net/$BR/ifalias" 2>/dev/null || true; }
json_str() { local s="${1//\\/\\\\}"; printf '"%s"' "${s//\"/\\\"}"; }
xml_esc() { local s="${1//&/&amp;}"; s="${s//</&lt;}"; s="${s//>/&gt;}"; printf '%s' "${s//\'/&apos;}"; }
wait_for() { # wait_for TRIES CMD...: retry every 0.5 s, bounded
  local n="$1"; shift
  for ((; n > 0; n--)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  return 1
}
lab_is_up() {
  [ -f "$DIR/lab.json" ] && alive_pid "$DIR/sshd.pid" >/dev/null &&
    alive_pid "$(hdir 1)/libvirtd.pid" >/dev/null && alive_pid "$(hdir 2)/libvirtd.pid" >/dev/null
}
stop_pidfiles() { # TERM all, wait up to 5 s, then KILL; pid files are removed
  local f p n live=()
  for f in "$@"; do p="$(alive_pid "$f")" && kill -TERM "$p" 2>/dev/null && live+=("$p"); rm -f "$f"; done
  for ((n = 50; n > 0 && ${#live[@]} > 0; n--)); do
    for p in "${!live[@]}"; do pid_alive "${live[$p]}" || unset "live[$p]"; done
    sleep 0.1
  done
  for p in "${live[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}

# ---- down: guests, daemons, then network; every step tolerates "already gone" ----------
lab_down() {
  local i d f owner
  for i in 1 2; do # guests outlive their daemon, so destroy them first (in parallel)
    alive_pid "$(hdir "$i")/libvirtd.pid" >/dev/null || continue
    for d in $(timeout 20 virsh -q -c "$(tcp_uri "$i")" list --name 2>/dev/null); do
      timeout 20 virsh -q -c "$(tcp_uri "$i")" destroy "$d" >/dev/null 2>&1 &
    done
  done
  wait
  # A guest whose daemon died: QEMU's pid file lives in the daemon's private /run/libvirt
  # (driver.pid there is the daemon's own lock file).
  for f in "$DIR"/h[12]/run/qemu/*.pid; do [ "${f##*/}" = driver.pid ] || stop_pidfiles "$f"; done
  stop_pidfiles "$DIR/sshd.pid" "$(hdir 1)/libvirtd.pid" "$(hdir 2)/libvirtd.pid"
  owner="$(bridge_owner)"
  if [ -z "$owner" ] || [ "$owner" = "$DIR" ]; then
    for i in 1 2; do
      ip netns list | grep -qw "^$(ns "$i")" || continue
      for f in $(ip netns pids "$(ns "$i")" 2>/dev/null); do kill -KILL "$f" 2>/dev/null || true; done
      ip netns del "$(ns "$i")" 2>/dev/null || true
      ip link del "ferrylv${i}h" 2>/dev/null || true
    done
    ip link del "$BR" 2>/dev/null || true
  else
    log "network belongs to the lab in $owner; left it alone"
  fi
  rm -f "$DIR/lab.json"
}

# ---- the guest domain XML template ------------------------------------------------------
guest_xml() { # NAME IMAGE_DIR SERIAL_PATH WSS RATE
  local name="$1" img serial w="${4:-64}" r="${5:-20}"
  img="$(xml_esc "$2")" serial="$(xml_esc "$3")"
  cat <<EOF
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$name</name>
  <memory unit='KiB'>262152</memory>
  <currentMemory unit='KiB'>262152</currentMemory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$img/vmlinuz</kernel>
    <initrd>$img/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 ferry.name=$name ferry.wss=$w ferry.rate=$r</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'><source path='$serial' append='on'/><target port='0'/></serial>
    <console type='file'><source path='$serial' append='on'/><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
  <!-- QEMU 7.2 under TCG loses dirty pages when a RAM block is a multiple of 256 KiB (its
       fast bitmap sync skips re-arming the TLB), and libvirt rounds <memory> to whole MiB:
       the guest runs on its own 256 MiB + 8 KiB block instead (libvirt's unused pc.ram
       block travels as zero pages). Both hosts build QEMU from this same XML. -->
  <qemu:commandline>
    <qemu:arg value='-object'/><qemu:arg value='memory-backend-ram,id=ferry.ram,size=262152K'/>
    <qemu:arg value='-machine'/><qemu:arg value='memory-backend=ferry.ram'/>
    <qemu:arg value='-m'/><qemu:arg value='262152K'/>
  </qemu:commandline>
</domain>
EOF
}

make_pki() { # a CA, a server certificate for host 2 (its IP in the SAN) and a client certificate
  local p="$DIR/pki" a2; a2="$(addr 2)"
  rm -rf "$p" && mkdir -p "$p/client"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Ferry lab CA" -keyout "$p/ca.key" -out "$p/cacert.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  issue() { # NAME SUBJECT EXTENSION [EXTENSION]
    openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$p/$1key.pem" -out "$p/$1.csr" 2>/dev/null
    openssl x509 -req -days 2 -in "$p/$1.csr" -CA "$p/cacert.pem" -CAkey "$p/ca.key" -CAcreateserial -out "$p/$1cert.pem" \
      -extfile <(printf '%s\n' "$3" "${4:-}" "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment") 2>/dev/null
  }
  issue server "/O=Ferry lab/CN=$a2" "subjectAltName=IP:$a2" "extendedKeyUsage=serverAuth"
  issue client "/O=Ferry lab/CN=ferry-client" "extendedKeyUsage=clientAuth"
  cp "$p/cacert.pem" "$p/clientcert.pem" "$p/clientkey.pem" "$p/client/"
}

write_host_config() { # N
  local i="$1" h a; h="$(hdir "$i")" a="$(addr "$i")"
  rm -rf "$h" && mkdir -p "$h"/{etc,run,lib,cache,log}
  cp -a /etc/libvirt/. "$h/etc/"
  cat >"$h/etc/libvirtd.conf" <<EOF
listen_tcp = 1
listen_tls = 0
listen_addr = "$a"
auth_tcp = "none"
auth_unix_rw = "none"
auth_unix_ro = "none"
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
host_uuid = "$(cat /proc/sys/kernel/random/uuid)"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
  if [ "$i" = 2 ]; then # host 2 also listens for TLS; client certificates are checked against the lab CA
    sed -i '/^listen_tls = 0$/d' "$h/etc/libvirtd.conf"
    printf '%s\n' 'listen_tls = 1' 'auth_tls = "none"' "ca_file = \"$DIR/pki/cacert.pem\"" \
      "cert_file = \"$DIR/pki/servercert.pem\"" "key_file = \"$DIR/pki/serverkey.pem\"" >>"$h/etc/libvirtd.conf"
  fi
  cat >"$h/etc/qemu.conf" <<EOF
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
cgroup_controllers = [ ]
stdio_handler = "file"
migration_address = "$a"
migration_host = "$a"
EOF
}

start_libvirtd() { # N
  local h; h="$(hdir "$1")"
  ip netns exec "$(ns "$1")" unshare -m --propagation private bash -c '
    set -e
    for d in etc run lib cache log; do
      case $d in etc) m=/etc/libvirt ;; run) m=/run/libvirt ;; lib) m=/var/lib/libvirt ;;
                 cache) m=/var/cache/libvirt ;; log) m=/var/log/libvirt ;; esac
      mount --bind "$1/$d" "$m"
    done
    exec /usr/sbin/libvirtd --daemon --listen --pid-file "$1/libvirtd.pid"' _ "$h" \
    >"$h/log/libvirtd.stdout" 2>&1
}

lab_up() {
  local i g a1 a2 img fp p1 p2 sp uuid1
  [ "$(id -u)" = 0 ] || die "must run as root (try: sudo $0 up --dir $dir)"
  [ -x /usr/sbin/libvirtd ] && command -v virsh >/dev/null ||
    die "libvirtd not installed: apt-get install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients"
  command -v qemu-system-x86_64 >/dev/null || die "QEMU not installed: apt-get install qemu-system-x86"
  [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null || die "sshd not installed: apt-get install openssh-server openssh-client"
  for t in ip unshare nsenter; do command -v $t >/dev/null || die "$t not installed: apt-get install iproute2 util-linux"; done
  if lab_is_up; then log "a lab is already up in $DIR"; echo "$DIR/lab.json"; exit 0; fi
  local owner; owner="$(bridge_owner)"
  [ -z "$owner" ] || [ "$owner" = "$DIR" ] ||
    die "another lab is up in $owner (bridge $BR); run: $0 down --dir $owner"
  ip -4 -o addr show | grep -v " $BR " | grep -q " inet $NET\." &&
    die "$NET.0/24 is already used on this machine (ip -4 addr); free it or edit NET in $0"
  mkdir -p "$DIR" && rm -f "$DIR"/lv-guest*.{xml,serial}
  lab_down 2>/dev/null # leftovers of an earlier, crashed lab in this DIR
  trap 'rc=$?; trap - EXIT; if [ $rc != 0 ]; then echo "libvirt-lab: up failed during: $STEP (logs in $DIR); cleaning up" >&2; lab_down 2>/dev/null || true; fi; exit $rc' EXIT

  step "checking users and the guest image"
  getent group kvm >/dev/null || groupadd --system kvm
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  getent passwd libvirt-qemu >/dev/null ||
    useradd --system -g kvm -G libvirt-qemu -M -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
  img="$("$ROOT/scripts/build-guest-image.sh" --print-dir | tail -n 1)" && [ -f "$img/vmlinuz" ] ||
    die "no guest image: run scripts/build-guest-image.sh and fix what it reports"

  step "network: bridge $BR $NET.1, netns $(ns 1) $(addr 1), $(ns 2) $(addr 2)"
  ip link add "$BR" type bridge
  ip link set "$BR" alias "$DIR"
  ip addr add "$NET.1/24" dev "$BR"
  ip link set "$BR" up
  for i in 1 2; do
    ip netns add "$(ns "$i")"
    ip link add "ferrylv${i}h" type veth peer name eth0 netns "$(ns "$i")"
    ip link set "ferrylv${i}h" master "$BR" up
    ip -n "$(ns "$i")" addr add "$(addr "$i")/24" dev eth0
    ip -n "$(ns "$i")" link set eth0 up
    ip -n "$(ns "$i")" link set lo up
  done

  step "starting two libvirtd"
  mkdir -p /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt # mount points
  command -v openssl >/dev/null || die "openssl not installed: apt-get install openssl"
  make_pki
  for i in 1 2; do write_host_config "$i"; start_libvirtd "$i" || die "libvirtd $i failed to start; see $(hdir "$i")/log/"; done
  for i in 1 2; do
    wait_for 60 virsh -q -c "$(tcp_uri "$i")" uri || die "libvirtd $i not answering on $(tcp_uri "$i"); see $(hdir "$i")/log/libvirtd.log"
  done
  # host 1 -> host 2 crosses the bridge (bridge netfilter could drop it; there is no ping here)
  wait_for 10 ip netns exec "$(ns 1)" timeout 2 bash -c "exec 3<>/dev/tcp/$(addr 2)/16509" ||
    die "$(ns 1) cannot reach $(addr 2):16509 over $BR; check bridge netfilter (sysctl net.bridge.bridge-nf-call-iptables, iptables FORWARD)"
  step "warming up (first QEMU capability probe)"
  local jobs=()
  for i in 1 2; do timeout 60 virsh -q -c "$(tcp_uri "$i")" capabilities >"$(hdir "$i")/capabilities.xml" & jobs+=($!); done
  for i in "${jobs[@]}"; do wait "$i" || die "virsh capabilities failed; see $DIR/h*/log/libvirtd.log"; done
  p1="$(alive_pid "$(hdir 1)/libvirtd.pid")" || die "libvirtd 1 died; see $(hdir 1)/log/libvirtd.log"
  p2="$(alive_pid "$(hdir 2)/libvirtd.pid")" || die "libvirtd 2 died; see $(hdir 2)/log/libvirtd.log"
  uuid1="$(grep -m1 -o '<uuid>[^<]*' "$(hdir 1)/capabilities.xml")"

  step "sshd in $(ns 1)"
  a1="$(addr 1)"
  rm -f "$DIR"/id_ed25519* "$DIR"/ssh_host_ed25519_key* "$DIR/sshd.log"
  ssh-keygen -q -t ed25519 -N '' -C ferry-lab-client -f "$DIR/id_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C ferry-lab-host -f "$DIR/ssh_host_ed25519_key"
  cp "$DIR/id_ed25519.pub" "$DIR/authorized_keys"
  echo "$a1 $(cut -d' ' -f1,2 "$DIR/ssh_host_ed25519_key.pub")" >"$DIR/known_hosts"
  fp="$(ssh-keygen -l -f "$DIR/ssh_host_ed25519_key.pub" | cut -d' ' -f2)"
  cat >"$DIR/sshd_config" <<EOF
Port 22
ListenAddress $a1
HostKey $DIR/ssh_host_ed25519_key
AuthorizedKeysFile $DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowStreamLocalForwarding yes
AllowTcpForwarding yes
PidFile $DIR/sshd.pid
StrictModes no
UsePAM no
EOF
  mkdir -p /run/sshd && chmod 0755 /run/sshd # privilege separation directory
  /usr/sbin/sshd -t -f "$DIR/sshd_config" || die "sshd rejects $DIR/sshd_config"
  nsenter -t "$p1" -m -n /usr/sbin/sshd -f "$DIR/sshd_config" -E "$DIR/sshd.log"
  wait_for 20 alive_pid "$DIR/sshd.pid" || die "sshd did not start; see $DIR/sshd.log"
  sp="$(alive_pid "$DIR/sshd.pid")"
  [ "$(timeout 20 ssh -F /dev/null -i "$DIR/id_ed25519" -o UserKnownHostsFile="$DIR/known_hosts" \
    -o BatchMode=yes -o IdentitiesOnly=yes "root@$a1" -- virsh -q -c qemu:///system capabilities |
    grep -m1 -o '<uuid>[^<]*')" = "$uuid1" ] || die "ssh to root@$a1 does not reach host 1's libvirtd; see $DIR/sshd.log"

  for ((g = 1; g <= guests; g++)); do
    step "guest lv-guest$g on lv-h1"
    guest_xml "lv-guest$g" "$img" "$DIR/lv-guest$g.serial" "${wss[g-1]:-64}" "${rate[g-1]:-20}" >"$DIR/lv-guest$g.xml"
    : >"$DIR/lv-guest$g.serial"
    virsh -q -c "$(tcp_uri 1)" define "$DIR/lv-guest$g.xml" >/dev/null
    virsh -q -c "$(tcp_uri 1)" start "lv-guest$g" >/dev/null
  done
  for ((g = 1; g <= guests; g++)); do
    wait_for 240 grep -q "ferry-guest: lv-guest$g booted" "$DIR/lv-guest$g.serial" ||
      die "lv-guest$g did not boot within 120 s; see $DIR/lv-guest$g.serial and $(hdir 1)/log/qemu/"
  done
  log "guests booted"

  a2="$(addr 2)"
  local gj="" sep=""
  for ((g = 1; g <= guests; g++)); do
    gj+="$sep{\"name\":\"lv-guest$g\",\"host\":\"lv-h1\",\"memKiB\":262152,\"wssMiB\":${wss[g-1]:-64},\"dirtyMiBps\":${rate[g-1]:-20},\"serial\":$(json_str "$DIR/lv-guest$g.serial")}"
    sep=","
  done
  printf '{"hosts":[%s,%s],"ssh":{"key":%s,"knownHosts":%s,"hostKeyFingerprint":"%s"},"guests":[%s]}\n' \
    "{\"name\":\"lv-h1\",\"netns\":\"$(ns 1)\",\"address\":\"$a1\",\"tcpUri\":\"$(tcp_uri 1)\",\"sshUri\":\"qemu+ssh://root@$a1/system\",\"libvirtdPid\":$p1,\"sshdPid\":$sp}" \
    "{\"name\":\"lv-h2\",\"netns\":\"$(ns 2)\",\"address\":\"$a2\",\"tcpUri\":\"$(tcp_uri 2)\",\"tlsUri\":\"qemu+tls://$a2/system?pkipath=$DIR/pki/client\",\"unixSocket\":\"$(hdir 2)/run/libvirt-sock\",\"sshUri\":null,\"libvirtdPid\":$p2,\"sshdPid\":null}" \
    "$(json_str "$DIR/id_ed25519")" "$(json_str "$DIR/known_hosts")" "$fp" "$gj" >"$DIR/lab.json.tmp"
  mv "$DIR/lab.json.tmp" "$DIR/lab.json"
  step "lab up"
  echo "$DIR/lab.json"
}

case "$cmd" in
  up) lab_up ;;
  down)
    [ "$(id -u)" = 0 ] || die "must run as root (try: sudo $0 down --dir $dir)"
    lab_down; log "lab in $DIR is down" ;;
  daemon-stop) # a daemon that goes away (its guests keep running, as on a real host)
    [[ "$host" =~ ^[12]$ ]] || die "daemon-stop needs --host 1 or 2"
    stop_pidfiles "$(hdir "$host")/libvirtd.pid"; log "libvirtd $host stopped" ;;
  daemon-start) # and comes back: it re-attaches to the guests still running
    [[ "$host" =~ ^[12]$ ]] || die "daemon-start needs --host 1 or 2"
    alive_pid "$(hdir "$host")/libvirtd.pid" >/dev/null && { log "libvirtd $host is running"; exit 0; }
    start_libvirtd "$host" && wait_for 60 virsh -q -c "$(tcp_uri "$host")" uri || die "libvirtd $host did not come back; see $(hdir "$host")/log/"
    log "libvirtd $host started" ;;
  status)
    if lab_is_up; then cat "$DIR/lab.json"; else echo "libvirt-lab: no lab up in $DIR" >&2; exit 1; fi ;;
  *) usage ;;
esac
