/* dnsd/table.c -- the challenge table: lock-free readers, read-copy-update writers */
/* SPDX-License-Identifier: ISC */
#define DNSD_INTERNAL
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnsd.h"

/*
 * How an entry is replaced without a lock on the read side:
 * - a publisher builds a new immutable entry, takes d->wlock (publishers
 *   only), stores the pointer into the slot (or swaps in a grown table), and
 *   retires what it unlinked with the epoch current at that moment;
 * - a reader announces the epoch it saw (rcu_online) before it loads any
 *   pointer, and 0 (rcu_offline) once it holds none, e.g. before it blocks;
 * - a retired object is freed when every online reader announced a later
 *   epoch. All these accesses are sequentially consistent, so a reader that
 *   announced after the publisher looked necessarily sees the new pointer.
 */

/* Announce that reader slot is about to read the table. */
void
rcu_online(struct dnsd *d, unsigned slot)
{
	atomic_store(&d->reader[slot].seen, atomic_load(&d->epoch));
}

/* Announce that reader slot holds no pointer into the table any more. */
void
rcu_offline(struct dnsd *d, unsigned slot)
{
	atomic_store_explicit(&d->reader[slot].seen, 0, memory_order_release);
}

/* Free what no reader can still see. Called with d->wlock held. */
static void
reclaim(struct dnsd *d)
{
	uint64_t min = UINT64_MAX;
	struct dnsd_retired **pp = &d->retired, *r;

	if (d->retired == NULL)
		return;
	for (size_t i = 0; i < DNSD_MAX_READERS; i++) {
		uint64_t v = atomic_load(&d->reader[i].seen);

		if (v != 0 && v < min)
			min = v;
	}
	while ((r = *pp) != NULL) {
		if (r->epoch < min) {
			*pp = r->next;
			d->nretired--;
			free(r->base);	/* entries and tables are single allocations */
		} else
			pp = &r->next;
	}
}

/* Queue r to be freed after a grace period. Called with d->wlock held. */
static void
retire(struct dnsd *d, struct dnsd_retired *r)
{
	r->epoch = atomic_fetch_add(&d->epoch, 1);
	r->next = d->retired;
	d->retired = r;
	d->nretired++;
}

/*
 * size bytes from malloc, starting on a cache line; *base gets the pointer to
 * free(). (malloc, not aligned_alloc, so the allocation guard counts it.)
 */
static void *
alloc_line(size_t size, void **base)
{
	uintptr_t p;

	if (size > SIZE_MAX - DNSD_CACHE_LINE || (*base = malloc(size + DNSD_CACHE_LINE - 1)) == NULL)
		return NULL;
	p = ((uintptr_t)*base + DNSD_CACHE_LINE - 1) & ~(uintptr_t)(DNSD_CACHE_LINE - 1);
	return (void *)p;
}

static struct dnsd_ctable *
table_alloc(size_t slots)
{
	struct dnsd_ctable *t;
	void *base;

	if (slots > (SIZE_MAX - sizeof(*t)) / sizeof(t->slot[0]) ||
	    (t = alloc_line(sizeof(*t) + slots * sizeof(t->slot[0]), &base)) == NULL)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->retire.base = base;
	t->mask = slots - 1;
	for (size_t i = 0; i < slots; i++) {
		atomic_init(&t->slot[i].e, NULL);
		atomic_init(&t->slot[i].hash, 0);
	}
	return t;
}

/* Create the empty challenge table. Returns 0, or -1 on allocation failure. */
int
table_init(struct dnsd *d)
{
	struct dnsd_ctable *t;

	atomic_init(&d->epoch, 1);
	for (size_t i = 0; i < DNSD_MAX_READERS; i++)
		atomic_init(&d->reader[i].seen, 0);
	if ((t = table_alloc(DNSD_TABLE_MIN)) == NULL)
		return -1;
	atomic_init(&d->table, t);
	if ((t = table_alloc(DNSD_PTABLE_MIN)) == NULL) {
		free(atomic_load(&d->table)->retire.base);
		atomic_init(&d->table, NULL);
		return -1;
	}
	atomic_init(&d->ptable, t);
	if (pthread_mutex_init(&d->wlock, NULL) != 0) {
		free(atomic_load(&d->table)->retire.base);
		free(t->retire.base);
		atomic_init(&d->table, NULL);
		atomic_init(&d->ptable, NULL);
		return -1;
	}
	return 0;
}

/* Free one table and the entries in it. */
static void
table_free(struct dnsd_ctable *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i <= t->mask; i++) {
		struct dnsd_centry *e = atomic_load(&t->slot[i].e);

		if (e != NULL)
			free(e->retire.base);
	}
	free(t->retire.base);
}

