#!/usr/bin/env bash
# Fetches the kernels the VM suite boots (test/vm/README.md) into .cache/vm/, without installing
# them into the host's /boot: each Debian kernel package is downloaded with apt and unpacked there,
# and depmod indexes its modules so that the guest's modprobe finds them. Run by scripts/setup.sh
# (as root, after the apt packages of .ci/apt-packages: qemu-system-x86, cpio, kmod, xz-utils).
# Idempotent: a kernel already unpacked at the same package version is kept.
#
# Kernels: Debian 12's own (linux-image-amd64, 6.1), the 6.12 one of Debian 12's archive
# (linux-image-6.12-amd64), and Debian 11's (5.10, the floor tscompose supports), which apt reads
# from bullseye on the host's own mirror through a configuration of its own under .cache/vm/apt
# (the host's sources are not touched).
set -euo pipefail
cd "$(dirname "$0")/../.."
cache=$PWD/.cache/vm
mkdir -p "$cache"

# fetch_kernel META [apt options...]: the kernel package META depends on, unpacked into $cache/<package>.
fetch_kernel() {
  local meta=$1; shift
  local pkg version dir work kver
  pkg=$(apt-cache "$@" depends "$meta" | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
  if [ -z "$pkg" ]; then echo "test/vm/setup.sh: apt knows no kernel behind $meta (apt-get update?)" >&2; return 1; fi
  version=$(apt-cache "$@" policy "$pkg" | awk '$1 == "Candidate:" { print $2 }')
  dir="$cache/$pkg"
  if [ -f "$dir/.unpacked" ] && [ "$(cat "$dir/.unpacked")" = "$version" ]; then
    echo "vm kernel: $pkg $version (cached)"
    return 0
  fi
  work=$(mktemp -d)
  chown _apt "$work" 2>/dev/null || true
  (cd "$work" && apt-get "$@" download -q "$pkg=$version")
  rm -rf "$dir"
  dpkg-deb -x "$work"/*.deb "$dir"
  rm -rf "$work"
  kver=$(ls "$dir/lib/modules")
  depmod -b "$dir" "$kver"
  echo "$version" > "$dir/.unpacked"
  echo "vm kernel: $pkg $version -> $dir ($kver)"
}

fetch_kernel linux-image-amd64
fetch_kernel linux-image-6.12-amd64

# Debian 11 from the mirrors the host already uses for bookworm and bookworm-security.
mirror=$(apt-cache policy | awk '$2 ~ /^https?:/ && $3 ~ /^bookworm\// { print $2; exit }')
security=$(apt-cache policy | awk '$2 ~ /^https?:/ && $3 ~ /^bookworm-security\// { print $2; exit }')
apt11=$cache/apt/bullseye
mkdir -p "$apt11/lists/partial" "$apt11/archives/partial"
{
  echo "deb ${mirror:-http://deb.debian.org/debian} bullseye main"
  echo "deb ${security:-http://deb.debian.org/debian-security} bullseye-security main"
} > "$apt11/sources.list"
opts=(-o "Dir::Etc::SourceList=$apt11/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
      -o "Dir::State::Lists=$apt11/lists" -o "Dir::Cache=$apt11" -o "Dir::Cache::Archives=$apt11/archives")
chown -R _apt "$apt11/lists/partial" "$apt11/archives/partial" 2>/dev/null || true
apt-get "${opts[@]}" update -q >/dev/null
fetch_kernel linux-image-amd64 "${opts[@]}"
