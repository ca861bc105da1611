#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine, then runs them.
# This is the README's test command (`npm run test:all`) and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
# The libvirt tests run two libvirtd hosts in network namespaces, one behind sshd.
[ -x /usr/sbin/libvirtd ] || missing+=(libvirt-daemon libvirt-daemon-driver-qemu)
command -v virsh >/dev/null 2>&1 || missing+=(libvirt-clients)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ferry: installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "ferry: the tests need ${missing[*]}; install them (Debian: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

# The Electron runtime cannot be downloaded on offline machines; the renderer is tested in
# Chromium instead, and the Electron smoke test skips with its reason.
ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund
npm test
