/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uadk-rs: types shared by UADK's algorithm libraries (UADK 2.11 layout):
 * task types, context configuration, the scheduler interface.
 */
#ifndef UADK_RS_WD_ALG_COMMON_H
#define UADK_RS_WD_ALG_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include "wd.h"
#include "wd_alg.h"
#include "wd_internal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BYTE_BITS		8
#define BYTE_BITS_SHIFT		3
#define GET_NEGATIVE(val)	(0 - (val))
#define BITS_TO_BYTES(bits)	(((bits) + 7) >> 3)
#define BYTES_TO_BITS(bytes)	((bytes) << 3)

#define MAX_STR_LEN		256
#define CTX_TYPE_INVALID	9999
#define POLL_TIME		1000
#define WD_INIT2_MAX_RETRY	32

#define MAX_CIPHER_KEY_SIZE	64
#define AES_KEYSIZE_128		16
#define AES_KEYSIZE_192		24
#define AES_KEYSIZE_256		32
#define SM4_KEY_SIZE		16
#define DES_KEY_SIZE		8
#define DES3_2KEY_SIZE		(2 * DES_KEY_SIZE)
#define DES3_3KEY_SIZE		(3 * DES_KEY_SIZE)

#define MAX_HMAC_KEY_SIZE	128U
#define STATUS_ENABLE		(void *)0x1

/*
 * What init2 may use. uadk-rs: TASK_HW and TASK_MIX take a device that
 * offers the algorithm and software otherwise; TASK_INSTR is software (CPU
 * instructions). Set WD_RS_TASK_HW_STRICT=1 to make TASK_HW fail with
 * -WD_ENODEV when no device offers the algorithm, as UADK does.
 */
enum alg_task_type {
	TASK_MIX = 0x0,
	TASK_HW,
	TASK_INSTR,
	TASK_MAX_TYPE,
};

enum wd_ctx_mode {
	CTX_MODE_SYNC = 0,
	CTX_MODE_ASYNC,
	CTX_MODE_MAX,
};

enum wd_buff_type {
	WD_FLAT_BUF,
	WD_SGL_BUF,
};

enum wd_init_type {
	WD_TYPE_V1,
	WD_TYPE_V2,
};

enum wd_mem_type {
	UADK_MEM_AUTO,
	UADK_MEM_USER,
	UADK_MEM_PROXY,
	UADK_MEM_MAX,
};

/* One context of a configuration, with its operation type and mode. */
struct wd_ctx {
	handle_t ctx;
	__u8 op_type;	/* e.g. 0 compress, 1 decompress */
	__u8 ctx_mode;	/* enum wd_ctx_mode */
};

struct wd_cap_config {
	__u32 ctx_msg_num;	/* async slots per context, 1..1024 (default 1024) */
	__u32 resv;
};

/* The contexts an algorithm library is initialised with (wd_<alg>_init). */
struct wd_ctx_config {
	__u32 ctx_num;
	struct wd_ctx *ctxs;
	void *priv;
	struct wd_cap_config *cap;	/* may be NULL */
};

struct wd_ctx_nums {
	__u32 sync_ctx_num;
	__u32 async_ctx_num;
};

/* Context numbers for init2: per operation type, on the nodes in bmp. */
struct wd_ctx_params {
	__u32 op_type_num;
	struct wd_ctx_nums *ctx_set_num;
	struct bitmask *bmp;
	struct wd_cap_config *cap;
};

/*
 * A scheduler: sched_init makes a per-session key from struct sched_params,
 * pick_next_ctx returns the context index for a request, poll_policy polls
 * asynchronous contexts. wd_sched_rr_alloc() returns uadk-rs's round-robin
 * scheduler; applications may supply their own.
 */
struct wd_sched {
	const char *name;
	int sched_policy;
	handle_t (*sched_init)(handle_t h_sched_ctx, void *sched_param);
	void (*sched_uninit)(handle_t h_sched_ctx, handle_t h_sched_key);
	__u32 (*pick_next_ctx)(handle_t h_sched_ctx, void *sched_key, const int sched_mode);
	int (*poll_policy)(handle_t h_sched_ctx, __u32 expect, __u32 *count);
	void (*set_param)(handle_t h_sched_ctx, void *sched_key, void *sched_param);
	handle_t h_sched_ctx;
};

typedef int (*wd_alg_init)(struct wd_ctx_config *config, struct wd_sched *sched);
typedef int (*wd_alg_poll_ctx)(__u32 idx, __u32 expt, __u32 *count);

struct wd_init_attrs {
	__u32 sched_type;
	__u32 task_type;
	char alg[CRYPTO_MAX_ALG_NAME];
	struct wd_sched *sched;
	struct wd_ctx_params *ctx_params;
	struct wd_ctx_config *ctx_config;
	wd_alg_init alg_init;
	wd_alg_poll_ctx alg_poll_ctx;
	struct wd_ctx_config_internal *ctx_config_internal;
};

#ifdef __cplusplus
}
#endif

#endif /* UADK_RS_WD_ALG_COMMON_H */
