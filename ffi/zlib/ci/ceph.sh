#!/usr/bin/env bash
# A one-node Ceph (Debian 16.2 packages: one mon, one OSD on a file-backed BlueStore) with
# pool compression forced to zlib and the OSD under LD_PRELOAD=libuadk_z.so. rados put/get
# of several MB of mixed files must round-trip byte for byte, the OSD's perf counters must
# show compressed bytes and inflates, and our counters must show the zlib calls.
# Bring-up, test and teardown in one run, on 127.0.0.1, bounded by `timeout`.
#
# Usage: ffi/zlib/ci/ceph.sh     Env: UADK_Z_LIB=path  KEEP=1  CEPH_TIMEOUT=240
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
LIB=${UADK_Z_LIB:-$ROOT/target/release/libuadk_z.so}
START=$(date +%s)

need=""
for p in ceph-mon ceph-osd ceph-common; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then
  echo "== installing$need"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
if [ ! -f "$LIB" ]; then
  (cd "$ROOT" && cargo build --release -q -p uadk-zlib)
fi

T=$(mktemp -d /tmp/uadk-z-ceph.XXXXXX)
MON_PID=""
OSD_PID=""
cleanup() {
  [ -n "$OSD_PID" ] && kill "$OSD_PID" 2>/dev/null && wait "$OSD_PID" 2>/dev/null || true
  [ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null && wait "$MON_PID" 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -20 "$T/log/osd.0.log" 2>/dev/null >&2 || true; exit 1; }
TO="timeout ${CEPH_TIMEOUT:-240}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(free_port); P2=$(free_port)
FSID=$(python3 -c 'import uuid; print(uuid.uuid4())')
mkdir -p "$T"/{mon,osd,run,log}
CONF="$T/ceph.conf"
cat > "$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$P2,v1:127.0.0.1:$P1]
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
run dir = $T/run
admin socket = $T/run/\$name.asok
log file = $T/log/\$name.log
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
osd pool default pg autoscale mode = off
paxos propose interval = 0.1
[mon.a]
mon data = $T/mon
[osd.0]
osd data = $T/osd
osd objectstore = bluestore
bluestore block path = $T/block
bluestore block create = true
bluestore block size = 4294967296
osd memory target = 1073741824
bluestore default buffered read = false
EOF
C="ceph -c $CONF"

echo "== mon"
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$P2,v1:127.0.0.1:$P1]" "$T/monmap" >/dev/null
ceph-mon -c "$CONF" -i a --mkfs --monmap "$T/monmap" >/dev/null
ceph-mon -c "$CONF" -i a -f &
MON_PID=$!
$TO $C osd dump >/dev/null || fail "mon did not come up"

echo "== osd (LD_PRELOAD=$LIB)"
UUID=$(python3 -c 'import uuid; print(uuid.uuid4())')
ID=$($C osd new "$UUID")
[ "$ID" = 0 ] || fail "unexpected osd id $ID"
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$UUID" >/dev/null 2>&1 || fail "osd mkfs"
UADK_Z_STATS="$T/stats" LD_PRELOAD="$LIB" ceph-osd -c "$CONF" -i 0 -f &
OSD_PID=$!
for _ in $(seq 120); do
  $C osd dump 2>/dev/null | grep -q '^osd.0 up' && break
  sleep 0.5
done
$C osd dump | grep -q '^osd.0 up' || fail "osd did not come up"

echo "== pool with forced zlib compression"
$C osd pool create z 8 8 >/dev/null 2>&1
$C osd pool set z compression_mode force >/dev/null 2>&1
$C osd pool set z compression_algorithm zlib >/dev/null 2>&1
$C osd pool set z compression_min_blob_size 65536 >/dev/null 2>&1

echo "== rados put/get"
python3 - "$T/data" <<'EOF'
import os, random, sys
d = sys.argv[1]; os.makedirs(d)
random.seed(7)
words = [b"object ", b"placement ", b"group ", b"bluestore ", b"ceph ", b"\n"]
def text(n):
    out = bytearray()
    while len(out) < n: out += random.choice(words)
    return bytes(out[:n])
open(f"{d}/text4m", "wb").write(text(4 << 20))
open(f"{d}/mixed3m", "wb").write(b"".join(text(48 << 10) + os.urandom(16 << 10) for _ in range(48)))
open(f"{d}/random1m", "wb").write(os.urandom(1 << 20))
open(f"{d}/small", "wb").write(text(5000))
EOF
for f in "$T"/data/*; do
  $TO rados -c "$CONF" -p z put "$(basename "$f")" "$f" || fail "rados put $f"
done
for f in "$T"/data/*; do
  $TO rados -c "$CONF" -p z get "$(basename "$f")" "$T/back" || fail "rados get $f"
  cmp -s "$f" "$T/back" || fail "$(basename "$f") does not round-trip"
done
bytes=$(du -cb "$T"/data/* | tail -1 | cut -f1)

perf=$($C --admin-daemon "$T/run/osd.0.asok" perf dump)
read -r compressed original success rejected inflates < <(python3 -c '
import json, sys
b = json.loads(sys.argv[1])["bluestore"]
print(b["bluestore_compressed"], b["bluestore_compressed_original"], b["compress_success_count"], b["compress_rejected_count"], b["decompress_lat"]["avgcount"])
' "$perf")
[ "$success" -gt 0 ] && [ "$compressed" -gt 0 ] || fail "BlueStore compressed nothing (success $success, rejected $rejected)"
[ "$inflates" -gt 0 ] || fail "no inflate on read"
read -r d i routes < <(python3 - "$T/stats" <<'EOF'
import glob, json, sys
c, r = {}, {}
for p in glob.glob(sys.argv[1] + ".*.json"):
    j = json.load(open(p))
    for k, v in j["counters"].items(): c[k] = c.get(k, 0) + v
    for k, v in j["routes"].items(): r[k] = r.get(k, 0) + v
print(c.get("deflate_streams", 0), c.get("inflate_streams", 0), "; ".join(f"{v} {k}" for k, v in sorted(r.items())))
EOF
)
[ "$d" -gt 0 ] && [ "$i" -gt 0 ] || fail "our counters show no calls (deflate $d, inflate $i)"
echo "osd perf: compress_success_count=$success rejected=$rejected bluestore_compressed=$compressed of $original original bytes, decompress count=$inflates"
echo "libuadk_z: deflate_streams=$d inflate_streams=$i; routes: $routes"

echo "== teardown"
kill "$OSD_PID"; wait "$OSD_PID" 2>/dev/null || true; OSD_PID=""
kill "$MON_PID"; wait "$MON_PID" 2>/dev/null || true; MON_PID=""
echo "PASS ceph: $bytes bytes in 4 objects round-trip through an OSD on libuadk_z ($success blobs compressed to $compressed bytes, $inflates inflates; $(( $(date +%s) - START )) s)"
