#!/usr/bin/env bash
# Builds the guest image of Ferry's QEMU lab: a Debian cloud kernel and a gzip cpio
# initramfs holding busybox-static, guest/init and guest/dirty.c compiled static.
#
#   scripts/build-guest-image.sh [--print-dir]
#
# Everything comes from Debian packages fetched with `apt-get download` (no other network
# access) and unpacked with `dpkg -x`. The result is cached in
#   ${FERRY_GUEST_CACHE:-<repo>/.cache/guest}/<key>/{vmlinuz,initrd.gz,manifest.txt}
# where <key> hashes every input (the two package versions, guest/*, this script), so a
# second run with the same inputs does nothing, and a change to any input rebuilds.
# The last line on stdout is always the image directory (--print-dir prints only that).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${FERRY_GUEST_CACHE:-$root/.cache/guest}"
quiet=0
[ "${1:-}" = "--print-dir" ] && quiet=1

say() { [ "$quiet" = 1 ] || echo "guest-image: $*"; }
die() {
  echo "guest-image: error: $*" >&2
  exit 1
}

for tool in apt-get apt-cache dpkg-deb gcc gzip sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (Debian: apt-get install $([ "$tool" = gcc ] && echo 'gcc libc6-dev' || echo "$tool"))"
done
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -f /usr/lib/libc.a ] || die "static libc missing: gcc -static needs libc6-dev (apt-get install libc6-dev)"

# Which versions: the cloud kernel the meta-package points at, and busybox-static.
resolve_kernel() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'; }
kernel_pkg="${FERRY_GUEST_KERNEL_PKG:-}"
[ -n "$kernel_pkg" ] || kernel_pkg="$(resolve_kernel)"
if [ -z "$kernel_pkg" ] && [ "$(id -u)" = 0 ]; then
  # A fresh machine may have no package lists yet: fetch them once (root only).
  say "apt knows no linux-image-cloud-amd64 yet: running apt-get update"
  apt-get update -qq >/dev/null 2>&1 || true
  kernel_pkg="$(resolve_kernel)"
fi
[ -n "$kernel_pkg" ] || die "apt knows no linux-image-cloud-amd64 package; run 'apt-get update' (as root) so that apt-cache can resolve the Debian cloud kernel"
kernel_ver="$(apt-cache policy "$kernel_pkg" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')"
busybox_ver="$(apt-cache policy busybox-static 2>/dev/null | awk '/Candidate:/ {print $2; exit}')"
[ -n "$kernel_ver" ] && [ "$kernel_ver" != "(none)" ] || die "no candidate version for $kernel_pkg; run 'apt-get update'"
[ -n "$busybox_ver" ] && [ "$busybox_ver" != "(none)" ] || die "no candidate version for busybox-static; run 'apt-get update'"

key="$(
  {
    echo "$kernel_pkg=$kernel_ver"
    echo "busybox-static=$busybox_ver"
    sha256sum "$root/guest/init" "$root/guest/dirty.c" "$0" | awk '{print $1}'
  } | sha256sum | cut -c1-16
)"
out="$cache/$key"

if [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.gz" ] && [ -f "$out/manifest.txt" ]; then
  say "cached: $out ($kernel_pkg $kernel_ver, busybox-static $busybox_ver)"
  echo "$out"
  exit 0
fi

started=$(date +%s)
say "building into $out"
mkdir -p "$cache"
work="$(mktemp -d "$cache/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# apt-get download runs as the _apt user when it can; let it write here (else a warning).
chmod 0777 "$work"

say "downloading $kernel_pkg ($kernel_ver) and busybox-static ($busybox_ver) with apt-get download"
(cd "$work" && apt-get download -q "$kernel_pkg=$kernel_ver" "busybox-static=$busybox_ver" >"$work/apt.log" 2>&1) || {
  cat "$work/apt.log" >&2
  die "apt-get download failed (see above); the lab needs Debian's package mirror"
}

say "extracting with dpkg -x"
mkdir -p "$work/kernel" "$work/busybox"
dpkg -x "$work"/linux-image-*.deb "$work/kernel"
dpkg -x "$work"/busybox-static_*.deb "$work/busybox"
vmlinuz="$(ls "$work"/kernel/boot/vmlinuz-* 2>/dev/null | head -n1)"
[ -n "$vmlinuz" ] || die "no /boot/vmlinuz-* in $kernel_pkg"
busybox="$work/busybox/bin/busybox"
[ -x "$busybox" ] || die "no /bin/busybox in busybox-static"

say "compiling guest/dirty.c with gcc -static"
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,sbin,proc,sys,dev,tmp,etc}
gcc -O2 -static -Wall -Wextra -o "$rootfs/bin/ferry-dirty" "$root/guest/dirty.c" || die "gcc -static failed on guest/dirty.c"
strip "$rootfs/bin/ferry-dirty" 2>/dev/null || true
cp "$busybox" "$rootfs/bin/busybox"
ln -s busybox "$rootfs/bin/sh"
cp "$root/guest/init" "$rootfs/init"
chmod 0755 "$rootfs/init" "$rootfs/bin/ferry-dirty" "$rootfs/bin/busybox"

say "packing the initramfs (newc cpio, gzip)"
# busybox's own cpio packs it, so the host needs no cpio package.
(cd "$rootfs" && find . -mindepth 1 | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -9 >"$work/initrd.gz"
[ -s "$work/initrd.gz" ] || die "packing the initramfs failed"

mkdir -p "$work/out"
cp "$vmlinuz" "$work/out/vmlinuz"
mv "$work/initrd.gz" "$work/out/initrd.gz"
{
  echo "key=$key"
  echo "kernel=$kernel_pkg $kernel_ver"
  echo "busybox-static=$busybox_ver"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$work/out/manifest.txt"
rm -rf "$out"
mv "$work/out" "$out" # atomic: a half-built image is never seen as cached
say "done in $(($(date +%s) - started)) s: vmlinuz $(du -h "$out/vmlinuz" | cut -f1), initrd.gz $(du -h "$out/initrd.gz" | cut -f1)"
echo "$out"
