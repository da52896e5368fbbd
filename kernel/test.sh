#!/usr/bin/env bash
# Builds a Linux 6.12 test kernel with our patches (kernel/patches), boots it in QEMU (TCG)
# with two NUMA nodes, runs the guest tests (kernel/tests, and pool/'s own tests built
# static), and prints "N passed, N failed". Any BUG/WARNING/Oops in the guest log fails.
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
  for opt in CONFIG_MEMPINFD CONFIG_NUMA CONFIG_ACPI_NUMA CONFIG_HUGETLBFS CONFIG_MIGRATION; do
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

# Guest programs, all static.
out=$(mktemp -d /var/tmp/uadk-guest.XXXXXX)
trap 'rm -rf "$out"' EXIT
root="$out/root"
mkdir -p "$root"/{bin,proc,sys,dev,tmp,tests}
cp /bin/busybox "$root/bin/busybox"
for a in sh mount poweroff cat echo; do ln -s busybox "$root/bin/$a"; done
cp "$here/guest/init" "$root/init"
gcc -static -O2 -Wall -o "$root/tests/run-mempinfd" "$here/tests/mempinfd_test.c"

echo "kernel/test.sh: building pool tests static"
RUSTFLAGS="-C target-feature=+crt-static" cargo test --manifest-path "$repo/Cargo.toml" \
  --release --target x86_64-unknown-linux-gnu -p uadk-pool --tests --no-run \
  --message-format=json 2>/dev/null \
  | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["target"]["name"], m["executable"])' > "$out/pool-tests"
while read -r name exe; do
  cp "$exe" "$root/tests/pool-$name"
  printf '#!/bin/sh\nUADK_EXPECT_MEMPINFD=1 exec /tests/pool-%s --test-threads=1\n' "$name" > "$root/tests/run-pool-$name"
  chmod +x "$root/tests/run-pool-$name"
done < "$out/pool-tests"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/initramfs.gz"

log="$out/serial.log"
echo "kernel/test.sh: booting QEMU (TCG, 2 NUMA nodes)"
timeout 600 qemu-system-x86_64 -accel tcg -cpu max -smp 2,sockets=2,cores=1,threads=1 -m 2G \
  -object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G \
  -numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1 \
  -kernel "$image" -initrd "$out/initramfs.gz" \
  -append "console=ttyS0 panic=-1 loglevel=4" \
  -serial "file:$log" -display none -monitor none -no-reboot || true

cp "$log" "${UADK_GUEST_LOG:-/tmp/uadk-guest-serial.log}"
passed=$(grep -cE '^PASS |^test .* \.\.\. ok\r?$' "$log" || true)
failed=$(grep -cE '^FAIL |^test .* \.\.\. FAILED\r?$' "$log" || true)
grep -E '^FAIL |\.\.\. FAILED' "$log" || true
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
