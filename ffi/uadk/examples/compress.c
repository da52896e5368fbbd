/*
 * compress.c - the README's example: gzip a buffer with libuadk, check the round trip, and
 * say which path ran and why.
 *
 *   cc compress.c $(pkg-config --cflags --libs uadk) -o compress && ./compress
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uadk.h>

static int fail(const char *what, uadk_status rc) {
    char msg[512];
    uadk_last_error_message(msg, sizeof msg, NULL);
    fprintf(stderr, "%s: %s (%d): %s\n", what, uadk_strerror(rc), rc, msg);
    return 1;
}

int main(void) {
    if (uadk_version_number() != UADK_VERSION_NUMBER)
        fprintf(stderr, "note: header %s, library %s\n", UADK_VERSION_STRING, uadk_version());

    uadk_zip_config cfg;
    uadk_zip_config_default(&cfg); /* gzip, level 6, device if present else software */
    cfg.level = 1;
    uadk_zip_session s;
    uadk_status rc = uadk_zip_session_create(&cfg, &s);
    if (rc != UADK_OK) return fail("uadk_zip_session_create", rc);

    static unsigned char text[1 << 20], packed[1 << 20], back[1 << 20];
    for (size_t i = 0; i < sizeof text; i++) text[i] = "accelerate "[i % 11];

    size_t packed_len = 0, back_len = 0;
    uadk_report rep;
    rc = uadk_zip_compress(s, text, sizeof text, packed, sizeof packed, &packed_len, &rep);
    if (rc != UADK_OK) return fail("uadk_zip_compress", rc);
    printf("compressed %zu -> %zu bytes on %s: %s\n", sizeof text, packed_len, rep.engine, rep.reason);

    rc = uadk_zip_decompress(s, packed, packed_len, back, sizeof back, &back_len, NULL);
    if (rc != UADK_OK) return fail("uadk_zip_decompress", rc);
    if (back_len != sizeof text || memcmp(back, text, back_len) != 0) {
        fprintf(stderr, "round trip mismatch\n");
        return 1;
    }
    uadk_zip_session_destroy(s);
    printf("round trip ok (libuadk %s)\n", uadk_version());
    return 0;
}
