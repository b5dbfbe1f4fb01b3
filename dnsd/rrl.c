/* dnsd/rrl.c -- response-rate limiting for UDP answers, in the style of BIND and Knot */
/* SPDX-License-Identifier: ISC */
#define DNSD_INTERNAL
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd.h"

/*
 * One fixed table of DNSD_RRL_BUCKETS 64-bit words, allocated at start and
 * shared by every UDP worker. A bucket is keyed by the client's network
 * (IPv4 /24, IPv6 /56), the answer kind and, for positive answers, the QNAME
 * (docs/dns.md). Each word packs the whole bucket, so a worker reads it with
 * one relaxed load and writes it with one relaxed store: no lock, no
 * read-modify-write, and a cache line moves between cores only when two
 * workers serve the same client network at once. Two such workers can lose
 * each other's update; the limit is then exceeded by at most one second's
 * worth per extra worker, which RRL tolerates (it is a rate, not a quota).
 *
 * Word layout, high to low: tag (20 bits: more of the key's hash, to tell
 * keys that share a slot apart), second (16 bits of the monotonic clock),
 * tokens (20 bits, so rate <= DNSD_RRL_MAX_RATE < 2^20), slip (8 bits: the
 * limited answers since the last slipped one, modulo rrl_slip).
 */

#define TAG_BITS 20
#define SEC_BITS 16
#define TOK_BITS 20
#define SLIP_BITS 8
#define TOK_SHIFT SLIP_BITS
#define SEC_SHIFT (TOK_SHIFT + TOK_BITS)
#define TAG_SHIFT (SEC_SHIFT + SEC_BITS)
#define MASK(bits) ((1ULL << (bits)) - 1)
#define V4_PREFIX 3	/* bytes of an IPv4 address in its bucket: /24 */
#define V6_PREFIX 7	/* bytes of an IPv6 address in its bucket: /56 */

_Static_assert(TAG_BITS + SEC_BITS + TOK_BITS + SLIP_BITS == 64, "bucket word layout");
_Static_assert(DNSD_RRL_MAX_RATE < (1ULL << TOK_BITS), "rate fits the token field");
_Static_assert((DNSD_RRL_BUCKETS & (DNSD_RRL_BUCKETS - 1)) == 0, "a power of 2");

int
rrl_init(struct dnsd_rrl *r, unsigned rate, unsigned slip, uint64_t seed)
{
	r->rate = rate > DNSD_RRL_MAX_RATE ? DNSD_RRL_MAX_RATE : rate;
	r->slip = slip > DNSD_RRL_MAX_SLIP ? DNSD_RRL_MAX_SLIP : slip;
	r->seed = seed ^ 0x52524c5f6b657921ULL;
	r->bucket = NULL;
	if (rate == 0)
		return 0;
	if ((r->bucket = calloc(DNSD_RRL_BUCKETS, sizeof(*r->bucket))) == NULL)
		return -1;
	for (size_t i = 0; i < DNSD_RRL_BUCKETS; i++)
		atomic_init(&r->bucket[i], 0);
	return 0;
}

void
rrl_fini(struct dnsd_rrl *r)
{
	free(r->bucket);
	r->bucket = NULL;
}

/* Knot's classes (rrl.c, rrl_clsid): the RCODE first, then ANY, then whether it answers. */
enum dnsd_rrl_kind
rrl_kind(unsigned rcode, unsigned ancount, uint16_t qtype)
{
	if (rcode == DNSD_RC_NXDOMAIN)
		return DNSD_RRL_NXDOMAIN;
	if (rcode != DNSD_RC_NOERROR)
		return DNSD_RRL_ERROR;
	if (qtype == DNSD_T_ANY)
		return DNSD_RRL_ANY;
	return ancount == 0 ? DNSD_RRL_EMPTY : DNSD_RRL_POSITIVE;
}

/* The network part of the client's address: 8 bytes, family first. */
static void
prefix_of(const struct sockaddr *from, uint8_t p[8])
{
	memset(p, 0, 8);
	if (from->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)from;

		p[0] = 4;
		memcpy(p + 1, &s->sin_addr, V4_PREFIX);
	} else if (from->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)from;

		if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) {	/* a v4 client on a v6 socket */
			p[0] = 4;
			memcpy(p + 1, s->sin6_addr.s6_addr + 12, V4_PREFIX);
		} else {
			p[0] = 6;
			memcpy(p + 1, s->sin6_addr.s6_addr, V6_PREFIX);
		}
	}
}

/*
 * Take one token from the bucket of (network of from, kind, name). A bucket
 * holds rate tokens, refilled whenever a new second starts. Without a token
 * the answer is limited: every slip-th limited answer slips (the caller
 * sends it truncated), the others are dropped.
 */
enum dnsd_rrl_verdict
rrl_account(struct dnsd_rrl *r, const struct sockaddr *from, enum dnsd_rrl_kind kind,
    const uint8_t *name, size_t namelen, uint32_t now)
{
	uint8_t p[8];
	uint64_t h, v, tag, sec = now & MASK(SEC_BITS), tok, slip;
	_Atomic uint64_t *b;
	enum dnsd_rrl_verdict verdict = DNSD_RRL_PASS;

	if (r->bucket == NULL || from == NULL)
		return DNSD_RRL_PASS;
	prefix_of(from, p);
	h = dnsd_hash(r->seed + (uint64_t)kind, p, sizeof(p));
	if ((kind == DNSD_RRL_POSITIVE || kind == DNSD_RRL_ANY) && name != NULL)
		h = dnsd_hash(h, name, namelen);
	b = &r->bucket[h & (DNSD_RRL_BUCKETS - 1)];
	tag = h >> (64 - TAG_BITS);
	v = atomic_load_explicit(b, memory_order_relaxed);
	tok = v >> TOK_SHIFT & MASK(TOK_BITS);
	slip = v & MASK(SLIP_BITS);
	if ((v >> TAG_SHIFT) != tag) {	/* a new key takes the slot over */
		tok = r->rate;
		slip = 0;
	} else if ((v >> SEC_SHIFT & MASK(SEC_BITS)) != sec)
		tok = r->rate;	/* a new second: a full bucket */
	if (tok > 0)
		tok--;
	else {
		slip = r->slip == 0 ? 0 : (slip + 1) % r->slip;
		verdict = (r->slip != 0 && slip == 0) ? DNSD_RRL_SLIP : DNSD_RRL_DROP;
	}
	atomic_store_explicit(b, tag << TAG_SHIFT | sec << SEC_SHIFT | tok << TOK_SHIFT | slip,
	    memory_order_relaxed);
	return verdict;
}