/* Free both tables, their entries and everything retired. No reader may be running. */
void
table_fini(struct dnsd *d)
{
	struct dnsd_ctable *t = atomic_load(&d->table);
	struct dnsd_retired *r, *next;

	if (t == NULL)
		return;
	table_free(t);
	table_free(atomic_load(&d->ptable));
	for (r = d->retired; r != NULL; r = next) {
		next = r->next;
		free(r->base);
	}
	d->retired = NULL;
	d->nretired = 0;
	atomic_store(&d->table, NULL);
	atomic_store(&d->ptable, NULL);
	pthread_mutex_destroy(&d->wlock);
}

/* The entry for label (hash h) in t, or NULL. */
static const struct dnsd_centry *
find_in(const struct dnsd_ctable *t, uint64_t h, const uint8_t *label, size_t len)
{
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		const struct dnsd_centry *e = atomic_load_explicit(&t->slot[i].e,
		    memory_order_acquire);

		if (e == NULL)
			return NULL;
		if (atomic_load_explicit(&t->slot[i].hash, memory_order_relaxed) == h &&
		    e->labellen == len && memcmp(e->data, label, len) == 0)
			return e->gone ? NULL : e;	/* a tombstone: deregistered */
	}
}

/*
 * The entry for a lower-case label, or NULL. The caller must be an online
 * reader (rcu_online) until it is done with the entry. No lock, no write.
 * A probe reads the slot's hash first and the entry only when it matches.
 */
const struct dnsd_centry *
table_find(struct dnsd *d, const uint8_t *label, size_t len)
{
	return find_in(atomic_load_explicit(&d->table, memory_order_acquire),
	    dnsd_hash(d->seed, label, len), label, len);
}

/* The same for the persist records of subdomain label (name _validation-persist.<label>). */
const struct dnsd_centry *
table_find_persist(struct dnsd *d, const uint8_t *label, size_t len)
{
	return find_in(atomic_load_explicit(&d->ptable, memory_order_acquire),
	    dnsd_hash(d->seed, label, len), label, len);
}

/*
 * Prefetch the table slot for the first label of the DNS message q (a
 * challenge name is <label>.<apex>), so that a batch of queries waits for
 * memory once, not once per query. Returns the label's hash for
 * table_hint_entry(), or 0 when the message has no such label. Only reads;
 * the caller must be an online reader.
 */
uint64_t
table_hint(struct dnsd *d, const uint8_t *q, size_t qlen)
{
	uint8_t low[DNSD_MAX_LABEL];
	size_t n;
	uint64_t h;
	const struct dnsd_ctable *t;

	if (qlen < 13 || (n = q[12]) == 0 || n > DNSD_MAX_LABEL || 13 + n > qlen)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = q[13 + i];

		low[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
	}
	h = dnsd_hash(d->seed, low, n);
	t = atomic_load_explicit(&d->table, memory_order_acquire);
	__builtin_prefetch(&t->slot[h & t->mask]);
	return h == 0 ? 1 : h;
}

/* Prefetch the first cache lines of the entry table_hint() found the slot of. */
void
table_hint_entry(struct dnsd *d, uint64_t h)
{
	const struct dnsd_ctable *t = atomic_load_explicit(&d->table, memory_order_acquire);
	size_t i = h & t->mask;

	/* the home slot and the next: a probe rarely goes further */
	for (int k = 0; k < 2 && h != 0; k++, i = (i + 1) & t->mask) {
		const struct dnsd_centry *e = atomic_load_explicit(&t->slot[i].e,
		    memory_order_acquire);

		if (e == NULL)
			return;
		if (atomic_load_explicit(&t->slot[i].hash, memory_order_relaxed) == h) {
			const char *p = (const char *)e;

			__builtin_prefetch(p);
			__builtin_prefetch(p + DNSD_CACHE_LINE);
			__builtin_prefetch(p + 2 * DNSD_CACHE_LINE);
			return;
		}
	}
}

/* True if s is a label we serve: 1..63 of [A-Za-z0-9_-] (RFC 1035 §2.3.1, plus '_'). */
static bool
label_valid(const char *s, size_t *len)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= DNSD_MAX_LABEL || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	*len = n;
	return n > 0;
}

