/* tests/unit/test_cidr.c -- CIDR parsing and matching, v4, v6 and v4-mapped */
/* SPDX-License-Identifier: ISC */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "../../common/common.h"
#include "testhelp.h"

/* A sockaddr for a textual address (any family), via cidr_addr_parse. */
static const struct sockaddr *
sa(const char *s)
{
	static struct sockaddr_storage ss[8];
	static unsigned next;
	struct sockaddr_storage *p = &ss[next++ % 8];

	if (cidr_addr_parse(s, p) == -1)
		return NULL;
	return (const struct sockaddr *)p;
}

/* True if address a is in network n (both as text). */
static bool
in(const char *n, const char *a)
{
	struct cidr c;
	const struct sockaddr *s = sa(a);

	return s != NULL && cidr_parse(n, &c) == 0 && cidr_match(&c, s);
}

static int
test_parse_v4(void)
{
	struct cidr c;
	static const uint8_t net[4] = { 192, 0, 2, 0 };

	CHECK(cidr_parse("192.0.2.0/24", &c) == 0);
	CHECK(c.family == AF_INET && c.prefix == 24);
	CHECK(memcmp(c.addr, net, 4) == 0);
	CHECK(cidr_parse("0.0.0.0/0", &c) == 0);
	CHECK(c.family == AF_INET && c.prefix == 0);
	CHECK(cidr_parse("10.1.2.3/32", &c) == 0 && c.prefix == 32);
	return 0;
}

static int
test_parse_v6(void)
{
	struct cidr c;
	static const uint8_t net[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	CHECK(cidr_parse("2001:db8::/32", &c) == 0);
	CHECK(c.family == AF_INET6 && c.prefix == 32);
	CHECK(memcmp(c.addr, net, 16) == 0);
	CHECK(cidr_parse("::/0", &c) == 0 && c.family == AF_INET6 && c.prefix == 0);
	CHECK(cidr_parse("2001:DB8::1/128", &c) == 0 && c.prefix == 128);
	return 0;
}

static int
test_host_bits_zeroed(void)
{
	struct cidr c;
	static const uint8_t v4[4] = { 192, 0, 2, 128 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x00 };

	/* Go's net.ParseCIDR accepts host bits and returns the network. */
	CHECK(cidr_parse("192.0.2.200/25", &c) == 0);
	CHECK(memcmp(c.addr, v4, 4) == 0 && c.prefix == 25);
	CHECK(cidr_parse("2001:db8:1234:5678::1/39", &c) == 0);
	CHECK(memcmp(c.addr, v6, 16) == 0 && c.prefix == 39);
	CHECK(in("192.0.2.200/25", "192.0.2.129"));
	CHECK(!in("192.0.2.200/25", "192.0.2.127"));
	return 0;
}

static int
test_bare_addresses(void)
{
	struct cidr c;

	CHECK(cidr_parse("192.0.2.7", &c) == 0 && c.family == AF_INET && c.prefix == 32);
	CHECK(cidr_parse("2001:db8::7", &c) == 0 && c.family == AF_INET6 && c.prefix == 128);
	CHECK(in("192.0.2.7", "192.0.2.7"));
	CHECK(!in("192.0.2.7", "192.0.2.8"));
	CHECK(in("2001:db8::7", "2001:db8::7"));
	CHECK(!in("2001:db8::7", "2001:db8::8"));
	return 0;
}

static int
test_match_boundaries(void)
{
	CHECK(in("10.0.0.0/8", "10.255.255.255"));
	CHECK(!in("10.0.0.0/8", "11.0.0.0"));
	CHECK(!in("10.0.0.0/8", "9.255.255.255"));
	CHECK(in("0.0.0.0/0", "203.0.113.9"));
	CHECK(in("192.0.2.0/23", "192.0.3.255"));
	CHECK(!in("192.0.2.0/23", "192.0.4.0"));
	CHECK(in("2001:db8::/32", "2001:db8:ffff::1"));
	CHECK(!in("2001:db8::/32", "2001:db9::1"));
	CHECK(in("2001:db8::/33", "2001:db8:7fff::1"));
	CHECK(!in("2001:db8::/33", "2001:db8:8000::1"));
	CHECK(in("::/0", "2001:db8::1"));
	/* Families do not cross: a v4 address is not in ::/0, nor v6 in 0.0.0.0/0. */
	CHECK(!in("::/0", "192.0.2.1"));
	CHECK(!in("0.0.0.0/0", "2001:db8::1"));
	return 0;
}

static int
test_v4_mapped(void)
{
	struct cidr c;

	/* A v4 client on a dual-stack socket arrives as ::ffff:a.b.c.d. */
	CHECK(in("192.0.2.0/24", "::ffff:192.0.2.55"));
	CHECK(!in("192.0.2.0/24", "::ffff:192.0.3.55"));
	CHECK(in("192.0.2.0/24", "[::ffff:192.0.2.55]"));
	CHECK(in("0.0.0.0/0", "::ffff:8.8.8.8"));
	/* A v4-mapped network names the IPv4 network, as Go's IPNet does. */
	CHECK(cidr_parse("::ffff:192.0.2.0/120", &c) == 0);
	CHECK(c.family == AF_INET && c.prefix == 24);
	CHECK(in("::ffff:192.0.2.0/120", "192.0.2.9"));
	CHECK(in("::ffff:192.0.2.0/120", "::ffff:192.0.2.9"));
	CHECK(!in("::ffff:192.0.2.0/120", "192.0.3.9"));
	/* Below /96 it stays an IPv6 network. */
	CHECK(cidr_parse("::ffff:0:0/80", &c) == 0 && c.family == AF_INET6);
	return 0;
}

static int
test_match_any(void)
{
	struct cidr nets[3];

	CHECK(cidr_parse("10.0.0.0/8", &nets[0]) == 0);
	CHECK(cidr_parse("2001:db8::/32", &nets[1]) == 0);
	CHECK(cidr_parse("192.0.2.1", &nets[2]) == 0);
	CHECK(cidr_match_any(nets, 3, sa("10.1.1.1")));
	CHECK(cidr_match_any(nets, 3, sa("2001:db8::5")));
	CHECK(cidr_match_any(nets, 3, sa("::ffff:192.0.2.1")));
	CHECK(!cidr_match_any(nets, 3, sa("192.0.2.2")));
	CHECK(!cidr_match_any(nets, 0, sa("10.1.1.1")));
	CHECK(!cidr_match_any(nets, 3, NULL));
	return 0;
}

static int
test_bad_inputs(void)
{
	static const char *const bad[] = {
		"", "/", "/24", "192.0.2.0/", "192.0.2.0/33", "2001:db8::/129", "192.0.2.0/-1",
		"192.0.2.0/+8", "192.0.2.0/08", "192.0.2.0/8/8", "192.0.2.0/ 8", " 192.0.2.0/8",
		"192.0.2.0/8 ", "192.0.2/24", "192.0.2.256/32", "192.0.2.0/1000", "1.2.3.4.5",
		"example.org", "[::1]/128", "2001:db8:::/32", "fe80::1%eth0", "::1/12a",
		"0x7f.0.0.1", "01.2.3.4/8",
		"1111111111111111111111111111111111111111111111111111111111111111111111111/8",
	};
	struct cidr c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cidr_parse(bad[i], &c) != -1) {
			fprintf(stderr, "    accepted \"%s\"\n", bad[i]);
			return 1;
		}
	}
	CHECK(cidr_parse(NULL, &c) == -1);
	CHECK(!cidr_match(NULL, sa("10.0.0.1")));
	return 0;
}

