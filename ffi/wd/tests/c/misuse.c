/*
 * Misuse of UADK's API: uninitialised libraries, double init, NULL requests and
 * sessions, wrong sizes, freed sessions and contexts, foreign handles. Every call
 * returns UADK's error code (or NULL / 0); none crashes.
 */
#include "wd_comp.h"
#include "wd_sched.h"
#include "wd_cipher.h"
#include "wd_digest.h"
#include "wd_aead.h"
#include "check.h"

static int poll_func(__u32 pos, __u32 expect, __u32 *count)
{
	return wd_comp_poll_ctx(pos, expect, count);
}

int main(void)
{
	struct wd_comp_sess_setup setup = { .alg_type = WD_ZLIB };
	struct wd_comp_req req = { 0 };
	struct wd_ctx_config cfg = { 0 };
	struct wd_ctx ctxs[2];
	struct wd_sched *sched;
	struct sched_params p = { 0 };
	unsigned char in[64] = { 1 }, out[256];
	struct uacce_dev *dev;
	handle_t h, c;
	__u32 count = 7;

	/* Not initialised. */
	CHECK_EQ(wd_comp_alloc_sess(&setup), 0);
	CHECK_EQ(wd_comp_poll(1, &count), -WD_EINVAL);
	CHECK_EQ(wd_comp_poll_ctx(0, 1, &count), -WD_EINVAL);
	{
		struct wd_cipher_sess_setup cs = { .alg = WD_CIPHER_AES, .mode = WD_CIPHER_CBC };
		struct wd_digest_sess_setup ds = { .alg = WD_DIGEST_SHA256 };
		struct wd_aead_sess_setup as = { .calg = WD_CIPHER_AES, .cmode = WD_CIPHER_GCM };

		CHECK_EQ(wd_cipher_alloc_sess(&cs), 0);
		CHECK_EQ(wd_digest_alloc_sess(&ds), 0);
		CHECK_EQ(wd_aead_alloc_sess(&as), 0);
	}
	/* Bad init arguments. */
	CHECK_EQ(wd_comp_init(NULL, NULL), -WD_EINVAL);
	CHECK_EQ(wd_comp_init(&cfg, NULL), -WD_EINVAL);
	cfg.ctx_num = 2;
	cfg.ctxs = ctxs;
	ctxs[0].ctx = 0xdeadbeef;
	ctxs[0].ctx_mode = 0;
	ctxs[1] = ctxs[0];
	sched = wd_sched_rr_alloc(SCHED_POLICY_RR, 2, 1, poll_func);
	CHECK(sched != NULL, "sched");
	CHECK_EQ(wd_comp_init(&cfg, sched), -WD_EINVAL);
	CHECK(wd_sched_rr_alloc(SCHED_POLICY_BUTT, 2, 1, poll_func) == NULL, "bad policy");
	p.numa_id = 5;
	CHECK_EQ(wd_sched_rr_instance(sched, &p), -WD_EINVAL);
	CHECK_EQ(wd_sched_rr_instance(NULL, &p), -WD_EINVAL);
	CHECK_EQ(wd_comp_init2_(NULL, 0, 0, NULL), -WD_EINVAL);
	CHECK_EQ(wd_comp_init2_("lz4", 0, 0, NULL), -WD_EINVAL);
	CHECK_EQ(wd_comp_init2_("zlib", 99, 0, NULL), -WD_EINVAL);
	CHECK_EQ(wd_comp_init2_("zlib", 0, 7, NULL), -WD_EINVAL);
	/* Contexts. */
	CHECK_EQ(wd_request_ctx(NULL), 0);
	dev = wd_get_accel_dev("zlib");
	c = wd_request_ctx(dev);
	CHECK(c != 0, "ctx");
	CHECK_EQ(wd_ctx_start(c), 0);
	CHECK(wd_ctx_get_api(c) != NULL, "api");
	wd_release_ctx(c);
	CHECK_EQ(wd_ctx_start(c), -WD_EINVAL);
	CHECK(wd_ctx_get_dev_name(c) == NULL, "released ctx has no name");
	wd_release_ctx(c);
	CHECK(wd_get_accel_list(NULL) == NULL, "NULL alg");
	CHECK(wd_get_accel_list("no-such") == NULL, "unknown alg");
	CHECK_EQ(wd_get_avail_ctx(NULL), -WD_EINVAL);
	/* Double init and sessions. */
	CHECK_EQ(wd_comp_init2_("zlib", SCHED_POLICY_RR, TASK_MIX, NULL), 0);
	CHECK_EQ(wd_comp_init2_("zlib", SCHED_POLICY_RR, TASK_MIX, NULL), -WD_EEXIST);
	CHECK_EQ(wd_comp_alloc_sess(NULL), 0);
	setup.alg_type = 9;
	CHECK_EQ(wd_comp_alloc_sess(&setup), 0);
	setup.alg_type = WD_LZ4;
	CHECK_EQ(wd_comp_alloc_sess(&setup), 0);
	setup.alg_type = WD_ZLIB;
	setup.comp_lv = 99;
	CHECK_EQ(wd_comp_alloc_sess(&setup), 0);
	setup.comp_lv = WD_COMP_L1;
	h = wd_comp_alloc_sess(&setup);
	CHECK(h != 0, "session");
	/* Requests. */
	CHECK_EQ(wd_do_comp_sync(h, NULL), -WD_EINVAL);
	CHECK_EQ(wd_do_comp_sync(0, &req), -WD_EINVAL);
	req.src = in;
	req.dst = out;
	req.src_len = sizeof(in);
	req.dst_len = 0;
	CHECK_EQ(wd_do_comp_sync(h, &req), -WD_EINVAL);
	req.dst_len = sizeof(out);
	req.op_type = 7;
	CHECK_EQ(wd_do_comp_sync(h, &req), -WD_EINVAL);
	req.op_type = WD_DIR_COMPRESS;
	req.data_fmt = 5;
	CHECK_EQ(wd_do_comp_sync(h, &req), -WD_EINVAL);
	req.data_fmt = WD_FLAT_BUF;
	req.src_len = 0;
	CHECK_EQ(wd_do_comp_sync(h, &req), -WD_EINVAL);
	req.src_len = sizeof(in);
	req.dst = NULL;
	CHECK_EQ(wd_do_comp_strm(h, &req), -WD_EINVAL);
	req.dst = out;
	req.dst_len = 2; /* zlib's first packet needs more than 2 bytes of output */
	CHECK_EQ(wd_do_comp_strm(h, &req), -WD_EINVAL);
	req.dst_len = sizeof(out);
	CHECK_EQ(wd_do_comp_async(h, &req), -WD_EINVAL); /* no callback */
	CHECK_EQ(wd_do_comp_sync2(h, NULL), -WD_EINVAL);
	/* Output too small for a stateless request: status WD_EAGAIN, nothing written. */
	{
		unsigned char big[8192], tiny[8];

		fill_data(big, sizeof(big), 1, 3);
		req.src = big;
		req.src_len = sizeof(big);
		req.dst = tiny;
		req.dst_len = sizeof(tiny);
		CHECK_EQ(wd_do_comp_sync(h, &req), 0);
		CHECK_EQ(req.status, WD_EAGAIN);
	}
	/* Corrupt data: status WD_IN_EPARA. */
	{
		handle_t d;

		setup.op_type = WD_DIR_DECOMPRESS;
		d = wd_comp_alloc_sess(&setup);
		memset(in, 0xff, sizeof(in));
		req.op_type = WD_DIR_DECOMPRESS;
		req.src = in;
		req.src_len = sizeof(in);
		req.dst = out;
		req.dst_len = sizeof(out);
		CHECK_EQ(wd_do_comp_sync(d, &req), 0);
		CHECK_EQ(req.status, WD_IN_EPARA);
		req.src_len = sizeof(in);
		req.dst_len = sizeof(out);
		CHECK_EQ(wd_do_comp_strm(d, &req), 0);
		CHECK_EQ(req.status, WD_IN_EPARA);
		wd_comp_free_sess(d);
	}
	CHECK_EQ(wd_comp_poll_ctx(0, 0, &count), -WD_EINVAL);
	CHECK_EQ(wd_comp_poll_ctx(1000, 1, &count), -WD_EINVAL);
	CHECK_EQ(wd_comp_poll_ctx(0, 1, NULL), -WD_EINVAL);
	/* Freed session. */
	wd_comp_free_sess(h);
	req.op_type = WD_DIR_COMPRESS;
	CHECK_EQ(wd_do_comp_sync(h, &req), -WD_EINVAL);
	CHECK_EQ(wd_do_comp_strm(h, &req), -WD_EINVAL);
	CHECK_EQ(wd_comp_reset_sess(h), -WD_EINVAL);
	wd_comp_free_sess(h);
	wd_comp_uninit2();
	wd_comp_uninit2();
	CHECK_EQ(wd_comp_alloc_sess(&setup), 0);
	/* Crypto sessions: wrong key sizes, bad requests, freed sessions. */
	CHECK_EQ(wd_cipher_init2_("cbc(aes)", 0, 0, NULL), 0);
	{
		struct wd_cipher_sess_setup cs = { .alg = WD_CIPHER_AES, .mode = WD_CIPHER_CBC };
		struct wd_cipher_req cr = { 0 };
		unsigned char key[16] = { 0 }, iv[16] = { 0 }, buf[32];
		handle_t s = wd_cipher_alloc_sess(&cs);

		CHECK_EQ(wd_cipher_set_key(s, key, 15), -WD_EINVAL);
		CHECK_EQ(wd_cipher_set_key(s, NULL, 16), -WD_EINVAL);
		cr.src = cr.dst = buf;
		cr.in_bytes = cr.out_buf_bytes = 32;
		cr.iv = iv;
		cr.iv_bytes = 16;
		CHECK_EQ(wd_do_cipher_sync(s, &cr), -WD_EINVAL); /* no key yet */
		CHECK_EQ(wd_cipher_set_key(s, key, 16), 0);
		cr.in_bytes = 31; /* CBC takes whole blocks */
		CHECK_EQ(wd_do_cipher_sync(s, &cr), -WD_EINVAL);
		cr.in_bytes = 32;
		cr.iv_bytes = 8;
		CHECK_EQ(wd_do_cipher_sync(s, &cr), -WD_EINVAL);
		cr.iv_bytes = 16;
		cr.out_buf_bytes = 16;
		CHECK_EQ(wd_do_cipher_sync(s, &cr), -WD_EINVAL);
		cr.out_buf_bytes = 32;
		CHECK_EQ(wd_do_cipher_sync(s, &cr), 0);
		wd_cipher_free_sess(s);
		CHECK_EQ(wd_do_cipher_sync(s, &cr), -WD_EINVAL);
		cs.mode = WD_CIPHER_OFB;
		CHECK_EQ(wd_cipher_alloc_sess(&cs), 0);
	}
	wd_cipher_uninit2();
	CHECK_EQ(wd_aead_init2_("gcm(aes)", 0, 0, NULL), 0);
	{
		struct wd_aead_sess_setup as = { .calg = WD_CIPHER_AES, .cmode = WD_CIPHER_GCM };
		handle_t s = wd_aead_alloc_sess(&as);

		CHECK_EQ(wd_aead_set_authsize(s, 3), -WD_EINVAL);
		CHECK_EQ(wd_aead_set_ckey(s, in, 17), -WD_EINVAL);
		CHECK_EQ(wd_aead_set_akey(s, in, 16), -WD_EINVAL);
		CHECK_EQ(wd_do_aead_sync(s, NULL), -WD_EINVAL);
		wd_aead_free_sess(s);
		CHECK_EQ(wd_aead_get_authsize(s), -WD_EINVAL);
	}
	wd_aead_uninit2();
	wd_sched_rr_release(sched);
	wd_sched_rr_release(sched); /* second release: ignored */
	free(dev);
	return finish("misuse");
}
