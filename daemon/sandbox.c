/* daemon/sandbox.c -- the seccomp allow-list dns01d loads once it has started */
/* SPDX-License-Identifier: ISC */

/*
 * Why SCMP_ACT_TRAP and not SCMP_ACT_KILL_PROCESS: both fail closed (the
 * blocked call is never made, whatever a handler does), but a kill leaves
 * nothing in the daemon's own log, only an audit record that many hosts do
 * not keep. The trap lets a SIGSYS handler write one line that names the
 * call, with async-signal-safe code only (write, clock_gettime, _exit),
 * then end the process. clone3 answers ENOSYS instead, so glibc falls back
 * to clone, whose flags a filter can read (threads only, no fork).
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"

/* Sanitizer builds (make check): LeakSanitizer stops the world at exit with
 * a tracer task (clone without CLONE_THREAD, ptrace, waitpid). */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif

/*
 * Every call the daemon makes once started, grouped by who needs it. A name
 * this architecture does not have (open on aarch64, say) is skipped.
 */
static const char *const allowed[] = {
	/* file descriptors: the log, SQLite, PEM files, the ACME client's files */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
	"preadv2", "pwritev2", "lseek", "close", "dup", "dup2", "dup3", "fcntl", "ioctl",
	"fsync", "fdatasync", "ftruncate", "fallocate", "flock", "fchmod", "fchown",
	"open", "openat", "stat", "fstat", "lstat", "newfstatat", "statx", "fstatfs",
	"statfs", "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64",
	"unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir",
	"getcwd", "umask", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
	"sendfile",
	/* memory (glibc malloc, thread stacks, SQLite's -shm, dlopen by NSS) */
	"mmap", "munmap", "mprotect", "mremap", "madvise", "brk",
	/* threads, time, randomness */
	"futex", "set_robust_list", "get_robust_list", "rseq", "exit", "exit_group",
	"sched_yield", "sched_getaffinity", "getpid", "gettid", "getppid", "nanosleep",
	"clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time",
	"getrandom", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
	"getgroups", "uname", "sysinfo", "getrlimit", "prlimit64", "getrusage",
	/* signals: sigwait in main, SIGPIPE ignored, this file's SIGSYS handler */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait", "sigaltstack",
	"restart_syscall",
	/* sockets: DNS (UDP batches, TCP), HTTP, libcurl, the resolver, syslog, sd_notify */
	"socketpair", "bind", "listen", "connect", "accept", "accept4", "sendto", "recvfrom",
	"sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getsockname",
	"getpeername", "setsockopt", "getsockopt", "eventfd2", "pipe", "pipe2",
	"poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
	"epoll_wait", "epoll_pwait", "epoll_pwait2",
};

/* Socket families the daemon opens; raw packet sockets and the rest are refused. */
static const int families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };

static const char *sysname[SANDBOX_MAX_SYSNO];	/* filled before the filter loads */
static atomic_flag tripped = ATOMIC_FLAG_INIT;
static bool log_json;

/* Append s to the line at *n (async-signal-safe). */
static void
put(char *b, size_t *n, const char *s)
{
	while (*s != '\0' && *n < SANDBOX_LINE_MAX - 2)
		b[(*n)++] = *s++;
}

/* Append v in decimal, at least width digits (async-signal-safe). */
static void
put_num(char *b, size_t *n, long long v, int width)
{
	char d[24];
	int i = 0;

	if (v < 0) {
		put(b, n, "-");
		v = -v;
	}
	do {
		d[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && i < (int)sizeof(d));
	while (i < width && i < (int)sizeof(d))
		d[i++] = '0';
	while (i > 0 && *n < SANDBOX_LINE_MAX - 2)
		b[(*n)++] = d[--i];
}

/* The time as log.c writes it, "2026-11-22T10:00:00Z" (days to civil date, no libc). */
static void
put_time(char *b, size_t *n)
{
	struct timespec ts = { 0, 0 };
	long long days, secs, z, era, doe, yoe, y, doy, mp, d, m;

	clock_gettime(CLOCK_REALTIME, &ts);
	days = ts.tv_sec / 86400;
	secs = ts.tv_sec % 86400;
	z = days + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	put_num(b, n, y + (m <= 2), 4);
	put(b, n, "-");
	put_num(b, n, m, 2);
	put(b, n, "-");
	put_num(b, n, d, 2);
	put(b, n, "T");
	put_num(b, n, secs / 3600, 2);
	put(b, n, ":");
	put_num(b, n, secs / 60 % 60, 2);
	put(b, n, ":");
	put_num(b, n, secs % 60, 2);
	put(b, n, "Z");
}

/* SIGSYS from the filter: one line naming the call, then exit. Async-signal-safe. */
static void
on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	char b[SANDBOX_LINE_MAX];
	size_t n = 0;
	int nr = si != NULL ? si->si_syscall : -1;
	const char *name = nr >= 0 && nr < SANDBOX_MAX_SYSNO && sysname[nr] != NULL ?
	    sysname[nr] : "?";

	(void)sig;
	(void)uctx;
	if (atomic_flag_test_and_set(&tripped))
		_exit(SANDBOX_EXIT);	/* another thread is writing the line */
	put(b, &n, log_json ? "{\"time\":\"" : "");
	put_time(b, &n);
	put(b, &n, log_json ? "\",\"level\":\"error\",\"msg\":\"" : " error ");
	put(b, &n, "seccomp: blocked system call ");
	put_num(b, &n, nr, 1);
	put(b, &n, " (");
	put(b, &n, name);
	put(b, &n, "); exiting");
	put(b, &n, log_json ? "\"}\n" : "\n");
	if (write(STDERR_FILENO, b, n) == -1) {
		/* nothing left to try */
	}
	_exit(SANDBOX_EXIT);
}

