/*
 * api_test.c - exercises every libuadk entry point, including misuse (NULL pointers, bad
 * lengths, stale / double-destroyed / forged / wrong-type handles, wrong call order,
 * overlapping buffers), and fork().
 *
 * Built by tests/c_programs.rs with -Wall -Wextra -Werror against include/uadk.h, linked
 * dynamically and statically. Environment:
 *   UADK_TEST_DEVICE=1   a ZIP and a SEC device are present (the emulator): large
 *                        requests must report the device path.
 *   UADK_TEST_UNDER_VALGRIND=1   skip the fork test: in a child of a multithreaded
 *                        process the parent's threads are gone, and valgrind reports what
 *                        only their stacks referenced as lost.
 * Prints "api_test: ok, N checks" and exits 0, or names the failed check and exits 1.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "uadk.h"

static int checks;
static int device_mode;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        checks++;                                                                          \
        if (!(cond)) {                                                                     \
            char msg_[512];                                                                \
            uadk_last_error_message(msg_, sizeof msg_, NULL);                              \
            fprintf(stderr, "api_test: FAILED %s:%d: %s\n  last error: %s\n", __FILE__,    \
                    __LINE__, #cond, msg_);                                                \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

#define OK(call) CHECK((call) == UADK_OK)
#define FAILS(call, code) CHECK((call) == (code))

static void fill_text(uint8_t *buf, size_t len, unsigned seed) {
    static const char *words[] = {"queue ", "doorbell ", "deflate ", "chunk ", "pool\n",
                                  "accelerator ", "zip ", "sec "};
    size_t i = 0;
    unsigned x = seed * 2654435761u + 7;
    while (i < len) {
        x = x * 1103515245u + 12345u;
        const char *w = words[(x >> 16) % 8];
        for (size_t k = 0; w[k] && i < len; k++) buf[i++] = (uint8_t)w[k];
    }
}

static int hex_eq(const uint8_t *got, const char *hex) {
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || got[i] != v) return 0;
    }
    return 1;
}

static void unhex(uint8_t *out, const char *hex) {
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* ---------------------------------------------------------------- general */

static void test_general(void) {
    CHECK(strcmp(uadk_version(), UADK_VERSION_STRING) == 0);
    CHECK(uadk_version_number() == UADK_VERSION_NUMBER);

    const uadk_status codes[] = {UADK_OK, UADK_E_NULL_POINTER, UADK_E_INVALID_ARGUMENT,
                                 UADK_E_BAD_LENGTH, UADK_E_INVALID_HANDLE, UADK_E_BAD_STATE,
                                 UADK_E_BUSY, UADK_E_FORKED, UADK_E_OUTPUT_TOO_SMALL,
                                 UADK_E_UNSUPPORTED, UADK_E_AGAIN, UADK_E_DATA_CORRUPT,
                                 UADK_E_DATA_TRUNCATED, UADK_E_TRAILING_DATA, UADK_E_CHECKSUM,
                                 UADK_E_OUTPUT_LIMIT, UADK_E_STREAM_LOST, UADK_E_AUTH_FAILED,
                                 UADK_E_POOL_EXHAUSTED, UADK_E_POOL_UNAVAILABLE,
                                 UADK_E_NOT_ALLOCATED, UADK_E_NO_DEVICE, UADK_E_DEVICE, UADK_E_IO,
                                 UADK_E_INTERNAL, UADK_E_PANIC};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = uadk_strerror(codes[i]);
        CHECK(s != NULL && strlen(s) > 0);
        CHECK(strcmp(s, "unknown libuadk status code") != 0);
    }
    CHECK(strcmp(uadk_strerror(-77), "unknown libuadk status code") == 0);

    /* The last error: set by a failing call, kept by successful ones, readable in pieces. */
    FAILS(uadk_get_counters(NULL), UADK_E_NULL_POINTER);
    CHECK(uadk_last_error_code() == UADK_E_NULL_POINTER);
    uadk_lib_counters c;
    OK(uadk_get_counters(&c));
    CHECK(uadk_last_error_code() == UADK_E_NULL_POINTER);
    size_t len = 0;
    FAILS(uadk_last_error_message(NULL, 0, &len), UADK_E_OUTPUT_TOO_SMALL);
    CHECK(len > 10);
    char full[512], small[8];
    OK(uadk_last_error_message(full, sizeof full, NULL));
    CHECK(strncmp(full, "uadk_get_counters: ", 19) == 0 && strstr(full, "NULL") != NULL);
    FAILS(uadk_last_error_message(small, sizeof small, &len), UADK_E_OUTPUT_TOO_SMALL);
    CHECK(strlen(small) == 7 && strncmp(small, full, 7) == 0 && len == strlen(full));
    CHECK(uadk_last_error_code() == UADK_E_NULL_POINTER);
    CHECK(c.failures >= 1 && c.panics == 0);
}

/* ---------------------------------------------------------------- devices */

static void test_devices(void) {
    uadk_device_list list;
    FAILS(uadk_devices_scan(NULL), UADK_E_NULL_POINTER);
    OK(uadk_devices_scan(&list));
    size_t n = 99, skipped = 99;
    OK(uadk_device_list_count(list, &n, &skipped));
    OK(uadk_device_list_count(list, NULL, NULL));
    if (device_mode) CHECK(n >= 2);
    int zip = 0, sec = 0;
    for (size_t i = 0; i < n; i++) {
        uadk_device_info info;
        OK(uadk_device_list_get(list, i, &info));
        char name[64], algs[256], path[512];
        size_t need = 0;
        OK(uadk_device_list_string(list, i, UADK_DEVICE_FIELD_NAME, name, sizeof name, NULL));
        OK(uadk_device_list_string(list, i, UADK_DEVICE_FIELD_ALGORITHMS, algs, sizeof algs, NULL));
        OK(uadk_device_list_string(list, i, UADK_DEVICE_FIELD_DEV_PATH, path, sizeof path, NULL));
        FAILS(uadk_device_list_string(list, i, UADK_DEVICE_FIELD_API, NULL, 0, &need),
              UADK_E_OUTPUT_TOO_SMALL);
        CHECK(need > 0);
        CHECK(info.algorithm_count >= 1);
        if (strstr(name, "zip")) {
            zip = 1;
            CHECK(strstr(algs, "zlib") != NULL);
        }
        if (strstr(name, "sec")) {
            sec = 1;
            CHECK(strstr(algs, "cipher") != NULL);
        }
    }
    if (device_mode) CHECK(zip && sec);
    uadk_device_info info;
    FAILS(uadk_device_list_get(list, n, &info), UADK_E_INVALID_ARGUMENT);
    FAILS(uadk_device_list_get(list, 0, NULL), UADK_E_NULL_POINTER);
    char buf[64];
    FAILS(uadk_device_list_string(list, 0, 42, buf, sizeof buf, NULL), UADK_E_INVALID_ARGUMENT);
    FAILS(uadk_device_list_string(list, skipped, UADK_DEVICE_FIELD_SKIPPED_NAME, buf, sizeof buf, NULL),
          UADK_E_INVALID_ARGUMENT);
    FAILS(uadk_device_list_string(list, 0, UADK_DEVICE_FIELD_NAME, NULL, 5, NULL),
          n ? UADK_E_NULL_POINTER : UADK_E_INVALID_ARGUMENT);
    OK(uadk_device_list_destroy(list));
    FAILS(uadk_device_list_destroy(list), UADK_E_INVALID_HANDLE);
    FAILS(uadk_device_list_count(list, &n, NULL), UADK_E_INVALID_HANDLE);
    uadk_device_list zero = {0};
    OK(uadk_device_list_destroy(zero));
    uadk_device_list forged = {0x0c00000000001234ull};
    FAILS(uadk_device_list_count(forged, &n, NULL), UADK_E_INVALID_HANDLE);
}

