/* dnsd/stats.c -- per-worker query counters, summed when /metrics is scraped */
/* SPDX-License-Identifier: ISC */
#define DNSD_INTERNAL
#include <stdlib.h>
#include <string.h>

#include "../common/common.h"
#include "dnsd.h"

/*
 * Why per-worker blocks and not shared atomic counters: a locked add on a
 * line that every worker writes would bounce that line between the cores
 * on every query. Each worker owns one block (struct dnsd_counters), adds
 * with a plain load and store, and only the rare scrape reads every block.
 */

/* A thread's counters (see dnsd.h): aligned to a cache line, zeroed. */
struct dnsd_counters *
counters_new(void)
{
	struct dnsd_counters *c;

	/* aligned_alloc wants a size that is a multiple of the alignment; the
	   struct's own _Alignas already rounds its size up to whole lines. */
	if ((c = aligned_alloc(DNSD_CACHE_LINE, sizeof(*c))) == NULL)
		return NULL;
	memset(c, 0, sizeof(*c));
	return c;
}

/* Add a counter read with a relaxed load (its writer is another thread). */
static void
add(uint64_t *sum, _Atomic uint64_t *c)
{
	*sum += atomic_load_explicit(c, memory_order_relaxed);
}

/* Add one thread's block into out (see dnsd.h). */
void
counters_add(struct dnsd_counters *c, struct dnsd_stats *out)
{
	if (c == NULL)
		return;
	for (size_t t = 0; t < DNSD_STAT_NTRANSPORT; t++) {
		for (size_t q = 0; q < DNSD_STAT_NQTYPE; q++)
			for (size_t r = 0; r < DNSD_STAT_NRCODE; r++)
				add(&out->queries[t][q][r], &c->queries[t][q][r]);
		add(&out->malformed[t], &c->malformed[t]);
	}
	add(&out->truncated, &c->truncated);
	add(&out->rrl_dropped, &c->rrl_dropped);
	add(&out->rrl_slipped, &c->rrl_slipped);
	for (size_t k = 0; k < DNSD_STAT_NCOOKIE; k++)
		add(&out->cookies[k], &c->cookies[k]);
	add(&out->tcp_accepted, &c->tcp_accepted);
	add(&out->tcp_open, &c->tcp_open);
}

/* Sum every worker's counters (see dnsd.h). */
void
dnsd_stats_read(struct dnsd *d, struct dnsd_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return;
	out->names = atomic_load_explicit(&d->nnames, memory_order_relaxed);
	out->values = atomic_load_explicit(&d->nvalues, memory_order_relaxed);
	if (!d->started)
		return;
	udp_counters_add(d, out);
	tcp_counters_add(d, out);
}