/* Name every system call number now, so the handler needs no allocation. */
static void
name_syscalls(void)
{
	int nr;

	for (nr = 0; nr < SANDBOX_MAX_SYSNO; nr++)
		if (sysname[nr] == NULL)
			sysname[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
}

/* Add one rule; -1 with err naming the call if libseccomp refuses it. */
static int
rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned nargs,
    const struct scmp_arg_cmp *args, char *err, size_t errlen)
{
	int nr = seccomp_syscall_resolve_name(name), r;

	if (nr < 0)
		return 0;	/* not a system call on this architecture */
	if ((r = seccomp_rule_add_array(ctx, action, nr, nargs, args)) < 0) {
		snprintf(err, errlen, "seccomp: %s: %s", name, strerror(-r));
		return -1;
	}
	return 0;
}

/* The calls allowed only with some arguments, and the sanitizer runtime's needs. */
static int
add_narrow_rules(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	struct scmp_arg_cmp a;
	size_t i;
	/* getdents: the sanitizer runtime lists /proc/PID/task with the old call on x86_64. */
	static const char *const sanitizer[] = { "ptrace", "wait4", "waitid", "prctl", "clone",
		"kill", "tkill", "tgkill", "sched_getparam", "getpgid", "getdents", "arch_prctl" };

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		a = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]);
		if (rule(ctx, SCMP_ACT_ALLOW, "socket", 1, &a, err, errlen) == -1)
			return -1;
	}
	if (rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, err, errlen) == -1)
		return -1;
#ifdef SANDBOX_SANITIZER
	for (i = 0; i < sizeof(sanitizer) / sizeof(sanitizer[0]); i++)
		if (rule(ctx, SCMP_ACT_ALLOW, sanitizer[i], 0, NULL, err, errlen) == -1)
			return -1;
	return 0;
#else
	(void)sanitizer;
	/* Threads only: a clone without CLONE_THREAD would be a fork. */
	a = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
	if (rule(ctx, SCMP_ACT_ALLOW, "clone", 1, &a, err, errlen) == -1)
		return -1;
	/* Signals to our own threads only (raise, abort, pthread_kill). */
	a = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid());
	if (rule(ctx, SCMP_ACT_ALLOW, "tgkill", 1, &a, err, errlen) == -1)
		return -1;
	/* Thread names only. */
	a = SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME);
	if (rule(ctx, SCMP_ACT_ALLOW, "prctl", 1, &a, err, errlen) == -1)
		return -1;
	a = SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME);
	return rule(ctx, SCMP_ACT_ALLOW, "prctl", 1, &a, err, errlen);
#endif
}

int
sandbox_enter(bool json, char *err, size_t errlen)
{
	struct sigaction sa;
	scmp_filter_ctx ctx;
	size_t i;
	int rc = -1, r;

	log_json = json;
	name_syscalls();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1) {
		snprintf(err, errlen, "seccomp: SIGSYS handler: %s", strerror(errno));
		return -1;
	}
	if ((ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL) {
		snprintf(err, errlen, "seccomp: cannot set up a filter (out of memory)");
		return -1;
	}
	/* TSYNC: the filter covers every thread already running, and every later one. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0) {
		snprintf(err, errlen, "seccomp: thread sync: %s", strerror(-r));
		goto out;
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (rule(ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL, err, errlen) == -1)
			goto out;
	if (add_narrow_rules(ctx, err, errlen) == -1)
		goto out;
	if ((r = seccomp_load(ctx)) < 0) {
		snprintf(err, errlen, "seccomp: cannot load the filter: %s%s", strerror(-r),
		    r == -ESRCH ? " (a thread could not be synchronised)" : "");
		goto out;
	}
	rc = 0;
out:
	seccomp_release(ctx);
	return rc;
}