/* ---------------------------------------------------------------- pool */

struct freer {
    uadk_pool pool;
    void *chunk;
};

static void *free_later(void *arg) {
    struct freer *f = arg;
    usleep(50 * 1000);
    uadk_pool_free(f->pool, f->chunk);
    return NULL;
}

static void test_pool(void) {
    uadk_pool_config cfg;
    FAILS(uadk_pool_config_default(NULL), UADK_E_NULL_POINTER);
    OK(uadk_pool_config_default(&cfg));
    CHECK(cfg.chunk_size == 65536 && cfg.chunks == 64 && cfg.node == -1);
    cfg.chunk_size = 4096;
    cfg.chunks = 4;
    cfg.thread_cache = 0;

    uadk_pool pool;
    FAILS(uadk_pool_create(NULL, &pool), UADK_E_NULL_POINTER);
    FAILS(uadk_pool_create(&cfg, NULL), UADK_E_NULL_POINTER);
    uadk_pool_config bad = cfg;
    bad.chunk_size = 1;
    FAILS(uadk_pool_create(&bad, &pool), UADK_E_INVALID_ARGUMENT);
    bad = cfg;
    bad.pages = 99;
    FAILS(uadk_pool_create(&bad, &pool), UADK_E_INVALID_ARGUMENT);
    bad = cfg;
    bad.require_pin = 17;
    FAILS(uadk_pool_create(&bad, &pool), UADK_E_INVALID_ARGUMENT);
    bad = cfg;
    bad.node = -5;
    FAILS(uadk_pool_create(&bad, &pool), UADK_E_INVALID_ARGUMENT);
    OK(uadk_pool_create(&cfg, &pool));

    void *chunks[4];
    for (int i = 0; i < 4; i++) {
        OK(uadk_pool_alloc(pool, 0, &chunks[i]));
        CHECK(((uintptr_t)chunks[i] & 63) == 0);
        memset(chunks[i], i + 1, 4096);
    }
    void *extra = NULL;
    FAILS(uadk_pool_alloc(pool, 0, &extra), UADK_E_POOL_EXHAUSTED);
    FAILS(uadk_pool_alloc(pool, 10, &extra), UADK_E_POOL_EXHAUSTED);
    FAILS(uadk_pool_alloc(pool, 0, NULL), UADK_E_NULL_POINTER);

    uadk_pool_stats st;
    OK(uadk_pool_get_stats(pool, &st));
    CHECK(st.chunks_total == 4 && st.chunks_outstanding == 4 && st.chunk_size == 4096);
    CHECK(st.failed_allocs >= 2);
    CHECK(st.backing >= UADK_BACKING_HUGETLB_1G && st.backing <= UADK_BACKING_NORMAL);
    CHECK(st.pin_level >= UADK_PIN_UNPINNED && st.pin_level <= UADK_PIN_LONG_TERM);
    FAILS(uadk_pool_get_stats(pool, NULL), UADK_E_NULL_POINTER);

    char desc[1024];
    size_t dlen = 0;
    OK(uadk_pool_describe(pool, desc, sizeof desc, &dlen));
    CHECK(strstr(desc, "4 x 4096 B chunks") != NULL && dlen == strlen(desc));

    FAILS(uadk_pool_destroy(pool), UADK_E_BAD_STATE);

    /* A waiting allocation gets the chunk another thread frees. */
    struct freer f = {pool, chunks[3]};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, free_later, &f) == 0);
    OK(uadk_pool_alloc(pool, 5000, &extra));
    pthread_join(t, NULL);
    CHECK(extra == chunks[3]);

    /* Misuse: interior, foreign, NULL pointers and double frees are detected. */
    int local;
    FAILS(uadk_pool_free(pool, (char *)chunks[0] + 1), UADK_E_NOT_ALLOCATED);
    FAILS(uadk_pool_free(pool, &local), UADK_E_NOT_ALLOCATED);
    FAILS(uadk_pool_free(pool, NULL), UADK_E_NULL_POINTER);
    for (int i = 0; i < 3; i++) OK(uadk_pool_free(pool, chunks[i]));
    OK(uadk_pool_free(pool, extra));
    FAILS(uadk_pool_free(pool, chunks[0]), UADK_E_NOT_ALLOCATED);
    OK(uadk_pool_get_stats(pool, &st));
    CHECK(st.chunks_outstanding == 0);

    OK(uadk_pool_destroy(pool));
    FAILS(uadk_pool_destroy(pool), UADK_E_INVALID_HANDLE);
    FAILS(uadk_pool_alloc(pool, 0, &extra), UADK_E_INVALID_HANDLE);
    FAILS(uadk_pool_free(pool, chunks[0]), UADK_E_INVALID_HANDLE);
    uadk_pool zero = {0};
    OK(uadk_pool_destroy(zero));
}

/* ---------------------------------------------------------------- zip */

static uadk_zip_session zip_session(uadk_format format, uint32_t level, uadk_backend backend) {
    uadk_zip_config cfg;
    OK(uadk_zip_config_default(&cfg));
    cfg.format = format;
    cfg.level = level;
    cfg.backend = backend;
    uadk_zip_session s;
    OK(uadk_zip_session_create(&cfg, &s));
    return s;
}

