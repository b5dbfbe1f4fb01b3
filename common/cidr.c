/* common/cidr.c -- IPv4/IPv6 prefixes for allowfrom and trusted proxies */
/* SPDX-License-Identifier: ISC */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

#define CIDR_MAX_TEXT 64	/* longer than any address with a prefix */

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Zero the bits of addr (len bytes) below the first prefix bits. */
static void
mask_host_bits(uint8_t *addr, size_t len, unsigned prefix)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned bit = (unsigned)i * 8;

		if (bit >= prefix)
			addr[i] = 0;
		else if (prefix - bit < 8)
			addr[i] &= (uint8_t)(0xff << (8 - (prefix - bit)));
	}
}

/* True if the first prefix bits of a and b are equal. */
static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/*
 * Parse "a.b.c.d/n", "x::y/n" or a bare address into out. The prefix is
 * decimal without sign or leading zeros, as Go's net.ParseCIDR wants. An
 * IPv4-mapped IPv6 network of /96 or longer is stored as the IPv4 network it
 * names, which is how Go's IPNet.Contains treats it. Returns 0 or -1.
 */
int
cidr_parse(const char *s, struct cidr *out)
{
	char buf[CIDR_MAX_TEXT];
	const char *slash;
	size_t alen;
	unsigned prefix = 0, max;
	bool has_prefix = false;
	struct cidr c;

	if (s == NULL || out == NULL)
		return -1;
	memset(&c, 0, sizeof(c));
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, c.addr) == 1) {
		c.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c.addr) == 1) {
		c.family = AF_INET6;
		max = 128;
	} else
		return -1;

	if (slash != NULL) {
		const char *p = slash + 1;
		size_t nd = 0;

		if (*p == '\0' || (p[0] == '0' && p[1] != '\0'))
			return -1;
		for (; *p != '\0'; p++, nd++) {
			if (*p < '0' || *p > '9' || nd >= 3)
				return -1;
			prefix = prefix * 10 + (unsigned)(*p - '0');
		}
		if (prefix > max)
			return -1;
		has_prefix = true;
	}
	if (!has_prefix)
		prefix = max;

	if (c.family == AF_INET6 && prefix >= 96 &&
	    memcmp(c.addr, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		memmove(c.addr, c.addr + 12, 4);
		memset(c.addr + 4, 0, 12);
		c.family = AF_INET;
		prefix -= 96;
	}
	c.prefix = prefix;
	mask_host_bits(c.addr, sizeof(c.addr), prefix);
	*out = c;
	return 0;
}

/*
 * Extract the address bytes of sa into b, mapping ::ffff:a.b.c.d to the
 * IPv4 address. Returns the family, or AF_UNSPEC if sa is neither.
 */
static int
addr_bytes(const struct sockaddr *sa, uint8_t b[16])
{
	if (sa == NULL)
		return AF_UNSPEC;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;

		memcpy(b, &sin->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;

		memcpy(b, &sin6->sin6_addr, 16);
		if (memcmp(b, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
			memmove(b, b + 12, 4);
			return AF_INET;
		}
		return AF_INET6;
	}
	return AF_UNSPEC;
}

/*
 * True if addr lies in c. An IPv4-mapped IPv6 address (a v4 client on a
 * dual-stack socket) is compared as the IPv4 address it carries.
 */
bool
cidr_match(const struct cidr *c, const struct sockaddr *addr)
{
	uint8_t b[16];
	int fam;

	if (c == NULL)
		return false;
	fam = addr_bytes(addr, b);
	if (fam == AF_UNSPEC || fam != c->family)
		return false;
	if (c->prefix > (fam == AF_INET ? 32u : 128u))
		return false;
	return prefix_equal(b, c->addr, c->prefix);
}

/* True if addr lies in any of the n prefixes of c; false for n == 0. */
bool
cidr_match_any(const struct cidr *c, size_t n, const struct sockaddr *addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cidr_match(&c[i], addr))
			return true;
	return false;
}

/*
 * Parse a textual IPv4 or IPv6 address, optionally in brackets ("[::1]"),
 * into ss with port 0. No zone index, no port. Returns 0 or -1.
 */
int
cidr_addr_parse(const char *s, struct sockaddr_storage *ss)
{
	char buf[CIDR_MAX_TEXT];
	size_t len;

	if (s == NULL || ss == NULL)
		return -1;
	len = strlen(s);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
		if (memchr(s, ':', len) == NULL)
			return -1;	/* brackets are for IPv6 only (RFC 3986 §3.2.2) */
	}
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, buf, &((struct sockaddr_in *)(void *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &((struct sockaddr_in6 *)(void *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		return 0;
	}
	memset(ss, 0, sizeof(*ss));
	return -1;
}

/*
 * Write the address of sa as text into buf and return buf. An IPv4-mapped
 * IPv6 address is written in dotted form, as Go prints it, so logs show one
 * spelling per client. Unknown families or a short buffer give "?" (or "").
 */
const char *
cidr_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	uint8_t b[16];
	int fam;

	if (buf == NULL || len == 0)
		return buf;
	fam = addr_bytes(sa, b);
	if (fam == AF_UNSPEC || len > (size_t)INT32_MAX ||
	    inet_ntop(fam, b, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}
