/* dnsd/dnsd.c -- dnsd's lifecycle: configure, bind, start, health check, stop */
/* SPDX-License-Identifier: ISC */
#define DNSD_INTERNAL
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../common/common.h"
#include "dnsd.h"

/* Add one address to bind; wildcard marks 0.0.0.0 and ::. */
static void
addr_add(struct dnsd *d, int family, const void *ip, bool wildcard)
{
	struct sockaddr_storage *ss = &d->addr[d->naddr];

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip, 4);
		d->addrlen[d->naddr] = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip, 16);
		d->addrlen[d->naddr] = sizeof(*sin6);
	}
	d->wildcard[d->naddr] = wildcard;
	d->naddr++;
}

/*
 * Add the addresses of one parsed listen address, as the family bits of
 * protocol allow. ":port" and "[::]:port" are the wildcard of every allowed
 * family. Returns 0, or -1 with a message in err.
 */
static int
listen_one(struct dnsd *d, const struct config_listen *l, bool v4, bool v6, char *err,
    size_t errlen)
{
	static const uint8_t any[16];
	size_t need = l->family == AF_UNSPEC || l->family == AF_INET6 ? 2 : 1;

	if (d->naddr + need > DNSD_MAX_ADDRS) {
		snprintf(err, errlen, "general.listen: more than %d addresses", DNSD_MAX_ADDRS);
		return -1;
	}
	if (l->family == AF_UNSPEC ||
	    (l->family == AF_INET6 && memcmp(l->addr, any, sizeof(any)) == 0)) {
		if (v4)
			addr_add(d, AF_INET, any, true);
		if (v6)
			addr_add(d, AF_INET6, any, true);
	} else if (l->family == AF_INET) {
		if (!v4) {
			snprintf(err, errlen, "general.listen: IPv4 address but protocol is IPv6 only");
			return -1;
		}
		addr_add(d, AF_INET, l->addr, memcmp(l->addr, any, 4) == 0);
	} else if (l->family == AF_INET6) {
		if (!v6) {
			snprintf(err, errlen, "general.listen: IPv6 address but protocol is IPv4 only");
			return -1;
		}
		addr_add(d, AF_INET6, l->addr, false);
	} else {
		snprintf(err, errlen, "general.listen: unknown address family");
		return -1;
	}
	return 0;
}

/*
 * Set up the addresses to bind from the n parsed listen addresses (one
 * port, checked by config.c). Returns 0, or -1 with a message in err.
 */
