#!/usr/bin/env bash
# Installs the built project into a temporary prefix, then builds and runs a small program
# against the installed copy three ways: find_package (shared and static) and pkg-config.
set -euo pipefail
build_dir=$1
source_dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build_dir" --prefix "$tmp/prefix" >/dev/null
libdir=$(dirname "$(find "$tmp/prefix" -name libauthkit.so | head -n1)")
test -f "$tmp/prefix/include/authkit.h"
test -f "$libdir/pkgconfig/authkit.pc"
test -f "$libdir/cmake/authkit/authkitConfig.cmake"

cmake -S "$source_dir/tests/install/consumer" -B "$tmp/consumer" \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/consumer/consumer_shared" "$tmp/a.db"
"$tmp/consumer/consumer_static" "$tmp/b.db"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 -o "$tmp/consumer_pc" "$source_dir/tests/install/consumer/main.c" \
  $(pkg-config --cflags --libs authkit)
LD_LIBRARY_PATH="$libdir" "$tmp/consumer_pc" "$tmp/c.db"
# The shared library carries its SONAME.
objdump -p "$libdir/libauthkit.so" | grep -q 'SONAME.*libauthkit.so.0'
# Hardened as CMakeLists.txt asks: bound at load time, full RELRO, stack protector
# (grep reads all: with pipefail, grep -q would let readelf die of SIGPIPE).
for f in "$libdir/libauthkit.so" "$libdir/libauthkit_mhd.so" "$tmp/prefix/bin/authkit"; do
  for check in "-d BIND_NOW" "-lW GNU_RELRO" "-sW __stack_chk_fail"; do
    set -- $check
    readelf "$1" "$f" | grep >/dev/null "$2" || { echo "$f: no $2 (hardening)" >&2; exit 1; }
  done
done
echo "install: 3 consumers and 3 hardened binaries passed, 0 failed"
