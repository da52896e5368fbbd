/* Checks libuadk_provider.so through OpenSSL's public C API, against the default provider
 * of the same OpenSSL:
 *  1. every algorithm parameter the default provider answers, with the same value;
 *     the same gettable/settable context parameter names; the same EVP flags;
 *  2. TLS 1.2 GCM record mode as libssl drives it (tlsivfixed, tlsaad, in-place update of
 *     explicit IV | payload | tag), ours sealing and the default opening and the reverse;
 *     a tampered record fails and leaves no plaintext;
 *  3. the provider's own parameters (name, version, status, uadk-stats).
 * Usage: abi_check MODULE_DIR  (exit 0 and "abi_check: ok ..." on success) */
#include <stdio.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

static int failures = 0, checks = 0;
#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); } } while (0)

static int has_name(const OSSL_PARAM *list, const char *key) {
    for (; list && list->key; list++) if (!strcmp(list->key, key)) return 1;
    return 0;
}

static void same_names(const char *alg, const char *what, const OSSL_PARAM *a, const OSSL_PARAM *b) {
    for (const OSSL_PARAM *p = b; p && p->key; p++) CHECK(has_name(a, p->key), "%s %s: ours lacks %s", alg, what, p->key);
    for (const OSSL_PARAM *p = a; p && p->key; p++) CHECK(has_name(b, p->key), "%s %s: ours adds %s", alg, what, p->key);
}

static long long get_num(int (*get)(void *, OSSL_PARAM *), void *obj, const OSSL_PARAM *desc) {
    long long v = -12345;
    if (desc->data_type == OSSL_PARAM_UNSIGNED_INTEGER) {
        size_t s = 0; OSSL_PARAM q[2] = { OSSL_PARAM_construct_size_t(desc->key, &s), OSSL_PARAM_END };
        if (get(obj, q)) v = (long long)s;
    } else if (desc->data_type == OSSL_PARAM_INTEGER) {
        int i = 0; OSSL_PARAM q[2] = { OSSL_PARAM_construct_int(desc->key, &i), OSSL_PARAM_END };
        if (get(obj, q)) v = i;
    }
    return v;
}

static int cget(void *o, OSSL_PARAM *p) { return EVP_CIPHER_get_params(o, p); }
static int mget(void *o, OSSL_PARAM *p) { return EVP_MD_get_params(o, p); }

static void ciphers(OSSL_LIB_CTX *ctx) {
    const char *names[] = { "AES-128-GCM", "AES-192-GCM", "AES-256-GCM", "AES-128-CCM", "AES-192-CCM", "AES-256-CCM",
        "AES-128-ECB", "AES-192-ECB", "AES-256-ECB", "AES-128-CBC", "AES-192-CBC", "AES-256-CBC", "AES128", "id-aes256-GCM",
        "2.16.840.1.101.3.4.1.6", "AES-128-CTR", "AES-192-CTR", "AES-256-CTR", "AES-128-XTS", "AES-256-XTS",
        "SM4-ECB", "SM4-CBC", "SM4", "SM4-CTR", NULL };
    for (int i = 0; names[i]; i++) {
        EVP_CIPHER *o = EVP_CIPHER_fetch(ctx, names[i], "provider=uadk_provider");
        EVP_CIPHER *d = EVP_CIPHER_fetch(ctx, names[i], "provider=default");
        CHECK(o && d, "%s: fetch ours=%p default=%p", names[i], (void *)o, (void *)d);
        if (!o || !d) continue;
        for (const OSSL_PARAM *p = EVP_CIPHER_gettable_params(d); p && p->key; p++) {
            long long a = get_num(cget, o, p), b = get_num(cget, d, p);
            CHECK(a == b, "%s param %s: ours %lld default %lld", names[i], p->key, a, b);
        }
        same_names(names[i], "gettable", EVP_CIPHER_gettable_params(o), EVP_CIPHER_gettable_params(d));
        same_names(names[i], "ctx gettable", EVP_CIPHER_gettable_ctx_params(o), EVP_CIPHER_gettable_ctx_params(d));
        same_names(names[i], "ctx settable", EVP_CIPHER_settable_ctx_params(o), EVP_CIPHER_settable_ctx_params(d));
        CHECK(EVP_CIPHER_get_flags(o) == EVP_CIPHER_get_flags(d), "%s flags %lx vs %lx", names[i],
              EVP_CIPHER_get_flags(o), EVP_CIPHER_get_flags(d));
        CHECK(EVP_CIPHER_get_nid(o) == EVP_CIPHER_get_nid(d), "%s nid", names[i]);
        EVP_CIPHER_free(o); EVP_CIPHER_free(d);
    }
    /* Only in our provider on OpenSSL 3.0. */
    const char *extra[] = { "SM4-XTS", "SM4-GCM", "SM4-CCM", NULL };
    for (int i = 0; extra[i]; i++) {
        EVP_CIPHER *o = EVP_CIPHER_fetch(ctx, extra[i], "provider=uadk_provider");
        CHECK(o != NULL, "%s: not offered", extra[i]);
        EVP_CIPHER_free(o);
    }
}

