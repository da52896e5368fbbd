/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uadk-rs: libwd_comp.so.2, UADK's compression API (UADK 2.11 layout) on
 * uadk-zip: a ZIP device when a context is on one, software otherwise.
 */
#ifndef UADK_RS_WD_COMP_H
#define UADK_RS_WD_COMP_H

#include "wd_alg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum wd_comp_alg_type {
	WD_DEFLATE,
	WD_ZLIB,
	WD_GZIP,
	WD_LZ77_ZSTD,	/* not offered by uadk-rs */
	WD_LZ4,		/* not offered by uadk-rs */
	WD_LZ77_ONLY,	/* not offered by uadk-rs */
	WD_COMP_ALG_MAX,
};

enum wd_comp_op_type {
	WD_DIR_COMPRESS,
	WD_DIR_DECOMPRESS,
	WD_DIR_MAX,
};

enum wd_comp_level {
	WD_COMP_L1 = 1,
	WD_COMP_L2,
	WD_COMP_L3,
	WD_COMP_L4,
	WD_COMP_L5,
	WD_COMP_L6,
	WD_COMP_L7,
	WD_COMP_L8,
	WD_COMP_L9,
	WD_COMP_L10,
	WD_COMP_L11,
	WD_COMP_L12,
	WD_COMP_L13,
	WD_COMP_L14,
	WD_COMP_L15,
};

enum wd_comp_winsz_type {
	WD_COMP_WS_4K,
	WD_COMP_WS_8K,
	WD_COMP_WS_16K,
	WD_COMP_WS_24K,
	WD_COMP_WS_32K,
};

struct wd_comp_req;

typedef void *wd_alg_comp_cb_t(struct wd_comp_req *req, void *cb_param);

/*
 * One request. In: src/src_len, dst/dst_len (room), last (stream mode).
 * Out: src_len = bytes consumed, dst_len = bytes produced, status
 * (0, WD_STREAM_END, WD_EAGAIN: call again to drain, WD_IN_EPARA: bad data).
 */
struct wd_comp_req {
	union {
		void *src;
		struct wd_datalist *list_src;
	};
	__u32 src_len;
	union {
		void *dst;
		struct wd_datalist *list_dst;
	};
	__u32 dst_len;
	wd_alg_comp_cb_t *cb;
	void *cb_param;
	enum wd_comp_op_type op_type;
	enum wd_buff_type data_fmt;
	__u32 last;
	__u32 status;
	void *priv;
};

struct wd_lz77_zstd_data {
	void *literals_start;
	void *sequences_start;
	__u32 lit_num;
	__u32 seq_num;
	__u32 lit_length_overflow_cnt;
	__u32 lit_length_overflow_pos;
	void *freq;
	__u32 blk_type;
};

/* Explicit contexts and scheduler (Ceph's flow). -WD_EEXIST if initialised. */
int wd_comp_init(struct wd_ctx_config *config, struct wd_sched *sched);
void wd_comp_uninit(void);

/* Contexts and scheduler chosen by the library (QEMU's flow). */
int wd_comp_init2_(char *alg, __u32 sched_type, int task_type, struct wd_ctx_params *ctx_params);

#define wd_comp_init2(alg, sched_type, task_type) \
	wd_comp_init2_(alg, sched_type, task_type, NULL)

void wd_comp_uninit2(void);

struct wd_comp_sess_setup {
	enum wd_comp_alg_type alg_type;
	enum wd_comp_level comp_lv;
	enum wd_comp_winsz_type win_sz;
	enum wd_comp_op_type op_type;
	void *sched_param;		/* struct sched_params *, may be NULL */
	struct wd_mm_ops mm_ops;	/* ignored by uadk-rs (SVA semantics) */
	enum wd_mem_type mm_type;	/* ignored by uadk-rs */
};

handle_t wd_comp_alloc_sess(struct wd_comp_sess_setup *setup);
void wd_comp_free_sess(handle_t h_sess);
int wd_comp_reset_sess(handle_t h_sess);

/* One complete stream in, one complete stream out (stateless). */
int wd_do_comp_sync(handle_t h_sess, struct wd_comp_req *req);
/* One step of a stream (stateful). */
int wd_do_comp_strm(handle_t h_sess, struct wd_comp_req *req);
/* Stateless, completed by wd_comp_poll_ctx() / wd_comp_poll() through req->cb. */
int wd_do_comp_async(handle_t h_sess, struct wd_comp_req *req);
int wd_comp_poll_ctx(__u32 idx, __u32 expt, __u32 *count);
int wd_comp_poll(__u32 expt, __u32 *count);
/* A whole stream through the stream engine (any input size). */
int wd_do_comp_sync2(handle_t h_sess, struct wd_comp_req *req);

/* Initialisation from WD_COMP_CTX_NUM (see ffi/wd/README.md). */
int wd_comp_env_init(struct wd_sched *sched);
void wd_comp_env_uninit(void);
int wd_comp_ctx_num_init(__u32 node, __u32 type, __u32 num, __u8 mode);
void wd_comp_ctx_num_uninit(void);
int wd_comp_get_env_param(__u32 node, __u32 type, __u32 mode, __u32 *num, __u8 *is_enable);

#ifdef __cplusplus
}
#endif

#endif /* UADK_RS_WD_COMP_H */
