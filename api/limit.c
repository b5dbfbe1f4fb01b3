/* api/limit.c -- token buckets per address and per user; the absolute request deadline */
/* SPDX-License-Identifier: ISC */

#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define NS_PER_SEC 1000000000ULL

/*
 * One bucket, kept as GCRA's "theoretical arrival time" (the token bucket
 * in one number): the bucket is full when tat <= now, and each event moves
 * tat one interval later. An event is allowed while tat - now stays within
 * burst - interval, so count events fit in a burst and then one per
 * interval. tat 0 marks a free slot.
 */
struct bucket {
	uint8_t key[API_LIMIT_KEY];
	uint64_t tat;
};

struct api_limiter {
	pthread_mutex_t mu;
	uint64_t interval;		/* ns per event: period / count */
	uint64_t burst;			/* count * interval */
	uint64_t seed[2];		/* keys the set hash, so no one can aim at one set */
	struct bucket b[API_LIMIT_SETS][API_LIMIT_WAYS];
};

/* Start a limiter (see internal.h). */
struct api_limiter *
api_limiter_new(unsigned count, unsigned period, bool *oom)
{
	struct api_limiter *l;

	*oom = false;
	if (count == 0 || period == 0)
		return NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		*oom = true;
		return NULL;
	}
	l->interval = (uint64_t)period * NS_PER_SEC / count;
	if (l->interval == 0)
		l->interval = 1;
	l->burst = l->interval * count;
	if (rand_bytes(l->seed, sizeof(l->seed)) == -1)
		l->seed[0] = (uint64_t)(uintptr_t)l;	/* still spreads keys; only aiming gets easier */
	pthread_mutex_init(&l->mu, NULL);
	return l;
}

/* Free a limiter. Accepts NULL. */
void
api_limiter_free(struct api_limiter *l)
{
	if (l == NULL)
		return;
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* The set of key: a keyed multiply-xorshift mix of its two 64-bit halves. */
static size_t
set_of(const struct api_limiter *l, const uint8_t key[API_LIMIT_KEY])
{
	uint64_t a, b, h;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	h = (a ^ l->seed[0]) * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	h = (h ^ b ^ l->seed[1]) * 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (size_t)(h % API_LIMIT_SETS);
}

/*
 * key's bucket, or NULL when it has none (a full bucket). With create, a
 * missing key takes a free or full slot of its set, or else the slot
 * closest to full (the state least worth keeping): memory never grows.
 */
static struct bucket *
find(struct api_limiter *l, const uint8_t key[API_LIMIT_KEY], uint64_t now, bool create)
{
	struct bucket *set = l->b[set_of(l, key)], *victim = NULL;
	size_t i;

	for (i = 0; i < API_LIMIT_WAYS; i++)
		if (set[i].tat != 0 && memcmp(set[i].key, key, API_LIMIT_KEY) == 0)
			return &set[i];
	if (!create)
		return NULL;
	for (i = 0; i < API_LIMIT_WAYS; i++) {
		if (set[i].tat <= now) {
			victim = &set[i];
			break;
		}
		if (victim == NULL || set[i].tat < victim->tat)
			victim = &set[i];
	}
	memcpy(victim->key, key, API_LIMIT_KEY);
	victim->tat = now;
	return victim;
}

/* Seconds until b allows one more event, 0 if it does now. */
static unsigned
wait_secs(const struct api_limiter *l, const struct bucket *b, uint64_t now)
{
	uint64_t ahead, over;

	if (b == NULL || b->tat <= now)
		return 0;
	ahead = b->tat - now;
	if (ahead + l->interval <= l->burst)
		return 0;
	over = ahead + l->interval - l->burst;
	return (unsigned)((over + NS_PER_SEC - 1) / NS_PER_SEC);
}

/* Seconds until key has a token; 0 now. */
unsigned
api_limiter_wait(struct api_limiter *l, const uint8_t key[API_LIMIT_KEY], uint64_t now)
{
	unsigned w;

	if (l == NULL)
		return 0;
	pthread_mutex_lock(&l->mu);
	w = wait_secs(l, find(l, key, now, false), now);
	pthread_mutex_unlock(&l->mu);
	return w;
}

/* Take a token, or say how long until there is one. */
unsigned
api_limiter_take(struct api_limiter *l, const uint8_t key[API_LIMIT_KEY], uint64_t now)
{
	struct bucket *b;
	unsigned w;

	if (l == NULL)
		return 0;
	pthread_mutex_lock(&l->mu);
	b = find(l, key, now, false);
	if ((w = wait_secs(l, b, now)) == 0) {
		b = find(l, key, now, true);
		b->tat = (b->tat > now ? b->tat : now) + l->interval;
	}
	pthread_mutex_unlock(&l->mu);
	return w;
}

/* Charge one event; an empty bucket stays just empty (no debt beyond one burst). */
void
api_limiter_charge(struct api_limiter *l, const uint8_t key[API_LIMIT_KEY], uint64_t now)
{
	struct bucket *b;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	b = find(l, key, now, true);
	b->tat = (b->tat > now ? b->tat : now) + l->interval;
	if (b->tat > now + l->burst)
		b->tat = now + l->burst;
	pthread_mutex_unlock(&l->mu);
}

/* Empty key's bucket. */
void
api_limiter_drain(struct api_limiter *l, const uint8_t key[API_LIMIT_KEY], uint64_t now)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	find(l, key, now, true)->tat = now + l->burst;
	pthread_mutex_unlock(&l->mu);
}