static void digests(OSSL_LIB_CTX *ctx) {
    const char *names[] = { "SHA1", "SHA-1", "SSL3-SHA1", "SHA224", "SHA2-256", "SHA256", "SHA384", "SHA512", "SM3", "MD5",
        "SSL3-MD5", "1.3.14.3.2.26", NULL };
    for (int i = 0; names[i]; i++) {
        EVP_MD *o = EVP_MD_fetch(ctx, names[i], "provider=uadk_provider");
        EVP_MD *d = EVP_MD_fetch(ctx, names[i], "provider=default");
        CHECK(o && d, "%s: fetch", names[i]);
        if (!o || !d) continue;
        for (const OSSL_PARAM *p = EVP_MD_gettable_params(d); p && p->key; p++) {
            long long a = get_num(mget, o, p), b = get_num(mget, d, p);
            CHECK(a == b, "%s param %s: ours %lld default %lld", names[i], p->key, a, b);
        }
        CHECK(EVP_MD_get_flags(o) == EVP_MD_get_flags(d), "%s md flags", names[i]);
        CHECK(EVP_MD_get_type(o) == EVP_MD_get_type(d), "%s md type", names[i]);
        EVP_MD_free(o); EVP_MD_free(d);
    }
}

/* One TLS 1.2 GCM record, as libssl 3.0 processes it: returns the update's length or -1. */
static int tls_record(EVP_CIPHER_CTX *c, unsigned char *rec, size_t len, unsigned char seq, int enc) {
    unsigned char aad[13] = { 0, 0, 0, 0, 0, 0, 0, seq, 23, 3, 3 };
    /* libssl's length field: explicit IV + payload when sealing, the whole record when
     * opening (the cipher subtracts the IV, and the tag when opening). */
    size_t field = enc ? len - 16 : len;
    aad[11] = (unsigned char)(field >> 8);
    aad[12] = (unsigned char)field;
    int pad = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_TLS1_AAD, 13, aad);
    CHECK(pad == 16, "tlsaad returned %d", pad);
    int outl = 0;
    if (!EVP_CipherUpdate(c, rec, &outl, rec, (int)len)) return -1;
    return outl;
}

static EVP_CIPHER_CTX *tls_ctx(OSSL_LIB_CTX *ctx, const char *prop, const unsigned char *key,
                               const unsigned char *fixed, int enc) {
    EVP_CIPHER *ci = EVP_CIPHER_fetch(ctx, "AES-128-GCM", prop);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok = EVP_CipherInit_ex(c, ci, NULL, key, NULL, enc)
          && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IV_FIXED, 4, (void *)fixed) > 0;
    CHECK(ok, "tls ctx setup (%s)", prop);
    EVP_CIPHER_free(ci);
    return c;
}

static void tls12(OSSL_LIB_CTX *ctx) {
    unsigned char key[16], fixed[4] = { 1, 2, 3, 4 };
    for (int i = 0; i < 16; i++) key[i] = (unsigned char)(i * 7 + 1);
    const char *props[2] = { "provider=uadk_provider", "provider=default" };
    for (int dir = 0; dir < 2; dir++) {
        EVP_CIPHER_CTX *e = tls_ctx(ctx, props[dir], key, fixed, 1);
        EVP_CIPHER_CTX *d = tls_ctx(ctx, props[1 - dir], key, fixed, 0);
        for (unsigned seq = 0; seq < 40; seq++) {
            size_t payload = (seq * 977) % 17000;
            size_t len = 8 + payload + 16;
            unsigned char *rec = OPENSSL_malloc(len), *want = OPENSSL_malloc(payload + 1);
            for (size_t k = 0; k < payload; k++) want[k] = (unsigned char)(k * 31 + seq);
            memcpy(rec + 8, want, payload);
            int n = tls_record(e, rec, len, (unsigned char)seq, 1);
            CHECK(n == (int)len, "seal returned %d, want %zu (record length)", n, len);
            if (seq % 7 == 3) {
                /* A tampered record fails and leaves no plaintext. */
                rec[len - 1] ^= 1;
                n = tls_record(d, rec, len, (unsigned char)seq, 0);
                CHECK(n < 0, "tampered record accepted");
                int zero = 1;
                for (size_t k = 0; k < payload; k++) zero &= rec[8 + k] == 0 || dir == 1;
                CHECK(zero, "tampered record left plaintext (ours opening)");
                ERR_clear_error();
            } else {
                n = tls_record(d, rec, len, (unsigned char)seq, 0);
                CHECK(n == (int)payload, "open returned %d, want %zu (payload length)", n, payload);
                CHECK(payload == 0 || !memcmp(rec + 8, want, payload), "payload differs (seq %u)", seq);
            }
            OPENSSL_free(rec); OPENSSL_free(want);
        }
        EVP_CIPHER_CTX_free(e); EVP_CIPHER_CTX_free(d);
    }
}

