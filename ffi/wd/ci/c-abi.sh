#!/bin/sh
# CI for uadk-rs's UADK C ABI (ffi/wd): installs into a temporary prefix with
# ffi/install.sh, builds QEMU's and Ceph's call patterns and the crypto tool with
# pkg-config against the installed copy, and runs them in software mode and against the
# emulator (uadk emu start). Self-contained: installs its Debian packages if missing,
# bounded in time, loopback only (the emulator's Unix sockets), cleans up, exits non-zero
# on failure, prints one summary line. (The Rust test suite, `cargo test -p
# uadk-wd-tests`, runs the same programs from the build tree as part of the workspace.)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$here/../.." && pwd)
need=""
for p in pkg-config:pkg-config zlib1g-dev:/usr/include/zlib.h libssl-dev:/usr/include/openssl/evp.h gzip:gzip binutils:readelf; do
	pkg=${p%%:*}; probe=${p#*:}
	if ! command -v "$probe" >/dev/null 2>&1 && [ ! -e "$probe" ]; then need="$need $pkg"; fi
done
if [ -n "$need" ]; then
	if [ "$(id -u)" = 0 ]; then
		timeout 600 apt-get install -y --no-install-recommends $need >/dev/null
	else
		echo "c-abi: missing packages:$need (run as root to install them)"; exit 1
	fi
fi
work=$(mktemp -d /tmp/uadk-wd-ci.XXXXXX)
emu_root="$work/emu"
cleanup() {
	[ -d "$emu_root" ] && timeout 30 "$repo/target/debug/uadk" emu stop --root "$emu_root" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
prefix="$work/prefix"
PREFIX="$prefix" DESTDIR="" PROFILE=debug PACKAGES="uadk-wd uadk-wd-comp uadk-wd-crypto" \
	timeout 1200 "$repo/ffi/install.sh" >"$work/install.log" 2>&1 || { cat "$work/install.log"; echo "c-abi: install failed"; exit 1; }
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
export LD_LIBRARY_PATH="$prefix/lib"
fails=0; runs=0
build() { # name pkgs...
	name=$1; shift
	# shellcheck disable=SC2046
	cc -O2 -Wall -Werror -std=gnu11 "$here/tests/c/$name.c" -o "$work/$name" $(pkg-config --cflags --libs "$@") -lz -lcrypto -lpthread
}
run() { # label env... -- cmd...
	label=$1; shift
	runs=$((runs + 1))
	if env "$@" >"$work/out.txt" 2>&1; then :; else fails=$((fails + 1)); echo "c-abi: FAILED $label"; tail -20 "$work/out.txt"; fi
}
build qemu_pattern libwd_comp
build ceph_pattern libwd_comp
build crypto_tool libwd_crypto
build misuse libwd_comp libwd_crypto
build mempool_test libwd
# Linked against none of the libraries: opens libwd_comp.so.2 (and so libwd.so.2) with dlopen.
# shellcheck disable=SC2046
cc -O2 -Wall -Werror -std=gnu11 "$here/tests/c/dlopen_pool.c" -o "$work/dlopen_pool" $(pkg-config --cflags libwd) -ldl -lpthread
for t in qemu_pattern ceph_pattern crypto_tool misuse mempool_test dlopen_pool; do
	run "$t (software)" UADK_SYSFS_ROOT=/nonexistent UADK_DEV_ROOT=/nonexistent timeout 300 "$work/$t"
done
# libwd.so.2 must not need static TLS: dlopen works with no optional static-TLS reserve.
run "dlopen_pool (no optional static TLS)" GLIBC_TUNABLES=glibc.rtld.optional_static_tls=0 timeout 300 "$work/dlopen_pool"
# The emulator as the device.
timeout 1200 sh -c "cd '$repo' && cargo build -q -p uadk-cli" >"$work/cli.log" 2>&1 || { cat "$work/cli.log"; echo "c-abi: building uadk-cli failed"; exit 1; }
timeout 60 "$repo/target/debug/uadk" emu start --root "$emu_root" >/dev/null
for t in qemu_pattern ceph_pattern crypto_tool; do
	run "$t (emulator)" UADK_SYSFS_ROOT="$emu_root/sys" UADK_DEV_ROOT="$emu_root/dev" EXPECT_DEVICE=1 timeout 300 "$work/$t"
done
if [ "$fails" = 0 ]; then
	echo "c-abi: $runs runs passed (installed libwd.so.2, libwd_comp.so.2, libwd_crypto.so.2 via pkg-config; software and emulator)"
else
	echo "c-abi: $fails of $runs runs FAILED"
	exit 1
fi
