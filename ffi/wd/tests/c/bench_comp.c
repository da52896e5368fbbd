/*
 * The C side of the ABI-cost benchmark: zlib level 1, 64 KiB requests of text-like data,
 * wd_do_comp_sync (compress, then decompress) through libwd_comp.so.2 for SECONDS each;
 * prints the best of 3 rounds as "bench: compress NS decompress NS" (ns per request).
 * The Rust harness runs the same work through uadk-zip's API in the same run.
 *
 * Usage: bench_comp SECONDS
 */
#include <time.h>
#include "wd_comp.h"
#include "wd_sched.h"
#include "check.h"

#define LEN (64 * 1024)

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); /* CPU time: robust on a shared, loaded machine */
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double run(handle_t h, int op, unsigned char *src, unsigned int slen, unsigned char *dst, double seconds)
{
	double best = 1e30;
	int round;

	for (round = 0; round < 3; round++) {
		double t0 = now(), t;
		long n = 0;

		do {
			struct wd_comp_req req = { .op_type = op, .src = src, .src_len = slen, .dst = dst,
						   .dst_len = 2 * LEN };
			if (wd_do_comp_sync(h, &req) || req.status)
				return -1;
			n++;
			t = now() - t0;
		} while (t < seconds / 3);
		if (t / n < best)
			best = t / n;
	}
	return best * 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0, c, d;
	unsigned char *src = malloc(LEN), *z = malloc(2 * LEN), *back = malloc(2 * LEN);
	struct wd_comp_sess_setup s = { .alg_type = WD_ZLIB, .comp_lv = WD_COMP_L1 };
	struct wd_comp_req req = { .op_type = WD_DIR_COMPRESS, .src = src, .src_len = LEN, .dst = z,
				   .dst_len = 2 * LEN };
	handle_t hc, hd;

	fill_data(src, LEN, 0, 1);
	CHECK_EQ(wd_comp_init2("zlib", SCHED_POLICY_RR, TASK_MIX), 0);
	hc = wd_comp_alloc_sess(&s);
	s.op_type = WD_DIR_DECOMPRESS;
	hd = wd_comp_alloc_sess(&s);
	CHECK_EQ(wd_do_comp_sync(hc, &req), 0);
	c = run(hc, WD_DIR_COMPRESS, src, LEN, z, seconds);
	d = run(hd, WD_DIR_DECOMPRESS, z, req.dst_len, back, seconds);
	CHECK(c > 0 && d > 0 && !memcmp(back, src, LEN), "bench requests succeed");
	printf("bench: compress %.0f decompress %.0f compressed %u\n", c, d, req.dst_len);
	wd_comp_free_sess(hc);
	wd_comp_free_sess(hd);
	wd_comp_uninit2();
	return finish("bench_comp");
}
