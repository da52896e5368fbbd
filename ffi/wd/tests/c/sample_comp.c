/*
 * A compressor in the style of UADK's sample (sample/uadk_comp.c), written from UADK's
 * documented API: find a device with at least 4 free contexts (wd_get_accel_list,
 * wd_get_avail_ctx), request 4 contexts (sync/async x compress/decompress), a
 * round-robin scheduler over 2 nodes, wd_comp_init, one session, and one
 * wd_do_comp_sync2 over the whole of stdin to stdout.
 *
 * Usage: sample_comp --alg zlib|gzip|deflate [--optype 0|1] [--complv N] [--winsize N]
 */
#include <getopt.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "wd_alg_common.h"
#include "wd_comp.h"
#include "wd_sched.h"

#define CTX_SET_NUM 1
#define CTX_SET_SIZE 4

static struct wd_ctx_config ctx;
static struct wd_sched *sched;

static int lib_poll_func(__u32 pos, __u32 expect, __u32 *count)
{
	int ret = wd_comp_poll_ctx(pos, expect, count);
	return ret < 0 ? ret : 0;
}

int main(int argc, char **argv)
{
	static struct option opts[] = {
		{ "alg", required_argument, 0, 1 },	{ "optype", required_argument, 0, 2 },
		{ "complv", required_argument, 0, 3 },	{ "winsize", required_argument, 0, 4 },
		{ 0, 0, 0, 0 },
	};
	struct wd_comp_sess_setup setup = { 0 };
	struct sched_params param = { 0 };
	struct uacce_dev_list *list, *p;
	struct wd_comp_req req = { 0 };
	char alg[32] = "zlib";
	int optype = 0, complv = 8, winsz = WD_COMP_WS_8K, c, i, ret;
	size_t cap = 1 << 20, n = 0, r;
	unsigned char *in = malloc(cap);
	handle_t h;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 1: snprintf(alg, sizeof(alg), "%s", optarg); break;
		case 2: optype = atoi(optarg); break;
		case 3: complv = atoi(optarg); break;
		case 4: winsz = atoi(optarg); break;
		default: fprintf(stderr, "bad option\n"); return 2;
		}
	}
	while ((r = fread(in + n, 1, cap - n, stdin)) > 0) {
		n += r;
		if (n == cap)
			in = realloc(in, cap *= 2);
	}
	list = wd_get_accel_list(alg);
	if (!list) {
		fprintf(stderr, "no accelerator for %s\n", alg);
		return 1;
	}
	for (p = list; p && wd_get_avail_ctx(p->dev) < CTX_SET_NUM * CTX_SET_SIZE; p = p->next)
		;
	if (!p) {
		fprintf(stderr, "no accelerator with %d free contexts\n", CTX_SET_SIZE);
		return 1;
	}
	fprintf(stderr, "accelerator: %s (%s)\n", p->dev->char_dev_path, p->dev->api);
	ctx.ctx_num = CTX_SET_SIZE;
	ctx.ctxs = calloc(CTX_SET_SIZE, sizeof(struct wd_ctx));
	for (i = 0; i < CTX_SET_SIZE; i++) {
		ctx.ctxs[i].ctx = wd_request_ctx(p->dev);
		ctx.ctxs[i].ctx_mode = i / 2;
		ctx.ctxs[i].op_type = i % 2;
		if (!ctx.ctxs[i].ctx)
			return 1;
	}
	sched = wd_sched_rr_alloc(SCHED_POLICY_RR, 2, 2, lib_poll_func);
	sched->name = "sched_rr";
	for (i = 0; i < CTX_SET_SIZE; i++) {
		param.mode = i / 2;
		param.type = i % 2;
		param.numa_id = 0;
		param.begin = i;
		param.end = i;
		if (wd_sched_rr_instance(sched, &param))
			return 1;
	}
	if (wd_comp_init(&ctx, sched))
		return 1;
	setup.alg_type = !strcmp(alg, "gzip") ? WD_GZIP : !strcmp(alg, "deflate") ? WD_DEFLATE : WD_ZLIB;
	setup.op_type = optype;
	setup.comp_lv = complv;
	setup.win_sz = winsz;
	param.type = optype;
	param.numa_id = 0;
	setup.sched_param = &param;
	h = wd_comp_alloc_sess(&setup);
	if (!h)
		return 1;
	req.op_type = optype;
	req.data_fmt = WD_FLAT_BUF;
	req.src = in;
	req.src_len = n;
	req.dst_len = n * 4 + 1024;
	req.dst = malloc(req.dst_len);
	ret = wd_do_comp_sync2(h, &req);
	if (ret) {
		fprintf(stderr, "wd_do_comp_sync2: %d (status %u)\n", ret, req.status);
		return 1;
	}
	fwrite(req.dst, 1, req.dst_len, stdout);
	wd_comp_free_sess(h);
	wd_comp_uninit();
	for (i = 0; i < CTX_SET_SIZE; i++)
		wd_release_ctx(ctx.ctxs[i].ctx);
	wd_free_list_accels(list);
	wd_sched_rr_release(sched);
	free(ctx.ctxs);
	free(in);
	free(req.dst);
	return 0;
}