static void test_zip_oneshot(void) {
    uadk_zip_config cfg;
    FAILS(uadk_zip_config_default(NULL), UADK_E_NULL_POINTER);
    OK(uadk_zip_config_default(&cfg));
    CHECK(cfg.format == UADK_FORMAT_GZIP && cfg.level == 6 && cfg.backend == UADK_BACKEND_AUTO);
    CHECK(cfg.fallback == 1 && cfg.threads >= 1 && cfg.pool.id == 0);

    uadk_zip_session s;
    uadk_zip_config bad = cfg;
    bad.level = 10;
    FAILS(uadk_zip_session_create(&bad, &s), UADK_E_INVALID_ARGUMENT);
    bad = cfg;
    bad.format = 7;
    FAILS(uadk_zip_session_create(&bad, &s), UADK_E_INVALID_ARGUMENT);
    bad = cfg;
    bad.backend = -1;
    FAILS(uadk_zip_session_create(&bad, &s), UADK_E_INVALID_ARGUMENT);
    bad = cfg;
    bad.threads = 0;
    FAILS(uadk_zip_session_create(&bad, &s), UADK_E_INVALID_ARGUMENT);
    bad = cfg;
    bad.pool.id = 0x0100000000000001ull; /* a pool handle never issued */
    FAILS(uadk_zip_session_create(&bad, &s), UADK_E_INVALID_HANDLE);
    bad = cfg;
    bad.backend = UADK_BACKEND_DEVICE;
    if (device_mode) {
        OK(uadk_zip_session_create(&bad, &s));
        OK(uadk_zip_session_destroy(s));
    } else {
        FAILS(uadk_zip_session_create(&bad, &s), UADK_E_NO_DEVICE);
    }

    const size_t n = 256 * 1024;
    uint8_t *src = malloc(n), *z = malloc(n + 1024), *back = malloc(n);
    fill_text(src, n, 1);
    const uadk_format formats[] = {UADK_FORMAT_DEFLATE, UADK_FORMAT_ZLIB, UADK_FORMAT_GZIP};
    for (int fi = 0; fi < 3; fi++) {
        for (uint32_t level = 0; level <= 9; level += 3) {
            s = zip_session(formats[fi], level, UADK_BACKEND_AUTO);
            size_t zlen = 0, blen = 0;
            uadk_report rep;
            memset(&rep, 0x55, sizeof rep);
            OK(uadk_zip_compress(s, src, n, z, n + 1024, &zlen, &rep));
            CHECK(zlen > 0 && (level == 0 || zlen < n));
            CHECK(rep.bytes_in == n && rep.bytes_out == zlen);
            CHECK(rep.path == UADK_PATH_DEVICE || rep.path == UADK_PATH_SOFTWARE);
            CHECK(strlen(rep.engine) > 0 && strlen(rep.reason) > 0);
            if (!device_mode) CHECK(rep.path == UADK_PATH_SOFTWARE);
            if (device_mode && formats[fi] != UADK_FORMAT_DEFLATE && level > 0)
                CHECK(rep.path == UADK_PATH_DEVICE && strncmp(rep.engine, "device:", 7) == 0);
            OK(uadk_zip_decompress(s, z, zlen, back, n, &blen, &rep));
            CHECK(blen == n && memcmp(back, src, n) == 0);
            CHECK(rep.bytes_in == zlen && rep.bytes_out == n);
            /* Without a report too. */
            OK(uadk_zip_decompress(s, z, zlen, back, n, &blen, NULL));
            CHECK(blen == n);

            /* Too small: the exact size needed comes back. */
            size_t need = 0;
            FAILS(uadk_zip_compress(s, src, n, z, 16, &need, NULL), UADK_E_OUTPUT_TOO_SMALL);
            CHECK(need == zlen || (need > 16 && need <= n + 1024));
            FAILS(uadk_zip_decompress(s, z, zlen, back, 100, &need, NULL), UADK_E_OUTPUT_TOO_SMALL);
            CHECK(need == n);
            OK(uadk_zip_session_destroy(s));
        }
    }

    s = zip_session(UADK_FORMAT_GZIP, 6, UADK_BACKEND_SOFTWARE);
    size_t zlen = 0, blen = 0;
    OK(uadk_zip_compress(s, src, 5000, z, n, &zlen, NULL));
    /* Bad input: corrupt, truncated, trailing garbage, checksum, empty. */
    uint8_t *bad_in = malloc(zlen + 8);
    memcpy(bad_in, z, zlen);
    bad_in[0] ^= 0xff;
    CHECK(uadk_zip_decompress(s, bad_in, zlen, back, n, &blen, NULL) == UADK_E_DATA_CORRUPT);
    FAILS(uadk_zip_decompress(s, z, zlen - 3, back, n, &blen, NULL), UADK_E_DATA_TRUNCATED);
    memcpy(bad_in, z, zlen);
    memcpy(bad_in + zlen, "garbage!", 8);
    FAILS(uadk_zip_decompress(s, bad_in, zlen + 8, back, n, &blen, NULL), UADK_E_TRAILING_DATA);
    memcpy(bad_in, z, zlen);
    bad_in[zlen - 5] ^= 1; /* crc32 */
    FAILS(uadk_zip_decompress(s, bad_in, zlen, back, n, &blen, NULL), UADK_E_CHECKSUM);
    FAILS(uadk_zip_decompress(s, NULL, 0, back, n, &blen, NULL), UADK_E_DATA_TRUNCATED);
    free(bad_in);
    /* Bad arguments. */
    FAILS(uadk_zip_compress(s, NULL, 10, z, n, &zlen, NULL), UADK_E_NULL_POINTER);
    FAILS(uadk_zip_compress(s, src, 10, NULL, 10, &zlen, NULL), UADK_E_NULL_POINTER);
    FAILS(uadk_zip_compress(s, src, 10, z, n, NULL, NULL), UADK_E_NULL_POINTER);
    FAILS(uadk_zip_compress(s, src, 100, src + 50, 100, &zlen, NULL), UADK_E_INVALID_ARGUMENT);
    FAILS(uadk_zip_compress(s, src, (size_t)-1, z, n, &zlen, NULL), UADK_E_BAD_LENGTH);
    /* Empty input compresses to a valid empty stream. */
    OK(uadk_zip_compress(s, NULL, 0, z, n, &zlen, NULL));
    OK(uadk_zip_decompress(s, z, zlen, NULL, 0, &blen, NULL));
    CHECK(blen == 0);

    uadk_zip_counters c;
    OK(uadk_zip_session_get_counters(s, &c));
    CHECK(c.software_requests >= 2 && c.errors >= 5 && c.device_requests == 0);
    FAILS(uadk_zip_session_get_counters(s, NULL), UADK_E_NULL_POINTER);
    char reason[256];
    size_t rlen;
    OK(uadk_zip_session_reason(s, UADK_COMPRESS, reason, sizeof reason, &rlen));
    CHECK(strlen(reason) == rlen && rlen > 0);
    FAILS(uadk_zip_session_reason(s, 9, reason, sizeof reason, NULL), UADK_E_INVALID_ARGUMENT);
    OK(uadk_zip_session_destroy(s));
    FAILS(uadk_zip_compress(s, src, 10, z, n, &zlen, NULL), UADK_E_INVALID_HANDLE);
    FAILS(uadk_zip_session_destroy(s), UADK_E_INVALID_HANDLE);
    free(src), free(z), free(back);
}

