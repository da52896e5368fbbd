/*
 * A zlib client compiled against the system zlib.h and linked with -lz, run by
 * tests/c_programs.rs against the system libz, under LD_PRELOAD=libuadk_z.so, and with
 * libuadk_z.so installed as libz.so.1 (LD_LIBRARY_PATH). It exercises the ABI the way C
 * programs do: struct layout, streaming with every flush mode and small buffers, gzip
 * headers, dictionaries, copies, one-shot calls, checksums, gz files with gzprintf, and
 * versioned symbols (compressBound@ZLIB_1.2.0 ... crc32_z@ZLIB_1.2.9). Exits non-zero with
 * a message on the first mismatch.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } } while (0)

static unsigned char *make_data(size_t n, unsigned seed) {
    static const char *words[] = {"alpha ", "beta ", "gamma\n", "delta ", "zlib ", "<p>"};
    unsigned char *d = malloc(n ? n : 1);
    size_t i = 0;
    while (i < n) {
        seed = seed * 1103515245u + 12345u;
        if ((seed >> 16) % 5 == 0) { d[i++] = (unsigned char)(seed >> 8); continue; }
        const char *w = words[(seed >> 16) % 6];
        for (size_t k = 0; w[k] && i < n; k++) d[i++] = (unsigned char)w[k];
    }
    return d;
}

/* Streaming deflate with the given window bits, flush pattern and output size, then
 * streaming inflate with 1..4096-byte outputs; the data must come back. */
static void round_trip(int level, int wbits, int strategy, size_t n, size_t out_chunk) {
    unsigned char *in = make_data(n, (unsigned)(level * 31 + wbits));
    size_t cap = deflateBound(NULL, n) + 4096, zn = 0;
    unsigned char *z = malloc(cap), *back = malloc(n + 1);
    unsigned char buf[65536];
    z_stream s;
    memset(&s, 0, sizeof s);
    CHECK(deflateInit2(&s, level, Z_DEFLATED, wbits, 8, strategy) == Z_OK, "deflateInit2 %d %d", level, wbits);
    static const int flushes[] = {Z_NO_FLUSH, Z_SYNC_FLUSH, Z_NO_FLUSH, Z_FULL_FLUSH, Z_PARTIAL_FLUSH, Z_BLOCK};
    size_t pos = 0, step = n / 7 + 1;
    for (int k = 0;; k++) {
        size_t take = n - pos < step ? n - pos : step;
        int last = pos + take == n;
        int flush = last ? Z_FINISH : flushes[k % 6];
        s.next_in = in + pos;
        s.avail_in = (uInt)take;
        int rc;
        do {
            size_t room = out_chunk < 8 && flush != Z_NO_FLUSH && flush != Z_FINISH ? 8 : out_chunk;
            s.next_out = buf;
            s.avail_out = (uInt)room;
            rc = deflate(&s, flush);
            CHECK(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR, "deflate rc %d", rc);
            memcpy(z + zn, buf, room - s.avail_out);
            zn += room - s.avail_out;
        } while (rc != Z_STREAM_END && (s.avail_out == 0 || s.avail_in != 0 || (flush == Z_FINISH)));
        pos += take;
        if (last) { CHECK(rc == Z_STREAM_END, "no Z_STREAM_END"); break; }
    }
    CHECK(s.total_in == n && s.total_out == zn, "deflate totals");
    uLong adler = s.adler;
    CHECK(deflateEnd(&s) == Z_OK, "deflateEnd");

    memset(&s, 0, sizeof s);
    CHECK(inflateInit2(&s, wbits > 15 ? 47 : wbits) == Z_OK, "inflateInit2");
    s.next_in = z;
    s.avail_in = (uInt)zn;
    size_t got = 0;
    int rc;
    for (unsigned k = 0;; k++) {
        unsigned room = 1 + (k * 977) % 4096;
        s.next_out = buf;
        s.avail_out = room;
        rc = inflate(&s, Z_NO_FLUSH);
        CHECK(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR, "inflate rc %d (%s)", rc, s.msg ? s.msg : "");
        memcpy(back + got, buf, room - s.avail_out);
        got += room - s.avail_out;
        if (rc == Z_STREAM_END) break;
        CHECK(k < 100000000u, "inflate stalled");
    }
    CHECK(got == n && memcmp(in, back, n) == 0, "round trip level %d wbits %d", level, wbits);
    CHECK(s.avail_in == 0 && s.total_in == zn, "inflate consumed %lu of %zu", s.total_in, zn);
    if (wbits > 0) CHECK(s.adler == adler, "check value");
    CHECK(inflateEnd(&s) == Z_OK, "inflateEnd");
    free(in); free(z); free(back);
}

