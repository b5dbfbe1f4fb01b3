/* api/auth.c -- who is asking: API user and key format, client address, allowfrom, CORS */
/* SPDX-License-Identifier: ISC */

#include <arpa/inet.h>
#include <stdio.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Normalise a UUID the way Go's uuid.Parse reads one (acme-dns's
 * getValidUsername): 36 characters 8-4-4-4-12, the same in braces (38),
 * with an "urn:uuid:" prefix in any case (45), or 32 bare hex digits.
 * Writes the lower-case 8-4-4-4-12 form into out.
 */
int
api_user_normalize(const char *s, char out[STORAGE_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	const char *p;
	size_t len, i, o = 0;
	bool dashed;

	out[0] = '\0';
	if (s == NULL)
		return -1;
	len = strlen(s);
	if (len == 36) {
		p = s;
		dashed = true;
	} else if (len == 38 && s[0] == '{' && s[37] == '}') {
		p = s + 1;
		dashed = true;
	} else if (len == 45 && strncasecmp(s, "urn:uuid:", 9) == 0) {
		p = s + 9;
		dashed = true;
	} else if (len == 32) {
		p = s;
		dashed = false;
	} else {
		return -1;
	}

	for (i = 0; o < STORAGE_ID_LEN; ) {
		int hi, lo;

		if (o == 8 || o == 13 || o == 18 || o == 23) {
			if (dashed) {
				if (p[i] != '-')
					goto bad;
				i++;
			}
			out[o++] = '-';
			continue;
		}
		if ((hi = hexval((unsigned char)p[i])) == -1)
			goto bad;
		if ((lo = hexval((unsigned char)p[i + 1])) == -1)
			goto bad;
		out[o++] = hex[hi];
		out[o++] = hex[lo];
		i += 2;
	}
	out[o] = '\0';
	return 0;
bad:
	out[0] = '\0';
	return -1;
}

/* True if s is exactly 40 characters of [A-Za-z0-9_-] (acme-dns's validKey). */
bool
api_key_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= STORAGE_KEY_LEN)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return i == STORAGE_KEY_LEN;
}

/* Copy sa into out, turning an IPv4-mapped IPv6 address into plain IPv4. */
static void
addr_unmap(const struct sockaddr *sa, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)out;

			s4->sin_family = AF_INET;
			s4->sin_port = s6->sin6_port;
			memcpy(&s4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
			return;
		}
		memcpy(out, sa, sizeof(struct sockaddr_in6));
	} else if (sa->sa_family == AF_INET) {
		memcpy(out, sa, sizeof(struct sockaddr_in));
	} else {
		out->ss_family = AF_UNSPEC;
	}
}

/*
 * Pick the client address. The header is only believed when the TCP peer
 * is a trusted proxy; then its entries are read right to left, skipping
 * trusted proxies, because each proxy appends the address it saw and only
 * the entries it wrote itself can be believed.
 */
int
api_client_addr(const struct sockaddr *peer, bool use_header, const char *header,
    const struct cidr *trusted, size_t ntrusted, struct sockaddr_storage *out)
{
	struct sockaddr_storage ss;
	const char *end, *start;
	size_t seen = 0;

	addr_unmap(peer, out);
	if (!use_header || header == NULL || ntrusted == 0 ||
	    !cidr_match_any(trusted, ntrusted, peer))
		return 0;

	end = header + strlen(header);
	while (end > header) {
		char entry[INET6_ADDRSTRLEN + 3];
		const char *e = end;
		size_t n;

		/* One entry: back to the previous comma, trimmed of blanks. */
		start = e;
		while (start > header && start[-1] != ',')
			start--;
		end = start > header ? start - 1 : header;
		while (start < e && (*start == ' ' || *start == '\t'))
			start++;
		while (e > start && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == start)
			continue;	/* an empty entry ("a,,b") carries nothing */
		if (++seen > API_MAX_FORWARDED)
			return -1;
		n = (size_t)(e - start);
		if (n >= sizeof(entry) || (memcpy(entry, start, n), entry[n] = '\0',
		    cidr_addr_parse(entry, &ss) == -1)) {
			memset(out, 0, sizeof(*out));
			return -1;
		}
		addr_unmap((const struct sockaddr *)&ss, out);
		if (!cidr_match_any(trusted, ntrusted, (const struct sockaddr *)out))
			return 0;
		/* A trusted proxy: the client is further left (or is this one). */
	}
	if (seen == 0)
		addr_unmap(peer, out);	/* empty header: the peer itself */
	return 0;
}

