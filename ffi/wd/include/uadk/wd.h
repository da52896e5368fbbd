/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uadk-rs: libwd.so.2, the core of UADK's C API (accelerator listing,
 * contexts, memory pools), implemented on uadk-rs. Names, layouts and values
 * match UADK 2.11 so that programs built against UADK run unchanged.
 *
 * Differences from UADK are listed in ffi/wd/README.md; the uadk-rs
 * extensions (software-mode flag, routes) are in wd_rs.h.
 */
#ifndef UADK_RS_WD_H
#define UADK_RS_WD_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <linux/types.h>

/*
 * UADK's wd.h includes libnuma's <numa.h> (struct bitmask). It is used here
 * only through pointers, so a forward declaration serves when libnuma's
 * header is not installed.
 */
#if defined(__has_include)
#if __has_include(<numa.h>)
#include <numa.h>
#else
struct bitmask;
#endif
#else
struct bitmask;
#endif

#include "uacce.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PATH_STR_SIZE		256
#define MAX_ATTR_STR_SIZE	384
#define WD_NAME_SIZE		64
#define MAX_DEV_NAME_LEN	256
#define LINUX_CRTDIR_SIZE	1
#define LINUX_PRTDIR_SIZE	2
#define WD_CTX_CNT_NUM		1024
#define WD_IPC_KEY		0x500011
#define CRYPTO_MAX_ALG_NAME	128
#ifndef NUMA_NO_NODE
#define NUMA_NO_NODE		(-1)
#endif

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(x)	(sizeof(x) / sizeof((x)[0]))
#endif

/* UADK spells its handle type as a macro; so does this header. */
#ifndef handle_t
#define handle_t uintptr_t
#endif
typedef struct wd_dev_mask wd_dev_mask_t;

typedef void (*wd_log)(const char *format, ...);

