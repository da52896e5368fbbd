/*
 * Struct sizes, offsets and constants of the uadk-rs headers, pinned to UADK 2.11's
 * layout (x86-64 / aarch64 LP64). Built with the headers; fails to compile on a
 * mismatch. At run time prints the layout for the Rust harness to compare with
 * uadk-wd-common's Rust types.
 */
#include <assert.h>
#include <stddef.h>
#include "wd.h"
#include "wd_alg_common.h"
#include "wd_comp.h"
#include "wd_sched.h"
#include "wd_cipher.h"
#include "wd_digest.h"
#include "wd_aead.h"
#include "wd_bmm.h"
#include "wd_rs.h"
#include "wd_zlibwrapper.h"

static_assert(sizeof(struct uacce_dev) == 992, "uacce_dev");
static_assert(offsetof(struct uacce_dev, api) == 8, "uacce_dev.api");
static_assert(offsetof(struct uacce_dev, algs) == 72, "uacce_dev.algs");
static_assert(offsetof(struct uacce_dev, char_dev_path) == 712, "uacce_dev.char_dev_path");
static_assert(offsetof(struct uacce_dev, qfrs_offs) == 968, "uacce_dev.qfrs_offs");
static_assert(sizeof(struct wd_ctx) == 16, "wd_ctx");
static_assert(sizeof(struct wd_ctx_config) == 32, "wd_ctx_config");
static_assert(sizeof(struct wd_ctx_params) == 32, "wd_ctx_params");
static_assert(sizeof(struct wd_sched) == 64, "wd_sched");
static_assert(offsetof(struct wd_sched, pick_next_ctx) == 32, "wd_sched.pick_next_ctx");
static_assert(offsetof(struct wd_sched, h_sched_ctx) == 56, "wd_sched.h_sched_ctx");
static_assert(sizeof(struct sched_params) == 24, "sched_params");
static_assert(sizeof(struct wd_mm_ops) == 56, "wd_mm_ops");
static_assert(sizeof(struct wd_comp_req) == 72, "wd_comp_req");
static_assert(offsetof(struct wd_comp_req, dst_len) == 24, "wd_comp_req.dst_len");
static_assert(offsetof(struct wd_comp_req, op_type) == 48, "wd_comp_req.op_type");
static_assert(offsetof(struct wd_comp_req, status) == 60, "wd_comp_req.status");
static_assert(sizeof(struct wd_comp_sess_setup) == 88, "wd_comp_sess_setup");
static_assert(offsetof(struct wd_comp_sess_setup, sched_param) == 16, "wd_comp_sess_setup.sched_param");
static_assert(sizeof(struct wd_cipher_req) == 72, "wd_cipher_req");
static_assert(offsetof(struct wd_cipher_req, state) == 48, "wd_cipher_req.state");
static_assert(sizeof(struct wd_digest_req) == 80, "wd_digest_req");
static_assert(offsetof(struct wd_digest_req, has_next) == 46, "wd_digest_req.has_next");
static_assert(offsetof(struct wd_digest_req, long_data_len) == 72, "wd_digest_req.long_data_len");
static_assert(sizeof(struct wd_aead_req) == 88, "wd_aead_req");
static_assert(offsetof(struct wd_aead_req, assoc_bytes) == 52, "wd_aead_req.assoc_bytes");
static_assert(offsetof(struct wd_aead_req, msg_state) == 80, "wd_aead_req.msg_state");
static_assert(sizeof(struct wd_mempool_stats) == 56, "wd_mempool_stats");
static_assert(sizeof(struct wd_blockpool_stats) == 40, "wd_blockpool_stats");
static_assert(sizeof(z_stream) == 112, "z_stream");
static_assert(offsetof(z_stream, reserved) == 104, "z_stream.reserved");
static_assert(WD_IN_EPARA == 67 && WD_HW_EACCESS == 62 && WD_VERIFY_ERR == 64, "codes");
static_assert(WD_EAGAIN == 11 && WD_EEXIST == 17 && WD_EINVAL == 22, "errno codes");
static_assert(TASK_HW == 1 && TASK_INSTR == 2 && SCHED_POLICY_RR == 0, "enums");
static_assert(WD_ZLIB == 1 && WD_GZIP == 2 && WD_COMP_WS_32K == 4, "comp enums");
static_assert(WD_CIPHER_GCM == 10 && WD_DIGEST_SHA512 == 6 && WD_DIGEST_CIPHER_DECRYPTION == 3, "crypto enums");

#define L(t) printf("size %s %zu\n", #t, sizeof(t))
#define O(t, f) printf("offset %s.%s %zu\n", #t, #f, offsetof(t, f))

int main(void)
{
	L(struct uacce_dev); O(struct uacce_dev, qfrs_offs);
	L(struct wd_ctx); L(struct wd_ctx_config); L(struct wd_sched); O(struct wd_sched, h_sched_ctx);
	L(struct sched_params); L(struct wd_mm_ops);
	L(struct wd_comp_req); O(struct wd_comp_req, status);
	L(struct wd_comp_sess_setup);
	L(struct wd_cipher_req); L(struct wd_digest_req); L(struct wd_aead_req);
	L(z_stream); L(struct wd_mempool_stats); L(struct wd_blockpool_stats);
	L(struct wd_rs_counters);
	printf("layout: ok\n");
	return 0;
}