static int
listen_setup(struct dnsd *d, const struct config_listen *l, size_t n, unsigned protocol,
    char *err, size_t errlen)
{
	bool v4 = (protocol & DNSD_PROTO_V4) != 0, v6 = (protocol & DNSD_PROTO_V6) != 0;

	if (!v4 && !v6)
		v4 = v6 = true;
	d->port = l[0].port;
	d->naddr = 0;
	for (size_t i = 0; i < n; i++) {
		if (l[i].port != d->port) {
			snprintf(err, errlen, "general.listen: every address must use port %u",
			    d->port);
			return -1;
		}
		if (listen_one(d, &l[i], v4, v6, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* The RRL table, the cookie secret and the dnsd_answer() slots' contexts. */
static int
limits_new(struct dnsd *d, const struct dnsd_params *params, char *err, size_t errlen)
{
	if (rrl_init(&d->rrl, params->rrl_rate, params->rrl_slip, d->seed) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->stats = params->stats;
	d->cookies = params->cookies;
	d->ck_rotation = params->cookie_rotation > 0 ? params->cookie_rotation :
	    DNSD_DEFAULT_COOKIE_ROTATION;
	if (cookie_init(d, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < DNSD_EXT_READERS; i++) {
		if (cookie_ctx_init(d, &d->ext[i]) == -1) {
			snprintf(err, errlen, "cookies: cannot make a SipHash context");
			return -1;
		}
	}
	return 0;
}

/*
 * Build the zone from params (see dnsd.h). Nothing is bound and no thread
 * runs until dnsd_start(). Returns NULL with a message in err.
 */
struct dnsd *
dnsd_new(const struct dnsd_params *params, char *err, size_t errlen)
{
	struct dnsd *d;

	if (params == NULL) {
		snprintf(err, errlen, "no parameters");
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < DNSD_MAX_ADDRS; i++) {
		d->tcpfd[i] = -1;
		d->udpguard[i][0] = d->udpguard[i][1] = -1;
		for (size_t t = 0; t < DNSD_MAX_UDP_THREADS; t++)
			d->udpfd[i][t] = -1;
	}
	atomic_init(&d->stop, false);
	if (rand_bytes(&d->seed, sizeof(d->seed)) == -1)
		d->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	d->txt_ttl = params->txt_ttl;
	d->persist_ttl = params->persist_ttl;
	d->neg_ttl = params->negative_ttl;
	d->protocol = params->protocol;
	if ((d->protocol & (DNSD_PROTO_UDP | DNSD_PROTO_TCP)) == 0)
		d->protocol |= DNSD_PROTO_UDP | DNSD_PROTO_TCP;
	d->threads = params->threads;
	d->tcp_idle_timeout = params->tcp_idle_timeout > 0 ? params->tcp_idle_timeout : 10;
	d->tcp_max_clients = params->tcp_max_clients > 0 ? params->tcp_max_clients : 1024;
	if (table_init(d) == -1) {
		snprintf(err, errlen, "out of memory");
		free(d);
		return NULL;
	}
	if (listen_setup(d, params->nlisten > 0 ? params->listens : &params->listen,
	    params->nlisten > 0 ? params->nlisten : 1, params->protocol, err, errlen) == -1 ||
	    (d->zone = zone_new(params, d->seed, err, errlen)) == NULL ||
	    limits_new(d, params, err, errlen) == -1) {
		dnsd_free(d);
		return NULL;
	}
	return d;
}

static void
close_all(struct dnsd *d)
{
	for (size_t i = 0; i < DNSD_MAX_ADDRS; i++) {
		if (d->tcpfd[i] != -1)
			close(d->tcpfd[i]);
		d->tcpfd[i] = -1;
		for (size_t k = 0; k < 2; k++) {
			if (d->udpguard[i][k] != -1)
				close(d->udpguard[i][k]);
			d->udpguard[i][k] = -1;
		}
		for (size_t t = 0; t < DNSD_MAX_UDP_THREADS; t++) {
			if (d->udpfd[i][t] != -1)
				close(d->udpfd[i][t]);
			d->udpfd[i][t] = -1;
		}
	}
}

static void
set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static unsigned
get_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/*
 * Open a socket of type on address i, port port. reuse sets SO_REUSEPORT
 * (one UDP socket per worker). Returns the fd or -1 with errno set.
 */
static int
open_socket(struct dnsd *d, size_t i, int type, unsigned port, bool reuse)
{
	struct sockaddr_storage ss = d->addr[i];
	int fd, one = 1, family = ss.ss_family;

	if ((fd = socket(family, type | SOCK_CLOEXEC | (type == SOCK_STREAM ? SOCK_NONBLOCK : 0),
	    0)) == -1)
		return -1;
	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1)
		goto fail;
	if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
		goto fail;
	if (type == SOCK_DGRAM) {
		struct timeval tv = { 0, DNSD_WAKE_MS * 1000 };
		int rcvbuf = 1 << 20;

		/* Workers block at most DNSD_WAKE_MS, then look at the stop flag. */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
			goto fail;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		/* On a wildcard, learn each query's destination to answer from it. */
		if (d->wildcard[i] && (family == AF_INET ?
		    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) :
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one))) == -1)
			goto fail;
	}
	set_port(&ss, port);
	if (bind(fd, (struct sockaddr *)&ss, d->addrlen[i]) == -1)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, DNSD_TCP_BACKLOG) == -1)
		goto fail;
	return fd;
fail:
	{
		int e = errno;

		close(fd);
		errno = e;
	}
	return -1;
}

/*
 * Find a port free for UDP and TCP on every address: bind sockets without
 * SO_REUSEPORT on port 0, read the port, and release them, so that our
 * reuse-port group can never join another process's. Returns it or 0.
 */
static unsigned
pick_port(struct dnsd *d)
{
	int fds[2 * DNSD_MAX_ADDRS], n = 0;
	unsigned port = 0;
	bool ok = true;

	for (size_t i = 0; i < d->naddr && ok; i++) {
		int types[2] = { SOCK_DGRAM, SOCK_STREAM };

		for (int k = 0; k < 2 && ok; k++) {
			int fd = open_socket(d, i, types[k], port, false);

			if (fd == -1) {
				ok = false;
				break;
			}
			fds[n++] = fd;
			if (port == 0)
				port = get_port(fd);
		}
	}
	while (n > 0)
		close(fds[--n]);
	return ok ? port : 0;
}

