/*
 * A mempool/blockpool test in the style of UADK's test/wd_mempool_test.c, written from
 * UADK's documented API: mempool and blockpools of several block sizes, statistics,
 * threads allocating and freeing concurrently (blocks freed by other threads), misuse.
 *
 * Usage: mempool_test [--perf SECONDS [--blk-size N]]  (--perf: alloc+free pairs per
 * second of wd_block_alloc/wd_block_free against malloc/free of the same size, measured
 * in alternating rounds in this process, printed as "perf: ...").
 */
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "wd.h"
#include "wd_bmm.h"
#include "check.h"

#define THREADS 4
#define ROUNDS 20000

static handle_t g_bp;

static void *worker(void *arg)
{
	void *held[16];
	int i, j;

	(void)arg;
	for (i = 0; i < ROUNDS; i++) {
		for (j = 0; j < 16; j++) {
			held[j] = wd_block_alloc(g_bp);
			if (held[j])
				memset(held[j], j, 64);
		}
		for (j = 0; j < 16; j++)
			wd_block_free(g_bp, held[j]);
	}
	return NULL;
}

/*
 * fork() while another thread has a block cache: in the child that thread is gone, and a
 * new thread may get its thread pointer (glibc reuses the stacks of vanished threads);
 * the child's threads still get distinct blocks and their frees are checked.
 */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_stage;
static pthread_t g_helper;

static void *fork_helper(void *arg)
{
	void *b = wd_block_alloc(g_bp);

	(void)arg;
	wd_block_free(g_bp, b); /* this thread now has a cache */
	pthread_mutex_lock(&g_lock);
	g_stage = 1;
	pthread_cond_broadcast(&g_cond);
	while (g_stage != 2)
		pthread_cond_wait(&g_cond, &g_lock);
	pthread_mutex_unlock(&g_lock);
	return NULL;
}

static void *child_worker(void *arg)
{
	long bad = 0;
	int i;

	if (pthread_equal(pthread_self(), g_helper)) {
		printf("fork: a child thread got the vanished helper's thread pointer\n");
		fflush(stdout); /* the child ends with _exit */
	}
	for (i = 0; i < 2000; i++) {
		char *a = wd_block_alloc(g_bp), *b = wd_block_alloc(g_bp);

		if (!a || !b || a == b) {
			bad++;
			continue;
		}
		a[0] = 1;
		b[0] = 2;
		bad += a[0] != 1;
		wd_block_free(g_bp, a);
		wd_block_free(g_bp, a); /* refused */
		wd_block_free(g_bp, b);
	}
	(void)arg;
	return (void *)bad;
}

