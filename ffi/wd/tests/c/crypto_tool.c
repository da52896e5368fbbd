/*
 * Cipher, digest and AEAD checks in the style of UADK's test tools (test_hisi_sec),
 * written from UADK's documented API and cross-checked with OpenSSL's EVP API.
 * Cipher uses the explicit flow (wd_request_ctx + round-robin scheduler + wd_cipher_init),
 * digest uses wd_digest_init2_, AEAD uses wd_aead_env_init; sync and async requests.
 * EXPECT_DEVICE=1 requires that some requests ran on a device.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "wd_cipher.h"
#include "wd_digest.h"
#include "wd_aead.h"
#include "wd_sched.h"
#include "wd_rs.h"
#include "check.h"

static struct wd_ctx_config cfg;
static struct wd_sched *sched;
static int async_done;

static int cipher_poll(__u32 pos, __u32 expect, __u32 *count)
{
	int ret = wd_cipher_poll_ctx(pos, expect, count);
	return ret < 0 && ret != -WD_EAGAIN ? ret : 0;
}

static void cipher_init_explicit(void)
{
	struct uacce_dev *dev = wd_get_accel_dev("cipher");
	struct sched_params p = { 0 };
	int i;

	CHECK(dev != NULL, "cipher device");
	cfg.ctx_num = 4;
	cfg.ctxs = calloc(4, sizeof(struct wd_ctx));
	for (i = 0; i < 4; i++) {
		cfg.ctxs[i].ctx = wd_request_ctx(dev);
		cfg.ctxs[i].ctx_mode = i / 2;
		cfg.ctxs[i].op_type = 0;
	}
	sched = wd_sched_rr_alloc(SCHED_POLICY_RR, 1, 1, cipher_poll);
	for (i = 0; i < 2; i++) {
		p.mode = i;
		p.begin = i * 2;
		p.end = i * 2 + 1;
		CHECK_EQ(wd_sched_rr_instance(sched, &p), 0);
	}
	CHECK_EQ(wd_cipher_init(&cfg, sched), 0);
	CHECK_EQ(wd_cipher_init(&cfg, sched), -WD_EEXIST);
	free(dev);
}

static const EVP_CIPHER *evp_cipher(int aes, int mode, int keylen)
{
	if (!aes)
		return mode == WD_CIPHER_CBC ? EVP_sm4_cbc() : mode == WD_CIPHER_CTR ? EVP_sm4_ctr() : EVP_sm4_ecb();
	switch (mode) {
	case WD_CIPHER_ECB: return keylen == 16 ? EVP_aes_128_ecb() : keylen == 24 ? EVP_aes_192_ecb() : EVP_aes_256_ecb();
	case WD_CIPHER_CBC: return keylen == 16 ? EVP_aes_128_cbc() : keylen == 24 ? EVP_aes_192_cbc() : EVP_aes_256_cbc();
	case WD_CIPHER_CTR: return keylen == 16 ? EVP_aes_128_ctr() : keylen == 24 ? EVP_aes_192_ctr() : EVP_aes_256_ctr();
	default: return keylen == 32 ? EVP_aes_128_xts() : EVP_aes_256_xts();
	}
}

static void cipher_case(int aes, int mode, int keylen, unsigned int len)
{
	struct wd_cipher_sess_setup setup = { .alg = aes ? WD_CIPHER_AES : WD_CIPHER_SM4, .mode = mode };
	unsigned char key[64], iv[16], iv2[16], *in = malloc(len), *out = malloc(len), *ref = malloc(len + 32);
	struct wd_cipher_req req = { 0 };
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, i;
	handle_t h;

	for (i = 0; i < keylen; i++)
		key[i] = (unsigned char)(i * 7 + 1);
	memset(iv, 0x42, 16);
	fill_data(in, len, 1, len + mode);
	h = wd_cipher_alloc_sess(&setup);
	CHECK(h != 0, "cipher session");
	CHECK_EQ(wd_cipher_set_key(h, key, keylen), 0);
	memcpy(iv2, iv, 16);
	/* In two halves through the session, chaining the IV (CBC/CTR), or whole. */
	{
		unsigned int half = (mode == WD_CIPHER_CBC || mode == WD_CIPHER_CTR) ? (len / 32) * 16 : len;
		unsigned int done = 0;

		while (done < len) {
			unsigned int part = done == 0 ? half : len - done;

			req.op_type = WD_CIPHER_ENCRYPTION;
			req.src = in + done;
			req.dst = out + done;
			req.in_bytes = part;
			req.out_buf_bytes = part;
			req.iv = iv2;
			req.iv_bytes = 16;
			CHECK_EQ(wd_do_cipher_sync(h, &req), 0);
			CHECK_EQ(req.out_bytes, part);
			done += part;
		}
	}
	EVP_EncryptInit_ex(c, evp_cipher(aes, mode, keylen), NULL, key, iv);
	EVP_CIPHER_CTX_set_padding(c, 0);
	EVP_EncryptUpdate(c, ref, &n1, in, len);
	EVP_EncryptFinal_ex(c, ref + n1, &n2);
	CHECK(n1 + n2 == (int)len && !memcmp(out, ref, len), "cipher aes=%d mode=%d key=%d len=%u matches OpenSSL",
	      aes, mode, keylen, len);
	/* Decrypt in place. */
	req.op_type = WD_CIPHER_DECRYPTION;
	req.src = out;
	req.dst = out;
	req.in_bytes = len;
	req.out_buf_bytes = len;
	memcpy(iv2, iv, 16);
	req.iv = iv2;
	CHECK_EQ(wd_do_cipher_sync(h, &req), 0);
	CHECK(!memcmp(out, in, len), "in-place decryption restores");
	EVP_CIPHER_CTX_free(c);
	wd_cipher_free_sess(h);
	free(in);
	free(out);
	free(ref);
}

