#!/usr/bin/env bash
# Debian's nginx-light serving TLS on 127.0.0.1 with OPENSSL_CONF activating uadk_provider
# (curl, with the default provider, downloads and compares):
#  1. TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256 and TLS 1.3 TLS_AES_128_GCM_SHA256, files of
#     0 B .. 64 MiB, byte-identical; the workers' counters (UADK_PROVIDER_STATS, passed with
#     nginx's `env` directive, written at worker exit) prove their records went through
#     the provider;
#  2. the same with the uadk-emu SEC device (`uadk emu start`), counters proving device
#     requests.
# Self-contained (installs nginx-light and curl if missing), loopback only, bounded
# (~2 minutes), cleans up, exits non-zero on failure, prints one summary line.
source "$(dirname "$0")/common.sh"
need_pkg nginx-light curl openssl python3
build_provider
(cd "$REPO" && cargo build -q -p uadk-cli)
UADK="$TARGET/debug/uadk"

CONF="$WORK/openssl.cnf"
write_conf "$CONF"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 \
    -subj /CN=127.0.0.1 >/dev/null 2>&1
mkdir -p "$WORK/www"
SIZES=(0 1 1000 16383 16384 16385 1048583 67108864)
for s in "${SIZES[@]}"; do head -c "$s" /dev/urandom >"$WORK/www/f$s"; done
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

run_round() { # run_round NAME [emu]
    local name=$1 stats="$WORK/$1" pid
    mkdir -p "$stats"
    # Workers as root: they must read the temp tree, write counters and reach the
    # emulator's sockets (a test on loopback; production runs them unprivileged).
    cat >"$WORK/nginx.conf" <<NGX
user root root;
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
env OPENSSL_CONF;
env UADK_PROVIDER_STATS;
env UADK_SYSFS_ROOT;
env UADK_DEV_ROOT;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $WORK/tmp;
    proxy_temp_path $WORK/tmp;
    fastcgi_temp_path $WORK/tmp;
    uwsgi_temp_path $WORK/tmp;
    scgi_temp_path $WORK/tmp;
    server {
        listen 127.0.0.1:$PORT ssl;
        ssl_certificate $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256;
        ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
        root $WORK/www;
    }
}
NGX
    mkdir -p "$WORK/tmp"
    OPENSSL_CONF="$CONF" UADK_PROVIDER_STATS="$stats/stats" nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/error.log" \
        || fail "nginx did not start: $(cat "$WORK/error.log" 2>/dev/null)"
    CLEANUPS+=("kill -QUIT \$(cat $WORK/nginx.pid 2>/dev/null) 2>/dev/null")
    for _ in $(seq 50); do curl -sk -o /dev/null "https://127.0.0.1:$PORT/f0" && break; sleep 0.1; done
    local tls
    for tls in 1.2 1.3; do
        local opts=(--tlsv$tls --tls-max $tls)
        [ $tls = 1.2 ] && opts+=(--ciphers ECDHE-RSA-AES128-GCM-SHA256) || opts+=(--tls13-ciphers TLS_AES_128_GCM_SHA256)
        for s in "${SIZES[@]}"; do
            : >"$WORK/got"  # curl creates no file for an empty body
            OPENSSL_CONF=/dev/null timeout 120 curl -sSk "${opts[@]}" -o "$WORK/got" "https://127.0.0.1:$PORT/f$s" \
                || fail "$name: curl TLS $tls f$s"
            cmp -s "$WORK/got" "$WORK/www/f$s" || fail "$name: TLS $tls f$s differs"
        done
        OPENSSL_CONF=/dev/null curl -sk "${opts[@]}" -o /dev/null -w '%{ssl_verify_result}' "https://127.0.0.1:$PORT/f1" >/dev/null
    done
    # Graceful stop: workers exit (writing their counters), then the master.
    pid=$(cat "$WORK/nginx.pid")
    kill -QUIT "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && fail "$name: nginx did not stop"
    grep -qE "\[(alert|emerg|crit)\]" "$WORK/error.log" && fail "$name: nginx logged: $(grep -E '\[(alert|emerg|crit)\]' "$WORK/error.log")"
    local total=0 s
    for s in "${SIZES[@]}"; do total=$((total + s)); done
    TLS12=$(stats_sum "$stats" tls12_records)
    TLS13=$(stats_sum "$stats" gcm_oneshot)
    DEV=$(stats_sum "$stats" device_requests)
    FILES=$(ls "$stats" | grep -vc tmp || true)
    # Each protocol sent every file: at least total/16 KiB records of each kind.
    local want=$((total / 16384))
    [ "$TLS12" -ge "$want" ] || fail "$name: only $TLS12 TLS 1.2 records counted by the workers (want >= $want)"
    [ "$TLS13" -ge "$want" ] || fail "$name: only $TLS13 TLS 1.3 records counted by the workers (want >= $want)"
}

run_round software
SW="TLS1.2 $TLS12 + TLS1.3 $TLS13 records in $FILES processes"

EMU="$WORK/emu"
"$UADK" emu start --root "$EMU" >/dev/null || fail "uadk emu start"
CLEANUPS+=("$UADK emu stop --root $EMU >/dev/null 2>&1")
export UADK_SYSFS_ROOT="$EMU/sys" UADK_DEV_ROOT="$EMU/dev"
run_round emulator
[ "$DEV" -gt 0 ] || fail "emulator: no device requests counted"
echo "nginx: OK (files 0 B..64 MiB byte-identical over TLS 1.2 and 1.3; software: $SW; emulated SEC: TLS1.2 $TLS12 + TLS1.3 $TLS13 records, $DEV device requests)"
