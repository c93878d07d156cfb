#!/bin/sh
# Prints "ABI NAME NUMBER" for every syscall of every ABI a kernel for the
# compiler's target runs (x86-64: x86_64, i386 and x32; arm64: aarch64), read
# from that compiler's own kernel headers. The seccomp filter is assembled in
# TypeScript (src/engine/native/runtime/seccomp.ts) from this table shipped
# beside the helper, so its numbers are always those of the helper's
# architecture, a cross-built arm64 package included, and never typed by hand.
# The C preprocessor resolves each __NR_ macro (aliases such as arm64's
# __NR3264_* and x32's (__X32_SYSCALL_BIT + n) included); the shell only adds
# up the expression, after checking it is nothing but numbers and "+".
set -eu
CC=${CC:-cc}
case "$($CC -dumpmachine)" in
  x86_64-*) abis="x86_64:asm/unistd_64.h i386:asm/unistd_32.h x32:asm/unistd_x32.h" ;;
  aarch64-*) abis="aarch64:asm/unistd.h" ;;
  *) echo "syscalls.sh: no syscall ABIs known for the target $($CC -dumpmachine)" >&2; exit 1 ;;
esac
for pair in $abis; do
  abi=${pair%%:*}
  header=${pair#*:}
  names=$(printf '#include <%s>\n' "$header" | $CC -dM -E -x c - | sed -n 's/^#define __NR_\([a-z0-9_]*\)[ 	].*/\1/p' | grep -v '^syscalls$' | sort -u)
  [ -n "$names" ] || { echo "syscalls.sh: no syscalls in <$header>" >&2; exit 1; }
  # <asm/unistd.h> first: it defines __X32_SYSCALL_BIT, which the x32 numbers add to.
  { printf '#include <asm/unistd.h>\n#include <%s>\n' "$header"
    for n in $names; do printf 'SYSCALL %s __NR_%s\n' "$n" "$n"; done
  } | $CC -w -E -P -x c - | while read -r tag name value; do
    [ "$tag" = SYSCALL ] || continue
    case "$value" in
      *[!0-9a-fx+\(\)\ ]*|'') echo "syscalls.sh: $abi $name: cannot read the number \"$value\"" >&2; exit 1 ;;
    esac
    echo "$abi $name $(( $value ))"
  done
done
