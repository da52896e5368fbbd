/*
 * libwd.so.2 loaded by dlopen, as a plugin loads it (Ceph's compressor plugins are
 * dlopen'ed and pull in libwd_comp.so.2 and libwd.so.2): the block pool's per-thread
 * slot uses initial-exec TLS, which a library loaded after program start gets from
 * glibc's static-TLS reserve. This program is linked against none of the three
 * libraries; it opens libwd_comp.so.2 (libwd.so.2 comes as its dependency), then uses
 * the block pool from the main thread and from new threads.
 */
#include <dlfcn.h>
#include <pthread.h>
#include "wd.h"
#include "check.h"

static handle_t (*p_mempool_create)(size_t, int);
static void (*p_mempool_destroy)(handle_t);
static handle_t (*p_blockpool_create)(handle_t, size_t, size_t);
static void (*p_blockpool_destroy)(handle_t);
static void *(*p_block_alloc)(handle_t);
static void (*p_block_free)(handle_t, void *);
static void (*p_blockpool_stats)(handle_t, struct wd_blockpool_stats *);

static handle_t g_bp;

static unsigned long free_blocks(void)
{
	struct wd_blockpool_stats s;

	memset(&s, 0, sizeof(s));
	p_blockpool_stats(g_bp, &s);
	return s.free_block_num;
}

static void *worker(void *arg)
{
	long bad = 0;
	int i, j;

	(void)arg;
	for (i = 0; i < 20000; i++) {
		void *held[8];

		for (j = 0; j < 8; j++) {
			held[j] = p_block_alloc(g_bp);
			if (!held[j])
				bad++;
			else
				memset(held[j], j, 128);
		}
		for (j = 0; j < 8; j++)
			p_block_free(g_bp, held[j]);
	}
	return (void *)bad;
}

#define SYM(var, name)                                                         \
	do {                                                                   \
		*(void **)&var = dlsym(lib, name);                             \
		CHECK(var != NULL, "dlsym %s: %s", name, dlerror());           \
		if (!var)                                                      \
			return finish("dlopen_pool");                          \
	} while (0)

int main(void)
{
	pthread_t th[3];
	void *lib, *a, *ret;
	handle_t mp;
	int t;

	lib = dlopen("libwd_comp.so.2", RTLD_NOW | RTLD_LOCAL);
	CHECK(lib != NULL, "dlopen libwd_comp.so.2: %s", dlerror());
	if (!lib)
		return finish("dlopen_pool");
	SYM(p_mempool_create, "wd_mempool_create");
	SYM(p_mempool_destroy, "wd_mempool_destroy");
	SYM(p_blockpool_create, "wd_blockpool_create");
	SYM(p_blockpool_destroy, "wd_blockpool_destroy");
	SYM(p_block_alloc, "wd_block_alloc");
	SYM(p_block_free, "wd_block_free");
	SYM(p_blockpool_stats, "wd_blockpool_stats");

	mp = p_mempool_create(8 << 20, -1);
	CHECK(mp && !WD_IS_ERR(mp), "mempool");
	g_bp = p_blockpool_create(mp, 4096, 64);
	CHECK(g_bp && !WD_IS_ERR(g_bp), "blockpool");
	a = p_block_alloc(g_bp);
	CHECK(a != NULL, "block from the main thread");
	CHECK_EQ(free_blocks(), 63);
	p_block_free(g_bp, a);
	p_block_free(g_bp, a); /* double free: refused */
	p_block_free(g_bp, (char *)a + 64);
	CHECK_EQ(free_blocks(), 64);
	for (t = 0; t < 3; t++)
		pthread_create(&th[t], NULL, worker, NULL);
	for (t = 0; t < 3; t++) {
		pthread_join(th[t], &ret);
		CHECK(ret == NULL, "thread %d: %ld allocations failed", t, (long)ret);
	}
	CHECK_EQ(free_blocks(), 64);
	p_blockpool_destroy(g_bp);
	CHECK(p_block_alloc(g_bp) == NULL, "destroyed blockpool");
	p_mempool_destroy(mp);
	return finish("dlopen_pool");
}
