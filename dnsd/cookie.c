/* dnsd/cookie.c -- DNS cookies (RFC 7873) with interoperable server cookies (RFC 9018) */
/* SPDX-License-Identifier: ISC */
#define DNSD_INTERNAL
#include <netinet/in.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/common.h"
#include "dnsd.h"

/*
 * The server secret lives in a small ring of DNSD_COOKIE_SLOTS 16-byte
 * slots; ck_gen names the current one. Rotation (whichever thread first sees
 * that ck_next has passed wins one compare-and-swap) writes a fresh random
 * secret into the next slot and then advances ck_gen, so the secret just
 * replaced stays readable as "previous" (RFC 9018 §4.4 / §5: a rollover
 * accepts the old secret while cookies made with it can still be valid; the
 * interval is at least one hour, a cookie's lifetime). The slot written is
 * the one that was current DNSD_COOKIE_SLOTS - 1 rotations ago, which no
 * thread still reads. Each thread copies the two secrets it needs into its
 * own context when ck_gen changes, and keeps its own SipHash context, made
 * at start: the query path allocates nothing and shares no written line.
 */

#define COOKIE_VERSION 1	/* RFC 9018 §4.2 */
#define COOKIE_MAX_AGE 3600	/* seconds: older timestamps are invalid (§4.3) */
#define COOKIE_MAX_AHEAD 300	/* seconds: timestamps further ahead are invalid (§4.3) */
#define HASH_INPUT (8 + 8 + 16)	/* client cookie, version+reserved+time, client IP */

struct dnsd_mac {
	EVP_MAC_CTX *ctx;	/* SipHash-2-4 with 8-byte output */
};

static int
new_secret(struct dnsd *d, uint64_t slot)
{
	uint64_t s[2];

	if (rand_bytes(s, sizeof(s)) == -1)
		return -1;
	atomic_store_explicit(&d->ck_secret[slot][0], s[0], memory_order_relaxed);
	atomic_store_explicit(&d->ck_secret[slot][1], s[1], memory_order_relaxed);
	return 0;
}

static int64_t
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* The first secret, and a check that the SipHash MAC is there (OpenSSL 3). */
int
cookie_init(struct dnsd *d, char *err, size_t errlen)
{
	struct dnsd_ctx c;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	atomic_init(&d->ck_gen, 0);
	atomic_init(&d->ck_next, mono_now() + (int64_t)d->ck_rotation);
	for (size_t i = 0; i < DNSD_COOKIE_SLOTS; i++) {
		atomic_init(&d->ck_secret[i][0], 0);
		atomic_init(&d->ck_secret[i][1], 0);
	}
	if (!d->cookies)
		return 0;
	if (new_secret(d, 0) == -1) {
		snprintf(err, errlen, "cookies: no random bytes for the server secret");
		return -1;
	}
	if (cookie_ctx_init(d, &c) == -1) {
		snprintf(err, errlen, "cookies: OpenSSL has no SipHash MAC");
		goto out;
	}
	rc = 0;
out:
	cookie_ctx_fini(&c);
	return rc;
}

int
cookie_ctx_init(struct dnsd *d, struct dnsd_ctx *c)
{
	EVP_MAC *mac = NULL;
	OSSL_PARAM params[2];
	size_t outlen = 8;	/* SipHash-2-4 with a 64-bit output (RFC 9018 §4.4) */
	int rc = -1;

	c->mac = NULL;
	c->ck_gen = UINT64_MAX;	/* copy the secrets at the first tick */
	if (!d->cookies)
		return 0;
	if ((c->mac = calloc(1, sizeof(*c->mac))) == NULL ||
	    (mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL)) == NULL ||
	    (c->mac->ctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &outlen);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(c->mac->ctx, params) != 1)
		goto out;
	rc = 0;
out:
	EVP_MAC_free(mac);
	if (rc == -1)
		cookie_ctx_fini(c);
	return rc;
}

void
cookie_ctx_fini(struct dnsd_ctx *c)
{
	if (c->mac != NULL)
		EVP_MAC_CTX_free(c->mac->ctx);
	free(c->mac);
	c->mac = NULL;
}

void
cookie_rotate(struct dnsd *d)
{
	uint64_t gen = atomic_load(&d->ck_gen);

	if (new_secret(d, (gen + 1) % DNSD_COOKIE_SLOTS) == 0)
		atomic_store_explicit(&d->ck_gen, gen + 1, memory_order_release);
}