/* Build the immutable entry: the label, then one TXT RR per distinct value. */
static struct dnsd_centry *
entry_new(uint32_t ttl, const char *label, size_t llen, const char *const *values, size_t n)
{
	struct dnsd_centry *e;
	void *base;
	size_t size = 0, off, i, k;
	bool dup[DNSD_MAX_TXT_VALUES] = { false };

	for (i = 0; i < n; i++) {
		size_t vl = strlen(values[i]);

		if (vl > DNSD_MAX_TXT_VALUE)
			return NULL;
		for (k = 0; k < i; k++)	/* RFC 2181 §5: an RRset has no duplicates */
			if (!dup[k] && strcmp(values[k], values[i]) == 0)
				dup[i] = true;
		if (!dup[i])	/* pointer, type, class, TTL, RDLENGTH; strings of <= 255 */
			size += 12 + vl + (vl == 0 ? 1 : (vl + 254) / 255);
	}
	if ((e = alloc_line(sizeof(*e) + llen + size, &base)) == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->retire.base = base;
	for (i = 0; i < llen; i++)
		e->data[i] = (uint8_t)((label[i] >= 'A' && label[i] <= 'Z') ? label[i] + 32 : label[i]);
	e->labellen = (uint8_t)llen;
	e->bloblen = (uint16_t)size;
	off = llen;
	for (i = 0; i < n; i++) {
		const uint8_t *v = (const uint8_t *)values[i];
		size_t vl = strlen(values[i]), rdlen = vl + (vl == 0 ? 1 : (vl + 254) / 255);
		uint8_t *b = e->data + off;

		if (dup[i])
			continue;
		b[0] = 0xc0;
		b[1] = 0x0c;	/* the owner is the question name (RFC 1035 §4.1.4) */
		dnsd_rr_fixed(b + 2, DNSD_T_TXT, ttl, rdlen);
		b += 12;
		if (vl == 0)
			*b++ = 0;
		for (size_t p = 0; p < vl; p += 255) {	/* <character-string>s, RFC 1035 §3.3.14 */
			size_t c = vl - p > 255 ? 255 : vl - p;

			*b++ = (uint8_t)c;
			memcpy(b, v + p, c);
			b += c;
		}
		off += 12 + rdlen;
		e->ntxt++;
	}
	return e;
}

/*
 * Insert or replace e, whose label hashes to h, in t (no growth needed);
 * returns the replaced entry or NULL. The hash is in place before the entry
 * is published (seq_cst store), and a slot's hash never changes after.
 */
static struct dnsd_centry *
table_put(struct dnsd_ctable *t, struct dnsd_centry *e, uint64_t h)
{
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		struct dnsd_centry *o = atomic_load_explicit(&t->slot[i].e, memory_order_relaxed);

		if (o == NULL) {
			atomic_store_explicit(&t->slot[i].hash, h, memory_order_relaxed);
			atomic_store(&t->slot[i].e, e);
			t->count++;
			return NULL;
		}
		if (atomic_load_explicit(&t->slot[i].hash, memory_order_relaxed) == h &&
		    o->labellen == e->labellen && memcmp(o->data, e->data, e->labellen) == 0) {
			atomic_store(&t->slot[i].e, e);
			return o;
		}
	}
}

/*
 * Put e (label hash h) into the table at *slot, growing it when half full;
 * returns -1 (e freed) if growing failed. With only_replace, e is dropped
 * unless the label already has an entry. Called with d->wlock held.
 */
static int
table_store(struct dnsd *d, _Atomic(struct dnsd_ctable *) *slot, struct dnsd_centry *e,
    uint64_t h, bool only_replace)
{
	struct dnsd_ctable *t = atomic_load_explicit(slot, memory_order_relaxed), *nt;
	struct dnsd_centry *old;

	if (only_replace && find_in(t, h, e->data, e->labellen) == NULL) {
		free(e->retire.base);
		return 0;
	}
	if ((t->count + 1) * 2 > t->mask + 1) {
		/* Grow: copy the pointers into a table twice the size, then swap. */
		if ((nt = table_alloc((t->mask + 1) * 2)) == NULL) {
			free(e->retire.base);
			return -1;
		}
		for (size_t i = 0; i <= t->mask; i++) {
			struct dnsd_centry *x = atomic_load_explicit(&t->slot[i].e,
			    memory_order_relaxed);

			if (x != NULL)
				table_put(nt, x, atomic_load_explicit(&t->slot[i].hash,
				    memory_order_relaxed));
		}
		old = table_put(nt, e, h);
		atomic_store(slot, nt);
		retire(d, &t->retire);
	} else
		old = table_put(t, e, h);
	/* The gauges for /metrics: written under wlock, read relaxed. */
	atomic_store_explicit(&d->nnames, atomic_load_explicit(&d->nnames, memory_order_relaxed) +
	    (old == NULL), memory_order_relaxed);
	atomic_store_explicit(&d->nvalues, atomic_load_explicit(&d->nvalues, memory_order_relaxed) +
	    e->ntxt - (old != NULL ? old->ntxt : 0), memory_order_relaxed);
	if (old != NULL)
		retire(d, &old->retire);
	return 0;
}

