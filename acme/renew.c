/* acme/renew.c -- when a certificate is due, and which tokens are safe to use */
/* SPDX-License-Identifier: ISC */

#include <stdint.h>
#include <string.h>

#include "../common/common.h"
#include "acme.h"

/* RFC 9773 §4.2 window, --days, --force, or a third of the lifetime left. */
int
acme_renewal_due(const struct crypto_cert *c, time_t now, long days, bool force,
    time_t ari_start, time_t ari_end, const char **why)
{
	time_t left = c->not_after - now, life = c->not_after - c->not_before, pick;
	uint32_t r = 0;

	if (force) {
		*why = "forced";
		return 1;
	}
	if (left <= 0) {
		*why = "expired";
		return 1;
	}
	if (days >= 0) {
		*why = left < (time_t)days * 86400 ? "fewer days left than --days" :
		    "more days left than --days";
		return left < (time_t)days * 86400;
	}
	if (ari_start != 0 || ari_end != 0) {
		/* §4.2: a uniformly random time in the window; past means now. */
		(void)rand_bytes(&r, sizeof(r));
		pick = ari_start;
		if (ari_end > ari_start)
			pick += (time_t)((double)(ari_end - ari_start) * ((double)r / 4294967296.0));
		*why = pick <= now ? "in the CA's suggested renewal window (ARI)" :
		    "before the CA's suggested renewal window (ARI)";
		return pick <= now;
	}
	*why = left < life / 3 ? "less than a third of the lifetime left" :
	    "more than a third of the lifetime left";
	return left < life / 3;
}

/* See acme.h: RFC 8555 §8.1 tokens are base64url with at least 128 bits of entropy. */
bool
acme_token_valid(const char *t)
{
	size_t i, n;

	if (t == NULL)
		return false;
	n = strlen(t);
	if (n < 16 || n > 256)
		return false;
	for (i = 0; i < n; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z') ||
		    (t[i] >= '0' && t[i] <= '9') || t[i] == '-' || t[i] == '_'))
			return false;
	return true;
}
