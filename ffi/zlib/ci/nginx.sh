#!/usr/bin/env bash
# nginx (Debian nginx-light) serving gzip through libuadk_z.so under LD_PRELOAD.
#
# On 127.0.0.1 with its own prefix, config, pid, logs and temp dirs (under a temp dir):
# gzip on, gzip_types *, levels 1 / 6 / 9, and a location with `gzip_static always;
# gunzip on;` (nginx inflates .gz files for clients without gzip). Files of 0 B .. 32 MiB
# (text, random binary, already compressed) are fetched with and without
# `Accept-Encoding: gzip`; every body must decode (with gzip(1), which has its own inflater)
# to the original; error.log must have no [alert]; our counters (UADK_Z_STATS) must show
# that the preloaded library served the deflate and inflate calls. Runs in software mode,
# then with the emulated ZIP device (uadk emu) as the device. A bounded wrk run (WRK_SECS,
# default 20 s, 64 connections) must have zero errors; its requests/s is printed side by
# side with the same run on the system zlib.
#
# Usage: ffi/zlib/ci/nginx.sh            (builds target/release/libuadk_z.so and uadk if missing)
# Env:   WRK_SECS=20  UADK_Z_LIB=path  UADK_CLI=path  KEEP=1 (keep the temp dir)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
WRK_SECS=${WRK_SECS:-20}
LIB=${UADK_Z_LIB:-$ROOT/target/release/libuadk_z.so}
CLI=${UADK_CLI:-$ROOT/target/release/uadk}
START=$(date +%s)

need=""
for p in nginx-light curl wrk gzip; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then
  echo "== installing$need"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
if [ ! -f "$LIB" ] || [ ! -x "$CLI" ]; then
  echo "== building libuadk_z.so and the uadk CLI (release)"
  (cd "$ROOT" && cargo build --release -q -p uadk-zlib -p uadk-cli)
fi

T=$(mktemp -d /tmp/uadk-z-nginx.XXXXXX)
NGINX_PID=""
EMU_ROOT=""
cleanup() {
  if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; fi
  if [ -n "$EMU_ROOT" ]; then "$CLI" emu stop --root "$EMU_ROOT" >/dev/null 2>&1 || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== test files in $T/www"
mkdir -p "$T/www" "$T/static" "$T/tmp" "$T/logs"
python3 - "$T/www" <<'EOF'
import os, random, sys, gzip
d = sys.argv[1]
random.seed(42)
words = [b"the ", b"device ", b"queue ", b"<a href=\"/x\">", b"stream ", b"zlib ", b"\n", b"nginx "]
def text(n):
    out = bytearray()
    while len(out) < n:
        out += random.choice(words)
    return bytes(out[:n])
files = {
    "empty": b"", "one": b"x", "text1k": text(1024), "text100k": text(100 * 1024),
    "bin1m": os.urandom(1 << 20), "mixed4m": b"".join(text(48 << 10) + os.urandom(16 << 10) for _ in range(64)),
    "text32m": text(32 << 20),
}
files["gz2m"] = gzip.compress(text(2 << 20), 6)
for name, data in files.items():
    open(os.path.join(d, name), "wb").write(data)
EOF
for f in text100k text32m mixed4m empty; do gzip -c -6 "$T/www/$f" > "$T/static/$f.gz"; done
FILES="empty one text1k text100k bin1m mixed4m text32m gz2m"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
USER_LINE=""
[ "$(id -u)" = 0 ] && USER_LINE="user root;"   # workers must read the temp dir (mode 0700)
cat > "$T/nginx.conf" <<EOF
$USER_LINE
worker_processes 2;
pid $T/nginx.pid;
error_log $T/logs/error.log info;
daemon off;
env UADK_Z_STATS;
env UADK_Z_BACKEND;
env UADK_SYSFS_ROOT;
env UADK_DEV_ROOT;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $T/tmp/body;
  proxy_temp_path $T/tmp/proxy;
  fastcgi_temp_path $T/tmp/fastcgi;
  uwsgi_temp_path $T/tmp/uwsgi;
  scgi_temp_path $T/tmp/scgi;
  default_type application/octet-stream;
  gzip on;
  gzip_types *;
  gzip_min_length 0;
  gzip_comp_level 1;
  server {
    listen 127.0.0.1:$PORT;
    root $T/www;
    location /l6/ { alias $T/www/; gzip_comp_level 6; }
    location /l9/ { alias $T/www/; gzip_comp_level 9; }
    location /static/ { alias $T/static/; gzip_static always; gunzip on; }
  }
}
EOF

start_nginx() { # $1: preload library or empty
  : > "$T/logs/error.log"
  if [ -n "$1" ]; then
    LD_PRELOAD="$1" nginx -p "$T" -c "$T/nginx.conf" &
  else
    nginx -p "$T" -c "$T/nginx.conf" &
  fi
  NGINX_PID=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/one" && return 0; sleep 0.1; done
  fail "nginx did not start: $(cat "$T/logs/error.log")"
}
stop_nginx() {
  kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=""
}