static void fork_with_a_cache_elsewhere(void)
{
	struct wd_blockpool_stats bs;
	pid_t pid;
	int status = -1;

	pthread_create(&g_helper, NULL, fork_helper, NULL);
	pthread_mutex_lock(&g_lock);
	while (g_stage != 1)
		pthread_cond_wait(&g_cond, &g_lock);
	pthread_mutex_unlock(&g_lock);
	pid = fork();
	if (pid == 0) {
		long failures = 0;
		int t;

		for (t = 0; t < 6; t++) {
			pthread_t th;
			void *ret;

			pthread_create(&th, NULL, child_worker, NULL);
			pthread_join(th, &ret);
			failures += (long)ret;
		}
		_exit(failures ? 1 : 0);
	}
	CHECK(pid > 0, "fork");
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	pthread_mutex_lock(&g_lock);
	g_stage = 2;
	pthread_cond_broadcast(&g_cond);
	pthread_mutex_unlock(&g_lock);
	pthread_join(g_helper, NULL);
	wd_blockpool_stats(g_bp, &bs);
	CHECK_EQ(bs.free_block_num, bs.block_num);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); /* CPU time: robust on a shared, loaded machine */
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void perf(double seconds, size_t blk)
{
	handle_t mp = wd_mempool_create(blk * 256, -1);
	handle_t bp = wd_blockpool_create(mp, blk, 256);
	double pool_best = 1e30, malloc_best = 1e30;
	int round;

	CHECK(!WD_IS_ERR(bp) && bp, "perf blockpool");
	for (round = 0; round < 6; round++) {
		long n = 0, k;
		double t0 = now(), t;
		volatile char sink = 0;

		do {
			for (k = 0; k < 100000; k++) {
				char *p = wd_block_alloc(bp);
				p[0] = (char)k;
				sink ^= p[0];
				wd_block_free(bp, p);
			}
			n += k;
			t = now() - t0;
		} while (t < seconds / 12);
		if (t / n < pool_best)
			pool_best = t / n;
		n = 0;
		t0 = now();
		do {
			for (k = 0; k < 100000; k++) {
				char *p = malloc(blk);
				p[0] = (char)k;
				sink ^= p[0];
				free(p);
			}
			n += k;
			t = now() - t0;
		} while (t < seconds / 12);
		if (t / n < malloc_best)
			malloc_best = t / n;
		(void)sink;
	}
	printf("perf: block %zu B: wd_block_alloc+free %.1f ns, malloc+free %.1f ns, ratio %.2fx\n", blk,
	       pool_best * 1e9, malloc_best * 1e9, malloc_best / pool_best);
	wd_blockpool_destroy(bp);
	wd_mempool_destroy(mp);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 512, 4096, 65536, 1 << 20 };
	struct wd_mempool_stats ms;
	struct wd_blockpool_stats bs;
	pthread_t th[THREADS];
	handle_t mp, bp;
	void *blocks[64];
	unsigned int i;
	int t;

	if (argc > 2 && !strcmp(argv[1], "--perf")) {
		size_t blk = argc > 4 ? (size_t)atol(argv[4]) : 4096;
		perf(atof(argv[2]), blk);
		return finish("mempool_perf");
	}
	mp = wd_mempool_create(64 << 20, 0);
	CHECK(mp && !WD_IS_ERR(mp), "mempool");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		bp = wd_blockpool_create(mp, sizes[i], 16);
		CHECK(bp && !WD_IS_ERR(bp), "blockpool of %zu", sizes[i]);
		for (t = 0; t < 16; t++) {
			blocks[t] = wd_block_alloc(bp);
			CHECK(blocks[t] != NULL, "block %d", t);
			memset(blocks[t], 0x5a, sizes[i]);
		}
		CHECK(wd_block_alloc(bp) == NULL, "17th block of 16");
		wd_blockpool_stats(bp, &bs);
		CHECK(bs.block_size == sizes[i] && bs.block_num == 16 && bs.free_block_num == 0 &&
		      bs.block_usage_rate == 100, "stats %lu %lu %lu %lu", bs.block_size, bs.block_num,
		      bs.free_block_num, bs.block_usage_rate);
		printf("blockpool %zu B: mem_waste_rate %lu%%\n", sizes[i], bs.mem_waste_rate);
		for (t = 0; t < 16; t++)
			wd_block_free(bp, blocks[t]);
		wd_blockpool_stats(bp, &bs);
		CHECK_EQ(bs.free_block_num, 16);
		wd_blockpool_destroy(bp);
	}
	wd_mempool_stats(mp, &ms);
	printf("mempool: page_type %d page_size %lu blk_num %lu free %lu usage %lu%%\n", ms.page_type,
	       ms.page_size, ms.blk_num, ms.free_blk_num, ms.blk_usage_rate);
	CHECK(ms.blk_size == 4096 && ms.blk_num == (64 << 20) / 4096 && ms.free_blk_num == ms.blk_num,
	      "mempool stats after destroying the blockpools");
	/* Budget: a blockpool that does not fit is refused with -WD_ENOMEM. */
	bp = wd_blockpool_create(mp, 1 << 20, 65);
	CHECK_EQ(WD_HANDLE_ERR(bp), -WD_ENOMEM);
	/* Threads share one pool; blocks go back from any thread. */
	g_bp = wd_blockpool_create(mp, 8192, 128);
	for (t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, NULL);
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	wd_blockpool_stats(g_bp, &bs);
	CHECK_EQ(bs.free_block_num, 128);
	fork_with_a_cache_elsewhere();
	/* Misuse: foreign pointers, double frees, bad handles: ignored or errors, no crash. */
	blocks[0] = wd_block_alloc(g_bp);
	wd_block_free(g_bp, (char *)blocks[0] + 1);
	wd_block_free(g_bp, blocks[0]);
	wd_block_free(g_bp, blocks[0]);
	wd_block_free(g_bp, &t);
	wd_blockpool_stats(g_bp, &bs);
	CHECK_EQ(bs.free_block_num, 128);
	CHECK(wd_block_alloc(12345) == NULL, "bad handle");
	CHECK_EQ(WD_HANDLE_ERR(wd_blockpool_create(0, 4096, 1)), -WD_EINVAL);
	CHECK_EQ(WD_HANDLE_ERR(wd_blockpool_create(mp, 0, 1)), -WD_EINVAL);
	CHECK_EQ(WD_HANDLE_ERR(wd_mempool_create(0, 0)), -WD_EINVAL);
	CHECK_EQ(WD_HANDLE_ERR(wd_mempool_create(4096, 100000)), -WD_EINVAL);
	wd_blockpool_destroy(g_bp);
	CHECK(wd_block_alloc(g_bp) == NULL, "destroyed blockpool");
	wd_blockpool_destroy(g_bp);
	wd_mempool_destroy(mp);
	wd_mempool_stats(mp, &ms);
	/* The unified pool (wd_bmm.h). */
	{
		struct wd_mempool_setup setup = { .block_size = 4096, .block_num = 8, .align_size = 64 };
		void *pool = wd_mempool_alloc(0, &setup), *b;
		__u32 n = 0;

		CHECK(pool != NULL, "wd_mempool_alloc");
		b = wd_mem_alloc(pool, 1000);
		CHECK(b && wd_mem_map(pool, b, 1000) == b, "SVA mapping is the address");
		CHECK(wd_get_free_num(pool, &n) == 0 && n == 7, "free %u", n);
		CHECK_EQ(wd_get_bufsize(pool), 4096);
		wd_mem_free(pool, b);
		wd_mempool_free(0, pool);
	}
	return finish("mempool_test");
}