static void test_zip_stream(void) {
    const size_t n = 300 * 1000;
    uint8_t *src = malloc(n), *z = malloc(2 * n), *back = malloc(n + 10);
    fill_text(src, n, 2);
    const uadk_flush flushes[] = {UADK_FLUSH_NONE, UADK_FLUSH_PARTIAL, UADK_FLUSH_SYNC,
                                  UADK_FLUSH_FULL, UADK_FLUSH_BLOCK};
    for (int fi = 0; fi < 3; fi++) {
        uadk_zip_session s = zip_session(fi, 1 + 4 * (fi % 2), UADK_BACKEND_AUTO);
        uadk_zip_compressor c;
        FAILS(uadk_zip_compressor_create(s, NULL), UADK_E_NULL_POINTER);
        OK(uadk_zip_compressor_create(s, &c));
        size_t in = 0, out = 0;
        uadk_zip_progress p;
        int piece = 0;
        /* Feed 16 KiB pieces with varying flush modes into 4 KiB output windows. */
        while (in < n) {
            size_t take = n - in < 16384 ? n - in : 16384;
            uadk_flush fl = flushes[piece++ % 5];
            size_t used = 0;
            for (;;) {
                OK(uadk_zip_compressor_compress(c, src + in + used, take - used, z + out, 4096, fl, &p));
                used += p.consumed;
                out += p.produced;
                if (used == take && (fl == UADK_FLUSH_NONE || p.done)) break;
            }
            in += take;
        }
        do {
            OK(uadk_zip_compressor_compress(c, NULL, 0, z + out, 4096, UADK_FLUSH_FINISH, &p));
            out += p.produced;
        } while (!p.done);
        CHECK(p.total_in == n && p.total_out == out);
        /* Finished: more finishing is a no-op (as zlib's Z_STREAM_END), more data an error. */
        OK(uadk_zip_compressor_compress(c, NULL, 0, z + out, 4096, UADK_FLUSH_FINISH, &p));
        CHECK(p.done && p.produced == 0);
        FAILS(uadk_zip_compressor_compress(c, src, 1, z + out, 4096, UADK_FLUSH_FINISH, &p),
              UADK_E_BAD_STATE);
        FAILS(uadk_zip_compressor_compress(c, src, 1, z, 10, 6, &p), UADK_E_INVALID_ARGUMENT);
        FAILS(uadk_zip_compressor_compress(c, src, 1, z, 10, UADK_FLUSH_NONE, NULL), UADK_E_NULL_POINTER);
        uadk_report rep;
        OK(uadk_zip_compressor_report(c, &rep));
        CHECK(rep.bytes_in == n && rep.bytes_out == out && strlen(rep.reason) > 0);
        FAILS(uadk_zip_compressor_report(c, NULL), UADK_E_NULL_POINTER);
        OK(uadk_zip_compressor_destroy(c));
        FAILS(uadk_zip_compressor_compress(c, src, 1, z, 10, UADK_FLUSH_NONE, &p), UADK_E_INVALID_HANDLE);

        /* One-shot agrees; then stream-decompress in 1000-byte inputs, 3000-byte outputs. */
        size_t blen;
        OK(uadk_zip_decompress(s, z, out, back, n, &blen, NULL));
        CHECK(blen == n && memcmp(back, src, n) == 0);
        uadk_zip_decompressor d;
        OK(uadk_zip_decompressor_create(s, &d));
        size_t zin = 0, bout = 0;
        int done = 0;
        while (!done) {
            size_t take = out - zin < 1000 ? out - zin : 1000;
            OK(uadk_zip_decompressor_decompress(d, z + zin, take, back + bout, 3000, &p));
            zin += p.consumed;
            bout += p.produced;
            done = p.done;
            CHECK(p.consumed > 0 || p.produced > 0 || done);
        }
        CHECK(zin == out && bout == n && memcmp(back, src, n) == 0);
        OK(uadk_zip_decompressor_finish(d));
        OK(uadk_zip_decompressor_report(d, &rep));
        CHECK(rep.bytes_in == out && rep.bytes_out == n);
        OK(uadk_zip_decompressor_destroy(d));

        /* Truncated stream: finish says so. Corrupt stream: decompress says so. */
        OK(uadk_zip_decompressor_create(s, &d));
        OK(uadk_zip_decompressor_decompress(d, z, out / 2, back, n, &p));
        FAILS(uadk_zip_decompressor_finish(d), UADK_E_DATA_TRUNCATED);
        OK(uadk_zip_decompressor_destroy(d));
        OK(uadk_zip_decompressor_create(s, &d));
        uint8_t junk[64];
        memset(junk, 0xff, sizeof junk);
        CHECK(uadk_zip_decompressor_decompress(d, junk, sizeof junk, back, n, &p) == UADK_E_DATA_CORRUPT);
        /* Wrong-type handle: a decompressor id passed as a compressor. */
        uadk_zip_compressor wrong = {d.id};
        FAILS(uadk_zip_compressor_compress(wrong, src, 1, z, 10, UADK_FLUSH_NONE, &p), UADK_E_INVALID_HANDLE);
        OK(uadk_zip_decompressor_destroy(d));
        FAILS(uadk_zip_decompressor_destroy(d), UADK_E_INVALID_HANDLE);
        FAILS(uadk_zip_decompressor_finish(d), UADK_E_INVALID_HANDLE);

        /* A stream outlives its session. */
        OK(uadk_zip_compressor_create(s, &c));
        OK(uadk_zip_session_destroy(s));
        OK(uadk_zip_compressor_compress(c, src, 100, z, 4096, UADK_FLUSH_FINISH, &p));
        CHECK(p.done);
        OK(uadk_zip_compressor_destroy(c));
    }
    free(src), free(z), free(back);
}

