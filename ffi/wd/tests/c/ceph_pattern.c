/*
 * Ceph's UadkAccel call pattern (src/compressor/UadkAccel.cc), written from UADK's
 * documented API: one round-robin scheduler (2 types, 4 nodes), the device nearest for
 * "zlib", N sync contexts split compress/decompress, wd_comp_init; per call a session
 * (zlib, L1, 8 KiB window to compress, 32 KiB to decompress) and wd_do_comp_strm loops
 * with 32 KiB..8 MiB output buffers and a 1-byte marker. Output is decoded by system
 * zlib, and system zlib's output is decoded by this path.
 *
 * Usage: ceph_pattern [--small-out]  (--small-out: 97-byte output buffers, to drive the
 * "more output room" loop hard). Env: WD_SYNC_CTX_NUM as Ceph reads it; EXPECT_DEVICE=1
 * to require that requests ran on a device.
 */
#include <errno.h>
#include <zlib.h>
#include "wd_comp.h"
#include "wd_sched.h"
#include "wd_rs.h"
#include "check.h"

#define NEED_MORE_OUT_BUFFER 5
#define PROCESS_NOT_FINISH 6
#define MIN_BUF (32 * 1024)
#define MAX_BUF (8 * 1024 * 1024)

static struct wd_ctx_config ctx_cfg;
static struct wd_sched *sched;
static int numa_id;
static int small_out;

static int poll_func(__u32 pos, __u32 expect, __u32 *count)
{
	int ret = wd_comp_poll_ctx(pos, expect, count);
	return ret < 0 ? ret : 0;
}

static int engine_init(void)
{
	const char *env = getenv("WD_SYNC_CTX_NUM");
	unsigned int n = env ? (unsigned int)atoi(env) : 2, i;
	struct sched_params param;
	struct uacce_dev *dev;
	int ret;

	if (n < 2)
		n = 2;
	sched = wd_sched_rr_alloc(SCHED_POLICY_RR, 2, 4, poll_func);
	if (!sched)
		return -ENOMEM;
	sched->name = "sched_rr";
	dev = wd_get_accel_dev("zlib");
	if (!dev)
		return -ECANCELED;
	numa_id = dev->numa_id;
	ctx_cfg.ctx_num = n;
	ctx_cfg.ctxs = calloc(n, sizeof(struct wd_ctx));
	for (i = 0; i < n; i++) {
		ctx_cfg.ctxs[i].ctx = wd_request_ctx(dev);
		if (!ctx_cfg.ctxs[i].ctx)
			return -ECANCELED;
		ctx_cfg.ctxs[i].op_type = i < n / 2 ? WD_DIR_COMPRESS : WD_DIR_DECOMPRESS;
		ctx_cfg.ctxs[i].ctx_mode = CTX_MODE_SYNC;
	}
	param.numa_id = numa_id;
	param.type = WD_DIR_COMPRESS;
	param.mode = CTX_MODE_SYNC;
	param.begin = 0;
	param.end = n / 2 - 1;
	ret = wd_sched_rr_instance(sched, &param);
	if (ret < 0)
		return ret;
	param.type = WD_DIR_DECOMPRESS;
	param.begin = n / 2;
	param.end = n - 1;
	ret = wd_sched_rr_instance(sched, &param);
	if (ret < 0)
		return ret;
	ret = wd_comp_init(&ctx_cfg, sched);
	free(dev);
	return ret;
}

static void engine_destroy(void)
{
	unsigned int i;

	wd_comp_uninit();
	for (i = 0; i < ctx_cfg.ctx_num; i++)
		wd_release_ctx(ctx_cfg.ctxs[i].ctx);
	free(ctx_cfg.ctxs);
	wd_sched_rr_release(sched);
}

