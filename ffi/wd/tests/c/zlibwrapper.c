/*
 * UADK's zlib wrapper (wd_zlibwrapper.h): deflate/inflate round trips in raw, zlib and
 * gzip formats, in small pieces, cross-checked with system zlib.
 */
#include <zlib.h>
#include "check.h"

/* wd_zlibwrapper.h reuses zlib's names: declare the wrapper's calls by hand. */
struct wd_z_stream {
	const unsigned char *next_in;
	unsigned int avail_in;
	unsigned long long total_in;
	unsigned char *next_out;
	unsigned int avail_out;
	unsigned long long total_out;
	const char *msg;
	void *state;
	void *zalloc, *zfree, *opaque;
	int data_type;
	unsigned long long adler;
	unsigned long long reserved;
};
int wd_deflateInit2_(struct wd_z_stream *, int, int, int, int, int, const char *, int);
int wd_deflate(struct wd_z_stream *, int);
int wd_deflateReset(struct wd_z_stream *);
int wd_deflateEnd(struct wd_z_stream *);
int wd_inflateInit2_(struct wd_z_stream *, int, const char *, int);
int wd_inflate(struct wd_z_stream *, int);
int wd_inflateEnd(struct wd_z_stream *);

static void round_trip(int wbits, size_t len, size_t piece)
{
	unsigned char *in = malloc(len + 1), *out = malloc(len * 2 + 1024), *back = malloc(len + 1);
	struct wd_z_stream z = { 0 };
	size_t done = 0, produced;
	z_stream zs = { 0 };
	int ret;

	fill_data(in, len, 0, (uint32_t)len);
	CHECK_EQ(wd_deflateInit2_(&z, 1, Z_DEFLATED, wbits, 8, 0, "1.2.11", sizeof(z)), Z_OK);
	z.next_out = out;
	z.avail_out = len * 2 + 1024;
	do {
		size_t n = len - done < piece ? len - done : piece;

		z.next_in = in + done;
		z.avail_in = n;
		ret = wd_deflate(&z, done + n == len ? Z_FINISH : Z_SYNC_FLUSH);
		done += n - z.avail_in;
	} while (ret == Z_OK && done <= len && !(ret == Z_STREAM_END));
	CHECK_EQ(ret, Z_STREAM_END);
	produced = z.total_out;
	CHECK_EQ(z.total_in, len);
	CHECK_EQ(wd_deflateEnd(&z), Z_OK);
	/* System zlib reads it. */
	inflateInit2(&zs, wbits);
	zs.next_in = out;
	zs.avail_in = produced;
	zs.next_out = back;
	zs.avail_out = len + 1;
	CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END && zs.total_out == len && !memcmp(back, in, len),
	      "zlib inflates wbits %d len %zu", wbits, len);
	inflateEnd(&zs);
	/* The wrapper reads it back, feeding a few bytes at a time. */
	memset(&z, 0, sizeof(z));
	CHECK_EQ(wd_inflateInit2_(&z, wbits, "1.2.11", sizeof(z)), Z_OK);
	z.next_out = back;
	z.avail_out = len + 1;
	done = 0;
	do {
		size_t n = produced - done < piece ? produced - done : piece;

		if (done == 0 && n < 16)
			n = produced < 16 ? produced : 16;
		z.next_in = out + done;
		z.avail_in = n;
		ret = wd_inflate(&z, Z_SYNC_FLUSH);
		done += n - z.avail_in;
	} while (ret == Z_OK);
	CHECK(ret == Z_STREAM_END && z.total_out == len && !memcmp(back, in, len), "wrapper inflates wbits %d len %zu (%d)",
	      wbits, len, ret);
	CHECK_EQ(wd_inflateEnd(&z), Z_OK);
	CHECK_EQ(wd_inflateEnd(&z), Z_STREAM_ERROR);
	free(in);
	free(out);
	free(back);
}

int main(void)
{
	static const int wbits[] = { -15, 15, 31 };
	struct wd_z_stream z = { 0 };
	int i;

	for (i = 0; i < 3; i++) {
		round_trip(wbits[i], 100000, 7000);
		round_trip(wbits[i], 1, 1);
		round_trip(wbits[i], 300000, 300000);
	}
	CHECK_EQ(wd_deflateInit2_(&z, 1, Z_DEFLATED, 15, 8, 0, "2.0", sizeof(z)), Z_VERSION_ERROR);
	CHECK_EQ(wd_deflateInit2_(&z, 1, Z_DEFLATED, 15, 8, 0, "1.2.11", 8), Z_VERSION_ERROR);
	CHECK_EQ(wd_deflateInit2_(&z, 1, Z_DEFLATED, 40, 8, 0, "1.2.11", sizeof(z)), Z_STREAM_ERROR);
	CHECK_EQ(wd_deflate(NULL, Z_FINISH), Z_STREAM_ERROR);
	CHECK_EQ(wd_deflate(&z, Z_FINISH), Z_STREAM_ERROR);
	return finish("zlibwrapper");
}