static void test_zip_batch(void) {
    uadk_zip_session s = zip_session(UADK_FORMAT_ZLIB, 6, UADK_BACKEND_AUTO);
    uadk_zip_batch b;
    FAILS(uadk_zip_batch_create(s, 0, 4, &b), UADK_E_INVALID_ARGUMENT);
    FAILS(uadk_zip_batch_create(s, 2, 4, NULL), UADK_E_NULL_POINTER);
    OK(uadk_zip_batch_create(s, 2, 4, &b));
    uadk_zip_completion comp;
    FAILS(uadk_zip_batch_poll(b, &comp), UADK_E_AGAIN);
    FAILS(uadk_zip_batch_wait(b, &comp), UADK_E_BAD_STATE);

    enum { JOBS = 12, LEN = 100000 };
    static uint8_t src[JOBS][LEN], dst[JOBS][LEN], back[LEN];
    uint64_t ids[JOBS];
    for (int i = 0; i < JOBS; i++) {
        fill_text(src[i], LEN, 10 + i);
        size_t cap = i == 5 ? 10 : LEN; /* job 5's output cannot fit */
        OK(uadk_zip_batch_submit(b, UADK_COMPRESS, src[i], LEN, dst[i], cap, 1000 + i, &ids[i]));
    }
    FAILS(uadk_zip_batch_submit(b, 5, src[0], 10, dst[0], 10, 0, &ids[0]), UADK_E_INVALID_ARGUMENT);
    FAILS(uadk_zip_batch_submit(b, UADK_COMPRESS, src[0], 10, NULL, 10, 0, &ids[0]), UADK_E_NULL_POINTER);
    size_t inflight = 0;
    OK(uadk_zip_batch_in_flight(b, &inflight));
    CHECK(inflight == JOBS);
    int seen = 0, devices = 0;
    while (seen < JOBS) {
        OK(uadk_zip_batch_wait(b, &comp));
        int i = (int)(comp.user_data - 1000);
        CHECK(i >= 0 && i < JOBS && comp.id == ids[i] && comp.direction == UADK_COMPRESS);
        if (i == 5) {
            CHECK(comp.status == UADK_E_OUTPUT_TOO_SMALL && comp.dst_len > 10);
            CHECK(comp.report.path == UADK_PATH_NONE && strlen(comp.report.reason) > 0);
        } else {
            CHECK(comp.status == UADK_OK && comp.report.bytes_in == LEN);
            devices += comp.report.path == UADK_PATH_DEVICE;
            size_t blen = 0;
            OK(uadk_zip_decompress(s, dst[i], comp.dst_len, back, LEN, &blen, NULL));
            CHECK(blen == LEN && memcmp(back, src[i], LEN) == 0);
        }
        seen++;
    }
    if (device_mode) CHECK(devices > 0);
    if (!device_mode) CHECK(devices == 0);
    FAILS(uadk_zip_batch_wait(b, &comp), UADK_E_BAD_STATE);
    /* Decompression jobs, and a corrupt one. */
    uint64_t id;
    OK(uadk_zip_batch_submit(b, UADK_DECOMPRESS, (const uint8_t *)"not zlib", 8, back, LEN, 7, &id));
    OK(uadk_zip_batch_wait(b, &comp));
    CHECK(comp.id == id && comp.user_data == 7 && comp.status == UADK_E_DATA_CORRUPT);
    /* Destroy with jobs in flight: waits, writes nothing. */
    for (int i = 0; i < 4; i++) OK(uadk_zip_batch_submit(b, UADK_COMPRESS, src[i], LEN, dst[i], LEN, 0, &id));
    OK(uadk_zip_batch_destroy(b));
    FAILS(uadk_zip_batch_poll(b, &comp), UADK_E_INVALID_HANDLE);
    FAILS(uadk_zip_batch_destroy(b), UADK_E_INVALID_HANDLE);
    OK(uadk_zip_session_destroy(s));
}

static void test_zip_pool(void) {
    uadk_pool_config pc;
    OK(uadk_pool_config_default(&pc));
    pc.chunk_size = 1 << 20;
    pc.chunks = 4;
    uadk_pool pool;
    OK(uadk_pool_create(&pc, &pool));
    uadk_zip_config cfg;
    OK(uadk_zip_config_default(&cfg));
    cfg.pool = pool;
    uadk_zip_session s;
    OK(uadk_zip_session_create(&cfg, &s));
    void *in, *out;
    OK(uadk_pool_alloc(pool, 0, &in));
    OK(uadk_pool_alloc(pool, 0, &out));
    fill_text(in, 200000, 3);
    size_t zlen;
    uadk_report rep;
    OK(uadk_zip_compress(s, in, 200000, out, 1 << 20, &zlen, &rep));
    uadk_zip_counters c;
    OK(uadk_zip_session_get_counters(s, &c));
    if (device_mode) CHECK(rep.path == UADK_PATH_DEVICE && c.dma_zero_copy_bytes >= 200000);
    OK(uadk_pool_free(pool, in));
    OK(uadk_pool_free(pool, out));
    OK(uadk_pool_destroy(pool)); /* the session keeps the pool's memory */
    OK(uadk_zip_compress(s, (const uint8_t *)"after", 5, (uint8_t *)&rep, sizeof rep, &zlen, NULL));
    OK(uadk_zip_session_destroy(s));
}

/* ---------------------------------------------------------------- crypto */

static uadk_crypto crypto_ctx(uadk_backend backend) {
    uadk_crypto_config cfg;
    OK(uadk_crypto_config_default(&cfg));
    cfg.backend = backend;
    uadk_crypto ctx;
    OK(uadk_crypto_create(&cfg, &ctx));
    return ctx;
}