static void *cipher_cb(struct wd_cipher_req *req, void *param)
{
	(void)req;
	(*(int *)param)++;
	async_done++;
	return NULL;
}

static void cipher_async(void)
{
	struct wd_cipher_sess_setup setup = { .alg = WD_CIPHER_AES, .mode = WD_CIPHER_CTR };
	unsigned char key[16] = { 1 }, iv[8][16], in[8][256], out[8][256];
	struct wd_cipher_req req[8];
	int calls = 0, i, guard = 0;
	__u32 count = 0;
	handle_t h = wd_cipher_alloc_sess(&setup);

	CHECK_EQ(wd_cipher_set_key(h, key, 16), 0);
	for (i = 0; i < 8; i++) {
		memset(&req[i], 0, sizeof(req[i]));
		memset(iv[i], i, 16);
		fill_data(in[i], 256, 0, i);
		req[i].op_type = WD_CIPHER_ENCRYPTION;
		req[i].src = in[i];
		req[i].dst = out[i];
		req[i].in_bytes = 256;
		req[i].out_buf_bytes = 256;
		req[i].iv = iv[i];
		req[i].iv_bytes = 16;
		req[i].cb = cipher_cb;
		req[i].cb_param = &calls;
		CHECK_EQ(wd_do_cipher_async(h, &req[i]), 0);
	}
	while (calls < 8 && guard++ < 100) {
		count = 0;
		wd_cipher_poll(8, &count);
	}
	CHECK_EQ(calls, 8);
	wd_cipher_free_sess(h);
}

static void digest_case(int alg, const EVP_MD *md, int hmac, unsigned int len)
{
	struct wd_digest_sess_setup setup = { .alg = alg, .mode = hmac ? WD_DIGEST_HMAC : WD_DIGEST_NORMAL };
	unsigned char key[20] = "0123456789abcdefghi", *in = malloc(len + 1), out[64], ref[64];
	struct wd_digest_req req = { 0 };
	unsigned int rlen = 0, done = 0, dlen = EVP_MD_get_size(md);
	handle_t h;

	fill_data(in, len, 0, alg);
	h = wd_digest_alloc_sess(&setup);
	CHECK(h != 0, "digest session %d", alg);
	if (hmac)
		CHECK_EQ(wd_digest_set_key(h, key, 19), 0);
	/* A long hash in 3 parts (block-multiple first parts), then the end. */
	while (1) {
		unsigned int part = len - done > 4096 ? 4096 : len - done;

		req.in = in + done;
		req.in_bytes = part;
		req.out = out;
		req.out_bytes = dlen;
		req.out_buf_bytes = sizeof(out);
		req.has_next = done + part < len ? WD_DIGEST_DOING : WD_DIGEST_END;
		CHECK_EQ(wd_do_digest_sync(h, &req), 0);
		done += part;
		if (req.has_next == WD_DIGEST_END)
			break;
	}
	if (hmac)
		HMAC(md, key, 19, in, len, ref, &rlen);
	else
		EVP_Digest(in, len, ref, &rlen, md, NULL);
	CHECK(rlen == dlen && !memcmp(out, ref, dlen), "digest %d hmac=%d len=%u matches OpenSSL", alg, hmac, len);
	wd_digest_free_sess(h);
	free(in);
}

