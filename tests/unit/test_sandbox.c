/* tests/unit/test_sandbox.c -- the seccomp allow-list, loaded in forked children */
/* SPDX-License-Identifier: ISC */

/*
 * Each test forks a child that loads the filter with sandbox_enter() (the
 * function the daemon calls) and then does one thing. The parent reads the
 * child's standard error and exit status: allowed work exits 0; a blocked
 * call ends it with SANDBOX_EXIT and exactly one line naming the call.
 */

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/sandbox.h"
#include "testhelp.h"

#define CHILD_TIMEOUT_MS 20000	/* the most a child may take (a loaded machine) */
#define OUT_MAX 4096		/* bytes of the child's stderr kept */

/* What a child did: its wait status and its standard error. */
struct outcome {
	int status;
	char err[OUT_MAX];
};

/* Run fn in a forked child with stderr on a pipe; 0, or -1 if the child could not run. */
static int
in_child(void (*fn)(void), struct outcome *o)
{
	struct pollfd pfd;
	size_t len = 0;
	ssize_t n;
	int p[2], waited = 0;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	fflush(NULL);
	if (pipe(p) == -1 || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		fn();
		_exit(0);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	while (waited < CHILD_TIMEOUT_MS && poll(&pfd, 1, 100) >= 0) {
		if (!(pfd.revents & (POLLIN | POLLHUP))) {
			waited += 100;
			continue;
		}
		if ((n = read(p[0], o->err + len, sizeof(o->err) - 1 - len)) <= 0)
			break;
		len += (size_t)n;
	}
	close(p[0]);
	if (waited >= CHILD_TIMEOUT_MS)
		kill(pid, SIGKILL);
	waitpid(pid, &o->status, 0);
	return 0;
}

/* Load the filter or leave the child with a distinct status. */
static void
enter(bool json)
{
	char err[256];

	if (sandbox_enter(json, err, sizeof(err)) == -1) {
		fprintf(stderr, "sandbox_enter: %s\n", err);
		_exit(3);
	}
}

/* True if the child died of the blocked call named, with exactly one line for it. */
static bool
blocked(const struct outcome *o, const char *name)
{
	char want[64];
	const char *p;
	unsigned lines = 0;

	snprintf(want, sizeof(want), "(%s); exiting", name);
	for (p = o->err; (p = strstr(p, "seccomp: blocked system call")) != NULL; p++)
		lines++;
	if (!WIFEXITED(o->status) || WEXITSTATUS(o->status) != SANDBOX_EXIT || lines != 1 ||
	    strstr(o->err, want) == NULL) {
		fprintf(stderr, "    status %d, stderr: %s\n", o->status, o->err);
		return false;
	}
	return true;
}

static void *
thread_noop(void *arg)
{
	return arg;
}

/* The calls the daemon makes once started must all still work. */
static void
child_allowed_work(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	char dir[] = "/tmp/dns01d-test-sandbox.XXXXXX", f[64], g[64], buf[16];
	void *big;
	pthread_t t;
	int fd;

	if (mkdtemp(dir) == NULL)
		_exit(4);
	enter(false);
	snprintf(f, sizeof(f), "%s/a", dir);
	snprintf(g, sizeof(g), "%s/b", dir);
	/* SQLite and the ACME client's files: create, write, sync, lock, rename, unlink. */
	if ((fd = open(f, O_CREAT | O_RDWR | O_CLOEXEC, 0600)) == -1 ||
	    pwrite(fd, "x", 1, 0) != 1 || fdatasync(fd) == -1 || ftruncate(fd, 4096) == -1 ||
	    fcntl(fd, F_SETLK, &(struct flock){ .l_type = F_WRLCK }) == -1 || close(fd) == -1 ||
	    rename(f, g) == -1 || unlink(g) == -1 || rmdir(dir) == -1)
		_exit(5);
	/* Sockets (UDP to the discard port on loopback), randomness, threads, big malloc. */
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		_exit(6);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)sendto(fd, "q", 1, 0, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	if (getrandom(buf, sizeof(buf), 0) != sizeof(buf) ||
	    pthread_create(&t, NULL, thread_noop, NULL) != 0 || pthread_join(t, NULL) != 0 ||
	    (big = malloc(64 << 20)) == NULL)
		_exit(7);
	memset(big, 1, 64 << 20);
	free(big);
	fprintf(stderr, "allowed work done\n");
}

static int
test_allowed_work(void)
{
	struct outcome o;

	CHECK(in_child(child_allowed_work, &o) == 0);
	if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
		fprintf(stderr, "    status %d, stderr: %s\n", o.status, o.err);
	CHECK(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0);
	CHECK(strstr(o.err, "allowed work done") != NULL);
	return 0;
}

/* /proc/self/status reports filter mode (2) once loaded, 0 before. */
static void
child_status(void)
{
	char b[8192];
	ssize_t n;
	int fd;

	for (int round = 0; round < 2; round++) {
		if (round == 1)
			enter(false);
		if ((fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)) == -1 ||
		    (n = read(fd, b, sizeof(b) - 1)) <= 0)
			_exit(8);
		close(fd);
		b[n] = '\0';
		fprintf(stderr, "round %d: %s\n", round, strstr(b, "Seccomp:") ? strstr(b, "Seccomp:") : "?");
	}
}

