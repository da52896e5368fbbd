# Shared by the CI scripts of ffi/provider (sourced, not run).
# Sets REPO, TARGET, PROFILE_DIR, MODULE (path of libuadk_provider.so), WORK (temp dir,
# removed on exit unless KEEP=1) and provides write_conf, need_pkg, fail, and ok.

set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
PROFILE="${PROFILE:-debug}"
PROFILE_DIR="$TARGET/$PROFILE"
MODULE="$PROFILE_DIR/libuadk_provider.so"
WORK="$(mktemp -d /tmp/uadk-provider-ci.XXXXXX)"
CLEANUPS=()
cleanup() {
    local f
    for f in "${CLEANUPS[@]}"; do eval "$f" || true; done
    if [ -n "${KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# Installs Debian packages the script needs when they are missing (root only).
need_pkg() {
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || fail "missing packages ${missing[*]} (run as root or install them)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
}

build_provider() {
    local flag=""
    [ "$PROFILE" = release ] && flag="--release"
    (cd "$REPO" && cargo build -q -p uadk-provider $flag)
    [ -f "$MODULE" ] || fail "no $MODULE after the build"
}

# write_conf FILE: an openssl.cnf activating our module (absolute path) and default,
# preferring ours (the sample ffi/provider/openssl.cnf with `module` set).
write_conf() {
    sed -e "s|^# module = .*|module = $MODULE|" "$HERE/../openssl.cnf" >"$1"
}

# stats_sum DIR KEY: sum of KEY over every stats file the processes wrote into DIR.
stats_sum() {
    python3 - "$1" "$2" <<'PY'
import json, os, sys
d, key = sys.argv[1], sys.argv[2]
total = 0
for f in os.listdir(d):
    if f.startswith("stats.") and not ".tmp" in f:
        try:
            total += json.load(open(os.path.join(d, f))).get(key, 0) or 0
        except Exception:
            pass
print(total)
PY
}