/* Logging helpers for applications, as UADK offers them. */
#ifndef WD_NO_LOG
#define WD_DEBUG(fmt, args...) \
	do { openlog("uadk-debug", LOG_CONS | LOG_PID, LOG_LOCAL5); \
	     syslog(LOG_DEBUG, fmt, ##args); } while (0)
#define WD_INFO(fmt, args...) \
	do { openlog("uadk-info", LOG_CONS | LOG_PID, LOG_LOCAL5); \
	     syslog(LOG_INFO, fmt, ##args); } while (0)
#define WD_ERR(fmt, args...) \
	do { openlog("uadk-err", LOG_CONS | LOG_PID, LOG_LOCAL5); \
	     syslog(LOG_ERR, fmt, ##args); } while (0)
#else
#define OPEN_LOG(s)
#define WD_DEBUG(fmt, args...)	fprintf(stderr, fmt, ##args)
#define WD_INFO(fmt, args...)	fprintf(stderr, fmt, ##args)
#define WD_ERR(fmt, args...)	fprintf(stderr, fmt, ##args)
#endif

#define WD_DEV_ERR(h_ctx, format, args...) \
	do { WD_ERR("%s: " format "\n", wd_ctx_get_dev_name(h_ctx), ##args); } while (0)

#define WD_CONSOLE printf

/* Return codes: 0..3 are statuses, the rest are returned negated. */
#define WD_SUCCESS		0
#define WD_STREAM_END		1
#define WD_STREAM_START		2
#define WD_SOFT_COMPUTING	3
#define WD_EIO			EIO
#define WD_EAGAIN		EAGAIN
#define WD_ENOMEM		ENOMEM
#define WD_EACCES		EACCES
#define WD_EBUSY		EBUSY
#define WD_EEXIST		EEXIST
#define WD_ENODEV		ENODEV
#define WD_EINVAL		EINVAL
#define WD_ETIMEDOUT		ETIMEDOUT
#define WD_ADDR_ERR		61	/* bad address */
#define WD_HW_EACCESS		62	/* device refuses access (reset, error) */
#define WD_SGL_ERR		63	/* bad scatter-gather list */
#define WD_VERIFY_ERR		64	/* verification failed (tag, checksum) */
#define WD_OUT_EPARA		66	/* bad output parameter */
#define WD_IN_EPARA		67	/* bad input parameter or data */
#define WD_ENOPROC		68	/* nothing processed */

/* Handles carry errors as small negative values. */
#define WD_HANDLE_ERR(h)	((long long)(h))
#define WD_IS_ERR(h)		((uintptr_t)(h) > (uintptr_t)(-1000))

enum wd_alg_type {
	WD_CIPHER,
	WD_DIGEST,
	WD_AEAD,
};

/* Caller-supplied memory operations (UADK_MEM_USER / UADK_MEM_PROXY). */
typedef void *(*wd_alloc)(void *usr, size_t size);
typedef void (*wd_free)(void *usr, void *va);
typedef void *(*wd_map)(void *usr, void *va, size_t sz);
typedef void (*wd_unmap)(void *usr, void *va, void *dma, size_t sz);
typedef __u32 (*wd_bufsize)(void *usr);

struct wd_mm_ops {
	wd_alloc alloc;
	wd_free free;
	wd_map iova_map;
	wd_unmap iova_unmap;
	wd_bufsize get_bufsize;	/* optional */
	void *usr;		/* passed to every callback */
	bool sva_mode;		/* true when the device reads virtual addresses */
};

/* A data buffer: start, bytes of data, bytes of room. */
struct wd_dtb {
	char *data;
	__u32 dsize;
	__u32 bsize;
};

/*
 * One accelerator as sysfs describes it. With no device, uadk-rs lists a
 * software accelerator here (api "uadk_rs_software_v1", char_dev_path
 * "uadk-rs:software"); see wd_rs.h.
 */
struct uacce_dev {
	int flags;			/* UACCE_DEV_* */
	int numa_id;
	char api[WD_NAME_SIZE];		/* e.g. "hisi_qm_v3" */
	char algs[MAX_ATTR_STR_SIZE];	/* newline-separated algorithms */
	char dev_root[PATH_STR_SIZE];	/* sysfs directory of the device */
	char char_dev_path[MAX_DEV_NAME_LEN];	/* e.g. "/dev/hisi_zip-0" */
	unsigned long qfrs_offs[UACCE_QFRT_MAX];	/* region sizes */
};

struct uacce_dev_list {
	struct uacce_dev *dev;
	struct uacce_dev_list *next;
};

struct wd_dev_mask {
	unsigned char *mask;
	int len;
	unsigned int magic;
};

#if defined(__AARCH64_CMODEL_SMALL__) && __AARCH64_CMODEL_SMALL__
#define dsb(opt)	{ asm volatile("dsb " #opt : : : "memory"); }
#define rmb()		dsb(ld)
#define wmb()		dsb(st)
#define mb()		dsb(sy)
#else
#define rmb()		__sync_synchronize()
#define wmb()		__sync_synchronize()
#define mb()		__sync_synchronize()
#endif

static inline uint32_t wd_ioread32(void *addr)
{
	return *((volatile uint32_t *)addr);
}

static inline uint64_t wd_ioread64(void *addr)
{
	return *((volatile uint64_t *)addr);
}

static inline void wd_iowrite32(void *addr, uint32_t value)
{
	*((volatile uint32_t *)addr) = value;
}

static inline void wd_iowrite64(void *addr, uint64_t value)
{
	*((volatile uint64_t *)addr) = value;
}

static inline void *WD_ERR_PTR(uintptr_t error)
{
	return (void *)error;
}

static inline long WD_PTR_ERR(const void *ptr)
{
	return (intptr_t)ptr;
}

/*
 * Contexts. A context is what a request is sent through. On a device it
 * names that device (uadk-rs's engines own the hardware queues); on the
 * software accelerator it is a software context. Returns 0 on failure.
 * Thread-safe.
 */
handle_t wd_request_ctx(struct uacce_dev *dev);
void wd_release_ctx(handle_t h_ctx);
int wd_ctx_start(handle_t h_ctx);
int wd_release_ctx_force(handle_t h_ctx);
int wd_ctx_set_priv(handle_t h_ctx, void *priv);
void *wd_ctx_get_priv(handle_t h_ctx);
char *wd_ctx_get_api(handle_t h_ctx);
/* uadk-rs never hands out raw queue mappings: returns NULL. */
void *wd_ctx_mmap_qfr(handle_t h_ctx, enum uacce_qfrt qfrt);
void wd_ctx_unmap_qfr(handle_t h_ctx, enum uacce_qfrt qfrt);
int wd_ctx_wait(handle_t h_ctx, __u16 ms);
int wd_is_sva(handle_t h_ctx);
int wd_is_isolate(struct uacce_dev *dev);
char *wd_get_accel_name(char *dev_path, int no_apdx);
int wd_get_numa_id(handle_t h_ctx);
int wd_get_avail_ctx(struct uacce_dev *dev);

/*
 * Accelerators offering alg_name ("zlib", "gzip", "deflate", "cipher",
 * "digest", "aead", or a fine name such as "cbc(aes)"). The list and its
 * devices are malloc'd: free the list with wd_free_list_accels() and a
 * device from wd_get_accel_dev() with free().
 */
struct uacce_dev_list *wd_get_accel_list(const char *alg_name);
struct uacce_dev *wd_find_dev_by_numa(struct uacce_dev_list *list, int numa_id);
struct uacce_dev *wd_get_accel_dev(const char *alg_name);
void wd_free_list_accels(struct uacce_dev_list *list);
int wd_ctx_set_io_cmd(handle_t h_ctx, unsigned long cmd, void *arg);
unsigned long wd_ctx_get_region_size(handle_t h_ctx, enum uacce_qfrt qfrt);

/* Memory pools: served by uadk-rs's pool (hugetlb, NUMA-bound, pre-faulted, pinned once). */
enum wd_page_type {
	WD_HUGE_PAGE = 0,
	WD_NORMAL_PAGE,
};

struct wd_mempool_stats {
	enum wd_page_type page_type;
	unsigned long page_size;
	unsigned long page_num;
	unsigned long blk_size;		/* accounting unit: 4 KiB */
	unsigned long blk_num;
	unsigned long free_blk_num;
	unsigned long blk_usage_rate;	/* percent */
};

struct wd_blockpool_stats {
	unsigned long block_size;
	unsigned long block_num;
	unsigned long free_block_num;
	unsigned long block_usage_rate;	/* percent */
	unsigned long mem_waste_rate;	/* percent of the memory not in blocks */
};

void *wd_block_alloc(handle_t blkpool);
void wd_block_free(handle_t blkpool, void *addr);
/* Returns a handle, or a WD_IS_ERR() value (-WD_EINVAL, -WD_ENOMEM, -WD_EBUSY). */
handle_t wd_blockpool_create(handle_t mempool, size_t block_size, size_t block_num);
void wd_blockpool_destroy(handle_t blkpool);
handle_t wd_mempool_create(size_t size, int node);
void wd_mempool_destroy(handle_t mempool);
void wd_mempool_stats(handle_t mempool, struct wd_mempool_stats *stats);
void wd_blockpool_stats(handle_t blkpool, struct wd_blockpool_stats *stats);

struct uacce_dev *wd_clone_dev(struct uacce_dev *dev);
void wd_add_dev_to_list(struct uacce_dev_list *head, struct uacce_dev_list *node);
struct bitmask *wd_create_device_nodemask(struct uacce_dev_list *list);
void wd_free_device_nodemask(struct bitmask *bmp);
char *wd_ctx_get_dev_name(handle_t h_ctx);
void wd_get_version(void);
bool wd_need_debug(void);
bool wd_need_info(void);

struct wd_capability {
	char alg_name[CRYPTO_MAX_ALG_NAME];
	char drv_name[CRYPTO_MAX_ALG_NAME];
	bool available;
	int priority;
	int calc_type;
	struct wd_capability *next;
};

struct wd_capability *wd_get_alg_cap(void);
void wd_release_alg_cap(struct wd_capability *head);
int wd_get_dev_usage(struct uacce_dev *dev, const char *alg_name, __u8 alg_op_type);

#ifdef __cplusplus
}
#endif

#endif /* UADK_RS_WD_H */