static int
test_addr_parse(void)
{
	struct sockaddr_storage ss;
	char buf[INET6_ADDRSTRLEN];

	CHECK(cidr_addr_parse("192.0.2.1", &ss) == 0 && ss.ss_family == AF_INET);
	CHECK_STR(cidr_addr_str((struct sockaddr *)&ss, buf, sizeof(buf)), "192.0.2.1");
	CHECK(cidr_addr_parse("2001:DB8::1", &ss) == 0 && ss.ss_family == AF_INET6);
	CHECK_STR(cidr_addr_str((struct sockaddr *)&ss, buf, sizeof(buf)), "2001:db8::1");
	CHECK(cidr_addr_parse("[::1]", &ss) == 0 && ss.ss_family == AF_INET6);
	CHECK_STR(cidr_addr_str((struct sockaddr *)&ss, buf, sizeof(buf)), "::1");
	CHECK(((struct sockaddr_in6 *)&ss)->sin6_port == 0);
	/* A v4-mapped address is printed in dotted form, one spelling per client. */
	CHECK(cidr_addr_parse("[::ffff:198.51.100.7]", &ss) == 0 && ss.ss_family == AF_INET6);
	CHECK_STR(cidr_addr_str((struct sockaddr *)&ss, buf, sizeof(buf)), "198.51.100.7");

	CHECK(cidr_addr_parse("[192.0.2.1]", &ss) == -1);	/* brackets are for IPv6 */
	CHECK(cidr_addr_parse("[::1", &ss) == -1);
	CHECK(cidr_addr_parse("::1]", &ss) == -1);
	CHECK(cidr_addr_parse("[]", &ss) == -1);
	CHECK(cidr_addr_parse("", &ss) == -1);
	CHECK(cidr_addr_parse("192.0.2.1:80", &ss) == -1);
	CHECK(cidr_addr_parse("[::1]:80", &ss) == -1);
	CHECK(cidr_addr_parse("192.0.2.0/24", &ss) == -1);
	CHECK(cidr_addr_parse("localhost", &ss) == -1);
	CHECK(cidr_addr_parse(NULL, &ss) == -1);

	/* An unknown family and a too-small buffer give "?" or a cut string, never overflow. */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	CHECK_STR(cidr_addr_str((struct sockaddr *)&ss, buf, sizeof(buf)), "?");
	CHECK(cidr_addr_parse("2001:db8::1", &ss) == 0);
	CHECK_STR(cidr_addr_str((struct sockaddr *)&ss, buf, 4), "?");
	return 0;
}

static const struct test_case tests[] = {
	{ "parse_v4", test_parse_v4 },
	{ "parse_v6", test_parse_v6 },
	{ "host_bits_zeroed", test_host_bits_zeroed },
	{ "bare_addresses", test_bare_addresses },
	{ "match_boundaries", test_match_boundaries },
	{ "v4_mapped", test_v4_mapped },
	{ "match_any", test_match_any },
	{ "bad_inputs", test_bad_inputs },
	{ "addr_parse", test_addr_parse },
};

TEST_MAIN(tests)
