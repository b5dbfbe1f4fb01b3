/* dnsd/tcp.c -- DNS over TCP (RFC 7766): one epoll loop, pipelined queries, idle timeout */
/* SPDX-License-Identifier: ISC */
#define DNSD_INTERNAL
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common/common.h"
#include "dnsd.h"

/*
 * Each connection has a fixed input buffer and a growing output buffer with
 * a hard cap. Per readable event the loop reads once, answers every
 * complete message in the buffer (in order, RFC 7766 §6.2.1.1), and writes
 * all the answers with one write. While more than DNSD_TCP_OUT_HIGH bytes
 * wait to be sent, the connection is not read (back-pressure). Connections
 * are kept in least-recently-active order: the head is closed when it has
 * been idle for tcp_idle_timeout (§6.2.3), or to make room for a new one
 * when tcp_max_clients are open.
 */

struct conn {
	int fd;			/* -1 once closed (freed at the end of the batch) */
	struct conn *prev, *next;	/* activity order, oldest first */
	struct conn *dead;	/* closed in this batch */
	uint64_t last;		/* ms of the last activity */
	struct sockaddr_storage peer;	/* the client, for its DNS cookie */
	uint32_t events;	/* what epoll watches now */
	bool eof;		/* the client has shut down its side */
	size_t inlen;
	uint8_t *out;
	size_t outcap, outoff, outlen;
	uint8_t in[DNSD_TCP_INBUF];
};

struct dnsd_tcp_loop {
	struct dnsd *d;
	int ep;
	pthread_t tid;
	bool running;
	struct conn *head, *tail;
	struct conn *dead;
	unsigned nconn;
	int lfd[DNSD_MAX_ADDRS];	/* epoll data for a listener points here */
	struct dnsd_ctx ctx;		/* SipHash context and secrets (cookie.c) */
	uint8_t ans[2 + DNSD_MAX_TCP_MSG];
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
list_unlink(struct dnsd_tcp_loop *l, struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
}

static void
list_append(struct dnsd_tcp_loop *l, struct conn *c)
{
	c->prev = l->tail;
	c->next = NULL;
	if (l->tail != NULL)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
}

static void
touch(struct dnsd_tcp_loop *l, struct conn *c, uint64_t now)
{
	c->last = now;
	if (l->tail != c) {
		list_unlink(l, c);
		list_append(l, c);
	}
}

/* Close c now; its memory is freed after the event batch (events may still name it). */
static void
conn_close(struct dnsd_tcp_loop *l, struct conn *c)
{
	if (c->fd == -1)
		return;
	close(c->fd);	/* also removes it from the epoll set */
	c->fd = -1;
	list_unlink(l, c);
	c->dead = l->dead;
	l->dead = c;
	l->nconn--;
	if (l->ctx.cnt != NULL)
		atomic_store_explicit(&l->ctx.cnt->tcp_open, l->nconn, memory_order_relaxed);
}

static void
free_dead(struct dnsd_tcp_loop *l)
{
	struct conn *c;

	while ((c = l->dead) != NULL) {
		l->dead = c->dead;
		free(c->out);
		free(c);
	}
}

/* Watch for what c needs: input unless paused or at EOF, output while unsent. */
static void
conn_watch(struct dnsd_tcp_loop *l, struct conn *c)
{
	uint32_t ev = 0;
	struct epoll_event e;

	if (!c->eof && c->outlen - c->outoff <= DNSD_TCP_OUT_HIGH)
		ev |= EPOLLIN;
	if (c->outlen > c->outoff)
		ev |= EPOLLOUT;
	if (ev == c->events)
		return;
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &e) == -1) {
		conn_close(l, c);
		return;
	}
	c->events = ev;
}