int main(void) {
    printf("layout %zu %zu %zu %zu %zu %zu %zu\n", sizeof(z_stream), offsetof(z_stream, total_in),
           offsetof(z_stream, msg), offsetof(z_stream, zalloc), offsetof(z_stream, data_type),
           offsetof(z_stream, adler), sizeof(gz_header));
    CHECK(strcmp(zlibVersion(), ZLIB_VERSION) == 0 || zlibVersion()[0] == ZLIB_VERSION[0], "version");

    for (int level = 0; level <= 9; level += 3)
        for (int w = 0; w < 4; w++) {
            static const int wb[] = {15, -15, 31, 9};
            round_trip(level == 0 ? 1 : level, wb[w], Z_DEFAULT_STRATEGY, 300000, 1 + (size_t)level * 700);
            round_trip(level, wb[w], Z_DEFAULT_STRATEGY, 1000, 4096);
        }
    round_trip(6, 15, Z_HUFFMAN_ONLY, 50000, 4096);
    round_trip(6, 15, Z_RLE, 50000, 4096);

    /* One-shot calls and the bound (versioned symbols: compressBound@ZLIB_1.2.0,
     * uncompress2@ZLIB_1.2.9). */
    size_t n = 65536;
    unsigned char *in = make_data(n, 9), *back = malloc(n);
    uLongf zl = compressBound(n);
    unsigned char *z = malloc(zl);
    CHECK(compress2(z, &zl, in, n, 6) == Z_OK, "compress2");
    uLongf bl = n;
    uLong sl = zl;
    CHECK(uncompress2(back, &bl, z, &sl) == Z_OK && bl == n && sl == zl && !memcmp(in, back, n), "uncompress2");
    bl = n / 2;
    CHECK(uncompress(back, &bl, z, zl) == Z_BUF_ERROR, "short output");
    z[zl - 1] ^= 0x55; /* the adler32 trailer: an error whatever the compressor */
    bl = n;
    CHECK(uncompress(back, &bl, z, zl) == Z_DATA_ERROR, "corrupt input");

    /* Checksums (crc32_z/adler32_z@ZLIB_1.2.9, *_combine@ZLIB_1.2.2). */
    uLong c1 = crc32(0, in, 1000), c2 = crc32(0, in + 1000, 2000);
    CHECK(crc32_combine(c1, c2, 2000) == crc32_z(0, in, 3000), "crc32_combine");
    uLong a1 = adler32(1, in, 1000), a2 = adler32(1, in + 1000, 2000);
    CHECK(adler32_combine(a1, a2, 2000) == adler32_z(1, in, 3000), "adler32_combine");
    CHECK(crc32(0, (const Bytef *)"123456789", 9) == 0xcbf43926UL, "crc32 check value");
    CHECK(get_crc_table()[1] == 0x77073096UL, "crc table");
    CHECK(strcmp(zError(Z_DATA_ERROR), "data error") == 0, "zError");

    /* gzip header out and in, dictionary, deflateCopy, inflateSync. */
    z_stream d, i, c;
    gz_header h, g;
    memset(&d, 0, sizeof d); memset(&h, 0, sizeof h); memset(&g, 0, sizeof g);
    h.name = (Bytef *)"name.txt"; h.time = 77; h.hcrc = 1;
    CHECK(deflateInit2(&d, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK, "gz init");
    CHECK(deflateSetHeader(&d, &h) == Z_OK, "deflateSetHeader");
    zl = compressBound(n) + 64;
    d.next_in = in; d.avail_in = (uInt)n; d.next_out = z; d.avail_out = (uInt)zl;
    CHECK(deflate(&d, Z_FINISH) == Z_STREAM_END, "gz deflate");
    zl = d.total_out;
    deflateEnd(&d);
    char name[32];
    g.name = (Bytef *)name; g.name_max = sizeof name;
    memset(&i, 0, sizeof i);
    CHECK(inflateInit2(&i, 31) == Z_OK && inflateGetHeader(&i, &g) == Z_OK, "inflateGetHeader");
    i.next_in = z; i.avail_in = (uInt)zl; i.next_out = back; i.avail_out = (uInt)n;
    CHECK(inflate(&i, Z_FINISH) == Z_STREAM_END && g.done == 1 && g.time == 77 && !strcmp(name, "name.txt"), "gz header");
    inflateEnd(&i);

    memset(&d, 0, sizeof d);
    CHECK(deflateInit(&d, 9) == Z_OK, "init");
    CHECK(deflateSetDictionary(&d, (const Bytef *)"alpha beta gamma", 16) == Z_OK, "dict");
    d.next_in = in; d.avail_in = 30000; d.next_out = z; d.avail_out = (uInt)compressBound(n);
    CHECK(deflate(&d, Z_SYNC_FLUSH) == Z_OK, "sync");
    memset(&c, 0, sizeof c);
    CHECK(deflateCopy(&c, &d) == Z_OK, "deflateCopy");
    c.next_in = in + 30000; c.avail_in = (uInt)(n - 30000);
    CHECK(deflate(&c, Z_FINISH) == Z_STREAM_END, "copy finish");
    zl = c.total_out;
    deflateEnd(&c);
    deflateEnd(&d);
    memset(&i, 0, sizeof i);
    inflateInit(&i);
    i.next_in = z; i.avail_in = (uInt)zl; i.next_out = back; i.avail_out = (uInt)n;
    CHECK(inflate(&i, Z_NO_FLUSH) == Z_NEED_DICT, "need dict");
    CHECK(inflateSetDictionary(&i, (const Bytef *)"alpha beta gamma", 16) == Z_OK, "set dict");
    CHECK(inflate(&i, Z_NO_FLUSH) == Z_STREAM_END && !memcmp(in, back, n), "dict data");
    inflateEnd(&i);

    /* gz files: gzprintf (variadic) and gzvprintf's node, gzgets, gzseek64@ZLIB_1.2.3.3. */
    char path[] = "/tmp/uadk-z-client-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    gzFile f = gzdopen(fd, "wb9");
    CHECK(f != NULL, "gzdopen");
    CHECK(gzprintf(f, "%s %d %5.2f|\n", "printf", -42, 3.14159) == 18, "gzprintf");
    CHECK(gzwrite(f, in, (unsigned)n) == (int)n, "gzwrite");
    CHECK(gzclose(f) == Z_OK, "gzclose");
    f = gzopen64(path, "rb");
    char line[64];
    CHECK(gzgets(f, line, sizeof line) && !strcmp(line, "printf -42  3.14|\n"), "gzgets: %s", line);
    CHECK(gzread(f, back, (unsigned)n) == (int)n && !memcmp(in, back, n), "gzread");
    CHECK(gzseek64(f, 0, SEEK_SET) == 0 && gzgetc(f) == 'p', "gzseek64/gzgetc");
    CHECK(gzclose(f) == Z_OK, "gzclose r");
    remove(path);

    printf("ok %s\n", zlibVersion());
    free(in); free(back); free(z);
    return 0;
}
