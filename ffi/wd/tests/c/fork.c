/*
 * Fork safety: the parent initialises and compresses; a forked child initialises again
 * (not -WD_EEXIST), compresses, and also keeps using the parent's session; the parent
 * carries on afterwards.
 */
#include <sys/wait.h>
#include <zlib.h>
#include "uadk/wd_comp.h"
#include "uadk/wd_sched.h"
#include "check.h"

static int compress_once(handle_t h)
{
	unsigned char in[4096], out[8192], back[4096];
	struct wd_comp_req req = { .op_type = WD_DIR_COMPRESS, .src = in, .src_len = sizeof(in),
				   .dst = out, .dst_len = sizeof(out) };
	uLongf n = sizeof(back);

	fill_data(in, sizeof(in), 0, 9);
	if (wd_do_comp_sync(h, &req) || req.status)
		return 0;
	return uncompress(back, &n, out, req.dst_len) == Z_OK && n == sizeof(in) && !memcmp(back, in, n);
}

static handle_t session(void)
{
	struct wd_comp_sess_setup s = { .alg_type = WD_ZLIB, .comp_lv = WD_COMP_L1 };

	return wd_comp_alloc_sess(&s);
}

int main(void)
{
	handle_t h;
	pid_t pid;
	int status = 0;

	CHECK_EQ(wd_comp_init2("zlib", SCHED_POLICY_RR, TASK_HW), 0);
	h = session();
	CHECK(compress_once(h), "parent before fork");
	pid = fork();
	if (pid == 0) {
		int ok = 1;
		handle_t c;

		ok &= wd_comp_init2("zlib", SCHED_POLICY_RR, TASK_HW) == 0; /* not -WD_EEXIST */
		c = session();
		ok &= c != 0 && compress_once(c);
		ok &= compress_once(h); /* the parent's session still works here */
		wd_comp_free_sess(c);
		wd_comp_uninit2();
		_exit(ok ? 0 : 3);
	}
	CHECK(pid > 0, "fork");
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	CHECK(compress_once(h), "parent after fork");
	CHECK_EQ(wd_comp_init2("zlib", SCHED_POLICY_RR, TASK_HW), -WD_EEXIST);
	wd_comp_free_sess(h);
	wd_comp_uninit2();
	return finish("fork");
}
