// SPDX-License-Identifier: GPL-2.0
/*
 * Guest tests of mempinfd: bookkeeping, RLIMIT_MEMLOCK, errors, fork, and migration.
 * Prints "PASS name" or "FAIL name: why" per check. Built static; runs as root in the
 * QEMU guest of kernel/test.sh (which boots with two NUMA nodes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct mem_pin_address { uint64_t addr; uint64_t size; };
#define MEM_CMD_PIN   _IOW('M', 0, struct mem_pin_address)
#define MEM_CMD_UNPIN _IOW('M', 1, struct mem_pin_address)
#define MPOL_MF_MOVE (1 << 1)
#define PAGE 4096UL

static long nr = -1;
static int failures;

static void check(int ok, const char *name, const char *fmt, ...)
{
	if (ok) {
		printf("PASS %s\n", name);
	} else {
		va_list ap;
		failures++;
		printf("FAIL %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static int pin_cmd(int fd, unsigned long cmd, void *addr, uint64_t size)
{
	struct mem_pin_address a = { (uint64_t)(uintptr_t)addr, size };
	return ioctl(fd, cmd, &a) ? -errno : 0;
}

static long vm_pin_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Node of the page at p, via move_pages with no target. */
static int node_of(void *p)
{
	int status = -1;
	void *pages[1] = { p };
	if (syscall(SYS_move_pages, 0, 1, pages, NULL, &status, 0))
		return -errno;
	return status;
}

/* Asks the kernel to move the page at p to node; returns the node it is on afterwards. */
static int move_to(void *p, int node)
{
	int status = -1;
	void *pages[1] = { p };
	int nodes[1] = { node };
	syscall(SYS_move_pages, 0, 1, pages, nodes, &status, MPOL_MF_MOVE);
	return node_of(p);
}

static void *map(size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 1, len);
	return p;
}

static void test_number(void)
{
	FILE *f = fopen("/sys/kernel/mempinfd/syscall_nr", "r");
	check(f && fscanf(f, "%ld", &nr) == 1 && nr == 500, "sysfs_number",
	      "could not read 500 from /sys/kernel/mempinfd/syscall_nr (got %ld)", nr);
	if (f)
		fclose(f);
	int fd = syscall(nr);
	char link[64] = "", path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n > 0)
		link[n] = 0;
	check(fd >= 0 && !strcmp(link, "anon_inode:[mempinfd]"), "fd_is_mempinfd", "fd %d link %s", fd, link);
	int fl = fcntl(fd, F_GETFD);
	check(fl >= 0 && (fl & FD_CLOEXEC), "fd_cloexec", "flags %d", fl);
	close(fd);
}

static void test_bookkeeping(void)
{
	int fd = syscall(nr);
	char *p = map(8 * PAGE, 0);
	long base = vm_pin_kb();
	check(pin_cmd(fd, MEM_CMD_PIN, p, 4 * PAGE) == 0, "pin", "errno");
	check(vm_pin_kb() == base + 16, "pin_charged", "VmPin %ld, expected %ld", vm_pin_kb(), base + 16);
	check(pin_cmd(fd, MEM_CMD_PIN, p + 3 * PAGE, PAGE) == -EEXIST, "overlap_eexist", "");
	check(pin_cmd(fd, MEM_CMD_PIN, p + 4 * PAGE, 2 * PAGE) == 0, "adjacent_pin", "");
	check(pin_cmd(fd, MEM_CMD_UNPIN, p, PAGE) == -ENOENT, "unpin_partial_enoent", "");
	check(pin_cmd(fd, MEM_CMD_UNPIN, p + 7 * PAGE, PAGE) == -ENOENT, "unpin_unknown_enoent", "");
	check(pin_cmd(fd, MEM_CMD_UNPIN, p, 4 * PAGE) == 0, "unpin", "");
	check(vm_pin_kb() == base + 8, "unpin_uncharged", "VmPin %ld", vm_pin_kb());
	check(pin_cmd(fd, MEM_CMD_UNPIN, p, 4 * PAGE) == -ENOENT, "unpin_twice_enoent", "");
	/* Unaligned range widens to whole pages: 1 byte over a boundary = 2 pages. */
	check(pin_cmd(fd, MEM_CMD_PIN, p + PAGE - 1, 2) == 0, "unaligned_pin", "");
	check(vm_pin_kb() == base + 16, "unaligned_charged_two_pages", "VmPin %ld", vm_pin_kb());
	close(fd);
	check(vm_pin_kb() == base, "close_uncharges_all", "VmPin %ld base %ld", vm_pin_kb(), base);
	munmap(p, 8 * PAGE);
}

