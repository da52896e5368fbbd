/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uadk-rs: UADK's algorithm-driver registry types (UADK 2.11 layout).
 *
 * uadk-rs drives devices itself and does not load vendor driver libraries:
 * the registry calls are exported for link compatibility, and
 * wd_alg_driver_register() refuses drivers with -WD_EINVAL.
 */
#ifndef UADK_RS_WD_ALG_H
#define UADK_RS_WD_ALG_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>
#include <linux/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef handle_t
#define handle_t uintptr_t
#endif
#define ALG_NAME_SIZE		128
#define DEV_NAME_LEN		128

struct bitmask;

/* How a driver computes. */
enum alg_dev_type {
	UADK_ALG_HW,
	UADK_ALG_CE_INSTR,
	UADK_ALG_SVE_INSTR,
	UADK_ALG_SOFT,
	UADK_ALG_NPU,
	UADK_ALG_GPU,
	UADK_ALG_TYPE_MAX,
};

enum alg_drv_type {
	ALG_DRV_HW = 0x0,
	ALG_DRV_CE_INS,
	ALG_DRV_SVE_INS,
	ALG_DRV_SOFT,
	ALG_DRV_INS,
	ALG_DRV_FB,
};

struct wd_drv_ctx_params {
	__u8 ctx_mode;
	__u8 op_type;
	int numa_id;
	bool epoll_en;
	struct bitmask *bmp;
};

/* A vendor driver as UADK's registry sees it. */
struct wd_alg_driver {
	const char *drv_name;
	const char *alg_name;
	int priority;
	int calc_type;
	int queue_num;
	int op_type_num;
	int priv_size;
	int ops_size;
	int *drv_data;
	void *extend_ops;
	handle_t fallback;

	int (*init)(void *conf, void *priv);
	void (*exit)(void *priv);
	int (*send)(handle_t ctx, void *drv_msg);
	int (*recv)(handle_t ctx, void *drv_msg);
	int (*get_usage)(void *param);
	int (*get_extend_ops)(void *ops);

	int (*alloc_ctx)(char *alg_name, void *params, handle_t *ctx);
	void (*free_ctx)(handle_t ctx);
};

struct hisi_dev_usage {
	struct wd_alg_driver *drv;
	const char *dev_name;
	__u8 alg_op_type;
};

#define MAX_DRV_ALG_NUM 64

struct wd_alg_entry {
	char alg_name[ALG_NAME_SIZE];
	bool available;
};

struct wd_drv_node {
	char drv_name[DEV_NAME_LEN];
	char alg_type[ALG_NAME_SIZE];
	int priority;
	int calc_type;
	int refcnt;
	struct wd_alg_driver *drv;
	struct wd_alg_entry algs[MAX_DRV_ALG_NUM];
	int alg_count;
	struct wd_drv_node *next;
};

int wd_alg_driver_register(struct wd_alg_driver *drv);
void wd_alg_driver_unregister(struct wd_alg_driver *drv);
int wd_get_drv_array(const char *alg_type, int task_type, const char *drv_name,
		     struct wd_alg_driver ***drv_array, __u32 *drv_count);
void wd_put_drv_array(struct wd_alg_driver **drv_array, __u32 drv_count);
void wd_alg_drv_ref_inc(struct wd_alg_driver **drv_array, __u32 drv_count);
void wd_alg_drv_ref_dec(struct wd_alg_driver **drv_array, __u32 drv_count);
struct wd_alg_driver *wd_request_drv(const char *alg_name, int drv_type);
bool wd_drv_alg_support(const char *alg_name, void *param);
bool wd_alg_match_drv(struct wd_alg_driver *drv, const char *alg_name);
int wd_alg_get_dev_usage(const char *dev_name, const char *alg_type, __u8 op_type);
/* Writes the family ("cipher", "digest", "aead", "zlib", ...) of alg_name. */
int wd_get_alg_type(const char *alg_name, char *alg_type);
struct wd_drv_node *wd_get_alg_head(void);

#ifdef __cplusplus
}
#endif

#endif /* UADK_RS_WD_ALG_H */
