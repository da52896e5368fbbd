#!/usr/bin/env bash
# The provider under the `openssl` command line and Python (loopback only, ~1 minute):
#  - `openssl list -providers -verbose`, `-cipher-algorithms`, `-digest-algorithms`
#    through -provider-path/-provider show our algorithms, name, version and status;
#  - `openssl speed -evp aes-128-gcm` (and -aead) through the provider runs clean;
#  - `openssl enc` / `openssl dgst` / HMAC under OPENSSL_CONF give the default
#    provider's bytes;
#  - Python's hashlib and ssl (a TLS 1.3 loopback connection, both ends under
#    OPENSSL_CONF) go through the provider, proven by its counters.
# Exits non-zero on failure and prints one summary line.
source "$(dirname "$0")/common.sh"
need_pkg openssl python3
build_provider
DIR="$(dirname "$MODULE")"
P=(-provider-path "$DIR" -provider libuadk_provider -provider default)

out="$(openssl list -providers -verbose -provider-path "$DIR" -provider libuadk_provider)"
grep -q "name: uadk_provider" <<<"$out" || fail "list -providers: no name"$'\n'"$out"
grep -q "status: active" <<<"$out" || fail "list -providers: not active"
grep -q "version: " <<<"$out" || fail "list -providers: no version"

ciphers="$(openssl list -cipher-algorithms "${P[@]}" 2>&1)"
n_c=$(grep -c "@ libuadk_provider" <<<"$ciphers" || true)
[ "$n_c" = 23 ] || fail "expected 23 ciphers from the provider, got $n_c"$'\n'"$ciphers"
digests="$(openssl list -digest-algorithms "${P[@]}" 2>&1)"
n_d=$(grep -c "@ libuadk_provider" <<<"$digests" || true)
[ "$n_d" = 7 ] || fail "expected 7 digests from the provider, got $n_d"

for args in "-evp aes-128-gcm" "-aead -evp aes-128-gcm" "-evp sha256" "-evp sm4-cbc" "-evp aes-256-xts" "-evp sm3"; do
    # shellcheck disable=SC2086
    s="$(timeout 120 openssl speed -seconds 1 -bytes 1024 "${P[@]}" -propquery provider=uadk_provider $args 2>&1)" \
        || fail "openssl speed $args: $s"
    grep -qE '(^|:)error:|^Error|[Ff]ailed' <<<"$s" && fail "openssl speed $args printed errors: $s"
done

CONF="$WORK/openssl.cnf"
write_conf "$CONF"
export UADK_PROVIDER_STATS="$WORK/stats"
head -c 1000003 /dev/urandom >"$WORK/data"
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
IV=0f0e0d0c0b0a09080706050403020100
for c in aes-256-cbc aes-128-ctr aes-128-ecb sm4-cbc sm4-ctr; do
    OPENSSL_CONF="$CONF" openssl enc -"$c" -K $KEY -iv $IV -in "$WORK/data" -out "$WORK/ours.$c" 2>/dev/null \
        || OPENSSL_CONF="$CONF" openssl enc -"$c" -K ${KEY:0:32} -iv $IV -in "$WORK/data" -out "$WORK/ours.$c"
    OPENSSL_CONF=/dev/null openssl enc -"$c" -K $KEY -iv $IV -in "$WORK/data" -out "$WORK/def.$c" 2>/dev/null \
        || OPENSSL_CONF=/dev/null openssl enc -"$c" -K ${KEY:0:32} -iv $IV -in "$WORK/data" -out "$WORK/def.$c"
    cmp -s "$WORK/ours.$c" "$WORK/def.$c" || fail "openssl enc -$c differs from the default provider"
    OPENSSL_CONF="$CONF" openssl enc -d -"$c" -K $KEY -iv $IV -in "$WORK/def.$c" -out "$WORK/back.$c" 2>/dev/null \
        || OPENSSL_CONF="$CONF" openssl enc -d -"$c" -K ${KEY:0:32} -iv $IV -in "$WORK/def.$c" -out "$WORK/back.$c"
    cmp -s "$WORK/back.$c" "$WORK/data" || fail "openssl enc -d -$c did not restore the data"
