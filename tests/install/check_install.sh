#!/usr/bin/env bash
# Install the build into a temporary prefix and build a consumer against it
# twice: with pkg-config and with CMake's find_package(sspx).
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/ | head -1)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror -o "$tmp/consumer_pc" "$src/consumer.c" $(pkg-config --cflags --libs sspx)
env -u SSPX_NTLM_USERS LD_LIBRARY_PATH="$libdir" "$tmp/consumer_pc"
cmake -S "$src" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cm" >/dev/null
env -u SSPX_NTLM_USERS LD_LIBRARY_PATH="$libdir" "$tmp/cm/consumer_cmake"
test -f "$tmp/prefix/include/sspx/sspi.h" && test -f "$libdir/libsspx.a"
echo "install: headers, shared + static library, pkg-config and CMake package all usable"