static int
test_proc_status(void)
{
	struct outcome o;

	CHECK(in_child(child_status, &o) == 0);
	CHECK(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0);
	CHECK(strstr(o.err, "round 0: Seccomp:\t0") != NULL);
	CHECK(strstr(o.err, "round 1: Seccomp:\t2") != NULL);
	return 0;
}

static void
child_execve(void)
{
	char *const argv[] = { (char *)"/bin/true", NULL };

	enter(false);
	execv("/bin/true", argv);
	_exit(0);	/* not reached: execve is not on the list */
}

static int
test_execve_blocked(void)
{
	struct outcome o;

	CHECK(in_child(child_execve, &o) == 0);
	CHECK(blocked(&o, "execve"));
	/* The line is the log's text format: "2026-...Z error seccomp: ..." */
	CHECK(o.err[4] == '-' && o.err[10] == 'T' && strstr(o.err, "Z error seccomp: ") != NULL);
	return 0;
}

/* A thread started before the filter is covered too (TSYNC), and JSON logs get JSON. */
static void *
thread_mount(void *arg)
{
	int *go = arg;

	while (!__atomic_load_n(go, __ATOMIC_ACQUIRE))
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	(void)unshare(0);	/* unshare(2): never on the list */
	return NULL;
}

static void
child_thread_json(void)
{
	static int go;
	pthread_t t;

	if (pthread_create(&t, NULL, thread_mount, &go) != 0)
		_exit(9);
	enter(true);
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
}

static int
test_earlier_thread_blocked_json(void)
{
	struct outcome o;

	CHECK(in_child(child_thread_json, &o) == 0);
	CHECK(blocked(&o, "unshare"));
	CHECK(strncmp(o.err, "{\"time\":\"", 9) == 0);
	CHECK(strstr(o.err, "\",\"level\":\"error\",\"msg\":\"seccomp: blocked") != NULL);
	CHECK(strstr(o.err, "exiting\"}\n") != NULL);
	return 0;
}

/* socket(2) is allowed for the daemon's families only: a packet socket is refused. */
static void
child_packet_socket(void)
{
	enter(false);
	(void)socket(AF_PACKET, SOCK_RAW, 0);
}

static int
test_packet_socket_blocked(void)
{
	struct outcome o;

	CHECK(in_child(child_packet_socket, &o) == 0);
	CHECK(blocked(&o, "socket"));
	return 0;
}

/* No fork: clone without CLONE_THREAD is refused (sanitizer builds allow it, see sandbox.c). */
static void
child_fork(void)
{
	pid_t p;

	enter(false);
	if ((p = fork()) == 0)
		_exit(0);
	if (p > 0)
		waitpid(p, NULL, 0);
}

static int
test_fork_blocked(void)
{
	struct outcome o;

	CHECK(in_child(child_fork, &o) == 0);
#if defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer's tracer needs a plain clone; the filter allows it in this build. */
	CHECK(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0);
#else
	CHECK(blocked(&o, "clone"));
#endif
	return 0;
}

static const struct test_case tests[] = {
	{ "sandbox_allowed_work", test_allowed_work },
	{ "sandbox_proc_status", test_proc_status },
	{ "sandbox_execve_blocked", test_execve_blocked },
	{ "sandbox_earlier_thread_blocked_json", test_earlier_thread_blocked_json },
	{ "sandbox_packet_socket_blocked", test_packet_socket_blocked },
	{ "sandbox_fork_blocked", test_fork_blocked },
};

TEST_MAIN(tests)