static handle_t session(int op)
{
	struct wd_comp_sess_setup setup; /* Ceph leaves the rest of the struct uninitialised */
	struct sched_params ss = { 0 };

	memset(&setup, 0xA5, sizeof(setup));
	setup.op_type = op;
	setup.alg_type = WD_ZLIB;
	setup.comp_lv = WD_COMP_L1;
	setup.win_sz = op == WD_DIR_COMPRESS ? WD_COMP_WS_8K : WD_COMP_WS_32K;
	ss.type = op;
	ss.numa_id = numa_id;
	setup.sched_param = &ss;
	return wd_comp_alloc_sess(&setup);
}

static int do_strm(handle_t h, int op, const unsigned char *in, unsigned int *inlen,
		   unsigned char *out, unsigned int *outlen, int last)
{
	struct wd_comp_req req;
	int ret;

	memset(&req, 0, sizeof(req));
	req.op_type = op;
	req.src = (void *)in;
	req.src_len = *inlen;
	req.dst = out;
	req.dst_len = *outlen;
	req.data_fmt = WD_FLAT_BUF;
	req.last = last;
	ret = wd_do_comp_strm(h, &req);
	if (ret)
		return ret;
	if (req.status == WD_IN_EPARA)
		return -EBADMSG;
	if (*inlen > req.src_len) {
		*inlen = req.src_len;
		*outlen = req.dst_len;
		return NEED_MORE_OUT_BUFFER;
	}
	*outlen = req.dst_len;
	if (op == WD_DIR_DECOMPRESS && req.status != WD_STREAM_END)
		return PROCESS_NOT_FINISH;
	return 0;
}

/* Ceph's compress(): one input segment; returns the marker-prefixed output. */
static unsigned char *ceph_compress(const unsigned char *data, unsigned int len, size_t *olen)
{
	handle_t h = session(WD_DIR_COMPRESS);
	unsigned char *res = NULL;
	size_t used = 0;
	unsigned int begin = 1, in_len = len, left = len;
	const unsigned char *c_in = data;
	int ret;

	CHECK(h != 0, "compress session");
	if (!h)
		return NULL;
	do {
		unsigned int out_len = small_out ? 97 : (len * 2 < MIN_BUF ? MIN_BUF : (len * 2 > MAX_BUF ? MAX_BUF : len * 2));
		unsigned char *buf = malloc(out_len);
		unsigned char *c_out = buf + begin;

		in_len = left < MAX_BUF ? left : MAX_BUF;
		if (begin) {
			buf[0] = 0;
			out_len -= begin;
		}
		ret = do_strm(h, WD_DIR_COMPRESS, c_in, &in_len, c_out, &out_len, in_len == left);
		if (ret < 0) {
			CHECK(0, "compress step failed: %d", ret);
			free(buf);
			free(res);
			wd_comp_free_sess(h);
			return NULL;
		}
		res = realloc(res, used + out_len + begin);
		memcpy(res + used, buf, out_len + begin);
		used += out_len + begin;
		free(buf);
		c_in += in_len;
		left -= in_len;
		begin = 0;
	} while (ret == NEED_MORE_OUT_BUFFER || left > 0);
	wd_comp_free_sess(h);
	*olen = used;
	return res;
}

/* Ceph's decompress(): the blob after its marker byte. */
static unsigned char *ceph_decompress(const unsigned char *blob, size_t blen, size_t *olen)
{
	handle_t h = session(WD_DIR_DECOMPRESS);
	unsigned char *res = NULL;
	size_t used = 0;
	const unsigned char *in = blob + 1;
	unsigned int len = blen - 1, in_len = len, probe = 2;
	int ret, guard = 0;

	CHECK(h != 0, "decompress session");
	if (!h)
		return NULL;
	do {
		unsigned int out_len = small_out ? 97 : ((len << probe) < MIN_BUF ? MIN_BUF : ((len << probe) > MAX_BUF ? MAX_BUF : (len << probe)));
		unsigned char *buf = malloc(out_len);

		in_len = len < MAX_BUF ? len : MAX_BUF;
		ret = do_strm(h, WD_DIR_DECOMPRESS, in, &in_len, buf, &out_len, 0);
		if (ret < 0 || ++guard > 10000000) {
			CHECK(0, "decompress step failed: %d", ret);
			free(buf);
			free(res);
			wd_comp_free_sess(h);
			return NULL;
		}
		res = realloc(res, used + out_len + 1);
		memcpy(res + used, buf, out_len);
		used += out_len;
		free(buf);
		in += in_len;
		len -= in_len;
	} while (ret == NEED_MORE_OUT_BUFFER || ret == PROCESS_NOT_FINISH || len > 0);
	wd_comp_free_sess(h);
	*olen = used;
	return res;
}