static void *digest_cb(void *req)
{
	struct wd_digest_req *r = req;

	(*(int *)r->cb_param)++;
	return NULL;
}

static void aead_case(int aes, int mode, int keylen, unsigned int len, unsigned int aad, int with_mac)
{
	struct wd_aead_sess_setup setup = { .calg = aes ? WD_CIPHER_AES : WD_CIPHER_SM4, .cmode = mode };
	unsigned char key[32], iv[16] = { 0 }, *src = malloc(aad + len + 16), *dst = malloc(aad + len + 16);
	unsigned char *back = malloc(aad + len + 16), mac[16], ref[4096 + 64], tag[16];
	struct wd_aead_req req = { 0 };
	int i, n = 0, authsize = mode == WD_CIPHER_GCM ? 16 : 8;
	handle_t h;

	for (i = 0; i < keylen; i++)
		key[i] = (unsigned char)(i + 3);
	fill_data(src, aad + len, 0, len);
	if (mode == WD_CIPHER_GCM)
		memset(iv, 9, 12);
	else {
		iv[0] = 2; /* L' = 2: 12-byte nonce */
		memset(iv + 1, 9, 12);
	}
	h = wd_aead_alloc_sess(&setup);
	CHECK(h != 0, "aead session");
	CHECK_EQ(wd_aead_set_ckey(h, key, keylen), 0);
	CHECK_EQ(wd_aead_set_authsize(h, authsize), 0);
	CHECK_EQ(wd_aead_get_authsize(h), authsize);
	CHECK(wd_aead_get_maxauthsize(h) >= authsize, "max authsize");
	req.op_type = WD_CIPHER_ENCRYPTION_DIGEST;
	req.src = src;
	req.dst = dst;
	req.mac = with_mac ? mac : NULL;
	req.mac_bytes = with_mac ? 16 : 0;
	req.iv = iv;
	req.iv_bytes = mode == WD_CIPHER_GCM ? 12 : 16;
	req.assoc_bytes = aad;
	req.in_bytes = len;
	req.out_bytes = aad + len + (with_mac ? 0 : authsize);
	CHECK_EQ(wd_do_aead_sync(h, &req), 0);
	CHECK_EQ(req.state, 0);
	if (aes && mode == WD_CIPHER_GCM && keylen == 16) {
		EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

		EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, iv);
		EVP_EncryptUpdate(c, NULL, &n, src, aad);
		EVP_EncryptUpdate(c, ref, &n, src + aad, len);
		EVP_EncryptFinal_ex(c, ref + n, &n);
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag);
		CHECK(!memcmp(dst + aad, ref, len) && !memcmp(with_mac ? mac : dst + aad + len, tag, 16),
		      "AES-GCM matches OpenSSL (mac %d)", with_mac);
		EVP_CIPHER_CTX_free(c);
	}
	/* Decrypt: src = aad | ciphertext (| tag). */
	req.op_type = WD_CIPHER_DECRYPTION_DIGEST;
	req.src = dst;
	req.dst = back;
	req.out_bytes = aad + len;
	CHECK_EQ(wd_do_aead_sync(h, &req), 0);
	CHECK(req.state == 0 && !memcmp(back, src, aad + len), "AEAD round trip mode %d len %u", mode, len);
	/* A flipped bit: WD_VERIFY_ERR and no plaintext released. */
	if (len) {
		dst[aad] ^= 1;
		memset(back, 0x77, aad + len);
		CHECK_EQ(wd_do_aead_sync(h, &req), 0);
		CHECK_EQ(req.state, WD_VERIFY_ERR);
		for (i = 0; i < (int)len; i++)
			if (back[aad + i] != 0)
				break;
		CHECK(i == (int)len, "output zeroed after a bad tag");
	}
	wd_aead_free_sess(h);
	free(src);
	free(dst);
	free(back);
}