/*
 * Parse an allowfrom entry as acme-dns does: brackets anywhere are dropped
 * (sanitizeIPv6addr) and the rest must be an address with a prefix length,
 * as Go's net.ParseCIDR requires.
 */
int
api_cidr_parse(const char *s, struct cidr *out)
{
	char buf[STORAGE_CIDR_LEN];
	size_t i, o = 0;

	if (s == NULL)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '[' || s[i] == ']')
			continue;
		if (o >= sizeof(buf) - 1)
			return -1;
		buf[o++] = s[i];
	}
	buf[o] = '\0';
	if (strchr(buf, '/') == NULL)
		return -1;
	return cidr_parse(buf, out);
}

/*
 * True if client may update acct. Unlike acme-dns, which skips entries it
 * cannot parse (so an account holding only unparsable entries is open to
 * all), an entry we cannot parse matches nothing: fail closed.
 */
bool
api_allowfrom_ok(const struct storage_account *acct, const struct sockaddr *client)
{
	size_t i;

	if (acct->nallowfrom == 0)
		return true;
	if (client == NULL || (client->sa_family != AF_INET && client->sa_family != AF_INET6))
		return false;
	for (i = 0; i < acct->nallowfrom && i < STORAGE_MAX_ALLOWFROM; i++) {
		char e[STORAGE_CIDR_LEN];
		struct cidr c;

		memcpy(e, acct->allowfrom[i], sizeof(e));
		e[sizeof(e) - 1] = '\0';
		if (api_cidr_parse(e, &c) == 0 && cidr_match(&c, client))
			return true;
	}
	return false;
}

/* Case-insensitive match of origin against pattern with at most one '*'. */
static bool
origin_matches(const char *pattern, const char *origin)
{
	const char *star = strchr(pattern, '*');
	size_t plen, slen, olen;

	if (star == NULL)
		return strcasecmp(pattern, origin) == 0;
	plen = (size_t)(star - pattern);
	slen = strlen(star + 1);
	olen = strlen(origin);
	if (strchr(star + 1, '*') != NULL)
		return false;	/* rs/cors takes one wildcard; more never match */
	return olen >= plen + slen && strncasecmp(origin, pattern, plen) == 0 &&
	    strcasecmp(origin + olen - slen, star + 1) == 0;
}

/* The Access-Control-Allow-Origin value for origin, or NULL for no CORS headers. */
const char *
api_cors_origin(const struct config_strv *origins, const char *origin)
{
	size_t i;

	if (origins == NULL || origin == NULL || origin[0] == '\0')
		return NULL;
	for (i = 0; i < origins->n; i++) {
		if (strcmp(origins->v[i], "*") == 0)
			return "*";
	}
	for (i = 0; i < origins->n; i++) {
		if (origin_matches(origins->v[i], origin))
			return origin;
	}
	return NULL;
}

/*
 * RFC 6750 §2.1: "Authorization: Bearer <token>", the scheme in any case
 * (RFC 9110 §11.1). The comparison takes time that depends on the sent
 * token's length only, never on the configured one or where they differ.
 */
bool
api_bearer_ok(const char *authorization, const char *token)
{
	const char *p = authorization;
	size_t n, tlen, i;
	unsigned diff;

	if (p == NULL || token == NULL || (tlen = strlen(token)) == 0)
		return false;
	if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return false;
	for (p += 6; *p == ' ' || *p == '\t'; p++)
		;
	for (n = strlen(p); n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'); n--)
		;
	diff = n != tlen;
	for (i = 0; i < n; i++)
		diff |= (unsigned)((unsigned char)p[i] ^ (unsigned char)token[i % tlen]);
	return diff == 0;
}

/* The user field of a failed login's access-log line (see internal.h). */
void
api_log_user(const char *api_user, char *out, size_t outlen)
{
	char uuid[STORAGE_ID_LEN + 1];
	size_t i, o;

	if (outlen == 0)
		return;
	if (api_user == NULL || api_user[0] == '\0') {
		snprintf(out, outlen, "-");
		return;
	}
	if (api_user_normalize(api_user, uuid) == 0) {
		snprintf(out, outlen, "%s", uuid);
		return;
	}
	o = (size_t)snprintf(out, outlen, "bad:");
	for (i = 0; api_user[i] != '\0' && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)api_user[i];

		out[o++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("._:{}-", c) != NULL ? (char)c : '?';
	}
	out[o < outlen ? o : outlen - 1] = '\0';
}
