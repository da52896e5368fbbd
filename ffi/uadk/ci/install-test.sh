#!/usr/bin/env bash
# ffi/uadk/ci/install-test.sh - installs the ffi libraries into a staging DESTDIR with
# ffi/install.sh, then builds ffi/uadk/examples/compress.c against the installed tree with
# pkg-config (dynamic and static) and runs it, in software mode and with the emulator as
# the device.
#
#   ffi/uadk/ci/install-test.sh            # PROFILE=debug: reuses the test build
#   PROFILE=release ffi/uadk/ci/install-test.sh
#
# Self-contained: installs pkg-config if missing, bounded in time, touches nothing outside
# its temporary directory, exits non-zero on failure, prints a one-line summary.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT"
export PROFILE=${PROFILE:-debug}

if ! command -v pkg-config >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pkg-config >/dev/null
fi

WORK=$(mktemp -d /tmp/uadk-install-test.XXXXXX)
EMU_PID=""
UADK_BIN=""
cleanup() {
  if [ -n "$EMU_PID" ]; then
    "$UADK_BIN" emu stop --root "$WORK/emu" >/dev/null 2>&1 || kill "$EMU_PID" 2>/dev/null || true
    wait "$EMU_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "install-test: FAILED: $*" >&2; exit 1; }

STAGE=$WORK/stage
PREFIX=/usr/local
LIBDIR=$PREFIX/lib
DESTDIR=$STAGE PREFIX=$PREFIX LIBDIR=$LIBDIR MODULESDIR=$LIBDIR/ossl-modules \
  timeout 1200 ffi/install.sh > "$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; fail "ffi/install.sh"; }
grep -E "install.sh: (installed|skip)" "$WORK/install.log" || true

VERSION=$(cargo pkgid -p uadk-ffi | sed 's/.*[#@]//')
L=$STAGE$LIBDIR
for f in "libuadk.so.$VERSION" libuadk.so.0 libuadk.so libuadk.a pkgconfig/uadk.pc; do
  [ -e "$L/$f" ] || fail "$L/$f was not installed"
done
[ -f "$STAGE$PREFIX/include/uadk.h" ] || fail "uadk.h was not installed"
[ "$(readlink "$L/libuadk.so.0")" = "libuadk.so.$VERSION" ] || fail "libuadk.so.0 does not point at libuadk.so.$VERSION"
# (Outputs are captured first: with pipefail, `grep -q` closing a pipe early fails the line.)
dyn=$(readelf -d "$L/libuadk.so.$VERSION")
grep -q 'SONAME.*\[libuadk.so.0\]' <<< "$dyn" || fail "soname is not libuadk.so.0"

export PKG_CONFIG_PATH=$L/pkgconfig PKG_CONFIG_SYSROOT_DIR=$STAGE
[ "$(pkg-config --modversion uadk)" = "$VERSION" ] || fail "pkg-config --modversion uadk"
CFLAGS="-std=c11 -Wall -Wextra -Werror"
EX=ffi/uadk/examples/compress.c
# shellcheck disable=SC2046
cc $CFLAGS "$EX" $(pkg-config --cflags --libs uadk) -o "$WORK/compress-dyn" || fail "dynamic build with pkg-config"
static_libs=$(pkg-config --variable=static_libs uadk)
[ -n "$static_libs" ] || fail "uadk.pc has no static_libs"
# shellcheck disable=SC2046,SC2086
cc $CFLAGS "$EX" $(pkg-config --cflags uadk) "$L/libuadk.a" $static_libs -o "$WORK/compress-static" \
  || fail "static build with pkg-config's static_libs"
deps=$(ldd "$WORK/compress-static")
if grep -q libuadk <<< "$deps"; then fail "the static build needs libuadk.so"; fi

# Software mode: no devices.
mkdir -p "$WORK/none"
export UADK_SYSFS_ROOT=$WORK/none/sys UADK_DEV_ROOT=$WORK/none/dev
LD_LIBRARY_PATH=$L timeout 60 "$WORK/compress-dyn" > "$WORK/sw-dyn.txt" || fail "compress (dynamic, software)"
deps=$(LD_LIBRARY_PATH=$L ldd "$WORK/compress-dyn")
grep -q "libuadk.so.0 => $L/libuadk.so.0" <<< "$deps" || fail "the dynamic build does not load the installed libuadk.so.0"
timeout 60 "$WORK/compress-static" > "$WORK/sw-static.txt" || fail "compress (static, software)"
grep -q "on software:" "$WORK/sw-dyn.txt" || fail "software mode did not report software: $(cat "$WORK/sw-dyn.txt")"

# Device mode: the emulator (built by the test run: target/<profile>/uadk).
UADK_BIN=$ROOT/target/$([ "$PROFILE" = release ] && echo release || echo debug)/uadk
mode="software only"
if [ -x "$UADK_BIN" ]; then
  "$UADK_BIN" emu start --root "$WORK/emu" --foreground > "$WORK/emu.log" 2>&1 &
  EMU_PID=$!
  for _ in $(seq 1 100); do [ -e "$WORK/emu/sys/class/uacce" ] && break; sleep 0.1; done
  export UADK_SYSFS_ROOT=$WORK/emu/sys UADK_DEV_ROOT=$WORK/emu/dev
  LD_LIBRARY_PATH=$L timeout 60 "$WORK/compress-dyn" > "$WORK/dev-dyn.txt" || fail "compress (dynamic, emulated device)"
  grep -q "on device:" "$WORK/dev-dyn.txt" || fail "device mode did not report the device: $(cat "$WORK/dev-dyn.txt")"
  mode="software and emulated device"
else
  echo "install-test: no $UADK_BIN (build uadk-cli first); device mode skipped"
fi

echo "install-test: ok: staged install of libuadk $VERSION ($(sed -n 's/.*installed \([0-9]*\) files.*/\1/p' "$WORK/install.log") files), example built with pkg-config dynamic and static, ran in $mode"
