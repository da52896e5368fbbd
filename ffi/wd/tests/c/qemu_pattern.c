/*
 * QEMU's multifd-uadk pattern (migration/multifd-uadk.c), written from UADK's documented
 * API: per channel wd_comp_init2("zlib", SCHED_POLICY_RR, TASK_HW) (-WD_EEXIST
 * tolerated), one session per direction (zlib, default level and window), each 4 KiB
 * page compressed on its own with wd_do_comp_sync into a 2-page buffer, pages whose
 * output is not smaller sent raw, a header of big-endian lengths; the receiver
 * decompresses each page with wd_do_comp_sync and requires status 0 and a full page.
 * Every compressed page is also checked with system zlib.
 */
#include <arpa/inet.h>
#include <zlib.h>
#include "uadk/wd_comp.h"
#include "uadk/wd_sched.h"
#include "uadk/wd_rs.h"
#include "check.h"

#define PAGE 4096
#define PAGES 64
#define CHANNELS 2

struct wd_data {
	handle_t handle;
	unsigned char *buf;
	uint32_t *hdr;
};

static int hw_init(void)
{
	char alg[] = "zlib";
	int ret = wd_comp_init2(alg, SCHED_POLICY_RR, TASK_HW);

	return ret == 0 || ret == -WD_EEXIST;
}

static struct wd_data *init_sess(int compress)
{
	struct wd_comp_sess_setup ss = { 0 };
	struct sched_params param = { 0 };
	struct wd_data *wd = calloc(1, sizeof(*wd));
	size_t size = PAGES * PAGE;

	CHECK(hw_init(), "init2");
	ss.alg_type = WD_ZLIB;
	ss.op_type = compress ? WD_DIR_COMPRESS : WD_DIR_DECOMPRESS;
	if (compress)
		size += PAGE;
	param.type = ss.op_type;
	ss.sched_param = &param;
	wd->handle = wd_comp_alloc_sess(&ss);
	CHECK(wd->handle != 0, "session");
	wd->buf = malloc(size);
	wd->hdr = calloc(PAGES, sizeof(uint32_t));
	return wd;
}

static void uninit_sess(struct wd_data *wd)
{
	wd_comp_free_sess(wd->handle);
	wd_comp_uninit2();
	free(wd->buf);
	free(wd->hdr);
	free(wd);
}

int main(void)
{
	struct wd_data *send[CHANNELS], *recv[CHANNELS];
	unsigned char *ram = malloc(PAGES * PAGE), *dst = malloc(PAGES * PAGE);
	int ch, i, compressed = 0, raw = 0;

	for (i = 0; i < PAGES; i++)
		fill_data(ram + i * PAGE, PAGE, i % 3, i);
	for (ch = 0; ch < CHANNELS; ch++) {
		send[ch] = init_sess(1);
		recv[ch] = init_sess(0);
	}
	for (ch = 0; ch < CHANNELS; ch++) {
		struct wd_data *s = send[ch], *r = recv[ch];
		unsigned char *buf = s->buf, *in;

		for (i = 0; i < PAGES; i++) {
			struct wd_comp_req creq = {
				.op_type = WD_DIR_COMPRESS,
				.src = ram + i * PAGE,
				.src_len = PAGE,
				.dst = buf,
				.dst_len = PAGE * 2,
			};
			int ret = wd_do_comp_sync(s->handle, &creq);

			CHECK(ret == 0 && creq.status == 0, "page %d: ret %d status %u", i, ret, creq.status);
			if (creq.dst_len < PAGE) {
				unsigned char page[PAGE];
				uLongf n = PAGE;

				CHECK(uncompress(page, &n, buf, creq.dst_len) == Z_OK && n == PAGE &&
				      !memcmp(page, ram + i * PAGE, PAGE), "zlib decodes page %d", i);
				s->hdr[i] = htonl(creq.dst_len);
				buf += creq.dst_len;
				compressed++;
			} else {
				s->hdr[i] = htonl(PAGE);
				memcpy(buf, ram + i * PAGE, PAGE);
				buf += PAGE;
				raw++;
			}
		}
		/* Receiver side. */
		in = s->buf;
		memset(dst, 0xee, PAGES * PAGE);
		for (i = 0; i < PAGES; i++) {
			uint32_t len = ntohl(s->hdr[i]);
			struct wd_comp_req creq = {
				.op_type = WD_DIR_DECOMPRESS,
				.src = in,
				.src_len = len,
				.dst = dst + i * PAGE,
				.dst_len = PAGE,
			};

			if (len == PAGE) {
				memcpy(dst + i * PAGE, in, PAGE);
			} else {
				int ret = wd_do_comp_sync(r->handle, &creq);

				CHECK(ret == 0 && creq.status == 0, "decompress page %d: ret %d status %u", i, ret, creq.status);
				CHECK_EQ(creq.dst_len, PAGE);
			}
			in += len;
		}
		CHECK(!memcmp(dst, ram, PAGES * PAGE), "channel %d: pages restored", ch);
	}
	printf("pages compressed %d, raw %d\n", compressed, raw);
	CHECK(compressed > 0 && raw > 0, "both kinds of pages seen");
	for (ch = 0; ch < CHANNELS; ch++) {
		uninit_sess(send[ch]);
		uninit_sess(recv[ch]);
	}
	free(ram);
	free(dst);
	return finish("qemu_pattern");
}