/*
 * Build the entry, then store it under the lock; the lock only orders
 * publishers. Memory retired by earlier calls is freed here once the
 * workers have moved on; if too much waits, this call sleeps briefly for
 * them (never the other way round).
 */
static int
publish_in(struct dnsd *d, _Atomic(struct dnsd_ctable *) *slot, uint32_t ttl,
    const char *subdomain, const char *const *values, size_t n, size_t max, bool only_replace,
    bool gone)
{
	struct dnsd_centry *e;
	size_t llen;
	uint64_t h;
	int rc;

	if (d == NULL || subdomain == NULL || !label_valid(subdomain, &llen) ||
	    n > max || (n > 0 && values == NULL))
		return -1;
	if ((e = entry_new(ttl, subdomain, llen, values, n)) == NULL)
		return -1;
	e->gone = gone;
	h = dnsd_hash(d->seed, e->data, llen);

	pthread_mutex_lock(&d->wlock);
	e->gen = d->gen;
	rc = table_store(d, slot, e, h, only_replace);
	reclaim(d);
	for (int i = 0; d->nretired > DNSD_RETIRE_MAX && i < 10000; i++) {
		struct timespec ts = { 0, 100000 };

		nanosleep(&ts, NULL);
		reclaim(d);
	}
	pthread_mutex_unlock(&d->wlock);
	return rc;
}

/* Make subdomain answer TXT with the n values (see dnsd.h). */
int
dnsd_publish(struct dnsd *d, const char *subdomain, const char *const *values, size_t n)
{
	if (d == NULL)
		return -1;
	return publish_in(d, &d->table, d->txt_ttl, subdomain, values, n, DNSD_MAX_TXT_VALUES,
	    false, false);
}

/* Make _validation-persist.<subdomain> answer the n records (see dnsd.h). */
int
dnsd_publish_persist(struct dnsd *d, const char *subdomain, const char *const *values,
    size_t n)
{
	if (d == NULL)
		return -1;
	/* No records and none before: nothing to serve, no entry (the name stays NXDOMAIN). */
	return publish_in(d, &d->ptable, d->persist_ttl, subdomain, values, n,
	    DNSD_MAX_PERSIST_VALUES, n == 0, false);
}

/*
 * A deregistered name: a tombstone entry (no values, gone set) replaces
 * its entry, since open addressing with lock-free readers cannot delete a
 * slot. find_in() skips it, so the name answers NXDOMAIN; registering the
 * same label again replaces the tombstone. Its persist records, if any,
 * get a tombstone too.
 */
int
dnsd_unpublish(struct dnsd *d, const char *subdomain)
{
	if (d == NULL)
		return -1;
	if (publish_in(d, &d->ptable, d->persist_ttl, subdomain, NULL, 0, 0, true, true) == -1)
		return -1;
	return publish_in(d, &d->table, d->txt_ttl, subdomain, NULL, 0, 0, false, true);
}

/* Start a resynchronisation round (see dnsd.h). */
uint32_t
dnsd_mark(struct dnsd *d)
{
	uint32_t m;

	pthread_mutex_lock(&d->wlock);
	m = ++d->gen;
	pthread_mutex_unlock(&d->wlock);
	return m;
}

/*
 * Unpublish every live name published before mark (see dnsd.h). The
 * labels are copied out under the lock, then unpublished one by one, each
 * taking the lock again like any publisher.
 */
long
dnsd_sweep(struct dnsd *d, uint32_t mark)
{
	struct dnsd_ctable *t;
	char (*stale)[DNSD_MAX_LABEL + 1] = NULL;
	size_t n = 0, i;
	long rc;

	pthread_mutex_lock(&d->wlock);
	t = atomic_load_explicit(&d->table, memory_order_relaxed);
	if (t->count > 0 && (stale = calloc(t->count, sizeof(*stale))) == NULL) {
		pthread_mutex_unlock(&d->wlock);
		return -1;
	}
	for (i = 0; i <= t->mask && n < t->count; i++) {
		const struct dnsd_centry *e = atomic_load_explicit(&t->slot[i].e,
		    memory_order_relaxed);

		if (e != NULL && !e->gone && e->gen < mark) {
			memcpy(stale[n], e->data, e->labellen);
			stale[n++][e->labellen] = '\0';
		}
	}
	pthread_mutex_unlock(&d->wlock);
	rc = (long)n;
	for (i = 0; i < n; i++)
		if (dnsd_unpublish(d, stale[i]) == -1)
			rc = -1;
	free(stale);
	return rc;
}
