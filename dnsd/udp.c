/* dnsd/udp.c -- UDP workers: one SO_REUSEPORT socket each, recvmmsg/sendmmsg batches */
/* SPDX-License-Identifier: ISC */
#define DNSD_INTERNAL
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "../common/common.h"
#include "dnsd.h"

#define CMSG_ROOM 128	/* room for one IP_PKTINFO or IPV6_PKTINFO */
#define UDP_HINT_AHEAD 2	/* prefetch the table entry this many queries ahead */

/* Per-worker buffers, allocated once when the worker starts. */
struct udp_bufs {
	struct mmsghdr in[DNSD_UDP_BATCH];
	struct mmsghdr out[DNSD_UDP_BATCH];
	struct iovec iin[DNSD_UDP_BATCH];
	struct iovec iout[DNSD_UDP_BATCH];
	struct sockaddr_storage from[DNSD_UDP_BATCH];
	uint8_t cin[DNSD_UDP_BATCH][CMSG_ROOM];
	uint8_t cout[DNSD_UDP_BATCH][CMSG_ROOM];
	uint8_t q[DNSD_UDP_BATCH][DNSD_UDP_RECV_SIZE];
	uint8_t a[DNSD_UDP_BATCH][DNSD_MAX_UDP_PAYLOAD];
	uint64_t hint[DNSD_UDP_BATCH];	/* table_hint() of each query */
};

struct dnsd_udp_worker {
	struct dnsd *d;
	int fd;
	unsigned slot;		/* read-copy-update reader slot */
	bool pktinfo;		/* wildcard socket: answer from the query's address */
	pthread_t tid;
	bool running;
	struct udp_bufs *b;
	struct dnsd_ctx ctx;	/* SipHash context and secrets (cookie.c) */
};

/* Copy the query's destination address into the reply's control data. */
static size_t
reply_cmsg(struct msghdr *in, uint8_t *out)
{
	struct msghdr m;
	struct cmsghdr *c, *o;

	memset(&m, 0, sizeof(m));
	m.msg_control = out;
	m.msg_controllen = CMSG_ROOM;
	o = CMSG_FIRSTHDR(&m);
	for (c = CMSG_FIRSTHDR(in); c != NULL; c = CMSG_NXTHDR(in, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
			memcpy(CMSG_DATA(o), CMSG_DATA(c), sizeof(struct in6_pktinfo));
			return CMSG_SPACE(sizeof(struct in6_pktinfo));
		}
	}
	return 0;
}

/* Send the n prepared answers; a failed one is skipped, not retried. */
static void
send_all(struct dnsd_udp_worker *w, unsigned n)
{
	unsigned off = 0;

	while (off < n) {
		int r = sendmmsg(w->fd, w->b->out + off, n - off, 0);

		if (r > 0)
			off += (unsigned)r;
		else if (r == -1 && errno == EINTR)
			continue;
		else
			off++;	/* e.g. an unreachable client: drop this answer */
	}
}

/* Point the batch's message headers at their buffers, once. */
static void
bufs_init(struct udp_bufs *b)
{
	for (unsigned i = 0; i < DNSD_UDP_BATCH; i++) {
		b->iin[i].iov_base = b->q[i];
		b->iin[i].iov_len = DNSD_UDP_RECV_SIZE;
		b->in[i].msg_hdr.msg_iov = &b->iin[i];
		b->in[i].msg_hdr.msg_iovlen = 1;
		b->in[i].msg_hdr.msg_name = &b->from[i];
		b->iout[i].iov_base = b->a[i];
		b->out[i].msg_hdr.msg_iov = &b->iout[i];
		b->out[i].msg_hdr.msg_iovlen = 1;
	}
}

/*
 * Answer query i of the batch into answer slot nout; returns true if there
 * is an answer to send (its header is then filled in).
 */
static inline bool
answer_one(struct dnsd_udp_worker *w, int i, unsigned nout)
{
	struct udp_bufs *b = w->b;
	struct msghdr *in = &b->in[i].msg_hdr, *out = &b->out[nout].msg_hdr;
	int len;

	if (in->msg_flags & MSG_TRUNC) {	/* larger than any query we serve: drop */
		if (w->ctx.cnt != NULL)
			dnsd_count(&w->ctx.cnt->malformed[DNSD_STAT_UDP]);
		return false;
	}
	w->ctx.from = (const struct sockaddr *)&b->from[i];
	len = answer_query(w->d, &w->ctx, b->q[i], b->in[i].msg_len, b->a[nout],
	    DNSD_MAX_UDP_PAYLOAD, false);
	if (len <= 0)
		return false;
	b->iout[nout].iov_len = (size_t)len;
	out->msg_name = &b->from[i];
	out->msg_namelen = in->msg_namelen;
	out->msg_control = NULL;
	out->msg_controllen = 0;
	if (w->pktinfo) {
		size_t cl = reply_cmsg(in, b->cout[nout]);

		if (cl > 0) {
			out->msg_control = b->cout[nout];
			out->msg_controllen = cl;
		}
	}
	return true;
}