static void test_crypto_cipher(uadk_crypto ctx) {
    uint8_t key[16], iv[16], pt[64], ct[64], out[64];
    unhex(key, "2b7e151628aed2a6abf7158809cf4f3c");
    unhex(iv, "000102030405060708090a0b0c0d0e0f");
    unhex(pt, "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
    uadk_cipher_session s;
    FAILS(uadk_cipher_session_create(ctx, "aes-128-cbc", key, 15, &s), UADK_E_BAD_LENGTH);
    FAILS(uadk_cipher_session_create(ctx, "rot13", key, 16, &s), UADK_E_UNSUPPORTED);
    FAILS(uadk_cipher_session_create(ctx, "sha256", key, 16, &s), UADK_E_UNSUPPORTED);
    FAILS(uadk_cipher_session_create(ctx, NULL, key, 16, &s), UADK_E_NULL_POINTER);
    FAILS(uadk_cipher_session_create(ctx, "aes-128-cbc", NULL, 16, &s), UADK_E_NULL_POINTER);
    uint8_t xts_key[32] = {0};
    FAILS(uadk_cipher_session_create(ctx, "aes-128-xts", xts_key, 32, &s), UADK_E_INVALID_ARGUMENT);
    OK(uadk_cipher_session_create(ctx, "AES-128-CBC", key, 16, &s));

    /* SP 800-38A F.2.1 */
    uadk_report rep;
    OK(uadk_cipher_encrypt(s, iv, 16, pt, 32, ct, sizeof ct, &rep));
    CHECK(hex_eq(ct, "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"));
    CHECK(rep.path == UADK_PATH_SOFTWARE && rep.bytes_in == 32); /* below the 1 KiB threshold */
    OK(uadk_cipher_decrypt(s, iv, 16, ct, 32, out, 32, NULL));
    CHECK(memcmp(out, pt, 32) == 0);
    memcpy(out, pt, 32);
    OK(uadk_cipher_encrypt(s, iv, 16, out, 32, out, 32, NULL)); /* in place */
    CHECK(memcmp(out, ct, 32) == 0);
    FAILS(uadk_cipher_encrypt(s, iv, 16, pt, 32, out, 31, NULL), UADK_E_OUTPUT_TOO_SMALL);
    FAILS(uadk_cipher_encrypt(s, iv, 16, pt, 31, out, 64, NULL), UADK_E_BAD_LENGTH);
    FAILS(uadk_cipher_encrypt(s, iv, 12, pt, 32, out, 64, NULL), UADK_E_BAD_LENGTH);
    FAILS(uadk_cipher_encrypt(s, iv, 16, out, 32, out + 16, 32, NULL), UADK_E_INVALID_ARGUMENT);
    FAILS(uadk_cipher_encrypt(s, out, 16, pt, 32, out, 32, NULL), UADK_E_INVALID_ARGUMENT);
    FAILS(uadk_cipher_encrypt(s, NULL, 16, pt, 32, out, 32, NULL), UADK_E_NULL_POINTER);

    /* Large request: the device when there is one. */
    const size_t big = 65536;
    uint8_t *a = malloc(big), *b2 = malloc(big), *c2 = malloc(big);
    fill_text(a, big, 4);
    OK(uadk_cipher_encrypt(s, iv, 16, a, big, b2, big, &rep));
    CHECK(rep.path == (device_mode ? UADK_PATH_DEVICE : UADK_PATH_SOFTWARE));
    OK(uadk_cipher_decrypt(s, iv, 16, b2, big, c2, big, NULL));
    CHECK(memcmp(a, c2, big) == 0);

    /* Streams: CBC in pieces equals one-shot; CTR with odd splits too. */
    uadk_cipher_stream st;
    FAILS(uadk_cipher_stream_create(s, 3, iv, 16, &st), UADK_E_INVALID_ARGUMENT);
    FAILS(uadk_cipher_stream_create(s, UADK_ENCRYPT, iv, 8, &st), UADK_E_BAD_LENGTH);
    OK(uadk_cipher_stream_create(s, UADK_ENCRYPT, iv, 16, &st));
    OK(uadk_cipher_stream_update(st, a, 4096, c2, 4096, &rep));
    OK(uadk_cipher_stream_update(st, a + 4096, big - 4096, c2 + 4096, big - 4096, NULL));
    CHECK(memcmp(b2, c2, big) == 0);
    FAILS(uadk_cipher_stream_update(st, a, 5, c2, 5, NULL), UADK_E_BAD_LENGTH);
    OK(uadk_cipher_stream_destroy(st));
    FAILS(uadk_cipher_stream_update(st, a, 16, c2, 16, NULL), UADK_E_INVALID_HANDLE);
    OK(uadk_cipher_session_destroy(s));

    OK(uadk_cipher_session_create(ctx, "sm4-ctr", key, 16, &s));
    OK(uadk_cipher_encrypt(s, iv, 16, a, 1000, b2, 1000, NULL));
    OK(uadk_cipher_stream_create(s, UADK_DECRYPT, iv, 16, &st));
    OK(uadk_cipher_session_destroy(s)); /* the stream keeps the session */
    OK(uadk_cipher_stream_update(st, b2, 333, c2, 333, NULL));
    OK(uadk_cipher_stream_update(st, b2 + 333, 667, c2 + 333, 667, NULL));
    CHECK(memcmp(a, c2, 1000) == 0);
    uadk_cipher_session wrong = {st.id};
    FAILS(uadk_cipher_encrypt(wrong, iv, 16, a, 16, b2, 16, NULL), UADK_E_INVALID_HANDLE);
    OK(uadk_cipher_stream_destroy(st));
    FAILS(uadk_cipher_stream_destroy(st), UADK_E_INVALID_HANDLE);
    free(a), free(b2), free(c2);
}

static void test_crypto_digest(uadk_crypto ctx) {
    uadk_digest_session s;
    FAILS(uadk_digest_session_create(ctx, "hmac-sha256", &s), UADK_E_UNSUPPORTED);
    FAILS(uadk_digest_session_create(ctx, "aes-128-cbc", &s), UADK_E_UNSUPPORTED);
    OK(uadk_digest_session_create(ctx, "sha256", &s));
    size_t size = 0;
    OK(uadk_digest_size(s, &size));
    CHECK(size == 32);
    uint8_t md[64];
    size_t mdlen = 0;
    uadk_report rep;
    OK(uadk_digest(s, (const uint8_t *)"abc", 3, md, sizeof md, &mdlen, &rep));
    CHECK(mdlen == 32 && hex_eq(md, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK(rep.path == UADK_PATH_SOFTWARE);
    FAILS(uadk_digest(s, (const uint8_t *)"abc", 3, md, 31, &mdlen, NULL), UADK_E_OUTPUT_TOO_SMALL);
    FAILS(uadk_digest(s, md, 8, md + 4, 32, &mdlen, NULL), UADK_E_INVALID_ARGUMENT);
    FAILS(uadk_digest(s, NULL, 3, md, 32, &mdlen, NULL), UADK_E_NULL_POINTER);
    OK(uadk_digest(s, NULL, 0, md, 32, &mdlen, NULL));
    CHECK(hex_eq(md, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));

    const size_t big = 1 << 20;
    uint8_t *data = malloc(big), *one = malloc(64);
    fill_text(data, big, 5);
    OK(uadk_digest(s, data, big, one, 64, &mdlen, &rep));
    CHECK(rep.path == (device_mode ? UADK_PATH_DEVICE : UADK_PATH_SOFTWARE));

    uadk_digest_stream st;
    OK(uadk_digest_stream_create(s, &st));
    OK(uadk_digest_stream_update(st, data, 1));
    OK(uadk_digest_stream_update(st, NULL, 0));
    OK(uadk_digest_stream_update(st, data + 1, 200000));
    OK(uadk_digest_stream_update(st, data + 200001, big - 200001));
    FAILS(uadk_digest_stream_final(st, md, 16, &mdlen, NULL), UADK_E_OUTPUT_TOO_SMALL);
    OK(uadk_digest_stream_final(st, md, sizeof md, &mdlen, &rep));
    CHECK(mdlen == 32 && memcmp(md, one, 32) == 0);
    FAILS(uadk_digest_stream_final(st, md, sizeof md, &mdlen, NULL), UADK_E_BAD_STATE);
    FAILS(uadk_digest_stream_update(st, data, 1), UADK_E_BAD_STATE);
    OK(uadk_digest_stream_destroy(st));
    FAILS(uadk_digest_stream_update(st, data, 1), UADK_E_INVALID_HANDLE);
    OK(uadk_digest_session_destroy(s));

    const char *fox = "The quick brown fox jumps over the lazy dog";
    FAILS(uadk_hmac_session_create(ctx, "sha256", NULL, 3, &s), UADK_E_NULL_POINTER);
    OK(uadk_hmac_session_create(ctx, "hmac-sha256", (const uint8_t *)"key", 3, &s));
    OK(uadk_digest(s, (const uint8_t *)fox, strlen(fox), md, sizeof md, &mdlen, NULL));
    CHECK(hex_eq(md, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"));
    OK(uadk_digest_stream_create(s, &st));
    OK(uadk_digest_stream_update(st, (const uint8_t *)fox, 10));
    OK(uadk_digest_stream_update(st, (const uint8_t *)fox + 10, strlen(fox) - 10));
    OK(uadk_digest_stream_final(st, one, 64, &mdlen, NULL));
    CHECK(memcmp(md, one, 32) == 0);
    OK(uadk_digest_stream_destroy(st));
    OK(uadk_digest_session_destroy(s));
    OK(uadk_hmac_session_create(ctx, "sm3", NULL, 0, &s)); /* an empty key is allowed */
    OK(uadk_digest_session_destroy(s));
    free(data), free(one);
}

static void test_crypto_aead(uadk_crypto ctx) {
    uint8_t key[16] = {1, 2, 3}, nonce[12] = {9}, aad[20] = {7}, tag[16], tag2[16];
    uadk_aead_session s;
    FAILS(uadk_aead_session_create(ctx, "aes-128-gcm", key, 16, 5, &s), UADK_E_BAD_LENGTH);
    FAILS(uadk_aead_session_create(ctx, "aes-128-gcm", key, 24, 16, &s), UADK_E_BAD_LENGTH);
    FAILS(uadk_aead_session_create(ctx, "aes-128-cbc", key, 16, 16, &s), UADK_E_UNSUPPORTED);
    OK(uadk_aead_session_create(ctx, "aes-128-gcm", key, 16, 16, &s));
    const size_t n = 40000;
    uint8_t *pt = malloc(n), *ct = malloc(n), *back = malloc(n);
    fill_text(pt, n, 6);
    uadk_report rep;
    OK(uadk_aead_seal(s, nonce, 12, aad, 20, pt, n, ct, n, tag, 16, &rep));
    CHECK(rep.bytes_in == n + 20 && rep.bytes_out == n + 16);
    CHECK(rep.path == (device_mode ? UADK_PATH_DEVICE : UADK_PATH_SOFTWARE));
    OK(uadk_aead_open(s, nonce, 12, aad, 20, ct, n, tag, 16, back, n, &rep));
    CHECK(memcmp(back, pt, n) == 0);
    /* A tampered tag releases nothing. */
    memcpy(tag2, tag, 16);
    tag2[3] ^= 1;
    FAILS(uadk_aead_open(s, nonce, 12, aad, 20, ct, n, tag2, 16, back, n, NULL), UADK_E_AUTH_FAILED);
    int nonzero = 0;
    for (size_t i = 0; i < n; i++) nonzero |= back[i];
    CHECK(nonzero == 0);
    /* In place both ways. */
    memcpy(back, pt, n);
    OK(uadk_aead_seal(s, nonce, 12, aad, 20, back, n, back, n, tag2, 16, NULL));
    CHECK(memcmp(back, ct, n) == 0 && memcmp(tag2, tag, 16) == 0);
    OK(uadk_aead_open(s, nonce, 12, aad, 20, back, n, tag, 16, back, n, NULL));
    CHECK(memcmp(back, pt, n) == 0);
    /* Misuse. */
    FAILS(uadk_aead_seal(s, nonce, 11, aad, 20, pt, n, ct, n, tag, 16, NULL), UADK_E_BAD_LENGTH);
    FAILS(uadk_aead_seal(s, nonce, 12, aad, 20, pt, n, ct, n, tag, 15, NULL), UADK_E_BAD_LENGTH);
    FAILS(uadk_aead_seal(s, nonce, 12, aad, 20, pt, n, ct, n - 1, tag, 16, NULL), UADK_E_OUTPUT_TOO_SMALL);
    FAILS(uadk_aead_seal(s, nonce, 12, aad, 20, pt, 100, ct, 100, ct + 50, 16, NULL), UADK_E_INVALID_ARGUMENT);
    FAILS(uadk_aead_seal(s, nonce, 12, aad, 20, pt, 100, pt + 1, 100, tag, 16, NULL), UADK_E_INVALID_ARGUMENT);
    FAILS(uadk_aead_open(s, nonce, 12, ct, 20, ct, 100, tag, 16, ct + 10, 100, NULL), UADK_E_INVALID_ARGUMENT);
    FAILS(uadk_aead_open(s, NULL, 12, aad, 20, ct, n, tag, 16, back, n, NULL), UADK_E_NULL_POINTER);
    OK(uadk_aead_session_destroy(s));
    FAILS(uadk_aead_seal(s, nonce, 12, aad, 20, pt, n, ct, n, tag, 16, NULL), UADK_E_INVALID_HANDLE);
    OK(uadk_aead_session_create(ctx, "sm4-ccm", key, 16, 8, &s));
    OK(uadk_aead_seal(s, nonce, 12, NULL, 0, pt, 100, ct, 100, tag, 8, NULL));
    OK(uadk_aead_open(s, nonce, 12, NULL, 0, ct, 100, tag, 8, back, 100, NULL));
    CHECK(memcmp(back, pt, 100) == 0);
    OK(uadk_aead_session_destroy(s));
    free(pt), free(ct), free(back);
}

static void test_crypto(void) {
    uadk_crypto_config cfg;
    FAILS(uadk_crypto_config_default(NULL), UADK_E_NULL_POINTER);
    OK(uadk_crypto_config_default(&cfg));
    CHECK(cfg.backend == UADK_BACKEND_AUTO && cfg.cipher_min == 1024 && cfg.gcm_min == 16384);
    uadk_crypto ctx;
    cfg.backend = 12;
    FAILS(uadk_crypto_create(&cfg, &ctx), UADK_E_INVALID_ARGUMENT);

    uadk_crypto dev = crypto_ctx(UADK_BACKEND_DEVICE);
    uadk_cipher_session cs;
    uint8_t key[16] = {0};
    if (device_mode) {
        OK(uadk_cipher_session_create(dev, "aes-128-cbc", key, 16, &cs));
        OK(uadk_cipher_session_destroy(cs));
    } else {
        FAILS(uadk_cipher_session_create(dev, "aes-128-cbc", key, 16, &cs), UADK_E_NO_DEVICE);
    }
    OK(uadk_crypto_destroy(dev));

    ctx = crypto_ctx(UADK_BACKEND_AUTO);
    char name[512];
    OK(uadk_crypto_device(ctx, name, sizeof name, NULL));
    if (device_mode) CHECK(strstr(name, "attached") != NULL);
    else CHECK(strncmp(name, "none", 4) == 0);

    test_crypto_cipher(ctx);
    test_crypto_digest(ctx);
    test_crypto_aead(ctx);

    uadk_crypto_counters c;
    OK(uadk_crypto_get_counters(ctx, &c));
    CHECK(c.software_requests > 0);
    if (device_mode) CHECK(c.device_requests > 0 && c.small_packets > 0);
    else CHECK(c.device_requests == 0 && c.no_device > 0);
    FAILS(uadk_crypto_get_counters(ctx, NULL), UADK_E_NULL_POINTER);
    OK(uadk_crypto_destroy(ctx));
    FAILS(uadk_crypto_destroy(ctx), UADK_E_INVALID_HANDLE);
    FAILS(uadk_digest_session_create(ctx, "sha1", &(uadk_digest_session){0}), UADK_E_INVALID_HANDLE);
}

/* ---------------------------------------------------------------- threads and fork */

struct shared {
    uadk_zip_session zip;
    uadk_digest_session sha;
    int ok;
};

static void *worker(void *arg) {
    struct shared *sh = arg;
    uint8_t src[20000], z[25000], back[20000], md[64];
    size_t zl, bl, ml;
    sh->ok = 1;
    for (int i = 0; i < 20; i++) {
        fill_text(src, sizeof src, (unsigned)i);
        uadk_status rc = uadk_zip_compress(sh->zip, src, sizeof src, z, sizeof z, &zl, NULL);
        if (rc == UADK_OK) rc = uadk_zip_decompress(sh->zip, z, zl, back, sizeof back, &bl, NULL);
        if (rc == UADK_OK && (bl != sizeof src || memcmp(src, back, bl) != 0)) rc = -1;
        if (rc == UADK_OK) rc = uadk_digest(sh->sha, src, sizeof src, md, 64, &ml, NULL);
        if (rc != UADK_OK) {
            char msg[512];
            uadk_last_error_message(msg, sizeof msg, NULL);
            fprintf(stderr, "api_test: worker: status %d: %s\n", rc, msg);
            sh->ok = 0;
        }
    }
    return NULL;
}

static void test_threads(void) {
    uadk_crypto ctx = crypto_ctx(UADK_BACKEND_AUTO);
    struct shared sh[4];
    pthread_t t[4];
    uadk_zip_session zip = zip_session(UADK_FORMAT_GZIP, 1, UADK_BACKEND_AUTO);
    uadk_digest_session sha;
    OK(uadk_digest_session_create(ctx, "sha512", &sha));
    for (int i = 0; i < 4; i++) {
        sh[i].zip = zip;
        sh[i].sha = sha;
        CHECK(pthread_create(&t[i], NULL, worker, &sh[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(sh[i].ok);
    }
    OK(uadk_zip_session_destroy(zip));
    OK(uadk_digest_session_destroy(sha));
    OK(uadk_crypto_destroy(ctx));
}

static void test_fork(void) {
    uadk_zip_session s = zip_session(UADK_FORMAT_ZLIB, 6, UADK_BACKEND_AUTO);
    uadk_crypto ctx = crypto_ctx(UADK_BACKEND_AUTO);
    uadk_digest_session sha;
    OK(uadk_digest_session_create(ctx, "sha256", &sha));
    uadk_pool_config pc;
    OK(uadk_pool_config_default(&pc));
    pc.chunk_size = 4096;
    pc.chunks = 2;
    uadk_pool pool;
    OK(uadk_pool_create(&pc, &pool));
    void *chunk;
    OK(uadk_pool_alloc(pool, 0, &chunk));
    uadk_zip_batch b;
    OK(uadk_zip_batch_create(s, 1, 2, &b));
    static uint8_t src[300000], z[310000], back[300000];
    fill_text(src, sizeof src, 9);

    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The child: sessions work (device queues reopened here), pools and batches are
         * the parent's. */
        size_t zl, bl, ml;
        uadk_report rep;
        uint8_t md[32];
        OK(uadk_zip_compress(s, src, sizeof src, z, sizeof z, &zl, &rep));
        if (device_mode) CHECK(rep.path == UADK_PATH_DEVICE);
        OK(uadk_zip_decompress(s, z, zl, back, sizeof back, &bl, NULL));
        CHECK(bl == sizeof src && memcmp(src, back, bl) == 0);
        OK(uadk_digest(sha, src, sizeof src, md, 32, &ml, &rep));
        if (device_mode) CHECK(rep.path == UADK_PATH_DEVICE);
        void *c2;
        FAILS(uadk_pool_alloc(pool, 0, &c2), UADK_E_FORKED);
        FAILS(uadk_pool_free(pool, chunk), UADK_E_FORKED);
        uint64_t id;
        FAILS(uadk_zip_batch_submit(b, UADK_COMPRESS, src, 10, z, 100, 0, &id), UADK_E_FORKED);
        /* Destroying them here forgets them: the parent's threads are not joined, its pin
         * is not released. */
        OK(uadk_zip_batch_destroy(b));
        OK(uadk_pool_destroy(pool));
        FAILS(uadk_pool_destroy(pool), UADK_E_INVALID_HANDLE);
        OK(uadk_zip_session_destroy(s));
        fflush(NULL);
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The parent's handles are untouched by the child. */
    uint64_t id;
    uadk_zip_completion comp;
    OK(uadk_zip_batch_submit(b, UADK_COMPRESS, src, 1000, z, 2000, 0, &id));
    OK(uadk_zip_batch_wait(b, &comp));
    CHECK(comp.status == UADK_OK);
    OK(uadk_pool_free(pool, chunk));
    OK(uadk_zip_batch_destroy(b));
    OK(uadk_pool_destroy(pool));
    OK(uadk_zip_session_destroy(s));
    OK(uadk_digest_session_destroy(sha));
    OK(uadk_crypto_destroy(ctx));
}

int main(void) {
    const char *dm = getenv("UADK_TEST_DEVICE");
    device_mode = dm && strcmp(dm, "1") == 0;
    uadk_lib_counters before, after;
    OK(uadk_get_counters(&before));

    test_general();
    test_devices();
    test_pool();
    test_zip_oneshot();
    test_zip_stream();
    test_zip_batch();
    test_zip_pool();
    test_crypto();
    test_threads();
    const char *vg = getenv("UADK_TEST_UNDER_VALGRIND");
    if (!(vg && strcmp(vg, "1") == 0)) test_fork();

    OK(uadk_get_counters(&after));
    CHECK(after.handles_live == before.handles_live);
    CHECK(after.panics == 0);
    CHECK(after.invalid_handles > before.invalid_handles);
    printf("api_test: ok, %d checks (%s mode)\n", checks, device_mode ? "device" : "software");
    return 0;
}