/*
 * Steer each UDP packet to the worker socket numbered after the CPU that
 * received it (SO_ATTACH_REUSEPORT_CBPF, SKF_AD_CPU), instead of by flow
 * hash: a busy CPU feeds one worker with large recvmmsg batches, and queues
 * on several CPUs still spread over the workers. Failure only costs speed.
 */
static void
steer_by_cpu(int fd, unsigned n)
{
	struct sock_filter code[] = {
		{ BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_CPU) },
		{ BPF_ALU | BPF_MOD | BPF_K, 0, 0, n },
		{ BPF_RET | BPF_A, 0, 0, 0 },
	};
	struct sock_fprog prog = { (unsigned short)(sizeof(code) / sizeof(code[0])), code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) == -1)
		log_debug("dns: SO_ATTACH_REUSEPORT_CBPF: %s", strerror(errno));
}

/* A guard socket (see open_udp), bound to at with SO_REUSEPORT; -1 on failure. */
static int
guard_open(const struct sockaddr_storage *at, socklen_t len)
{
	int fd, one = 1;

	if ((fd = socket(at->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
	    (at->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, (const struct sockaddr *)at, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Open the UDP sockets of address i on port, one per worker: a plain socket
 * for one worker, else an SO_REUSEPORT group steered by CPU.
 *
 * A group must be closed to others: Linux lets any socket of the same user
 * that also sets SO_REUSEPORT bind a port the group holds, even by chance.
 * dig sets it and binds port 0, so a dig could be handed our port, connect
 * to it, and read its own query back as the answer (QR clear). So two guard
 * sockets share the port, bound before and after the workers (a bind checks
 * the sockets on the port in bind order for IPv6 and in reverse for IPv4,
 * and stops at the first that overlaps it). Once the workers are bound, the
 * guards connect to the server's own address, so that no client packet
 * matches them, and clear SO_REUSEPORT: an autobind then skips the port and
 * a bind to it fails with EADDRINUSE. The group never hands them a packet:
 * the first guard is bound to the other kind of address (the wildcard for a
 * specific address, loopback for the wildcard), so it is in no group; the
 * second joins last, past every index the steering returns, and the hash
 * fallback skips connected sockets. A guard that cannot be opened costs only
 * this protection. Returns 0, or -1 with errno set.
 */
static int
open_udp(struct dnsd *d, size_t i, unsigned port)
{
	struct sockaddr_storage at = d->addr[i], other, self = d->addr[i];
	socklen_t len = d->addrlen[i];
	int zero = 0;

	if (d->nthreads == 1)
		return (d->udpfd[i][0] = open_socket(d, i, SOCK_DGRAM, port, false)) == -1 ? -1 : 0;
	memset(&other, 0, sizeof(other));
	other.ss_family = at.ss_family;	/* all zero: 0.0.0.0 or :: */
	if (d->wildcard[i]) {
		if (self.ss_family == AF_INET)
			((struct sockaddr_in *)&self)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else
			((struct sockaddr_in6 *)&self)->sin6_addr = in6addr_loopback;
		other = self;
	}
	set_port(&at, port);
	set_port(&other, port);
	set_port(&self, port);
	d->udpguard[i][0] = guard_open(&other, len);
	for (unsigned t = 0; t < d->nthreads; t++)
		if ((d->udpfd[i][t] = open_socket(d, i, SOCK_DGRAM, port, true)) == -1)
			return -1;
	steer_by_cpu(d->udpfd[i][0], d->nthreads);
	d->udpguard[i][1] = guard_open(&at, len);
	for (int k = 0; k < 2; k++) {
		int fd = d->udpguard[i][k];

		if (fd == -1 || connect(fd, (struct sockaddr *)&self, len) == -1 ||
		    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &zero, sizeof(zero)) == -1) {
			log_warnx("dns: UDP port %u: guard %d: %s; other sockets of this user "
			    "with SO_REUSEPORT may share the port", port, k, strerror(errno));
			if (fd != -1)
				close(fd);
			d->udpguard[i][k] = -1;
		}
	}
	return 0;
}

/* Open every socket on port; returns 0 or -1 with errno set. */
static int
open_all(struct dnsd *d, unsigned port)
{
	for (size_t i = 0; i < d->naddr; i++) {
		if ((d->protocol & DNSD_PROTO_UDP) && open_udp(d, i, port) == -1)
			return -1;
		if ((d->protocol & DNSD_PROTO_TCP) &&
		    (d->tcpfd[i] = open_socket(d, i, SOCK_STREAM, port, false)) == -1)
			return -1;
	}
	return 0;
}

/*
 * Bind the sockets and start the threads (see dnsd.h). With port 0 a free
 * port is picked once and every socket, UDP and TCP, shares it.
 */
int
dnsd_start(struct dnsd *d, char *err, size_t errlen)
{
	unsigned port = d->port;
	long ncpu;
	int rc = -1;

	if (d->started) {
		snprintf(err, errlen, "already started");
		return -1;
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	d->nthreads = d->threads > 0 ? d->threads : (ncpu > 0 ? (unsigned)ncpu : 1);
	if (d->nthreads > DNSD_MAX_UDP_THREADS)
		d->nthreads = DNSD_MAX_UDP_THREADS;
	for (int attempt = 0; attempt < 10; attempt++) {
		if (d->port == 0 && (port = pick_port(d)) == 0)
			continue;
		if (open_all(d, port) == 0) {
			rc = 0;
			break;
		}
		int e = errno;
		close_all(d);
		if (d->port != 0 || e != EADDRINUSE) {
			snprintf(err, errlen, "cannot bind port %u: %s", port, strerror(e));
			return -1;
		}
	}
	if (rc == -1) {
		snprintf(err, errlen, "cannot find a free port");
		return -1;
	}
	d->port = port;

	/* dnsd_healthy() asks the first address, or loopback for a wildcard. */
	d->self = d->addr[0];
	d->selflen = d->addrlen[0];
	if (d->wildcard[0]) {
		if (d->self.ss_family == AF_INET)
			((struct sockaddr_in *)&d->self)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else
			((struct sockaddr_in6 *)&d->self)->sin6_addr = in6addr_loopback;
	}
	set_port(&d->self, port);

	d->started = true;
	atomic_store(&d->stop, false);
	if (((d->protocol & DNSD_PROTO_UDP) && udp_start(d, err, errlen) == -1) ||
	    ((d->protocol & DNSD_PROTO_TCP) && tcp_start(d, err, errlen) == -1)) {
		atomic_store(&d->stop, true);
		udp_stop(d);
		tcp_stop(d);
		close_all(d);
		d->started = false;
		return -1;
	}
	log_info("dns: serving %s on port %u: %zu address(es), %u UDP worker(s) each%s",
	    d->protocol & DNSD_PROTO_UDP ? (d->protocol & DNSD_PROTO_TCP ? "UDP and TCP" : "UDP") :
	    "TCP", port, d->naddr, d->protocol & DNSD_PROTO_UDP ? d->nthreads : 0,
	    d->protocol & DNSD_PROTO_TCP ? ", 1 TCP loop" : "");
	return 0;
}

/* The port bound (0 before dnsd_start() when listen asked for port 0). */
unsigned
dnsd_port(const struct dnsd *d)
{
	return d != NULL ? d->port : 0;
}

/* Build an SOA query for the apex; returns its length. */
static size_t
soa_query(const struct dnsd *d, uint8_t *q, uint16_t id)
{
	size_t len = 12;

	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[5] = 1;
	memcpy(q + len, d->zone->apex, d->zone->apexlen);
	len += d->zone->apexlen;
	q[len++] = 0;
	q[len++] = DNSD_T_SOA;
	q[len++] = 0;
	q[len++] = DNSD_C_IN;
	return len;
}

/* True if a is an authoritative NOERROR answer to q with at least one record. */
static bool
soa_reply_ok(const uint8_t *q, size_t qlen, const uint8_t *a, size_t alen)
{
	return alen >= qlen && a[0] == q[0] && a[1] == q[1] && (a[2] & 0x84) == 0x84 &&
	    (a[3] & 0x0f) == 0 && (a[6] | a[7]) != 0 && memcmp(a + 12, q + 12, qlen - 12) == 0;
}

/*
 * True if the server answers a real SOA query over its own socket within
 * DNSD_HEALTH_TIMEOUT_MS: UDP if served, else TCP. Safe from any thread.
 */
/* The port of a bound socket's local address, or 0. */
static uint16_t
local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/*
 * Remember the connected probe socket's local port so that RRL lets its
 * answer through: /health polled often would otherwise be throttled by
 * dnsd's own limit and report DNS as down. *slot is set, to be cleared after.
 */
static void
probe_hold(struct dnsd *d, int fd, int *slot)
{
	uint16_t port = local_port(fd);

	if (port == 0)
		return;
	*slot = port % DNSD_HEALTH_PROBE_SLOTS;
	atomic_store_explicit(&d->probe_port[*slot], port, memory_order_relaxed);
}

/*
 * RRL exemption for dnsd_healthy()'s probes: the source must be loopback or
 * the address probed (a packet from there cannot come from another host),
 * from a port a probe holds right now. Called only for answers RRL limits.
 */
bool
dnsd_is_own_probe(struct dnsd *d, const struct sockaddr *from)
{
	uint16_t port;
	bool local;

	if (from->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)from;
		const struct sockaddr_in *self = (const struct sockaddr_in *)&d->self;

		port = ntohs(s4->sin_port);
		local = (ntohl(s4->sin_addr.s_addr) >> 24) == 127 ||
		    (d->self.ss_family == AF_INET &&
		    s4->sin_addr.s_addr == self->sin_addr.s_addr);
	} else if (from->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)from;
		const struct sockaddr_in6 *self = (const struct sockaddr_in6 *)&d->self;

		port = ntohs(s6->sin6_port);
		local = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
		    (d->self.ss_family == AF_INET6 &&
		    memcmp(&s6->sin6_addr, &self->sin6_addr, sizeof(self->sin6_addr)) == 0);
	} else
		return false;
	return local && port != 0 && atomic_load_explicit(
	    &d->probe_port[port % DNSD_HEALTH_PROBE_SLOTS], memory_order_relaxed) == port;
}

bool
dnsd_healthy(struct dnsd *d)
{
	uint8_t q[12 + DNSD_MAX_NAME + 4], a[1024 + 2];
	uint16_t id;
	size_t qlen;
	ssize_t n;
	bool ok = false, udp;
	int fd = -1, slot = -1;
	struct timeval tv = { 0, DNSD_HEALTH_TIMEOUT_MS * 1000 };

	if (d == NULL || !d->started || atomic_load(&d->stop))
		return false;
	if (rand_bytes(&id, sizeof(id)) == -1)
		id = (uint16_t)time(NULL);
	qlen = soa_query(d, q, id);
	udp = (d->protocol & DNSD_PROTO_UDP) != 0;
	if ((fd = socket(d->self.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC,
	    0)) == -1)
		goto out;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&d->self, d->selflen) == -1)
		goto out;
	if (udp) {
		probe_hold(d, fd, &slot);
		if (send(fd, q, qlen, 0) != (ssize_t)qlen)
			goto out;
		/* A connected UDP socket only hears from the server; skip stale IDs. */
		for (int i = 0; i < 4 && !ok; i++) {
			if ((n = recv(fd, a, sizeof(a), 0)) <= 0)
				goto out;
			ok = soa_reply_ok(q, qlen, a, (size_t)n);
		}
	} else {
		uint8_t m[2 + sizeof(q)];
		size_t got = 0, want = 2;

		m[0] = (uint8_t)(qlen >> 8);
		m[1] = (uint8_t)qlen;
		memcpy(m + 2, q, qlen);
		if (send(fd, m, qlen + 2, MSG_NOSIGNAL) != (ssize_t)(qlen + 2))
			goto out;
		while (got < want) {
			if ((n = recv(fd, a + got, want - got, 0)) <= 0)
				goto out;
			got += (size_t)n;
			if (got == 2 && want == 2) {
				want = 2 + (size_t)(a[0] << 8 | a[1]);
				if (want > sizeof(a))
					goto out;
			}
		}
		ok = soa_reply_ok(q, qlen, a + 2, got - 2);
	}
out:
	if (slot != -1)
		atomic_store_explicit(&d->probe_port[slot], 0, memory_order_relaxed);
	if (fd != -1)
		close(fd);
	if (!ok)
		log_warnx("dns: health check: no valid SOA answer on port %u", d->port);
	return ok;
}

/* Stop and join the workers, close the sockets and free everything. Accepts NULL. */
void
dnsd_free(struct dnsd *d)
{
	if (d == NULL)
		return;
	if (d->started) {
		atomic_store(&d->stop, true);
		udp_stop(d);
		tcp_stop(d);
		d->started = false;
	}
	close_all(d);
	table_fini(d);
	zone_free(d->zone);
	rrl_fini(&d->rrl);
	for (size_t i = 0; i < DNSD_EXT_READERS; i++)
		cookie_ctx_fini(&d->ext[i]);
	free(d);
}
