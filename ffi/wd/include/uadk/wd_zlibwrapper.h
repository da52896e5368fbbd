/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uadk-rs: UADK's zlib-like wrapper (wd_deflate*, wd_inflate*) on libwd_comp.
 *
 * This is UADK's own stream type, not zlib's ABI: fields are __u32/__u64 and
 * "reserved" holds the session. Flush: Z_SYNC_FLUSH and Z_FINISH (as UADK),
 * and uadk-rs also accepts Z_NO_FLUSH, Z_PARTIAL_FLUSH and Z_FULL_FLUSH.
 * windowBits: -8..-15 raw deflate, 8..15 zlib, 24..31 gzip. Do not include
 * together with zlib.h (same macro names).
 */
#ifndef UADK_RS_WD_ZLIBWRAPPER_H
#define UADK_RS_WD_ZLIBWRAPPER_H

#include <linux/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZLIB_VERSION		"1.2.11"

#define Z_NO_FLUSH		0
#define Z_PARTIAL_FLUSH		1
#define Z_SYNC_FLUSH		2
#define Z_FULL_FLUSH		3
#define Z_FINISH		4

#define Z_OK			0
#define Z_STREAM_END		1
#define Z_NEED_DICT		2
#define Z_ERRNO			(-1)
#define Z_STREAM_ERROR		(-2)
#define Z_DATA_ERROR		(-3)
#define Z_MEM_ERROR		(-4)
#define Z_BUF_ERROR		(-5)
#define Z_VERSION_ERROR		(-6)

/* UADK's values (zlib's Z_DEFLATED is 8; both are accepted as method). */
#define Z_DEFLATED		0
#define MAX_WBITS		15
#define DEF_MEM_LEVEL		0
#define Z_DEFAULT_STRATEGY	0

struct internal_state;

typedef void (*alloc_func)(void *opaque, __u32 items, __u32 size);
typedef void (*free_func)(void *opaque, void *address);

typedef struct z_stream_s {
	const __u8 *next_in;
	__u32 avail_in;
	__u64 total_in;
	__u8 *next_out;
	__u32 avail_out;
	__u64 total_out;
	const char *msg;
	struct internal_state *state;
	alloc_func zalloc;	/* not used */
	free_func zfree;	/* not used */
	void *opaque;
	int data_type;
	__u64 adler;
	__u64 reserved;		/* the session handle */
} z_stream;

typedef z_stream *z_streamp;

int wd_deflateInit_(z_streamp strm, int level, const char *version, int stream_size);
int wd_deflateInit2_(z_streamp strm, int level, int method, int windowBits,
		     int memLevel, int strategy, const char *version, int stream_size);
int wd_deflate(z_streamp strm, int flush);
int wd_deflateReset(z_streamp strm);
int wd_deflateEnd(z_streamp strm);

int wd_inflateInit_(z_streamp strm, const char *version, int stream_size);
int wd_inflateInit2_(z_streamp strm, int windowBits, const char *version, int stream_size);
int wd_inflate(z_streamp strm, int flush);
int wd_inflateReset(z_streamp strm);
int wd_inflateEnd(z_streamp strm);

#define wd_deflateInit(strm, level) \
	wd_deflateInit_((strm), (level), ZLIB_VERSION, (int)sizeof(z_stream))
#define wd_deflateInit2(strm, level, method, windowBits, memLevel, strategy) \
	wd_deflateInit2_((strm), (level), (method), (windowBits), (memLevel), \
			 (strategy), ZLIB_VERSION, (int)sizeof(z_stream))
#define wd_inflateInit(strm) \
	wd_inflateInit_((strm), ZLIB_VERSION, (int)sizeof(z_stream))
#define wd_inflateInit2(strm, windowBits) \
	wd_inflateInit2_((strm), (windowBits), ZLIB_VERSION, (int)sizeof(z_stream))

#ifdef __cplusplus
}
#endif

#endif /* UADK_RS_WD_ZLIBWRAPPER_H */