/* Start ctx's three limiters from ctx->cfg (see internal.h). */
int
api_limits_start(struct api_ctx *ctx, char *err, size_t errlen)
{
	const struct config *cfg = ctx->cfg;
	bool oom1, oom2, oom3;

	ctx->auth_addr = api_limiter_new(cfg->auth_fail_rate.count, cfg->auth_fail_rate.period,
	    &oom1);
	ctx->auth_user = api_limiter_new(cfg->auth_fail_rate.count, cfg->auth_fail_rate.period,
	    &oom2);
	ctx->reg_addr = api_limiter_new(cfg->register_rate.count, cfg->register_rate.period,
	    &oom3);
	if (oom1 || oom2 || oom3) {
		snprintf(err, errlen, "out of memory for the rate limit tables");
		api_limits_free(ctx);
		return -1;
	}
	return 0;
}

/* Free ctx's limiters. */
void
api_limits_free(struct api_ctx *ctx)
{
	api_limiter_free(ctx->auth_addr);
	api_limiter_free(ctx->auth_user);
	api_limiter_free(ctx->reg_addr);
	ctx->auth_addr = ctx->auth_user = ctx->reg_addr = NULL;
}

/* The bucket key of a client address. */
void
api_limit_addr_key(const struct sockaddr *sa, uint8_t key[API_LIMIT_KEY])
{
	memset(key, 0xff, API_LIMIT_KEY);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;

		memset(key, 0, 10);
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

		memset(key, 0, API_LIMIT_KEY);
		memcpy(key, &s6->sin6_addr, API_LIMIT_V6_PREFIX);
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 0;
}

/* The bucket key of a normalized UUID: its 32 hex digits as 16 bytes. */
void
api_limit_user_key(const char *uuid, uint8_t key[API_LIMIT_KEY])
{
	size_t i, o = 0;

	memset(key, 0, API_LIMIT_KEY);
	for (i = 0; uuid[i] != '\0' && uuid[i + 1] != '\0' && o < API_LIMIT_KEY; ) {
		if (uuid[i] == '-') {
			i++;
			continue;
		}
		key[o++] = (uint8_t)(hexval(uuid[i]) << 4 | hexval(uuid[i + 1]));
		i += 2;
	}
}

/* CLOCK_MONOTONIC now, in ns. */
uint64_t
api_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */

/*
 * Armed connections in one list, oldest deadline first: every deadline is
 * "now + seconds", taken under the lock, so appending keeps the order and
 * the thread only looks at the head.
 */
struct api_deadline {
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* wakes the thread to stop */
	pthread_t thread;
	struct api_deadline_node head;	/* sentinel of a circular list */
	uint64_t span;			/* the deadline, ns */
	uint64_t closed;
	bool stop;
};

static void
unlink_node(struct api_deadline_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
	n->linked = false;
}

/*
 * Every API_DEADLINE_TICK_MS, shut down the sockets of the connections past
 * their deadline. shutdown(2), not close(2): the descriptor stays MHD's,
 * MHD sees end of file and closes it as a client abort. A node is unlinked
 * (under the lock) before MHD closes its socket, so the fd is still the
 * connection's when it is shut down here.
 */
static void *
deadline_main(void *arg)
{
	struct api_deadline *d = arg;
	struct timespec ts;
	uint64_t now, n = 0;

	pthread_mutex_lock(&d->mu);
	while (!d->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += API_DEADLINE_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&d->cv, &d->mu, &ts);
		now = api_now_ns();
		while (d->head.next != &d->head && d->head.next->due <= now) {
			struct api_deadline_node *x = d->head.next;

			shutdown(x->fd, SHUT_RDWR);
			unlink_node(x);
			d->closed++;
			n++;
		}
		if (n > 0) {
			log_debug("api: %llu connection(s) closed: request not complete in %llu s",
			    (unsigned long long)n, (unsigned long long)(d->span / NS_PER_SEC));
			n = 0;
		}
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* Start the deadline thread. */
struct api_deadline *
api_deadline_start(unsigned seconds)
{
	struct api_deadline *d;
	pthread_condattr_t ca;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->span = (uint64_t)seconds * NS_PER_SEC;
	d->head.next = d->head.prev = &d->head;
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((errno = pthread_create(&d->thread, NULL, deadline_main, d)) != 0) {
		pthread_cond_destroy(&d->cv);
		pthread_mutex_destroy(&d->mu);
		free(d);
		return NULL;
	}
	return d;
}

/* Stop the thread and free. */
void
api_deadline_stop(struct api_deadline *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thread, NULL);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

/* (Re)start node's deadline now. */
void
api_deadline_arm(struct api_deadline *d, struct api_deadline_node *node, int fd)
{
	if (d == NULL || fd < 0)
		return;
	pthread_mutex_lock(&d->mu);
	if (node->linked)
		unlink_node(node);
	node->fd = fd;
	node->due = api_now_ns() + d->span;
	node->prev = d->head.prev;
	node->next = &d->head;
	d->head.prev->next = node;
	d->head.prev = node;
	node->linked = true;
	pthread_mutex_unlock(&d->mu);
}

/* No deadline for node. */
void
api_deadline_disarm(struct api_deadline *d, struct api_deadline_node *node)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	if (node->linked)
		unlink_node(node);
	pthread_mutex_unlock(&d->mu);
}

/* Connections closed by the deadline so far. */
uint64_t
api_deadline_closed(struct api_deadline *d)
{
	uint64_t n;

	if (d == NULL)
		return 0;
	pthread_mutex_lock(&d->mu);
	n = d->closed;
	pthread_mutex_unlock(&d->mu);
	return n;
}