int main(void)
{
	static const int keys[] = { 16, 24, 32 };
	struct wd_rs_counters ctr;
	char route[256];
	int k, calls = 0, guard = 0;
	__u32 count;

	/* Cipher: explicit contexts. */
	cipher_init_explicit();
	for (k = 0; k < 3; k++) {
		cipher_case(1, WD_CIPHER_ECB, keys[k], 4096);
		cipher_case(1, WD_CIPHER_CBC, keys[k], 65536);
		cipher_case(1, WD_CIPHER_CTR, keys[k], 4100);
	}
	cipher_case(1, WD_CIPHER_XTS, 32, 4096);
	cipher_case(1, WD_CIPHER_XTS, 64, 512);
	cipher_case(0, WD_CIPHER_CBC, 16, 2048);
	cipher_case(0, WD_CIPHER_CTR, 16, 1000);
	cipher_async();
	wd_cipher_uninit();
	wd_sched_rr_release(sched);
	for (k = 0; k < 4; k++)
		wd_release_ctx(cfg.ctxs[k].ctx);
	free(cfg.ctxs);

	/* Digest: init2. */
	CHECK_EQ(wd_digest_init2_("sha256", SCHED_POLICY_RR, TASK_MIX, NULL), 0);
	digest_case(WD_DIGEST_SHA1, EVP_sha1(), 0, 10000);
	digest_case(WD_DIGEST_SHA224, EVP_sha224(), 0, 100);
	digest_case(WD_DIGEST_SHA256, EVP_sha256(), 0, 65536);
	digest_case(WD_DIGEST_SHA384, EVP_sha384(), 0, 3);
	digest_case(WD_DIGEST_SHA512, EVP_sha512(), 0, 9000);
	digest_case(WD_DIGEST_MD5, EVP_md5(), 0, 5000);
	digest_case(WD_DIGEST_SM3, EVP_sm3(), 0, 4097);
	digest_case(WD_DIGEST_SHA256, EVP_sha256(), 1, 20000);
	digest_case(WD_DIGEST_SHA512, EVP_sha512(), 1, 64);
	{
		struct wd_digest_sess_setup setup = { .alg = WD_DIGEST_SHA256 };
		unsigned char in[64] = { 0 }, out[32];
		struct wd_digest_req req = { .in = in, .in_bytes = 64, .out = out, .out_bytes = 32,
					      .out_buf_bytes = 32, .cb = digest_cb, .cb_param = &calls };
		handle_t h = wd_digest_alloc_sess(&setup);

		CHECK_EQ(wd_do_digest_async(h, &req), 0);
		while (calls < 1 && guard++ < 100) {
			count = 0;
			wd_digest_poll(1, &count);
		}
		CHECK_EQ(calls, 1);
		CHECK(wd_rs_crypto_sess_route(h, route, sizeof(route)) > 0, "digest route");
		printf("digest route: %s\n", route);
		wd_digest_free_sess(h);
	}
	wd_digest_uninit2();

	/* AEAD: environment-driven. */
	setenv("WD_AEAD_CTX_NUM", "sync:2@0,async:1@0", 1);
	CHECK_EQ(wd_aead_env_init(NULL), 0);
	{
		__u32 num = 0;
		__u8 en = 9;

		CHECK_EQ(wd_aead_get_env_param(0, 0, 0, &num, &en), 0);
		CHECK(num == 2 && en == 0, "env param: %u", num);
	}
	aead_case(1, WD_CIPHER_GCM, 16, 1000, 13, 1);
	aead_case(1, WD_CIPHER_GCM, 16, 4096, 0, 0);
	aead_case(1, WD_CIPHER_GCM, 32, 65536, 20, 1);
	aead_case(1, WD_CIPHER_CCM, 16, 500, 8, 1);
	aead_case(0, WD_CIPHER_GCM, 16, 300, 4, 1);
	aead_case(0, WD_CIPHER_CCM, 16, 0, 16, 1);
	wd_aead_env_uninit();

	CHECK_EQ(wd_rs_crypto_counters(&ctr), 0);
	printf("counters: device %llu software %llu fallbacks %llu errors %llu\n",
	       (unsigned long long)ctr.device_requests, (unsigned long long)ctr.software_requests,
	       (unsigned long long)ctr.fallbacks, (unsigned long long)ctr.errors);
	if (getenv("EXPECT_DEVICE"))
		CHECK(ctr.device_requests > 0, "requests ran on the device");
	else
		CHECK(ctr.device_requests == 0 && wd_rs_software_mode() == 1, "software only");
	return finish("crypto_tool");
}
