/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uadk-rs extensions to UADK's API: where the work runs and why.
 *
 * With no accelerator, uadk-rs runs everything in software instead of
 * failing. It says so once per process on stderr (silence it with
 * WD_RS_QUIET=1) and through wd_rs_software_mode(). Error details of every
 * failing call go to stderr when WD_RS_LOG=1.
 */
#ifndef UADK_RS_WD_RS_H
#define UADK_RS_WD_RS_H

#include <stddef.h>
#include <linux/types.h>
#include "wd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The software accelerator's identity in struct uacce_dev. */
#define WD_RS_SOFT_API		"uadk_rs_software_v1"
#define WD_RS_SOFT_DEV_PATH	"uadk-rs:software"
#define WD_RS_SOFT_DEV_NAME	"uadk_rs_soft-0"

/* libwd.so.2 (version node UADK_RS_1.0). */

/* 1 once any request class of this process was set up in software because
 * no device offered it (or a software context was chosen), else 0. */
int wd_rs_software_mode(void);
/* Why (the first such decision), or NULL. Valid for the life of the process. */
const char *wd_rs_software_reason(void);

/* Request counters of one algorithm library. */
struct wd_rs_counters {
	__u64 device_requests;	/* completed on a device */
	__u64 software_requests;	/* completed in software (fallbacks included) */
	__u64 fallbacks;	/* device failures redone in software */
	__u64 errors;		/* requests that returned an error */
};

/* libwd_comp.so.2 (node UADK_RS_COMP_1.0). */

/* Writes "device:<name> ..." or "software:<library> ..." and the reason for
 * the session's last request (or its plan before the first) into buf as a
 * NUL-terminated string; returns its length or -WD_EINVAL. */
int wd_rs_comp_sess_route(handle_t h_sess, char *buf, size_t len);
int wd_rs_comp_counters(struct wd_rs_counters *out);

/* libwd_crypto.so.2 (node UADK_RS_CRYPTO_1.0). */

/* As wd_rs_comp_sess_route, for a cipher, digest or AEAD session. */
int wd_rs_crypto_sess_route(handle_t h_sess, char *buf, size_t len);
int wd_rs_crypto_counters(struct wd_rs_counters *out);

#ifdef __cplusplus
}
#endif

#endif /* UADK_RS_WD_RS_H */