static void test_errors(void)
{
	int fd = syscall(nr);
	char *p = map(PAGE, 0);
	check(pin_cmd(fd, MEM_CMD_PIN, p, 0) == -EINVAL, "size_zero_einval", "");
	check(pin_cmd(fd, MEM_CMD_PIN, (void *)~0UL, 2) == -EINVAL || pin_cmd(fd, MEM_CMD_PIN, (void *)~0UL, 2) == -EFAULT,
	      "overflow_rejected", "");
	/* A kernel address (x86-64 direct map); the range itself does not overflow. */
	int kr = pin_cmd(fd, MEM_CMD_PIN, (void *)0xffff888000000000UL, PAGE);
	check(kr == -EFAULT, "kernel_range_efault", "got %d", kr);
	int r = pin_cmd(fd, MEM_CMD_PIN, p, 1ULL << 40);
	check(r == -ENOMEM || r == -EFAULT, "absurd_size_rejected", "got %d", r);
	r = pin_cmd(fd, MEM_CMD_PIN, p, ~0ULL - (uintptr_t)p);
	check(r == -ENOMEM || r == -EFAULT || r == -EINVAL, "huge_size_rejected", "got %d", r);
	void *hole = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, PAGE);
	check(pin_cmd(fd, MEM_CMD_PIN, hole, PAGE) == -EFAULT, "unmapped_efault", "");
	void *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(pin_cmd(fd, MEM_CMD_PIN, ro, PAGE) == -EFAULT, "readonly_efault", "");
	check(ioctl(fd, _IO('M', 9)) == -1 && errno == ENOTTY, "bad_cmd_enotty", "");
	check(ioctl(fd, MEM_CMD_PIN, NULL) == -1 && errno == EFAULT, "null_arg_efault", "");
	check(vm_pin_kb() == 0, "errors_leave_no_charge", "VmPin %ld", vm_pin_kb());
	close(fd);
	munmap(p, PAGE);
}

static void test_fork(void)
{
	int fd = syscall(nr);
	char *p = map(PAGE, 0);
	pid_t c = fork();
	if (c == 0)
		_exit(pin_cmd(fd, MEM_CMD_PIN, p, PAGE) == -EPERM ? 0 : 1);
	int st = 0;
	waitpid(c, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork_child_eperm", "status %d", st);
	check(pin_cmd(fd, MEM_CMD_PIN, p, PAGE) == 0, "parent_still_pins", "");
	close(fd);
}

static void test_rlimit(void)
{
	pid_t c = fork();
	if (c == 0) {
		struct rlimit rl = { 16 * PAGE, 16 * PAGE };
		if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgid(65534) || setuid(65534))
			_exit(10);
		int fd = syscall(nr);
		char *p = map(17 * PAGE, 0);
		if (pin_cmd(fd, MEM_CMD_PIN, p, 16 * PAGE))
			_exit(11);
		if (pin_cmd(fd, MEM_CMD_PIN, p + 16 * PAGE, PAGE) != -ENOMEM)
			_exit(12);
		if (pin_cmd(fd, MEM_CMD_UNPIN, p, 16 * PAGE))
			_exit(13);
		if (pin_cmd(fd, MEM_CMD_PIN, p + 16 * PAGE, PAGE))
			_exit(14); /* the unpin uncharged */
		close(fd);
		if (vm_pin_kb() != 0)
			_exit(15); /* the close uncharged */
		fd = syscall(nr);
		if (pin_cmd(fd, MEM_CMD_PIN, p, 16 * PAGE))
			_exit(16);
		_exit(0);
	}
	int st = 0;
	waitpid(c, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "rlimit_unprivileged_16_pages",
	      "child exit %d (10 setup, 11 pin 16, 12 17th not ENOMEM, 13 unpin, 14 re-pin, 15 close, 16 pin after close)",
	      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* A page that is long-term pinned does not move; an mlocked one does; after unpin it moves. */
static void test_migration(const char *kind, size_t len, int flags)
{
	char name[96];
	char *pinned = map(len, flags), *locked = map(len, flags);
	if (!pinned || !locked) {
		snprintf(name, sizeof(name), "%s_migration_setup", kind);
		check(0, name, "mmap failed: %s", strerror(errno));
		return;
	}
	mlock(locked, len);
	int fd = syscall(nr);
	snprintf(name, sizeof(name), "%s_pin", kind);
	check(pin_cmd(fd, MEM_CMD_PIN, pinned, len) == 0, name, "");
	int from = node_of(pinned), to = from == 0 ? 1 : 0;
	snprintf(name, sizeof(name), "%s_pinned_does_not_move", kind);
	int now = move_to(pinned, to);
	check(now == from, name, "moved from %d to %d", from, now);
	int lfrom = node_of(locked), lto = lfrom == 0 ? 1 : 0;
	snprintf(name, sizeof(name), "%s_mlocked_moves", kind);
	now = move_to(locked, lto);
	check(now == lto, name, "from %d stayed on %d", lfrom, now);
	pin_cmd(fd, MEM_CMD_UNPIN, pinned, len);
	snprintf(name, sizeof(name), "%s_moves_after_unpin", kind);
	now = move_to(pinned, to);
	check(now == to, name, "from %d stayed on %d", from, now);
	/* Pin again, then close: it moves back after the close. */
	pin_cmd(fd, MEM_CMD_PIN, pinned, len);
	close(fd);
	snprintf(name, sizeof(name), "%s_moves_after_close", kind);
	now = move_to(pinned, from);
	check(now == from, name, "stayed on %d", now);
	munmap(pinned, len);
	munlock(locked, len);
	munmap(locked, len);
}

int main(void)
{
	test_number();
	if (nr < 0) {
		printf("FAIL mempinfd_missing: no syscall number; skipping the rest\n");
		return 1;
	}
	test_bookkeeping();
	test_errors();
	test_fork();
	test_rlimit();
	test_migration("base_page", PAGE, 0);
	test_migration("hugetlb_2m", 2UL << 20, MAP_HUGETLB | (21 << 26));
	printf("mempinfd_test: %d failed\n", failures);
	return failures != 0;
}
