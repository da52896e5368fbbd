#!/usr/bin/env bash
# Builds a Linux 6.12 test kernel with our patches (kernel/patches: mempinfd and the software
# uacce device), boots it in QEMU (TCG) with two NUMA nodes, runs the guest tests
# (kernel/tests; pool/'s own tests; uadk-core's and uadk-zip's kernel_uacce tests;
# kernel/guest-tests), all built static, and prints "N passed, N failed". Any
# BUG/WARNING/Oops in the guest log fails.
#
# The kernel image is cached outside the checkout, keyed by a hash of the source package
# version, the patches and the config fragment:
#   ${UADK_KERNEL_CACHE:-/var/cache/uadk-rs/kernel}/<hash>/bzImage
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache_root=${UADK_KERNEL_CACHE:-/var/cache/uadk-rs/kernel}
jobs=$(nproc)

need=(linux-source-6.12 flex bison bc libelf-dev libssl-dev cpio busybox-static qemu-system-x86 gcc)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "kernel/test.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

src_version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( { echo "$src_version"; cat "$here"/patches/*.patch "$here/config.fragment"; } | sha256sum | cut -c1-16)
cache="$cache_root/$key"
image="$cache/bzImage"

if [ ! -f "$image" ]; then
  echo "kernel/test.sh: building kernel $src_version ($key); takes 3-10 minutes"
  work=$(mktemp -d /var/tmp/uadk-kernel.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  tar -C "$work" -xf /usr/src/linux-source-6.12.tar.xz
  ksrc="$work/linux-source-6.12"
  for p in "$here"/patches/*.patch; do patch -d "$ksrc" -p1 --quiet --forward < "$p"; done
  make -C "$ksrc" -s tinyconfig
  "$ksrc/scripts/kconfig/merge_config.sh" -m -O "$ksrc" "$ksrc/.config" "$here/config.fragment" >/dev/null
  make -C "$ksrc" -s olddefconfig
  for opt in CONFIG_MEMPINFD CONFIG_NUMA CONFIG_ACPI_NUMA CONFIG_HUGETLBFS CONFIG_MIGRATION \
             CONFIG_COMPACTION CONFIG_UACCE CONFIG_UACCE_SOFT_QM; do
    grep -q "^$opt=y" "$ksrc/.config" || { echo "kernel/test.sh: $opt did not stick in .config"; exit 1; }
  done
  make -C "$ksrc" -s -j"$jobs" bzImage
  mkdir -p "$cache"
  cp "$ksrc/arch/x86/boot/bzImage" "$image.tmp" && mv "$image.tmp" "$image"
  cp "$ksrc/.config" "$cache/config"
  rm -rf "$work"; trap - EXIT
else
  echo "kernel/test.sh: cached kernel $image"
fi

# Guest programs: static, except uadk-zip's test (see below).
out=$(mktemp -d /var/tmp/uadk-guest.XXXXXX)
trap 'rm -rf "$out"' EXIT
root="$out/root"
mkdir -p "$root"/{bin,proc,sys,dev,tmp,tests}
cp /bin/busybox "$root/bin/busybox"
for a in sh mount poweroff cat echo; do ln -s busybox "$root/bin/$a"; done
cp "$here/guest/init" "$root/init"
gcc -static -O2 -Wall -o "$root/tests/run-mempinfd" "$here/tests/mempinfd_test.c"

target_dir=${CARGO_TARGET_DIR:-$repo/target}
cargo_build() { # cargo args...; prints "package target kind executable" per test/bin artifact
  cargo "$@" --release --target x86_64-unknown-linux-gnu \
    --target-dir "$target_dir" --message-format=json 2>"$out/cargo.err" \
    | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        pid = m["package_id"]
        frag = pid.split("#")[-1]
        pkg = frag.split("@")[0] if "@" in frag else pid.split("#")[0].rstrip("/").split("/")[-1]
        kind = "test" if m["profile"]["test"] else "bin"
        print(pkg, m["target"]["name"], kind, m["executable"])' \
    || { cat "$out/cargo.err" >&2; echo "kernel/test.sh: cargo $* failed" >&2; exit 1; }
}
static_build() { RUSTFLAGS="-C target-feature=+crt-static" cargo_build "$@"; }
add_libs() { # executable: copies the shared libraries it needs (uadk-zip links the system ISA-L)
  { ldd "$1" 2>/dev/null || true; } | awk '/=> \//{print $3} /^[ \t]*\/[^ ]+ \(/{print $1}' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}
add_test() { # runner-name executable env...
  local name=$1 exe=$2; shift 2
  cp "$exe" "$root/tests/$name"
  printf '#!/bin/sh\nexport %s\nexec /tests/%s --test-threads=1\n' "$*" "$name" > "$root/tests/run-$name"
  chmod +x "$root/tests/run-$name"
}

echo "kernel/test.sh: building the guest's Rust tests static"
static_build test --manifest-path "$repo/Cargo.toml" -p uadk-pool --tests --no-run > "$out/pool-tests"
while read -r _ name kind exe; do
  [ "$kind" = test ] && add_test "pool-$name" "$exe" UADK_EXPECT_MEMPINFD=1
done < "$out/pool-tests"
static_build test --manifest-path "$repo/Cargo.toml" -p uadk-core --test kernel_uacce \
  --no-run > "$out/uacce-tests"
# uadk-zip links the system ISA-L, which Debian ships only as a shared library: this one is
# dynamic, and its libraries go into the initramfs.
cargo_build test --manifest-path "$repo/Cargo.toml" -p uadk-zip --test kernel_uacce \
  --no-run >> "$out/uacce-tests"
while read -r pkg name kind exe; do
  add_test "$pkg-$name" "$exe" UADK_EXPECT_UACCE=1
  add_libs "$exe"
done < "$out/uacce-tests"
static_build test --manifest-path "$here/guest-tests/Cargo.toml" --tests --bins --no-run > "$out/guest-tests"
while read -r _ name kind exe; do
  case $kind in
    bin) cp "$exe" "$root/tests/$name" ;;
    test) add_test "guest-$name" "$exe" UADK_EXPECT_UACCE=1 UADK_EXPECT_MEMPINFD=1 \
            UADK_MIGRATOR=/tests/migrator UADK_EVIDENCE_OUT=/tmp/evidence.txt ;;
  esac
done < "$out/guest-tests"
[ -x "$root/tests/migrator" ] || { echo "kernel/test.sh: the migrator program was not built"; exit 1; }

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/initramfs.gz"

log="$out/serial.log"
echo "kernel/test.sh: booting QEMU (TCG, 2 NUMA nodes)"
timeout 900 qemu-system-x86_64 -accel tcg -cpu max -smp 2,sockets=2,cores=1,threads=1 -m 2G \
  -object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G \
  -numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1 \
  -kernel "$image" -initrd "$out/initramfs.gz" \
  -append "console=ttyS0 panic=-1 loglevel=4 no_timer_check" \
  -serial "file:$log" -display none -monitor none -no-reboot || true

cp "$log" "${UADK_GUEST_LOG:-/tmp/uadk-guest-serial.log}"
# The serial console ends lines with CR LF; count on LF-only lines.
tr -d '\r' < "$log" > "$out/serial.txt"
log="$out/serial.txt"
passed=$(grep -cE '^PASS |^test .* \.\.\. ok$' "$log" || true)
failed=$(grep -cE '^FAIL |^test .* \.\.\. FAILED$' "$log" || true)
grep -E '^FAIL |\.\.\. FAILED' "$log" || true
# A test program that crashed or exited non-zero without printing a FAIL line still fails.
crashed=$(grep -cE '^GUEST: \S+ exited [1-9]' "$log" || true)
if [ "$crashed" -gt 0 ]; then
  grep -E '^GUEST: \S+ exited [1-9]' "$log"
  failed=$((failed + crashed))
fi
grep -E '^EVIDENCE ' "$log" || true
if grep -qE 'BUG:|WARNING:|Oops|Kernel panic|Call Trace' "$log"; then
  echo "kernel/test.sh: the guest kernel logged a BUG/WARNING/Oops:"
  grep -nE -A5 'BUG:|WARNING:|Oops|Kernel panic' "$log" | head -40
  failed=$((failed + 1))
fi
if ! grep -q 'GUEST: done' "$log"; then
  echo "kernel/test.sh: the guest did not finish (see ${UADK_GUEST_LOG:-/tmp/uadk-guest-serial.log})"
  failed=$((failed + 1))
fi
echo "kernel: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