done
for d in sha1 sha224 sha256 sha384 sha512 sm3 md5; do
    a="$(OPENSSL_CONF="$CONF" openssl dgst -"$d" -r "$WORK/data" | cut -d' ' -f1)"
    b="$(OPENSSL_CONF=/dev/null openssl dgst -"$d" -r "$WORK/data" | cut -d' ' -f1)"
    [ "$a" = "$b" ] || fail "dgst -$d differs"
    a="$(OPENSSL_CONF="$CONF" openssl dgst -"$d" -hmac k3y -r "$WORK/data" | cut -d' ' -f1)"
    b="$(OPENSSL_CONF=/dev/null openssl dgst -"$d" -hmac k3y -r "$WORK/data" | cut -d' ' -f1)"
    [ "$a" = "$b" ] || fail "HMAC-$d differs"
done
[ "$(stats_sum "$WORK" cipher_requests)" -gt 0 ] || fail "openssl enc did not run through the provider"
[ "$(stats_sum "$WORK" digest_stream)" -gt 0 ] || fail "openssl dgst did not run through the provider"

# Python: hashlib and a TLS 1.3 + TLS 1.2 loopback connection, both ends under OPENSSL_CONF.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 \
    -subj /CN=127.0.0.1 >/dev/null 2>&1
rm -f "$WORK"/stats.*
OPENSSL_CONF="$CONF" timeout 120 python3 - "$WORK" <<'PY' || fail "python ssl/hashlib under the provider"
import hashlib, hmac, os, socket, ssl, sys, threading, json
work = sys.argv[1]
data = os.urandom(300000)
assert hashlib.sha256(data).hexdigest() == hashlib.new("sha256", data).hexdigest()
h = hashlib.sha512(); h.update(data[:7]); h2 = h.copy(); h.update(data[7:]); h2.update(data[7:])
assert h.digest() == h2.digest()
hmac.new(b"k", data, "sha256").hexdigest()
payload = os.urandom(1 << 20)
# TLS 1.3 (AES-GCM one-call path), TLS 1.2 GCM (record mode), TLS 1.2 CBC (handed to the
# default provider's record code), TLS 1.2 CCM (likewise).
for version, ciphers in ((ssl.TLSVersion.TLSv1_3, None),
                         (ssl.TLSVersion.TLSv1_2, "ECDHE-RSA-AES128-GCM-SHA256"),
                         (ssl.TLSVersion.TLSv1_2, "ECDHE-RSA-AES256-SHA384"),
                         (ssl.TLSVersion.TLSv1_2, "AES128-CCM:@SECLEVEL=0")):
    srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    srv.load_cert_chain(work + "/cert.pem", work + "/key.pem")
    srv.minimum_version = srv.maximum_version = version
    if ciphers:
        srv.set_ciphers(ciphers)
    ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
    port = ls.getsockname()[1]
    def serve():
        c, _ = ls.accept()
        with srv.wrap_socket(c, server_side=True) as s:
            s.sendall(payload)
    t = threading.Thread(target=serve); t.start()
    cli = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cli.check_hostname = False; cli.verify_mode = ssl.CERT_NONE
    if ciphers:
        cli.set_ciphers(ciphers)
    with cli.wrap_socket(socket.create_connection(("127.0.0.1", port))) as s:
        got = b""
        while len(got) < len(payload):
            b = s.recv(1 << 16)
            if not b: break
            got += b
        assert got == payload, "TLS payload differs"
        cipher = s.cipher()[0]
    t.join(); ls.close()
    print(version.name, cipher)
PY
gcm=$(( $(stats_sum "$WORK" gcm_oneshot) + $(stats_sum "$WORK" tls12_records) ))
[ "$gcm" -gt 100 ] || fail "python TLS records did not go through the provider (gcm=$gcm)"
delegated=$(stats_sum "$WORK" delegated)
[ "$delegated" -ge 4 ] || fail "TLS 1.2 CBC/CCM contexts were not handed to the default provider ($delegated)"
echo "openssl-cli: OK (list: $n_c ciphers + $n_d digests; speed clean; enc/dgst/HMAC = default; python hashlib + TLS 1.3/1.2 GCM: $gcm records through uadk_provider, TLS 1.2 CBC+CCM: $delegated contexts delegated)"
