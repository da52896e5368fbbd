/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uadk-rs: the uacce user-space interface as UADK's public headers expose it
 * (ioctl commands, device flags, queue file regions). Values follow the Linux
 * uacce uapi; written for uadk-rs.
 */
#ifndef UADK_RS_UACCE_H
#define UADK_RS_UACCE_H

#include <linux/ioctl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Start a queue once its regions are mapped. */
#define UACCE_CMD_START		_IO('W', 0)
/* Release the hardware queue early (the fd stays open). */
#define UACCE_CMD_PUT_Q		_IO('W', 1)
/* Vendor kernels: bus address of a static-share slice (No-SVA). */
#define UACCE_CMD_GET_SS_DMA	_IOR('W', 3, unsigned long)

/* Bits of <sysfs>/class/uacce/<dev>/flags. */
enum {
	UACCE_DEV_SVA = 0x1,		/* shared virtual addressing */
	UACCE_DEV_NOIOMMU = 0x2,
	UACCE_DEV_IOMMUU = 0x80,
};

#define UACCE_API_VER_NOIOMMU_SUBFIX	"_noiommu"

/* Queue file regions; a region is mapped at offset (type * page size). */
enum uacce_qfrt {
	UACCE_QFRT_MMIO = 0,	/* doorbell / MMIO registers */
	UACCE_QFRT_DUS = 1,	/* device user share: SQ and CQ rings */
	UACCE_QFRT_SS,		/* static share memory (No-SVA kernels) */
	UACCE_QFRT_MAX,
};

#ifdef __cplusplus
}
#endif

#endif /* UADK_RS_UACCE_H */
