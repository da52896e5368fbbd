/* Helpers for the C programs of ffi/wd/tests: checks that count, and test data. */
#ifndef WD_RS_TEST_CHECK_H
#define WD_RS_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_checks, g_failures;

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		g_checks++;                                                     \
		if (!(cond)) {                                                  \
			g_failures++;                                           \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                           \
			fprintf(stderr, "\n");                                  \
		}                                                               \
	} while (0)

#define CHECK_EQ(a, b) CHECK((long long)(a) == (long long)(b), "%lld != %lld", (long long)(a), (long long)(b))

/* Prints the summary line the Rust harness parses; the exit status is the verdict. */
static inline int finish(const char *name)
{
	printf("%s: %d checks, %d failures\n", name, g_checks, g_failures);
	return g_failures ? 1 : 0;
}

/* Deterministic test data: kind 0 text-like, 1 random, 2 zeros. */
static inline void fill_data(unsigned char *p, size_t n, int kind, uint32_t seed)
{
	static const char *words[] = { "uadk ", "queue ", "zlib ", "ceph ", "qemu ", "page ", "block\n" };
	uint32_t x = seed * 2654435761u + 12345;
	size_t i = 0;

	while (i < n) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		if (kind == 1) {
			p[i++] = (unsigned char)x;
		} else if (kind == 2) {
			p[i++] = 0;
		} else {
			const char *w = words[x % 7];
			while (*w && i < n)
				p[i++] = (unsigned char)*w++;
		}
	}
}

#endif
