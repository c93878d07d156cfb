#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) to build, run and test tscompose:
# Debian packages, the VM suite's kernels, then npm dependencies, which builds the TypeScript and the C helper.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then echo "setup.sh: run as root (the engine drives namespaces, cgroups and bridges)" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2046
apt-get install -y -q --no-install-recommends $(grep -v '^#' .ci/apt-packages)
# The kernels the VM suite boots (test/vm), unpacked into .cache/vm rather than installed.
./test/vm/setup.sh
npm ci --no-audit --no-fund