/* Append an answer to c's output; false if the hard cap would be passed. */
static bool
conn_append(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->outoff > 0 && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen + n > c->outcap) {
		size_t cap = c->outcap > 0 ? c->outcap : 4096;
		uint8_t *nb;

		if (c->outoff > 0) {	/* reclaim what was already sent */
			memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
			c->outlen -= c->outoff;
			c->outoff = 0;
		}
		while (cap < c->outlen + n)
			cap *= 2;
		if (cap > DNSD_TCP_OUT_MAX)
			cap = DNSD_TCP_OUT_MAX;
		if (c->outlen + n > cap)
			return false;
		if (cap > c->outcap) {
			if ((nb = realloc(c->out, cap)) == NULL)
				return false;
			c->out = nb;
			c->outcap = cap;
		}
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
	return true;
}

/* Write what is pending; returns -1 if the connection failed. */
static int
conn_flush(struct dnsd_tcp_loop *l, struct conn *c, uint64_t now)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->outoff += (size_t)n;
			touch(l, c, now);
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == -1 && errno == EINTR)
			continue;
		return -1;
	}
	c->outoff = c->outlen = 0;
	return 0;
}

/* Answer every complete message in c's input, in order, while output has room. */
static int
conn_process(struct dnsd_tcp_loop *l, struct conn *c)
{
	size_t off = 0;

	while (c->inlen - off >= 2 && c->outlen - c->outoff <= DNSD_TCP_OUT_HIGH) {
		size_t mlen = (size_t)(c->in[off] << 8 | c->in[off + 1]);
		int len;

		if (mlen + 2 > DNSD_TCP_INBUF) {	/* longer than any query we take: close */
			if (l->ctx.cnt != NULL)
				dnsd_count(&l->ctx.cnt->malformed[DNSD_STAT_TCP]);
			return -1;
		}
		if (c->inlen - off < 2 + mlen)
			break;
		l->ctx.from = (const struct sockaddr *)&c->peer;
		len = answer_query(l->d, &l->ctx, c->in + off + 2, mlen, l->ans + 2,
		    DNSD_MAX_TCP_MSG, true);
		off += 2 + mlen;
		if (len <= 0)
			continue;	/* dropped, as over UDP */
		l->ans[0] = (uint8_t)(len >> 8);
		l->ans[1] = (uint8_t)len;
		if (!conn_append(c, l->ans, (size_t)len + 2))
			return -1;
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
	return 0;
}

static void
conn_event(struct dnsd_tcp_loop *l, struct conn *c, uint32_t ev, uint64_t now)
{
	if ((ev & EPOLLIN) && c->inlen < DNSD_TCP_INBUF) {
		ssize_t n = recv(c->fd, c->in + c->inlen, DNSD_TCP_INBUF - c->inlen, MSG_DONTWAIT);

		if (n > 0) {
			c->inlen += (size_t)n;
			touch(l, c, now);
		} else if (n == 0)
			c->eof = true;
		else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			conn_close(l, c);
			return;
		}
	} else if ((ev & (EPOLLERR | EPOLLHUP)) && !(ev & EPOLLIN)) {
		conn_close(l, c);
		return;
	}
	/* Answer what is buffered (also after output drained), then send it all. */
	if (conn_process(l, c) == -1 || conn_flush(l, c, now) == -1) {
		conn_close(l, c);
		return;
	}
	if (c->outlen == c->outoff && c->inlen >= 2 && c->outlen == 0 &&
	    conn_process(l, c) == 0 && c->outlen > 0 && conn_flush(l, c, now) == -1) {
		conn_close(l, c);
		return;
	}
	if (c->eof && c->outlen == c->outoff) {
		conn_close(l, c);	/* the client is done and has every answer */
		return;
	}
	conn_watch(l, c);
}

