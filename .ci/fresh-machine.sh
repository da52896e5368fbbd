#!/usr/bin/env bash
# The README's two commands on a "fresh machine": ISA-L (libisal2/libisal-dev) hidden in a
# private mount namespace, a separate CARGO_TARGET_DIR so no cached artifact hides a link
# dependency, then
#   1. cargo test --workspace passes,
#   2. nothing it built links libisal (readelf on every binary and shared library),
#   3. the release CLI runs a short `uadk bench` and `uadk info` names the missing library,
#      its package, and the fallback engines.
# Run as root from the repository root (CI: after the normal test step). Exits non-zero on
# failure and prints one summary line. Bounded by `timeout`; cleans up its target dir
# unless FRESH_KEEP_TARGET=1. FRESH_CARGO_ARGS adds arguments to the workspace build and
# test (e.g. "--exclude some-crate" while it is being written).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
limit=${FRESH_TIMEOUT:-2400}
target=${FRESH_TARGET_DIR:-/var/tmp/uadk-fresh-target}
log=$(mktemp -d /tmp/uadk-fresh.XXXXXX)
cleanup() {
    [ "${FRESH_KEEP_TARGET:-0}" = 1 ] || rm -rf "$target"
    rm -rf "$log"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
    echo "fresh-machine: FAIL: needs root (mount namespace)"
    exit 1
fi

# Every file of ISA-L the system has (runtime and development packages).
hide=()
for pkg in libisal2 libisal-dev; do
    if dpkg -s "$pkg" >/dev/null 2>&1; then
        while read -r f; do
            [ -f "$f" ] && hide+=("$f")
        done < <(dpkg -L "$pkg" | grep -E '\.(so(\.[0-9]+)*|a|h|pc)$' || true)
    fi
done
for f in /usr/lib/*/libisal.so* /usr/local/lib/libisal.so*; do
    [ -e "$f" ] && hide+=("$f")
done

inner() {
    set -euo pipefail
    # need WHAT COMMAND...: runs the command; on failure prints the one summary line (to
    # the script's stdout, fd 3, even when the command's output is redirected to a file).
    exec 3>&1
    need() {
        local what=$1
        shift
        if ! "$@"; then
            echo "fresh-machine: FAIL: $what" >&3
            return 1
        fi
    }
    for f in "$@"; do
        mount --bind /dev/null "$f"
    done
    # The covered library must really be gone for the dynamic loader and the linker.
    if python3 -c 'import ctypes; ctypes.CDLL("libisal.so.2")' 2>/dev/null; then
        echo "fresh-machine: FAIL: libisal.so.2 still loadable inside the namespace"
        return 1
    fi
    export CARGO_TARGET_DIR="$target"
    # shellcheck disable=SC2086
    if ! cargo test --workspace ${FRESH_CARGO_ARGS:-} > "$log/test.txt" 2>&1; then
        grep -E 'FAILED|panicked|^error' "$log/test.txt" | head -40
        echo "fresh-machine: FAIL: cargo test --workspace"
        return 1
    fi
    passed=$(grep -oE '[0-9]+ passed' "$log/test.txt" | awk '{s+=$1} END {print s+0}')
    echo "fresh-machine: cargo test --workspace passed ($passed tests); checking what it linked"
    # Every test binary, example and shared library cargo test built.
    bad=$(find "$target/debug" -maxdepth 3 -type f \( -perm -u+x -o -name '*.so' \) -print0 |
        xargs -0 -r sh -c 'for f; do readelf -d "$f" 2>/dev/null | grep -q "NEEDED.*libisal" && echo "$f"; done; true' sh)
    if [ -n "$bad" ]; then
        echo "fresh-machine: FAIL: linked against libisal: $bad"
        return 1
    fi
    need "cargo build --release -p uadk-cli" cargo build --release -p uadk-cli
    need "uadk info" "$target/release/uadk" info > "$log/info.txt"
    need "uadk info does not say ISA-L is missing" \
        grep -q 'ISA-L: not available: libisal.so.2 not found' "$log/info.txt"
    need "uadk info does not name the libisal2 package" grep -q 'libisal2' "$log/info.txt"
    need "uadk info: one-shot level 1-3 compression does not fall back to libdeflate" \
        grep -Eq 'zip +compress one-shot L1-3 +libdeflate' "$log/info.txt"
    need "uadk info: stream decompression does not fall back to zlib-rs" \
        grep -Eq 'zip +decompress stream +zlib-rs' "$log/info.txt"
    need "uadk bench zip" "$target/release/uadk" bench zip --level 1 --size 4194304 --min-secs 0.05 \
        --json > "$log/zip.json"
    need "uadk bench zip reports an ISA-L engine without ISA-L" python3 - "$log/zip.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["results"]
ours = [r for r in rows if r["impl"] == "uadk"]
assert ours and all("isa-l" not in r.get("engine", "") for r in ours), ours
assert not any(r["impl"] == "isa-l" for r in rows), "an isa-l row without ISA-L"
PY
    need "uadk bench crypto" "$target/release/uadk" bench crypto --secs 0.05 --alg aes-128-gcm \
        --alg sha256 > /dev/null
    need "uadk bench" "$target/release/uadk" bench > "$log/bench.txt"
    echo "fresh-machine: ok: ISA-L hidden (${#@} files), nothing links libisal, cargo test --workspace $passed passed, uadk bench and uadk info ran, info names libisal2 and the fallbacks"
}
export -f inner
export target log FRESH_CARGO_ARGS

rc=0
timeout "$limit" unshare -m --propagation private bash -c 'inner "$@"' inner "${hide[@]}" || rc=$?
if [ "$rc" = 124 ]; then
    echo "fresh-machine: FAIL: timed out after ${limit}s (FRESH_TIMEOUT)"
fi
exit "$rc"