/* Records too short for explicit IV + tag, and the empty update: the same answers from
 * both providers (the tlsaad control's result, the update's success and length). */
static void tls12_short(OSSL_LIB_CTX *ctx) {
    unsigned char key[16] = { 9 }, fixed[4] = { 1, 2, 3, 4 }, rec[32];
    const char *props[2] = { "provider=uadk_provider", "provider=default" };
    for (int enc = 0; enc < 2; enc++) {
        for (size_t len = 0; len <= 24; len++) {
            int pad[2], ok[2], outl[2];
            for (int p = 0; p < 2; p++) {
                EVP_CIPHER_CTX *c = tls_ctx(ctx, props[p], key, fixed, enc);
                unsigned char aad[13] = { 0, 0, 0, 0, 0, 0, 0, 1, 23, 3, 3 };
                size_t field = enc ? (len >= 16 ? len - 16 : 0) : len;
                aad[11] = (unsigned char)(field >> 8);
                aad[12] = (unsigned char)field;
                pad[p] = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_TLS1_AAD, 13, aad);
                memset(rec, 0x5a, sizeof(rec));
                outl[p] = -1;
                ok[p] = EVP_CipherUpdate(c, rec, &outl[p], rec, (int)len);
                if (!ok[p]) outl[p] = -1;
                ERR_clear_error();
                EVP_CIPHER_CTX_free(c);
            }
            CHECK((pad[0] > 0) == (pad[1] > 0), "%s %zu-byte record: tlsaad %d (ours) vs %d",
                  enc ? "seal" : "open", len, pad[0], pad[1]);
            CHECK(ok[0] == ok[1] && outl[0] == outl[1],
                  "%s %zu-byte record: update %d/%d (ours) vs %d/%d", enc ? "seal" : "open", len,
                  ok[0], outl[0], ok[1], outl[1]);
        }
    }
}

static void provider_params(OSSL_PROVIDER *p) {
    const char *name = NULL, *version = NULL;
    int status = 0;
    char stats[2048] = "";
    OSSL_PARAM q[] = {
        OSSL_PARAM_construct_utf8_ptr(OSSL_PROV_PARAM_NAME, (char **)&name, 0),
        OSSL_PARAM_construct_utf8_ptr(OSSL_PROV_PARAM_VERSION, (char **)&version, 0),
        OSSL_PARAM_construct_int(OSSL_PROV_PARAM_STATUS, &status),
        OSSL_PARAM_construct_utf8_string("uadk-stats", stats, sizeof(stats)),
        OSSL_PARAM_END };
    CHECK(OSSL_PROVIDER_get_params(p, q), "provider get_params");
    CHECK(name && !strcmp(name, "uadk_provider"), "provider name");
    CHECK(version && *version, "provider version");
    CHECK(status == 1, "provider status");
    CHECK(strstr(stats, "\"tls12_records\":") != NULL, "uadk-stats: %s", stats);
    CHECK(strstr(stats, "\"software_requests\":") != NULL, "uadk-stats has the software count");
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s MODULE_DIR\n", argv[0]); return 2; }
    OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();
    OSSL_PROVIDER_set_default_search_path(ctx, argv[1]);
    OSSL_PROVIDER *ours = OSSL_PROVIDER_load(ctx, "libuadk_provider");
    OSSL_PROVIDER *def = OSSL_PROVIDER_load(ctx, "default");
    if (!ours || !def) { ERR_print_errors_fp(stderr); return 1; }
    ciphers(ctx);
    digests(ctx);
    tls12(ctx);
    tls12_short(ctx);
    provider_params(ours);
    OSSL_PROVIDER_unload(ours);
    OSSL_PROVIDER_unload(def);
    OSSL_LIB_CTX_free(ctx);
    printf("abi_check: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