check_bodies() { # $1: label
  local n=0
  for prefix in "" "l6/" "l9/"; do
    for f in $FILES; do
      curl -s -H 'Accept-Encoding: gzip' -D "$T/h" -o "$T/body" "http://127.0.0.1:$PORT/$prefix$f"
      if [ -s "$T/www/$f" ]; then
        grep -qi '^content-encoding: gzip' "$T/h" || fail "$1: /$prefix$f not gzipped"
        gzip -dc < "$T/body" > "$T/plain" || fail "$1: /$prefix$f does not decode"
      else
        cp "$T/body" "$T/plain"
        if grep -qi '^content-encoding: gzip' "$T/h"; then gzip -dc < "$T/body" > "$T/plain" || fail "$1: /$prefix$f"; fi
      fi
      cmp -s "$T/plain" "$T/www/$f" || fail "$1: /$prefix$f decodes to different bytes"
      curl -s -o "$T/body" "http://127.0.0.1:$PORT/$prefix$f"
      cmp -s "$T/body" "$T/www/$f" || fail "$1: /$prefix$f without gzip differs"
      n=$((n + 2))
    done
  done
  for f in text100k text32m mixed4m empty; do
    curl -s -o "$T/body" "http://127.0.0.1:$PORT/static/$f"        # gunzip filter: our inflate
    cmp -s "$T/body" "$T/www/$f" || fail "$1: gunzip of /static/$f differs"
    curl -s -H 'Accept-Encoding: gzip' -o "$T/body" "http://127.0.0.1:$PORT/static/$f"
    cmp -s "$T/body" "$T/static/$f.gz" || fail "$1: gzip_static /static/$f differs"
    n=$((n + 2))
  done
  ! grep -F '[alert]' "$T/logs/error.log" || fail "$1: [alert] in error.log"
  echo "$1: $n bodies match, no [alert]"
}

counters() { # sum a counter over the workers' stats files: $1 counter name
  python3 - "$T/stats" "$1" <<'EOF'
import glob, json, sys
total = 0
for p in glob.glob(sys.argv[1] + ".*.json"):
    total += json.load(open(p))["counters"].get(sys.argv[2], 0)
print(total)
EOF
}
routes() {
  python3 - "$T/stats" <<'EOF'
import glob, json, sys
r = {}
for p in glob.glob(sys.argv[1] + ".*.json"):
    for k, v in json.load(open(p))["routes"].items():
        r[k] = r.get(k, 0) + v
for k, v in sorted(r.items()):
    print(f"    {v:6d}  {k}")
EOF
}

wrk_run() { # prints requests/s; fails on errors
  wrk -t2 -c64 -d"${WRK_SECS}s" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT/l6/text100k" > "$T/wrk.txt"
  if grep -qE 'Socket errors|Non-2xx' "$T/wrk.txt"; then cat "$T/wrk.txt" >&2; fail "wrk reported errors"; fi
  awk '/Requests\/sec/ {print $2}' "$T/wrk.txt"
}

echo "== software mode (LD_PRELOAD=$LIB)"
export UADK_Z_STATS="$T/stats" UADK_Z_BACKEND=software
start_nginx "$LIB"
check_bodies software
stop_nginx
d=$(counters deflate_streams); i=$(counters inflate_streams); sw=$(counters deflate_fast_software)
[ "$d" -gt 0 ] && [ "$i" -gt 0 ] && [ "$sw" -gt 0 ] || fail "counters do not show the preload served the calls (deflate $d, inflate $i)"
echo "software: counters: deflate_streams=$d (fast software $sw) inflate_streams=$i"
routes
rm -f "$T"/stats.*

echo "== device mode (uadk emu as the ZIP device)"
EMU_ROOT="$T/emu"
"$CLI" emu start --root "$EMU_ROOT" >/dev/null
export UADK_SYSFS_ROOT="$EMU_ROOT/sys" UADK_DEV_ROOT="$EMU_ROOT/dev" UADK_Z_BACKEND=device
start_nginx "$LIB"
check_bodies device
stop_nginx
dev=$(counters deflate_fast_device)
[ "$dev" -gt 0 ] || fail "no deflate stream ran on the emulated device"
echo "device: counters: deflate_streams=$(counters deflate_streams) (on the device $dev) inflate_streams=$(counters inflate_streams)"
routes
"$CLI" emu stop --root "$EMU_ROOT" >/dev/null || true
EMU_ROOT=""
unset UADK_SYSFS_ROOT UADK_DEV_ROOT
rm -f "$T"/stats.*

echo "== wrk ${WRK_SECS}s, 64 connections, gzip level 6, 100 KiB text"
export UADK_Z_BACKEND=auto
start_nginx ""
sys_rps=$(wrk_run)
stop_nginx
start_nginx "$LIB"
our_rps=$(wrk_run)
stop_nginx
ratio=$(python3 -c "print(f'{$our_rps / $sys_rps:.2f}')")
echo "wrk: system zlib $sys_rps req/s, libuadk_z $our_rps req/s (x$ratio), zero errors"
echo "PASS nginx: bodies match in software and device modes, no [alert], counters ok; wrk x$ratio ($(( $(date +%s) - START )) s)"