static void
accept_all(struct dnsd_tcp_loop *l, int lfd, uint64_t now)
{
	for (int i = 0; i < 64; i++) {
		struct epoll_event e;
		struct conn *c;
		struct sockaddr_storage peer;
		socklen_t peerlen = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &peerlen, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("dns: tcp accept");
			return;
		}
		/* At the limit, the least recently active connection makes room. */
		if (l->nconn >= l->d->tcp_max_clients && l->head != NULL)
			conn_close(l, l->head);
		if ((c = malloc(sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		memset(c, 0, offsetof(struct conn, in));
		c->fd = fd;
		c->peer = peer;
		c->events = EPOLLIN;
		e.events = EPOLLIN;
		e.data.ptr = c;
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &e) == -1) {
			close(fd);
			free(c);
			continue;
		}
		c->last = now;
		list_append(l, c);
		l->nconn++;
		if (l->ctx.cnt != NULL) {
			dnsd_count(&l->ctx.cnt->tcp_accepted);
			atomic_store_explicit(&l->ctx.cnt->tcp_open, l->nconn, memory_order_relaxed);
		}
	}
}

static void *
tcp_main(void *arg)
{
	struct dnsd_tcp_loop *l = arg;
	struct dnsd *d = l->d;
	struct epoll_event ev[DNSD_TCP_EVENTS];
	uint64_t idle = (uint64_t)d->tcp_idle_timeout * 1000;

	while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
		int n = epoll_wait(l->ep, ev, DNSD_TCP_EVENTS, DNSD_WAKE_MS);
		uint64_t now = now_ms();

		l->ctx.wall = (uint32_t)time(NULL);
		l->ctx.mono = (uint32_t)(now / 1000);
		cookie_tick(d, &l->ctx);
		rcu_online(d, DNSD_READER_TCP);
		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;

			if (p >= (void *)&l->lfd[0] && p < (void *)&l->lfd[DNSD_MAX_ADDRS])
				accept_all(l, *(int *)p, now);
			else if (((struct conn *)p)->fd != -1)
				conn_event(l, p, ev[i].events, now);
		}
		rcu_offline(d, DNSD_READER_TCP);
		while (l->head != NULL && l->head->last + idle <= now)
			conn_close(l, l->head);	/* idle too long (RFC 7766 §6.2.3) */
		free_dead(l);
	}
	return NULL;
}

/* Start the TCP loop on d->tcpfd. Returns 0, or -1 with a message in err. */
int
tcp_start(struct dnsd *d, char *err, size_t errlen)
{
	struct dnsd_tcp_loop *l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->tcp = l;
	l->d = d;
	if (d->stats && (l->ctx.cnt = counters_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (cookie_ctx_init(d, &l->ctx) == -1) {
		snprintf(err, errlen, "cookies: cannot make a SipHash context");
		return -1;
	}
	if ((l->ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < DNSD_MAX_ADDRS; i++) {
		struct epoll_event e;

		l->lfd[i] = d->tcpfd[i];
		if (l->lfd[i] == -1)
			continue;
		e.events = EPOLLIN;
		e.data.ptr = &l->lfd[i];
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd[i], &e) == -1) {
			snprintf(err, errlen, "epoll: %s", strerror(errno));
			return -1;
		}
	}
	if ((errno = pthread_create(&l->tid, NULL, tcp_main, l)) != 0) {
		snprintf(err, errlen, "cannot start the TCP loop: %s", strerror(errno));
		return -1;
	}
	l->running = true;
	return 0;
}

/* Join the loop (d->stop is set), close its connections and free it. */
void
tcp_stop(struct dnsd *d)
{
	struct dnsd_tcp_loop *l = d->tcp;

	if (l == NULL)
		return;
	if (l->running)
		pthread_join(l->tid, NULL);
	while (l->head != NULL)
		conn_close(l, l->head);
	free_dead(l);
	if (l->ep > 0)
		close(l->ep);
	cookie_ctx_fini(&l->ctx);
	free(l->ctx.cnt);
	free(l);
	d->tcp = NULL;
}

/* Add the TCP loop's counters into out (dnsd_stats_read, while running). */
void
tcp_counters_add(struct dnsd *d, struct dnsd_stats *out)
{
	if (d->tcp != NULL)
		counters_add(d->tcp->ctx.cnt, out);
}