/* Answer the n received queries as one reader pass; returns how many answers to send. */
static inline unsigned
answer_batch(struct dnsd_udp_worker *w, int n)
{
	struct dnsd *d = w->d;
	struct udp_bufs *b = w->b;
	struct timespec tnow;
	unsigned nout = 0;

	clock_gettime(CLOCK_MONOTONIC, &tnow);
	w->ctx.mono = (uint32_t)tnow.tv_sec;
	w->ctx.wall = (uint32_t)time(NULL);
	cookie_tick(d, &w->ctx);
	rcu_online(d, w->slot);
	/*
	 * Challenge names are spread over a large table: ask for every
	 * query's table slot first, then for each entry two queries
	 * ahead, so the batch waits for memory about once.
	 */
	for (int i = 0; i < n; i++)
		b->hint[i] = table_hint(d, b->q[i], b->in[i].msg_len);
	for (int i = 0; i < n && i < UDP_HINT_AHEAD; i++)
		table_hint_entry(d, b->hint[i]);
	for (int i = 0; i < n; i++) {
		if (i + UDP_HINT_AHEAD < n)
			table_hint_entry(d, b->hint[i + UDP_HINT_AHEAD]);
		if (answer_one(w, i, nout))
			nout++;
	}
	rcu_offline(d, w->slot);
	return nout;
}

static void *
udp_main(void *arg)
{
	struct dnsd_udp_worker *w = arg;
	struct dnsd *d = w->d;
	struct udp_bufs *b = w->b;

	bufs_init(b);
	while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
		unsigned nout;
		int n;

		for (unsigned i = 0; i < DNSD_UDP_BATCH; i++) {
			b->in[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
			b->in[i].msg_hdr.msg_control = w->pktinfo ? b->cin[i] : NULL;
			b->in[i].msg_hdr.msg_controllen = w->pktinfo ? CMSG_ROOM : 0;
			b->in[i].msg_hdr.msg_flags = 0;
		}
		/* Blocks for the first message (at most DNSD_WAKE_MS), then takes what waits. */
		n = recvmmsg(w->fd, b->in, DNSD_UDP_BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0) {
			if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				struct timespec ts = { 0, 10 * 1000 * 1000 };

				log_warn("dns: udp receive");
				nanosleep(&ts, NULL);
			}
			continue;
		}
		if ((nout = answer_batch(w, n)) > 0)
			send_all(w, nout);
	}
	return NULL;
}

/*
 * Start one worker per open UDP socket in d->udpfd. Returns 0, or -1 with a
 * message in err (the caller then calls udp_stop()).
 */
int
udp_start(struct dnsd *d, char *err, size_t errlen)
{
	size_t n = 0;

	if ((d->udp = calloc(d->naddr * d->nthreads, sizeof(*d->udp))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < d->naddr; i++) {
		for (unsigned t = 0; t < d->nthreads; t++) {
			struct dnsd_udp_worker *w = &d->udp[n];

			if (d->udpfd[i][t] == -1)
				continue;
			w->d = d;
			w->fd = d->udpfd[i][t];
			w->slot = (unsigned)n;
			w->pktinfo = d->wildcard[i];
			d->nudp = ++n;
			if ((w->b = malloc(sizeof(*w->b))) == NULL) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			memset(w->b, 0, sizeof(*w->b));
			if (d->stats && (w->ctx.cnt = counters_new()) == NULL) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			if (cookie_ctx_init(d, &w->ctx) == -1) {
				snprintf(err, errlen, "cookies: cannot make a SipHash context");
				return -1;
			}
			if ((errno = pthread_create(&w->tid, NULL, udp_main, w)) != 0) {
				snprintf(err, errlen, "cannot start a UDP worker: %s", strerror(errno));
				return -1;
			}
			w->running = true;
		}
	}
	return 0;
}

/* Join the workers (d->stop is set) and free their buffers; sockets stay open. */
void
udp_stop(struct dnsd *d)
{
	for (size_t i = 0; i < d->nudp; i++) {
		if (d->udp[i].running)
			pthread_join(d->udp[i].tid, NULL);
		free(d->udp[i].b);
		free(d->udp[i].ctx.cnt);
		cookie_ctx_fini(&d->udp[i].ctx);
	}
	free(d->udp);
	d->udp = NULL;
	d->nudp = 0;
}

/* Add every UDP worker's counters into out (dnsd_stats_read, while running). */
void
udp_counters_add(struct dnsd *d, struct dnsd_stats *out)
{
	for (size_t i = 0; i < d->nudp; i++)
		counters_add(d->udp[i].ctx.cnt, out);
}
