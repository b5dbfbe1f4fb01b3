/* tests/fuzz/fuzz_dns.c -- libFuzzer target: one DNS message through dnsd_answer() */
/* SPDX-License-Identifier: ISC */

/*
 * The input is a DNS message in wire form, exactly as a UDP datagram or a
 * TCP frame (without its length prefix) would bring it. The zone has static
 * records of every type the answer path handles (A, AAAA, CNAME chains in and
 * out of the zone, MX, TXT, CAA, a delegation with glue, an empty
 * non-terminal) and published challenge names with 0, 1 and 2 values. Each
 * input is answered over UDP and over TCP; an answer must fit its buffer,
 * carry the query's ID and have QR set.
 */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/common.h"
#include "../../dnsd/dnsd.h"
#include "fuzz.h"

#define UUID1 "0c8b1f0e-4c5d-4e1a-9a7b-2f3e4d5c6b7a"
#define UUID2 "1d9c2a1f-5d6e-4f2b-8b8c-3a4f5e6d7c8b"
#define UUID3 "2eadbeef-6e7f-4a3c-9c9d-4b5a6f7e8d9c"
#define V1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define V2 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const char *records[] = {
	"auth.example.org. A 192.0.2.1",
	"auth.example.org. AAAA 2001:db8::1",
	"auth.example.org. NS ns1.auth.example.org.",
	"ns1 A 192.0.2.53",
	"ns1.auth.example.org AAAA 2001:db8::53",
	"www CNAME auth.example.org.",
	"mail MX 10 auth.example.org.",
	"txt TXT \"Hello World\" \"v=DKIM1; p=MiXeDCase\"",
	"a.b.deep A 192.0.2.3",
	"caa CAA 0 issue \"letsencrypt.org\"",
	"ext CNAME www.example.net.",
	"loop1 CNAME loop2.auth.example.org.",
	"loop2 CNAME loop1.auth.example.org.",
	"chal CNAME " UUID1 ".auth.example.org.",
	"_acme-challenge CNAME " UUID1 ".auth.example.org.",
	"sub NS ns.sub.auth.example.org.",
	"ns.sub A 192.0.2.99",
	"_sip._udp SRV 10 5 5060 auth.example.org.",
	"dup A 192.0.2.7",
	"dup A 192.0.2.7",
};
static const unsigned lines[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
	18, 19, 20 };

static struct dnsd *zone;

/* Build the zone once; any failure is a broken harness, not a finding. */
static struct dnsd *
zone_once(void)
{
	struct dnsd_params p;
	const char *two[] = { V1, V2 }, *one[] = { V1 };
	char err[512];

	if (zone != NULL)
		return zone;
	log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT, NULL);
	memset(&p, 0, sizeof(p));
	p.config_path = "fuzz.cfg";
	(void)config_listen_parse("127.0.0.1:0", &p.listen);
	p.protocol = DNSD_PROTO_UDP | DNSD_PROTO_TCP | DNSD_PROTO_V4;
	p.domain = "auth.example.org";
	p.nsname = "ns1.auth.example.org";
	p.nsadmin = "hostmaster.example.org";
	p.records = records;
	p.record_lines = lines;
	p.nrecords = sizeof(records) / sizeof(records[0]);
	p.threads = 1;
	p.txt_ttl = 1;
	p.negative_ttl = 60;
	p.tcp_idle_timeout = 2;
	p.tcp_max_clients = 8;
	if ((zone = dnsd_new(&p, err, sizeof(err))) == NULL ||
	    dnsd_publish(zone, UUID1, two, 2) == -1 ||
	    dnsd_publish(zone, UUID2, one, 1) == -1 ||
	    dnsd_publish(zone, UUID3, NULL, 0) == -1) {
		fprintf(stderr, "fuzz_dns: cannot build the zone: %s\n", err);
		abort();
	}
	return zone;
}

/* Answer over one transport and check what every answer must be. */
static void
answer_one(struct dnsd *d, const uint8_t *q, size_t qlen, bool tcp)
{
	size_t cap = tcp ? DNSD_MAX_TCP_MSG : DNSD_MAX_UDP_PAYLOAD;
	uint8_t *out = malloc(cap);
	int n;

	if (out == NULL)
		abort();
	n = dnsd_answer(d, q, qlen, out, cap, tcp);
	if (n < -1 || (n > 0 && (size_t)n > cap))
		abort();	/* a length the transport would send past the buffer */
	if (n >= 12 && qlen >= 2 && (out[0] != q[0] || out[1] != q[1] || !(out[2] & 0x80)))
		abort();	/* an answer must echo the ID and have QR set (RFC 1035 §4.1.1) */
	if (n > 0 && n < 12)
		abort();	/* shorter than a header */
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsd *d = zone_once();
	uint8_t *q;

	if (size > DNSD_MAX_TCP_MSG)
		return 0;
	/* An exact-size copy, so a read past the message is caught. */
	if ((q = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	if (size > 0)
		memcpy(q, data, size);
	answer_one(d, q, size, false);
	answer_one(d, q, size, true);
	free(q);
	return 0;
}
