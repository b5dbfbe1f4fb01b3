/* acme/challenge.c -- the DNS challenge types: names, record names, dns-persist-01 records */
/* SPDX-License-Identifier: ISC */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acme.h"

#define PERSIST_MAX_VALUE 4096	/* octets of one dns-persist-01 TXT value we parse */
#define PERSIST_MAX_PARAMS 16	/* parameters of one issue-value we look at */

static const char *const chall_names[ACME_CHALL_NTYPES] = {
	[ACME_CHALL_DNS01] = "dns-01",
	[ACME_CHALL_DNS_ACCOUNT01] = "dns-account-01",
	[ACME_CHALL_DNS_PERSIST01] = "dns-persist-01",
};

/* See acme.h. */
const char *
acme_chall_type_name(enum acme_chall_type t)
{
	return (unsigned)t < ACME_CHALL_NTYPES ? chall_names[t] : "?";
}

/* See acme.h. */
int
acme_chall_type_parse(const char *s, enum acme_chall_type *t)
{
	unsigned i;

	for (i = 0; i < ACME_CHALL_NTYPES; i++) {
		if (strcmp(s, chall_names[i]) == 0) {
			*t = (enum acme_chall_type)i;
			return 0;
		}
	}
	return -1;
}

/* See acme.h: RFC 4648 §6 base32 of 10 bytes is exactly 16 characters, no padding. */
int
acme_account_label(const char *account_url, char out[ACME_ACCOUNT_LABEL_LEN + 1])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char h[32];
	unsigned bits = 0, acc = 0;
	size_t i, n = 0;

	if (account_url == NULL || crypto_sha256(account_url, strlen(account_url), h) == -1)
		return -1;
	for (i = 0; i < 10; i++) {
		acc = (acc << 8) | h[i];
		bits += 8;
		while (bits >= 5) {
			out[n++] = alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	out[n] = '\0';
	return n == ACME_ACCOUNT_LABEL_LEN ? 0 : -1;
}

/* See acme.h. */
int
acme_chall_record(enum acme_chall_type t, const char *base, const char *account_url,
    char *buf, size_t len)
{
	char label[ACME_ACCOUNT_LABEL_LEN + 1];
	int n;

	switch (t) {
	case ACME_CHALL_DNS01:
		n = snprintf(buf, len, "_acme-challenge.%s.", base);
		break;
	case ACME_CHALL_DNS_ACCOUNT01:
		if (acme_account_label(account_url, label) == -1)
			return -1;
		n = snprintf(buf, len, "_%s._acme-challenge.%s.", label, base);
		break;
	case ACME_CHALL_DNS_PERSIST01:
		n = snprintf(buf, len, "_validation-persist.%s.", base);
		break;
	default:
		return -1;
	}
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Trim RFC 5234 WSP (space, tab) at both ends, in place. */
static char *
trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* draft-ietf-acme-dns-persist §4.1 item 3: the hashed accounturi for domain dn. */
static bool
hashed_uri_is(const char *uri, const struct acme_persist_want *w, const char *dn)
{
	unsigned char h[32], *in;
	size_t dl = strlen(dn), tl = strlen(w->thumbprint), ul = strlen(w->account_url);
	char *b64 = NULL, *want = NULL;
	bool same = false;

	if (dl > 255 || (in = malloc(1 + dl + tl + ul)) == NULL)
		return false;
	in[0] = (unsigned char)dl;
	memcpy(in + 1, dn, dl);
	memcpy(in + 1 + dl, w->thumbprint, tl);
	memcpy(in + 1 + dl + tl, w->account_url, ul);
	if (crypto_sha256(in, 1 + dl + tl + ul, h) == 0 && (b64 = b64url_encode(h, 32)) != NULL &&
	    asprintf(&want, "%ssha-256/%s", w->hash_prefix, b64) != -1)
		same = strcmp(uri, want) == 0;	/* RFC 3986 §6.2.1 simple comparison */
	free(in);
	free(b64);
	free(want);
	return same;
}

/* The accounturi names w's account: the URL itself (-01) or a hashed form (-02). */
static bool
account_uri_ok(const char *uri, const struct acme_persist_want *w)
{
	if (strcmp(uri, w->account_url) == 0)
		return true;
	if (w->hash_prefix == NULL || w->thumbprint == NULL ||
	    strncmp(uri, w->hash_prefix, strlen(w->hash_prefix)) != 0)
		return false;
	return hashed_uri_is(uri, w, w->domain) || hashed_uri_is(uri, w, "*");
}

/* The issuer-domain-name is one of w's issuers (§4.2: case-insensitive, no trailing dot). */
static bool
issuer_ok(const char *name, const struct acme_persist_want *w)
{
	size_t i, n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	for (i = 0; i < w->nissuers; i++)
		if (strlen(w->issuers[i]) == n && strncasecmp(name, w->issuers[i], n) == 0)
			return true;
	return false;
}

/* The parameters of an issue-value (RFC 8659 §4.2), checked against w; *why on false. */
static bool
params_ok(char *rest, const struct acme_persist_want *w, const char **why)
{
	char *p, *save = NULL, *eq, *tag, *val;
	bool uri_seen = false, wildcard = false;
	unsigned n = 0;

	for (p = strtok_r(rest, ";", &save); p != NULL; p = strtok_r(NULL, ";", &save)) {
		p = trim(p);
		if (*p == '\0')
			continue;
		if (++n > PERSIST_MAX_PARAMS || (eq = strchr(p, '=')) == NULL) {
			*why = "a parameter is not tag=value";
			return false;
		}
		*eq = '\0';
		tag = trim(p);
		val = trim(eq + 1);
		if (strcasecmp(tag, "accounturi") == 0) {
			if (uri_seen || !account_uri_ok(val, w)) {
				*why = "its accounturi is not this account";
				return false;
			}
			uri_seen = true;
		} else if (strcasecmp(tag, "policy") == 0) {
			wildcard = strcasecmp(val, "wildcard") == 0;	/* §4.1 item 4 */
		} else if (strcasecmp(tag, "persistUntil") == 0) {
			char *ep;
			long long t = strtoll(val, &ep, 10);
			if (*val < '0' || *val > '9' || *ep != '\0') {
				*why = "persistUntil is not a base-10 integer";
				return false;
			}
			if ((time_t)t < w->now) {
				*why = "its persistUntil has passed";
				return false;
			}
		}	/* §4.1 item 1: unknown tags are ignored */
	}
	if (!uri_seen) {
		*why = "it has no accounturi";
		return false;
	}
	if (w->wildcard && !wildcard) {
		*why = "a wildcard name needs policy=wildcard";
		return false;
	}
	return true;
}

/* See acme.h. */
bool
acme_persist_match(const char *value, const struct acme_persist_want *w, const char **why)
{
	const char *dummy;
	char *copy, *semi, *issuer;
	bool ok = false;

	if (why == NULL)
		why = &dummy;
	*why = "unreadable";
	if (value == NULL || strlen(value) > PERSIST_MAX_VALUE || (copy = strdup(value)) == NULL)
		return false;
	semi = strchr(copy, ';');
	if (semi != NULL)
		*semi = '\0';
	issuer = trim(copy);
	if (!issuer_ok(issuer, w))
		*why = "it names another issuer";
	else if (semi == NULL)
		*why = "it has no accounturi";
	else
		ok = params_ok(semi + 1, w, why);
	free(copy);
	return ok;
}