static void
copy_secret(struct dnsd *d, uint64_t slot, uint8_t out[DNSD_COOKIE_SECRET])
{
	uint64_t s[2];

	s[0] = atomic_load_explicit(&d->ck_secret[slot][0], memory_order_relaxed);
	s[1] = atomic_load_explicit(&d->ck_secret[slot][1], memory_order_relaxed);
	memcpy(out, s, sizeof(s));
}

/* Called per batch of queries: two loads of lines that change once a rotation. */
void
cookie_tick(struct dnsd *d, struct dnsd_ctx *c)
{
	int64_t next, mono = (int64_t)c->mono;
	uint64_t gen;

	if (c->mac == NULL)
		return;
	next = atomic_load_explicit(&d->ck_next, memory_order_relaxed);
	if (mono >= next && atomic_compare_exchange_strong(&d->ck_next, &next,
	    mono + (int64_t)d->ck_rotation))
		cookie_rotate(d);
	gen = atomic_load_explicit(&d->ck_gen, memory_order_acquire);
	if (gen == c->ck_gen)
		return;
	copy_secret(d, gen % DNSD_COOKIE_SLOTS, c->ck_cur);
	c->ck_has_prev = gen > 0;
	if (gen > 0)
		copy_secret(d, (gen - 1) % DNSD_COOKIE_SLOTS, c->ck_prev);
	c->ck_gen = gen;
}

size_t
cookie_client_ip(const struct sockaddr *from, uint8_t ip[16])
{
	if (from == NULL)
		return 0;
	if (from->sa_family == AF_INET) {
		memcpy(ip, &((const struct sockaddr_in *)from)->sin_addr, 4);
		return 4;
	}
	if (from->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)from)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(ip, a->s6_addr + 12, 4);
			return 4;
		}
		memcpy(ip, a->s6_addr, 16);
		return 16;
	}
	return 0;
}

/* Hash = SipHash-2-4(Client Cookie | Version | Reserved | Timestamp | Client-IP, Secret). */
int
cookie_make(struct dnsd_ctx *c, const uint8_t *secret, const uint8_t cc[8], const uint8_t *ip,
    size_t iplen, uint32_t ts, uint8_t out[16])
{
	uint8_t in[HASH_INPUT];
	size_t outlen = 0;

	if (c->mac == NULL || iplen > 16)
		return -1;
	out[0] = COOKIE_VERSION;
	out[1] = out[2] = out[3] = 0;
	out[4] = (uint8_t)(ts >> 24);
	out[5] = (uint8_t)(ts >> 16);
	out[6] = (uint8_t)(ts >> 8);
	out[7] = (uint8_t)ts;
	memcpy(in, cc, 8);
	memcpy(in + 8, out, 8);
	memcpy(in + 16, ip, iplen);
	if (EVP_MAC_init(c->mac->ctx, secret, DNSD_COOKIE_SECRET, NULL) != 1 ||
	    EVP_MAC_update(c->mac->ctx, in, 16 + iplen) != 1 ||
	    EVP_MAC_final(c->mac->ctx, out + 8, &outlen, 8) != 1 || outlen != 8)
		return -1;
	return 0;
}

/* Constant-time comparison of two 8-byte hashes. */
static bool
same8(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;

	for (int i = 0; i < 8; i++)
		diff |= (uint8_t)(a[i] ^ b[i]);
	return diff == 0;
}

bool
cookie_valid(struct dnsd_ctx *c, const uint8_t cc[8], const uint8_t *sc, size_t sclen,
    const uint8_t *ip, size_t iplen)
{
	uint8_t want[16];
	uint32_t ts, age;

	if (c->mac == NULL || sclen != 16 || sc[0] != COOKIE_VERSION)
		return false;
	ts = (uint32_t)sc[4] << 24 | (uint32_t)sc[5] << 16 | (uint32_t)sc[6] << 8 | sc[7];
	age = c->wall - ts;	/* serial number arithmetic (RFC 1982), as §4.3 says */
	if (age > COOKIE_MAX_AGE && -age > COOKIE_MAX_AHEAD)
		return false;
	/* The reserved bytes are hashed as received, so any change fails the check. */
	if (cookie_make(c, c->ck_cur, cc, ip, iplen, ts, want) == 0 && sc[1] == 0 &&
	    sc[2] == 0 && sc[3] == 0 && same8(want + 8, sc + 8))
		return true;
	return c->ck_has_prev && cookie_make(c, c->ck_prev, cc, ip, iplen, ts, want) == 0 &&
	    sc[1] == 0 && sc[2] == 0 && sc[3] == 0 && same8(want + 8, sc + 8);
}
