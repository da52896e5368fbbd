/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uadk-rs: UADK's sample round-robin scheduler. The functions are exported by
 * libwd_comp.so.2 and libwd_crypto.so.2 (as in UADK); both forward to one
 * implementation in libwd.so.2, so a scheduler made through either library
 * works with every algorithm library.
 */
#ifndef UADK_RS_WD_SCHED_H
#define UADK_RS_WD_SCHED_H

#include <linux/types.h>
#include "wd_alg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define INVALID_POS	0xFFFF
#define QUEUE_FULL_POS	0x1FFF

enum sched_policy_type {
	SCHED_POLICY_RR = 0,	/* sessions take contexts in turn */
	SCHED_POLICY_NONE,	/* always context 0 */
	SCHED_POLICY_SINGLE,	/* the first context of a region */
	SCHED_POLICY_DEV,	/* per device (treated as RR by uadk-rs) */
	SCHED_POLICY_LOOP,	/* treated as RR by uadk-rs */
	SCHED_POLICY_HUNGRY,	/* treated as RR by uadk-rs */
	SCHED_POLICY_INSTR,	/* treated as RR by uadk-rs */
	SCHED_POLICY_BUTT,
};

/*
 * Where a session's requests go: a region is (numa_id, mode, type) and the
 * context indexes [begin, end] of the library's configuration.
 */
struct sched_params {
	int numa_id;	/* < 0: the calling CPU's node */
	__u8 type;	/* operation type */
	__u8 mode;	/* CTX_MODE_SYNC / CTX_MODE_ASYNC */
	__u32 begin;
	__u32 end;
	__u32 dev_id;
	int ctx_prop;
};

/* Polls context pos for up to expect completions (usually wd_<alg>_poll_ctx). */
typedef int (*user_poll_func)(__u32 pos, __u32 expect, __u32 *count);

/* Declares a region. Returns 0 or -WD_EINVAL. */
int wd_sched_rr_instance(const struct wd_sched *sched, struct sched_params *param);

/* A scheduler for type_num operation types on numa_num nodes; NULL on failure. */
struct wd_sched *wd_sched_rr_alloc(__u8 sched_type, __u8 type_num, __u16 numa_num,
				   user_poll_func func);

void wd_sched_rr_release(struct wd_sched *sched);

#ifdef __cplusplus
}
#endif

#endif /* UADK_RS_WD_SCHED_H */