static void one(unsigned int len, int kind)
{
	unsigned char *data = malloc(len + 1), *blob, *back, *zbuf;
	size_t blen = 0, blen2 = 0, backlen = 0;
	uLongf zlen;

	fill_data(data, len, kind, len);
	blob = ceph_compress(data, len, &blen);
	CHECK(blob != NULL && blen > 1 && blob[0] == 0, "compressed %u bytes (kind %d)", len, kind);
	if (!blob)
		goto out;
	/* System zlib decodes what we wrote. */
	back = malloc(len + 1);
	zlen = len + 1;
	CHECK(uncompress(back, &zlen, blob + 1, blen - 1) == Z_OK && zlen == len && !memcmp(back, data, len),
	      "system zlib decodes our %u-byte stream", len);
	free(back);
	/* And we decode it the Ceph way. */
	back = ceph_decompress(blob, blen, &backlen);
	CHECK(back && backlen == len && !memcmp(back, data, len), "round trip of %u bytes (got %zu)", len, backlen);
	free(back);
	/* We decode what system zlib wrote (with Ceph's marker). */
	zlen = compressBound(len) + 1;
	zbuf = malloc(zlen);
	zbuf[0] = 0;
	zlen -= 1;
	CHECK(compress2(zbuf + 1, &zlen, data, len, 5) == Z_OK, "zlib compress");
	blen2 = zlen + 1;
	back = ceph_decompress(zbuf, blen2, &backlen);
	CHECK(back && backlen == len && !memcmp(back, data, len), "decode of zlib's %u-byte stream", len);
	free(back);
	free(zbuf);
	free(blob);
out:
	free(data);
}

int main(int argc, char **argv)
{
	static const unsigned int sizes[] = { 1, 100, 4096, 65536, 1000003, 4 << 20 };
	char route[256];
	handle_t probe;
	unsigned int i;
	int kind;

	small_out = argc > 1 && !strcmp(argv[1], "--small-out");
	CHECK_EQ(engine_init(), 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (kind = 0; kind < 3; kind++)
			if (!small_out || sizes[i] <= 65536)
				one(sizes[i], kind);
	probe = session(WD_DIR_COMPRESS);
	{
		unsigned char in[4096], out[8192];
		unsigned int il = sizeof(in), ol = sizeof(out);

		fill_data(in, il, 0, 1);
		CHECK_EQ(do_strm(probe, WD_DIR_COMPRESS, in, &il, out, &ol, 1), 0);
	}
	CHECK(wd_rs_comp_sess_route(probe, route, sizeof(route)) > 0, "route");
	printf("route: %s\n", route);
	wd_comp_free_sess(probe);
	if (getenv("EXPECT_DEVICE")) {
		struct wd_rs_counters c;
		CHECK_EQ(wd_rs_comp_counters(&c), 0);
		printf("counters: device %llu software %llu fallbacks %llu errors %llu\n",
		       (unsigned long long)c.device_requests, (unsigned long long)c.software_requests,
		       (unsigned long long)c.fallbacks, (unsigned long long)c.errors);
		CHECK(c.device_requests > 0, "requests ran on the device");
	} else {
		CHECK(wd_rs_software_mode() == 1, "software mode is reported");
	}
	engine_destroy();
	return finish(small_out ? "ceph_pattern(small-out)" : "ceph_pattern");
}
