/* tests/unit/test_dnsd.c -- dnsd: every answer case, publish/RCU, the allocation guard, sockets */
/* SPDX-License-Identifier: ISC */
#include <ldns/ldns.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DNSD_INTERNAL	/* the RRL, cookie and table internals are tested directly */
#include "../../dnsd/dnsd.h"
#include "testhelp.h"


/* ------------------------------------------------------------------ */
/* The allocation guard: count allocations made from our objects. */

void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void __real_free(void *);
void *__wrap_malloc(size_t);
void *__wrap_calloc(size_t, size_t);
void *__wrap_realloc(void *, size_t);
void __wrap_free(void *);

static atomic_bool counting;
static atomic_long nallocs;

void *
__wrap_malloc(size_t n)
{
	if (atomic_load(&counting))
		atomic_fetch_add(&nallocs, 1);
	return __real_malloc(n);
}

void *
__wrap_calloc(size_t a, size_t b)
{
	if (atomic_load(&counting))
		atomic_fetch_add(&nallocs, 1);
	return __real_calloc(a, b);
}

void *
__wrap_realloc(void *p, size_t n)
{
	if (atomic_load(&counting))
		atomic_fetch_add(&nallocs, 1);
	return __real_realloc(p, n);
}

void
__wrap_free(void *p)
{
	__real_free(p);
}

/* ------------------------------------------------------------------ */
/* helpers */

#define UUID1 "0c8b1f0e-4c5d-4e1a-9a7b-2f3e4d5c6b7a"
#define UUID2 "1d9c2a1f-5d6e-4f2b-8b8c-3a4f5e6d7c8b"
#define V1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define V2 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define V3 "ccccccccccccccccccccccccccccccccccccccccccc"

static const char *records[] = {
	"auth.example.org. A 192.0.2.1",
	"ns1 A 192.0.2.53",
	"ns1.auth.example.org AAAA 2001:db8::53",	/* acme-dns style: no trailing dot */
	"www CNAME auth.example.org.",
	"mail MX 10 auth.example.org.",
	"txt TXT \"Hello World\" \"v=DKIM1; p=MiXeDCase\"",
	"a.b.deep A 192.0.2.3",
	"caa CAA 0 issue \"letsencrypt.org\"",
	"ext CNAME www.example.net.",
	"chal CNAME " UUID1 ".auth.example.org.",
	"sub NS ns.sub.auth.example.org.",
	"ns.sub A 192.0.2.99",
	"dup A 192.0.2.7",
	"dup A 192.0.2.7",
};
static const unsigned lines[] = { 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23 };

static void
params_init(struct dnsd_params *p)
{
	memset(p, 0, sizeof(*p));
	p->config_path = "test.cfg";
	(void)config_listen_parse("127.0.0.1:0", &p->listen);
	p->protocol = DNSD_PROTO_UDP | DNSD_PROTO_TCP | DNSD_PROTO_V4;
	p->domain = "auth.example.org";
	p->nsname = "ns1.auth.example.org";
	p->nsadmin = "hostmaster.example.org";
	p->records = records;
	p->record_lines = lines;
	p->nrecords = sizeof(records) / sizeof(records[0]);
	p->threads = 1;
	p->txt_ttl = 1;
	p->negative_ttl = 60;
	p->tcp_idle_timeout = 2;
	p->tcp_max_clients = 8;
}

static struct dnsd *
mkdnsd_threads(unsigned threads)
{
	struct dnsd_params p;
	char err[256];
	struct dnsd *d;

	params_init(&p);
	p.threads = threads;
	if ((d = dnsd_new(&p, err, sizeof(err))) == NULL)
		fprintf(stderr, "    dnsd_new: %s\n", err);
	return d;
}

static struct dnsd *
mkdnsd(void)
{
	return mkdnsd_threads(1);
}

/* Query options for mkq. */
struct qopt {
	uint16_t id;
	uint16_t flags;		/* header flags word (RD etc.) */
	uint16_t qdcount;	/* 0 = 1 */
	uint16_t qtype;
	uint16_t qclass;	/* 0 = IN */
	int edns;		/* number of OPT records */
	uint16_t udpsize;
	uint8_t version;
	bool dobit;
	bool badowner;		/* OPT owner not the root */
	bool option;		/* add an unknown EDNS option */
	const uint8_t *cookie;	/* add a COOKIE option with these bytes */
	size_t cookielen;
};

/* Build a query for a dotted name, keeping its case exactly. */
static size_t
mkq(uint8_t *b, const char *name, const struct qopt *o)
{
	size_t len = 12;
	const char *s = name;

	memset(b, 0, 12);
	b[0] = (uint8_t)(o->id >> 8);
	b[1] = (uint8_t)o->id;
	b[2] = (uint8_t)(o->flags >> 8);
	b[3] = (uint8_t)o->flags;
	b[5] = (uint8_t)(o->qdcount ? o->qdcount : 1);
	while (*s != '\0') {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		b[len++] = (uint8_t)l;
		memcpy(b + len, s, l);
		len += l;
		s += l;
		if (*s == '.')
			s++;
	}
	b[len++] = 0;
	b[len++] = (uint8_t)(o->qtype >> 8);
	b[len++] = (uint8_t)o->qtype;
	b[len++] = 0;
	b[len++] = (uint8_t)(o->qclass ? o->qclass : 1);
	for (int i = 0; i < o->edns; i++) {
		if (o->badowner) {
			memcpy(b + len, "\1x", 2);
			len += 2;
		}
		b[len++] = 0;
		b[len++] = 0;
		b[len++] = 41;
		b[len++] = (uint8_t)(o->udpsize >> 8);
		b[len++] = (uint8_t)o->udpsize;
		b[len++] = 0;
		b[len++] = o->version;
		b[len++] = o->dobit ? 0x80 : 0;
		b[len++] = 0;
		size_t rdl = (o->option ? 8 : 0) + (o->cookie ? 4 + o->cookielen : 0);
		b[len++] = (uint8_t)(rdl >> 8);
		b[len++] = (uint8_t)rdl;
		if (o->option) {	/* option 65001, 4 bytes */
			memcpy(b + len, "\xfd\xe9\x00\x04" "abcd", 8);
			len += 8;
		}
		if (o->cookie) {	/* RFC 7873 §4 */
			b[len++] = 0;
			b[len++] = DNSD_OPT_COOKIE;
			b[len++] = (uint8_t)(o->cookielen >> 8);
			b[len++] = (uint8_t)o->cookielen;
			memcpy(b + len, o->cookie, o->cookielen);
			len += o->cookielen;
		}
		b[11]++;
	}
	return len;
}

/* Answer a query through dnsd_answer and parse it with ldns. */
static ldns_pkt *
ask(struct dnsd *d, const char *name, const struct qopt *o, bool tcp, uint8_t *raw, int *rawlen)
{
	uint8_t q[600], a[65535];
	size_t ql = mkq(q, name, o);
	int n = dnsd_answer(d, q, ql, a, tcp ? sizeof(a) : DNSD_MAX_UDP_PAYLOAD, tcp);
	ldns_pkt *p = NULL;

	if (rawlen != NULL)
		*rawlen = n;
	if (raw != NULL && n > 0)
		memcpy(raw, a, (size_t)n);
	if (n <= 0 || ldns_wire2pkt(&p, a, (size_t)n) != LDNS_STATUS_OK)
		return NULL;
	return p;
}

static ldns_pkt *
askt(struct dnsd *d, const char *name, uint16_t qtype)
{
	struct qopt o = { .id = 0x1234, .qtype = qtype };

	return ask(d, name, &o, false, NULL, NULL);
}

static int
pkt_rcode(const ldns_pkt *p)
{
	return p ? (int)ldns_pkt_get_rcode(p) : -1;
}

static size_t
count(const ldns_pkt *p, ldns_pkt_section s)
{
	switch (s) {
	case LDNS_SECTION_ANSWER: return ldns_pkt_ancount(p);
	case LDNS_SECTION_AUTHORITY: return ldns_pkt_nscount(p);
	case LDNS_SECTION_ADDITIONAL: return ldns_pkt_arcount(p);
	default: return 0;
	}
}

/* The n-th RR of a section (or NULL). */
static ldns_rr *
rr_at(const ldns_pkt *p, ldns_pkt_section s, size_t n)
{
	ldns_rr_list *l = s == LDNS_SECTION_ANSWER ? ldns_pkt_answer(p) :
	    s == LDNS_SECTION_AUTHORITY ? ldns_pkt_authority(p) : ldns_pkt_additional(p);

	return l && n < ldns_rr_list_rr_count(l) ? ldns_rr_list_rr(l, n) : NULL;
}

/* The rdata field as text (caller frees). */
static char *
rdf_str(const ldns_rr *rr, size_t i)
{
	return rr ? ldns_rdf2str(ldns_rr_rdf(rr, i)) : NULL;
}

/* Check a negative answer: AA, rcode, empty answer, the SOA with TTL 60 and MINIMUM 60. */
static int
check_negative(ldns_pkt *p, int rcode)
{
	ldns_rr *soa;
	char *min, *owner;
	int rc = 1;

	if (p == NULL || pkt_rcode(p) != rcode || !ldns_pkt_aa(p) ||
	    count(p, LDNS_SECTION_ANSWER) != 0 || count(p, LDNS_SECTION_AUTHORITY) != 1)
		return 1;
	soa = rr_at(p, LDNS_SECTION_AUTHORITY, 0);
	if (ldns_rr_get_type(soa) != LDNS_RR_TYPE_SOA || ldns_rr_ttl(soa) != 60)
		return 1;
	min = rdf_str(soa, 6);
	owner = ldns_rdf2str(ldns_rr_owner(soa));
	if (min != NULL && strcmp(min, "60") == 0 && owner != NULL &&
	    strcasecmp(owner, "auth.example.org.") == 0)
		rc = 0;
	free(min);
	free(owner);
	return rc;
}

/* ------------------------------------------------------------------ */
/* tests */

static int
test_txt_hit(void)
{
	struct dnsd *d = mkdnsd();
	const char *v[2] = { V1, V2 };
	ldns_pkt *p;
	char *s0, *s1;
	int rc = 1;

	CHECK(d != NULL);
	CHECK(dnsd_publish(d, UUID1, v, 2) == 0);
	p = askt(d, UUID1 ".auth.example.org", LDNS_RR_TYPE_TXT);
	if (p && pkt_rcode(p) == 0 && ldns_pkt_aa(p) && !ldns_pkt_tc(p) &&
	    ldns_pkt_id(p) == 0x1234 && ldns_pkt_qr(p) && count(p, LDNS_SECTION_ANSWER) == 2) {
		s0 = rdf_str(rr_at(p, LDNS_SECTION_ANSWER, 0), 0);
		s1 = rdf_str(rr_at(p, LDNS_SECTION_ANSWER, 1), 0);
		rc = !(s0 && s1 && strcmp(s0, "\"" V1 "\"") == 0 && strcmp(s1, "\"" V2 "\"") == 0 &&
		    ldns_rr_ttl(rr_at(p, LDNS_SECTION_ANSWER, 0)) == 1);
		free(s0);
		free(s1);
	}
	ldns_pkt_free(p);
	dnsd_free(d);
	return rc;
}

static int
test_case_echo(void)
{
	struct dnsd *d = mkdnsd();
	const char *v[1] = { V1 };
	struct qopt o = { .id = 7, .qtype = LDNS_RR_TYPE_TXT };
	const char *name = "0C8B1F0E-4c5D-4E1A-9a7B-2F3E4D5C6B7A.AuTh.ExAmPlE.oRg";
	uint8_t q[600], raw[2048];
	size_t ql;
	int n;
	ldns_pkt *p;

	CHECK(d != NULL);
	CHECK(dnsd_publish(d, "0C8B1F0E-4C5D-4E1A-9A7B-2F3E4D5C6B7A", v, 1) == 0);
	ql = mkq(q, name, &o);
	p = ask(d, name, &o, false, raw, &n);
	CHECK(p != NULL && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 1);
	CHECK(memcmp(raw + 12, q + 12, ql - 12) == 0);	/* question byte for byte */
	CHECK(raw[ql] == 0xc0 && raw[ql + 1] == 0x0c);	/* owner points at it */
	ldns_pkt_free(p);
	/* the SOA of a negative answer points into the question's own case */
	p = askt(d, "NoPe.AuTh.ExAmPlE.oRg", LDNS_RR_TYPE_A);
	CHECK(check_negative(p, LDNS_RCODE_NXDOMAIN) == 0);
	ldns_pkt_free(p);
	dnsd_free(d);
	return 0;
}

static int
test_nodata(void)
{
	struct dnsd *d = mkdnsd();
	const char *v[1] = { V1 };
	ldns_pkt *p;

	CHECK(d != NULL);
	CHECK(dnsd_publish(d, UUID2, NULL, 0) == 0);
	p = askt(d, UUID2 ".auth.example.org", LDNS_RR_TYPE_TXT);
	CHECK(check_negative(p, LDNS_RCODE_NOERROR) == 0);	/* registered, no value */
	ldns_pkt_free(p);
	CHECK(dnsd_publish(d, UUID2, v, 1) == 0);
	p = askt(d, UUID2 ".auth.example.org", LDNS_RR_TYPE_A);
	CHECK(check_negative(p, LDNS_RCODE_NOERROR) == 0);	/* another type */
	ldns_pkt_free(p);
	p = askt(d, "auth.example.org", LDNS_RR_TYPE_MX);
	CHECK(check_negative(p, LDNS_RCODE_NOERROR) == 0);
	ldns_pkt_free(p);
	p = askt(d, "deep.auth.example.org", LDNS_RR_TYPE_A);	/* empty non-terminal */
	CHECK(check_negative(p, LDNS_RCODE_NOERROR) == 0);
	ldns_pkt_free(p);
	p = askt(d, "b.deep.auth.example.org", LDNS_RR_TYPE_TXT);
	CHECK(check_negative(p, LDNS_RCODE_NOERROR) == 0);
	ldns_pkt_free(p);
	p = askt(d, "a.b.deep.auth.example.org", LDNS_RR_TYPE_A);
	CHECK(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 1);
	ldns_pkt_free(p);
	dnsd_free(d);
	return 0;
}

/*
 * A full resynchronisation: mark, publish again what still exists, sweep.
 * The name not published again answers NXDOMAIN, its persist records go
 * with it, the others keep their values, and a later publish revives it.
 */
static int
test_mark_sweep(void)
{
	struct dnsd *d = mkdnsd();
	const char *v[1] = { V1 }, *w[1] = { V2 };
	uint32_t m;
	ldns_pkt *p;

	CHECK(d != NULL);
	CHECK(dnsd_publish(d, UUID1, v, 1) == 0 && dnsd_publish(d, UUID2, w, 1) == 0);
	CHECK(dnsd_publish_persist(d, UUID2, w, 1) == 0);
	CHECK(dnsd_sweep(d, dnsd_mark(d) - 1) == 0);	/* an old mark sweeps nothing */
	m = dnsd_mark(d);
	CHECK(dnsd_publish(d, UUID1, v, 1) == 0);	/* UUID2 was deleted in the gap */
	CHECK(dnsd_sweep(d, m) == 1);
	CHECK(dnsd_sweep(d, m) == 0);			/* tombstones are not swept again */
	p = askt(d, UUID2 ".auth.example.org", LDNS_RR_TYPE_TXT);
	CHECK(check_negative(p, LDNS_RCODE_NXDOMAIN) == 0);
	ldns_pkt_free(p);
	p = askt(d, "_validation-persist." UUID2 ".auth.example.org", LDNS_RR_TYPE_TXT);
	CHECK(check_negative(p, LDNS_RCODE_NXDOMAIN) == 0);
	ldns_pkt_free(p);
	p = askt(d, UUID1 ".auth.example.org", LDNS_RR_TYPE_TXT);
	CHECK(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 1);
	ldns_pkt_free(p);
	CHECK(dnsd_publish(d, UUID2, w, 1) == 0);
	p = askt(d, UUID2 ".auth.example.org", LDNS_RR_TYPE_TXT);
	CHECK(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 1);
	ldns_pkt_free(p);
	dnsd_free(d);
	return 0;
}

static int
test_nxdomain_refused(void)
{
	struct dnsd *d = mkdnsd();
	const char *v[1] = { V1 };
	ldns_pkt *p;

	CHECK(d != NULL);
	CHECK(dnsd_publish(d, UUID1, v, 1) == 0);
	p = askt(d, "nothing.auth.example.org", LDNS_RR_TYPE_TXT);
	CHECK(check_negative(p, LDNS_RCODE_NXDOMAIN) == 0);
	ldns_pkt_free(p);
	p = askt(d, "x." UUID1 ".auth.example.org", LDNS_RR_TYPE_TXT);	/* full name */
	CHECK(check_negative(p, LDNS_RCODE_NXDOMAIN) == 0);
	ldns_pkt_free(p);
	p = askt(d, UUID1 ".other.zone", LDNS_RR_TYPE_TXT);
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_REFUSED && !ldns_pkt_aa(p) &&
	    ldns_pkt_qdcount(p) == 1 && count(p, LDNS_SECTION_ANSWER) == 0);
	ldns_pkt_free(p);
	p = askt(d, "xauth.example.org", LDNS_RR_TYPE_A);	/* ends like the apex */
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	p = askt(d, "example.org", LDNS_RR_TYPE_SOA);
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	dnsd_free(d);
	return 0;
}

static int
test_publish_rotation(void)
{
	struct dnsd *d = mkdnsd();
	const char *v1[1] = { V1 }, *v2[2] = { V3, V1 }, *vd[2] = { V2, V2 };
	ldns_pkt *p;
	char *s;

	CHECK(d != NULL);
	CHECK(dnsd_publish(d, UUID1, v1, 1) == 0);
	p = askt(d, UUID1 ".auth.example.org", LDNS_RR_TYPE_TXT);
	CHECK(p && count(p, LDNS_SECTION_ANSWER) == 1);
	ldns_pkt_free(p);
	CHECK(dnsd_publish(d, UUID1, v2, 2) == 0);	/* visible on return */
	p = askt(d, UUID1 ".auth.example.org", LDNS_RR_TYPE_TXT);
	CHECK(p && count(p, LDNS_SECTION_ANSWER) == 2);
	s = rdf_str(rr_at(p, LDNS_SECTION_ANSWER, 0), 0);
	CHECK(s && strcmp(s, "\"" V3 "\"") == 0);
	free(s);
	ldns_pkt_free(p);
	CHECK(dnsd_publish(d, UUID1, vd, 2) == 0);	/* duplicates collapse (RFC 2181 §5) */
	p = askt(d, UUID1 ".auth.example.org", LDNS_RR_TYPE_TXT);
	CHECK(p && count(p, LDNS_SECTION_ANSWER) == 1);
	ldns_pkt_free(p);
	CHECK(dnsd_publish(d, UUID1, NULL, 0) == 0);
	p = askt(d, UUID1 ".auth.example.org", LDNS_RR_TYPE_TXT);
	CHECK(check_negative(p, LDNS_RCODE_NOERROR) == 0);
	ldns_pkt_free(p);
	/* bad labels are refused */
	CHECK(dnsd_publish(d, "a.b", v1, 1) == -1);
	CHECK(dnsd_publish(d, "", v1, 1) == -1);
	CHECK(dnsd_publish(d, "0123456789012345678901234567890123456789012345678901234567890123",
	    v1, 1) == -1);
	/* many names: the table grows, every name still answers */
	for (int i = 0; i < 5000; i++) {
		char name[32];

		snprintf(name, sizeof(name), "n%d", i);
		CHECK(dnsd_publish(d, name, v1, 1) == 0);
	}
	for (int i = 0; i < 5000; i += 499) {
		char name[64];

		snprintf(name, sizeof(name), "N%d.auth.example.org", i);
		p = askt(d, name, LDNS_RR_TYPE_TXT);
		CHECK(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 1);
		ldns_pkt_free(p);
	}
	dnsd_free(d);
	return 0;
}

static int
test_edns(void)
{
	struct dnsd *d = mkdnsd();
	const char *v[1] = { V1 };
	struct qopt o = { .id = 9, .qtype = LDNS_RR_TYPE_TXT, .edns = 1, .udpsize = 4096,
	    .dobit = true, .option = true };
	ldns_pkt *p;

	CHECK(d != NULL);
	CHECK(dnsd_publish(d, UUID1, v, 1) == 0);
	p = ask(d, UUID1 ".auth.example.org", &o, false, NULL, NULL);
	CHECK(p && pkt_rcode(p) == 0 && ldns_pkt_edns(p) && ldns_pkt_edns_udp_size(p) == 1232 &&
	    ldns_pkt_edns_do(p) && ldns_pkt_edns_version(p) == 0 &&
	    count(p, LDNS_SECTION_ANSWER) == 1);
	ldns_pkt_free(p);
	o.dobit = false;
	p = ask(d, UUID1 ".auth.example.org", &o, false, NULL, NULL);
	CHECK(p && ldns_pkt_edns(p) && !ldns_pkt_edns_do(p));
	ldns_pkt_free(p);
	/* BADVERS: extended RCODE 16, answered with version 0 (RFC 6891 §6.1.3) */
	o.version = 1;
	p = ask(d, UUID1 ".auth.example.org", &o, false, NULL, NULL);
	CHECK(p && ldns_pkt_edns(p) && ldns_pkt_edns_extended_rcode(p) == 1 &&
	    pkt_rcode(p) == 0 && ldns_pkt_edns_version(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 0);
	ldns_pkt_free(p);
	/* two OPTs, or an OPT not owned by the root: FORMERR */
	o.version = 0;
	o.edns = 2;
	p = ask(d, UUID1 ".auth.example.org", &o, false, NULL, NULL);
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_FORMERR);
	ldns_pkt_free(p);
	o.edns = 1;
	o.badowner = true;
	p = ask(d, UUID1 ".auth.example.org", &o, false, NULL, NULL);
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_FORMERR);
	ldns_pkt_free(p);
	/* negative answers carry OPT too */
	o.badowner = false;
	p = ask(d, "nope.auth.example.org", &o, false, NULL, NULL);
	CHECK(p && ldns_pkt_edns(p) && pkt_rcode(p) == LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	dnsd_free(d);
	return 0;
}

static int
test_truncation(void)
{
	struct dnsd *d = mkdnsd();
	const char *v[16];
	char big[16][1001];
	struct qopt o = { .id = 5, .qtype = LDNS_RR_TYPE_TXT };
	ldns_pkt *p;
	int n;

	CHECK(d != NULL);
	for (int i = 0; i < 16; i++) {
		memset(big[i], 'a' + i, 1000);
		big[i][1000] = '\0';
		v[i] = big[i];
	}
	CHECK(dnsd_publish(d, UUID1, v, 2) == 0);	/* ~2 KB: over 512 and 1232 */
	p = ask(d, UUID1 ".auth.example.org", &o, false, NULL, &n);
	CHECK(p && ldns_pkt_tc(p) && count(p, LDNS_SECTION_ANSWER) == 0 && ldns_pkt_qdcount(p) == 1);
	ldns_pkt_free(p);
	o.edns = 1;
	o.udpsize = 100;	/* counts as 512 */
	p = ask(d, UUID1 ".auth.example.org", &o, false, NULL, &n);
	CHECK(p && ldns_pkt_tc(p) && ldns_pkt_edns(p) && count(p, LDNS_SECTION_ANSWER) == 0);
	ldns_pkt_free(p);
	p = ask(d, UUID1 ".auth.example.org", &o, true, NULL, &n);	/* TCP: all of it */
	CHECK(p && !ldns_pkt_tc(p) && count(p, LDNS_SECTION_ANSWER) == 2 && n > 2000);
	ldns_pkt_free(p);
	CHECK(dnsd_publish(d, UUID1, v, 16) == 0);
	p = ask(d, UUID1 ".auth.example.org", &o, true, NULL, &n);
	CHECK(p && count(p, LDNS_SECTION_ANSWER) == 16);
	ldns_pkt_free(p);
	/* one value that fits in 512 without EDNS */
	v[0] = V1;
	CHECK(dnsd_publish(d, UUID1, v, 1) == 0);
	o.edns = 0;
	p = ask(d, UUID1 ".auth.example.org", &o, false, NULL, &n);
	CHECK(p && !ldns_pkt_tc(p) && count(p, LDNS_SECTION_ANSWER) == 1);
	ldns_pkt_free(p);
	dnsd_free(d);
	return 0;
}

static int
test_any(void)
{
	struct dnsd *d = mkdnsd();
	const char *v[2] = { V1, V2 };
	ldns_pkt *p;

	CHECK(d != NULL);
	CHECK(dnsd_publish(d, UUID1, v, 2) == 0);
	p = askt(d, UUID1 ".auth.example.org", LDNS_RR_TYPE_ANY);
	CHECK(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 2 &&
	    ldns_rr_get_type(rr_at(p, LDNS_SECTION_ANSWER, 0)) == LDNS_RR_TYPE_TXT);
	ldns_pkt_free(p);
	p = askt(d, "auth.example.org", LDNS_RR_TYPE_ANY);	/* one RRset: the SOA */
	CHECK(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 1 &&
	    ldns_rr_get_type(rr_at(p, LDNS_SECTION_ANSWER, 0)) == LDNS_RR_TYPE_SOA);
	ldns_pkt_free(p);
	dnsd_free(d);
	return 0;
}

static int
test_opcode_class_xfr(void)
{
	struct dnsd *d = mkdnsd();
	struct qopt o = { .id = 3, .qtype = LDNS_RR_TYPE_SOA, .flags = 4 << 11 };
	ldns_pkt *p;

	CHECK(d != NULL);
	p = ask(d, "auth.example.org", &o, false, NULL, NULL);	/* NOTIFY */
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_NOTIMPL && ldns_pkt_get_opcode(p) == LDNS_PACKET_NOTIFY);
	ldns_pkt_free(p);
	o.flags = 0;
	o.qclass = LDNS_RR_CLASS_CH;
	o.qtype = LDNS_RR_TYPE_TXT;
	p = ask(d, "version.bind", &o, false, NULL, NULL);
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_REFUSED && !ldns_pkt_aa(p));
	ldns_pkt_free(p);
	o.qclass = 0;
	o.qtype = LDNS_RR_TYPE_AXFR;
	p = ask(d, "auth.example.org", &o, true, NULL, NULL);
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	o.qtype = LDNS_RR_TYPE_IXFR;
	p = ask(d, "auth.example.org", &o, false, NULL, NULL);
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	dnsd_free(d);
	return 0;
}

static int
test_malformed(void)
{
	struct dnsd *d = mkdnsd();
	struct qopt o = { .id = 0x4242, .qtype = LDNS_RR_TYPE_A };
	uint8_t q[600], a[2048];
	size_t ql;
	ldns_pkt *p;

	CHECK(d != NULL);
	o.qdcount = 2;
	p = ask(d, "auth.example.org", &o, false, NULL, NULL);
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_FORMERR && ldns_pkt_id(p) == 0x4242);
	ldns_pkt_free(p);
	o.qdcount = 0;
	ql = mkq(q, "auth.example.org", &o);
	q[5] = 0;	/* QDCOUNT 0 */
	CHECK(dnsd_answer(d, q, ql, a, sizeof(a), false) == 12 && (a[3] & 0xf) == 1);
	/* a question that ends early: FORMERR */
	ql = mkq(q, "auth.example.org", &o);
	CHECK(dnsd_answer(d, q, ql - 3, a, sizeof(a), false) == 12 && (a[3] & 0xf) == 1);
	CHECK(dnsd_answer(d, q, 13, a, sizeof(a), false) == 12 && (a[3] & 0xf) == 1);
	/* a compression pointer in the question: FORMERR */
	q[12] = 0xc0;
	q[13] = 0x0c;
	CHECK(dnsd_answer(d, q, ql, a, sizeof(a), false) == 12 && (a[3] & 0xf) == 1);
	/* no header: dropped */
	CHECK(dnsd_answer(d, q, 11, a, sizeof(a), false) == 0);
	/* a response: dropped */
	ql = mkq(q, "auth.example.org", &o);
	q[2] |= 0x80;
	CHECK(dnsd_answer(d, q, ql, a, sizeof(a), false) == 0);
	/* an additional record that ends early: FORMERR */
	o.edns = 1;
	o.udpsize = 1232;
	ql = mkq(q, "auth.example.org", &o);
	CHECK(dnsd_answer(d, q, ql - 1, a, sizeof(a), false) == 12 && (a[3] & 0xf) == 1);
	/* random garbage never crashes */
	srand(1);
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(rand() % 80);

		for (size_t k = 0; k < n; k++)
			q[k] = (uint8_t)rand();
		if (n > 12 && (i & 1)) {
			q[2] &= 0x07;	/* make it a QUERY more often */
			q[4] = 0;
			q[5] = 1;
		}
		CHECK(dnsd_answer(d, q, n, a, DNSD_MAX_UDP_PAYLOAD, false) >= 0);
	}
	dnsd_free(d);
	return 0;
}

static int
test_cname(void)
{
	struct dnsd *d = mkdnsd();
	const char *v[1] = { V1 };
	ldns_pkt *p;

	CHECK(d != NULL);
	CHECK(dnsd_publish(d, UUID1, v, 1) == 0);
	p = askt(d, "www.auth.example.org", LDNS_RR_TYPE_A);
	CHECK(p && pkt_rcode(p) == 0 && ldns_pkt_aa(p) && count(p, LDNS_SECTION_ANSWER) == 2 &&
	    ldns_rr_get_type(rr_at(p, LDNS_SECTION_ANSWER, 0)) == LDNS_RR_TYPE_CNAME &&
	    ldns_rr_get_type(rr_at(p, LDNS_SECTION_ANSWER, 1)) == LDNS_RR_TYPE_A);
	ldns_pkt_free(p);
	p = askt(d, "www.auth.example.org", LDNS_RR_TYPE_CNAME);
	CHECK(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 1);
	ldns_pkt_free(p);
	p = askt(d, "www.auth.example.org", LDNS_RR_TYPE_MX);	/* target has no MX */
	CHECK(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 1 &&
	    count(p, LDNS_SECTION_AUTHORITY) == 1);
	ldns_pkt_free(p);
	p = askt(d, "chal.auth.example.org", LDNS_RR_TYPE_TXT);	/* to a challenge name */
	CHECK(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 2 &&
	    ldns_rr_get_type(rr_at(p, LDNS_SECTION_ANSWER, 1)) == LDNS_RR_TYPE_TXT);
	{
		char *o = ldns_rdf2str(ldns_rr_owner(rr_at(p, LDNS_SECTION_ANSWER, 1)));

		CHECK(o && strcmp(o, UUID1 ".auth.example.org.") == 0);
		free(o);
	}
	ldns_pkt_free(p);
	p = askt(d, "ext.auth.example.org", LDNS_RR_TYPE_A);	/* target outside */
	CHECK(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 1 &&
	    count(p, LDNS_SECTION_AUTHORITY) == 0);
	ldns_pkt_free(p);
	dnsd_free(d);
	return 0;
}

static int
test_static(void)
{
	struct dnsd *d = mkdnsd();
	ldns_pkt *p;
	char *s;

	CHECK(d != NULL);
	p = askt(d, "auth.example.org", LDNS_RR_TYPE_NS);	/* NS with glue */
	CHECK(p && pkt_rcode(p) == 0 && ldns_pkt_aa(p) && count(p, LDNS_SECTION_ANSWER) == 1 &&
	    count(p, LDNS_SECTION_ADDITIONAL) == 2);
	ldns_pkt_free(p);
	p = askt(d, "auth.example.org", LDNS_RR_TYPE_SOA);
	CHECK(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 1);
	s = rdf_str(rr_at(p, LDNS_SECTION_ANSWER, 0), 1);
	CHECK(s && strcmp(s, "hostmaster.example.org.") == 0);
	free(s);
	ldns_pkt_free(p);
	p = askt(d, "TXT.auth.example.org", LDNS_RR_TYPE_TXT);	/* data case kept */
	s = p ? rdf_str(rr_at(p, LDNS_SECTION_ANSWER, 0), 1) : NULL;
	CHECK(s && strcmp(s, "\"v=DKIM1; p=MiXeDCase\"") == 0);
	free(s);
	ldns_pkt_free(p);
	p = askt(d, "caa.auth.example.org", LDNS_RR_TYPE_CAA);
	CHECK(p && count(p, LDNS_SECTION_ANSWER) == 1);
	ldns_pkt_free(p);
	p = askt(d, "mail.auth.example.org", LDNS_RR_TYPE_MX);
	CHECK(p && count(p, LDNS_SECTION_ANSWER) == 1);
	ldns_pkt_free(p);
	p = askt(d, "dup.auth.example.org", LDNS_RR_TYPE_A);	/* duplicates dropped */
	CHECK(p && count(p, LDNS_SECTION_ANSWER) == 1);
	ldns_pkt_free(p);
	p = askt(d, "ns1.auth.example.org", LDNS_RR_TYPE_AAAA);	/* acme-dns absolute name */
	CHECK(p && count(p, LDNS_SECTION_ANSWER) == 1);
	ldns_pkt_free(p);
	/* a delegation: referral without AA, glue in additional */
	p = askt(d, "x.sub.auth.example.org", LDNS_RR_TYPE_A);
	CHECK(p && pkt_rcode(p) == 0 && !ldns_pkt_aa(p) && count(p, LDNS_SECTION_ANSWER) == 0 &&
	    count(p, LDNS_SECTION_AUTHORITY) == 1 && count(p, LDNS_SECTION_ADDITIONAL) == 1);
	ldns_pkt_free(p);
	p = askt(d, "sub.auth.example.org", LDNS_RR_TYPE_DS);	/* DS: ours, and none */
	CHECK(check_negative(p, LDNS_RCODE_NOERROR) == 0);
	ldns_pkt_free(p);
	dnsd_free(d);
	return 0;
}

/* dnsd_new must reject bad zones with "file:line: message". */
static int
test_zone_errors(void)
{
	static const struct {
		const char *rec;
		const char *want;
	} bad[] = {
		{ "www.example.net. A 192.0.2.1", "test.cfg:42: record outside the zone" },
		{ "xauth.example.org. A 192.0.2.1", "test.cfg:42: record outside the zone" },
		{ "www A 300.1.1.1", "test.cfg:42: " },
		{ "www BOGUS foo", "test.cfg:42: " },
		{ "@ SOA a. b. 1 2 3 4 5", "test.cfg:42: the SOA" },
		{ "www HINFO a b", "test.cfg:42: record type not supported" },
		{ "* A 192.0.2.1", "test.cfg:42: wildcard" },
		{ "www CH A 192.0.2.1", "test.cfg:42: " },
		/* Refused before ldns parses it: ldns leaks on a bad CERT (fuzz_config). */
		{ "7ww CERT 0 issuewild \";\"", "test.cfg:42: record type not supported" },
		{ "www 3600 IN CERT x", "test.cfg:42: record type not supported" },
		{ "www", "test.cfg:42: record type missing or unknown" },
		{ "www IN 60", "test.cfg:42: record type missing or unknown" },
	};
	struct dnsd_params p;
	char err[512];
	unsigned line = 42;
	struct dnsd *d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *recs[1] = { bad[i].rec };

		params_init(&p);
		p.records = recs;
		p.record_lines = &line;
		p.nrecords = 1;
		err[0] = '\0';
		d = dnsd_new(&p, err, sizeof(err));
		if (d != NULL || strncmp(err, bad[i].want, strlen(bad[i].want)) != 0) {
			fprintf(stderr, "    %s: got \"%s\"\n", bad[i].rec, err);
			dnsd_free(d);
			return 1;
		}
	}
	/* CNAME and other data at one name; CNAME at the apex */
	{
		const char *recs[2] = { "www A 192.0.2.1", "www CNAME auth.example.org." };
		unsigned l2[2] = { 7, 8 };

		params_init(&p);
		p.records = recs;
		p.record_lines = l2;
		p.nrecords = 2;
		CHECK(dnsd_new(&p, err, sizeof(err)) == NULL);
		CHECK(strncmp(err, "test.cfg:8: a CNAME cannot have other data", 42) == 0);
		recs[0] = "@ CNAME www.example.net.";
		p.nrecords = 1;
		CHECK(dnsd_new(&p, err, sizeof(err)) == NULL);
		CHECK(strstr(err, "apex") != NULL);
	}
	params_init(&p);
	/* listen is parsed once, by common/config.c: a bad one never reaches dnsd */
	CHECK(!config_listen_parse("127.0.0.1", &p.listen));
	CHECK(!config_listen_parse("::1:53", &p.listen));
	CHECK(config_listen_parse(":53", &p.listen) && p.listen.family == AF_UNSPEC &&
	    p.listen.port == 53);
	params_init(&p);
	p.domain = "";
	CHECK(dnsd_new(&p, err, sizeof(err)) == NULL && strstr(err, "domain") != NULL);
	params_init(&p);
	CHECK(config_listen_parse("[::1]:53", &p.listen) && p.listen.family == AF_INET6);
	CHECK(dnsd_new(&p, err, sizeof(err)) == NULL && strstr(err, "IPv6") != NULL);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Table growth, EDNS payload, OPT on errors, MX/SRV additional addresses */

/* The TXT value of the first answer, compared with want; 0 if equal. */
static int
txt_is(struct dnsd *d, const char *name, const char *want)
{
	ldns_pkt *p = askt(d, name, LDNS_RR_TYPE_TXT);
	char *s = p ? rdf_str(rr_at(p, LDNS_SECTION_ANSWER, 0), 0) : NULL;
	char quoted[64];
	int rc;

	snprintf(quoted, sizeof(quoted), "\"%s\"", want);
	rc = !(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 1 && s &&
	    strcmp(s, quoted) == 0);
	if (rc)
		fprintf(stderr, "    %s: got %s, want %s\n", name, s ? s : "(nothing)", quoted);
	free(s);
	ldns_pkt_free(p);
	return rc;
}

/* True if the next publish of a new name grows the table (table.c's rule). */
static bool
grows_next(struct dnsd *d)
{
	struct dnsd_ctable *t = atomic_load(&d->table);

	return (t->count + 1) * 2 > t->mask + 1;
}

/*
 * 5000 names, each with its own value, every one checked: the names that
 * trigger a growth (phase 1), and at each growth point of a second server a
 * replacement of an existing name's value (phase 2), which must land in the
 * new table, not the old one that is retired.
 */
static int
test_table_growth(void)
{
	enum { N = 5000 };
	static char want[N][16];
	struct dnsd *d;
	int grew = 0, replaced = 0;

	for (int phase = 1; phase <= 2; phase++) {
		CHECK((d = mkdnsd()) != NULL);
		for (int i = 0; i < N; i++) {
			char name[48];
			const char *v[1] = { want[i] };

			if (phase == 2 && i > 0 && grows_next(d)) {
				int k = i / 2;	/* replace an older name's value as the table grows */
				const char *r[1] = { want[k] };
				size_t before = atomic_load(&d->table)->mask;

				snprintf(want[k], sizeof(want[k]), "r%d-%d", k, i);
				snprintf(name, sizeof(name), "n%d", k);
				CHECK(dnsd_publish(d, name, r, 1) == 0);
				CHECK(atomic_load(&d->table)->mask > before);
				snprintf(name, sizeof(name), "n%d.auth.example.org", k);
				CHECK(txt_is(d, name, want[k]) == 0);
				replaced++;
			}
			if (phase == 1 && grows_next(d))
				grew++;
			snprintf(want[i], sizeof(want[i]), "v%d", i);
			snprintf(name, sizeof(name), "n%d", i);
			CHECK(dnsd_publish(d, name, v, 1) == 0);
			snprintf(name, sizeof(name), "N%d.auth.example.org", i);
			CHECK(txt_is(d, name, want[i]) == 0);	/* the one that grew it, too */
		}
		for (int i = 0; i < N; i++) {
			char name[32];

			snprintf(name, sizeof(name), "n%d.auth.example.org", i);
			CHECK(txt_is(d, name, want[i]) == 0);
		}
		dnsd_free(d);
	}
	CHECK(grew >= 3 && replaced >= 3);	/* 1024 -> 2048 -> ... -> 16384 */
	return 0;
}

/* An answer of about 800 bytes: whole with EDNS 1232, truncated with 512. */
static int
test_edns_payload(void)
{
	struct dnsd *d = mkdnsd();
	char big[3][241];
	const char *v[3] = { big[0], big[1], big[2] };
	struct qopt o = { .id = 7, .qtype = LDNS_RR_TYPE_TXT, .edns = 1, .udpsize = 1232 };
	ldns_pkt *p;
	int n;

	CHECK(d != NULL);
	for (int i = 0; i < 3; i++) {
		memset(big[i], 'x' + i, 240);
		big[i][240] = '\0';
	}
	CHECK(dnsd_publish(d, UUID1, v, 3) == 0);
	p = ask(d, UUID1 ".auth.example.org", &o, false, NULL, &n);
	CHECK(p && !ldns_pkt_tc(p) && count(p, LDNS_SECTION_ANSWER) == 3 && n >= 800 && n <= 900);
	ldns_pkt_free(p);
	o.udpsize = 512;
	p = ask(d, UUID1 ".auth.example.org", &o, false, NULL, &n);
	CHECK(p && ldns_pkt_tc(p) && count(p, LDNS_SECTION_ANSWER) == 0 && ldns_pkt_edns(p) &&
	    n <= 512);
	ldns_pkt_free(p);
	o.udpsize = 1232;
	o.edns = 0;	/* no EDNS: 512 */
	p = ask(d, UUID1 ".auth.example.org", &o, false, NULL, &n);
	CHECK(p && ldns_pkt_tc(p) && !ldns_pkt_edns(p));
	ldns_pkt_free(p);
	dnsd_free(d);
	return 0;
}

/* NOTIMP and FORMERR carry OPT when the query's OPT was readable (RFC 6891 §6, §7). */
static int
test_opt_on_errors(void)
{
	struct dnsd *d = mkdnsd();
	struct qopt o = { .id = 3, .qtype = LDNS_RR_TYPE_SOA, .flags = 4 << 11, .edns = 1,
	    .udpsize = 1232 };
	uint8_t q[600], a[2048];
	size_t ql;
	ldns_pkt *p;

	CHECK(d != NULL);
	p = ask(d, "auth.example.org", &o, false, NULL, NULL);	/* NOTIFY with OPT */
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_NOTIMPL && ldns_pkt_edns(p));
	ldns_pkt_free(p);
	o.flags = 5 << 11;	/* UPDATE */
	p = ask(d, "auth.example.org", &o, false, NULL, NULL);
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_NOTIMPL && ldns_pkt_edns(p));
	ldns_pkt_free(p);
	o.edns = 0;
	p = ask(d, "auth.example.org", &o, false, NULL, NULL);	/* no OPT in, none out */
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_NOTIMPL && !ldns_pkt_edns(p));
	ldns_pkt_free(p);
	o.flags = 0;
	o.edns = 1;
	o.qdcount = 2;	/* two questions (the one of 22 bytes twice): FORMERR, with OPT */
	ql = mkq(q, "auth.example.org", &o);
	memmove(q + 12 + 22, q + 12, ql - 12);
	ql += 22;
	CHECK(dnsd_answer(d, q, ql, a, sizeof(a), false) == 12 + 11 && (a[3] & 0xf) == 1 &&
	    a[11] == 1 && a[12] == 0 && a[14] == 41);
	o.qdcount = 1;
	ql = mkq(q, "auth.example.org", &o);
	q[5] = 0;	/* QDCOUNT 0 without a cookie: FORMERR, with OPT (the question is read as OPT's owner... */
	memmove(q + 12, q + 12 + 22, ql - 12 - 22);	/* ...so drop it: header + OPT) */
	ql -= 22;
	CHECK(dnsd_answer(d, q, ql, a, sizeof(a), false) == 12 + 11 && (a[3] & 0xf) == 1 &&
	    a[11] == 1 && a[12] == 0 && a[14] == 41);
	o.qtype = LDNS_RR_TYPE_OPT;	/* QTYPE OPT: FORMERR with OPT */
	p = ask(d, "auth.example.org", &o, false, NULL, NULL);
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_FORMERR && ldns_pkt_edns(p));
	ldns_pkt_free(p);
	o.qtype = LDNS_RR_TYPE_A;
	o.badowner = true;	/* an unreadable OPT: FORMERR without one */
	p = ask(d, "auth.example.org", &o, false, NULL, NULL);
	CHECK(p && pkt_rcode(p) == LDNS_RCODE_FORMERR && !ldns_pkt_edns(p));
	ldns_pkt_free(p);
	dnsd_free(d);
	return 0;
}

/* MX and SRV targets in the zone get their addresses in the additional section. */
static int
test_mx_srv_additional(void)
{
	static const char *recs[] = {
		"auth.example.org. A 192.0.2.1",
		"mail MX 10 mx1.auth.example.org.",
		"mail MX 20 elsewhere.example.net.",
		"mx1 A 192.0.2.25",
		"mx1 AAAA 2001:db8::25",
		"_sip._tcp SRV 0 5 5060 sip.auth.example.org.",
		"sip A 192.0.2.60",
		"_none._tcp SRV 0 0 0 .",
	};
	static const unsigned rl[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct dnsd_params prm;
	char err[256];
	struct dnsd *d;
	ldns_pkt *p;
	char *s;

	params_init(&prm);
	prm.records = recs;
	prm.record_lines = rl;
	prm.nrecords = sizeof(recs) / sizeof(recs[0]);
	CHECK((d = dnsd_new(&prm, err, sizeof(err))) != NULL);
	p = askt(d, "mail.auth.example.org", LDNS_RR_TYPE_MX);
	CHECK(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 2 &&
	    count(p, LDNS_SECTION_ADDITIONAL) == 2);
	CHECK(ldns_rr_get_type(rr_at(p, LDNS_SECTION_ADDITIONAL, 0)) == LDNS_RR_TYPE_A &&
	    ldns_rr_get_type(rr_at(p, LDNS_SECTION_ADDITIONAL, 1)) == LDNS_RR_TYPE_AAAA);
	s = ldns_rdf2str(ldns_rr_owner(rr_at(p, LDNS_SECTION_ADDITIONAL, 0)));
	CHECK(s && strcmp(s, "mx1.auth.example.org.") == 0);
	free(s);
	ldns_pkt_free(p);
	p = askt(d, "_sip._tcp.auth.example.org", LDNS_RR_TYPE_SRV);
	CHECK(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 1 &&
	    count(p, LDNS_SECTION_ADDITIONAL) == 1);
	s = rdf_str(rr_at(p, LDNS_SECTION_ADDITIONAL, 0), 0);
	CHECK(s && strcmp(s, "192.0.2.60") == 0);
	free(s);
	ldns_pkt_free(p);
	p = askt(d, "_none._tcp.auth.example.org", LDNS_RR_TYPE_SRV);	/* target "." */
	CHECK(p && pkt_rcode(p) == 0 && count(p, LDNS_SECTION_ANSWER) == 1 &&
	    count(p, LDNS_SECTION_ADDITIONAL) == 0);
	ldns_pkt_free(p);
	dnsd_free(d);
	return 0;
}

/* ------------------------------------------------------------------ */
/* RRL and cookies */

static void
sa4(struct sockaddr_storage *ss, const char *ip)
{
	struct sockaddr_in *s = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &s->sin_addr);
}

static void
sa6(struct sockaddr_storage *ss, const char *ip)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &s->sin6_addr);
}

static enum dnsd_rrl_verdict
rrl_acct(struct dnsd_rrl *r, const struct sockaddr_storage *ss, enum dnsd_rrl_kind k,
    const char *name, uint32_t now)
{
	return rrl_account(r, (const struct sockaddr *)ss, k, (const uint8_t *)name,
	    name ? strlen(name) + 1 : 0, now);
}

/* The token bucket: rate answers a second, then every slip-th limited one slips. */
static int
test_rrl_bucket(void)
{
	struct dnsd_rrl r;
	struct sockaddr_storage a, b, c;

	CHECK(rrl_init(&r, 0, 2, 1) == 0 && r.bucket == NULL);	/* rate 0: off */
	sa4(&a, "192.0.2.1");
	CHECK(rrl_acct(&r, &a, DNSD_RRL_POSITIVE, "x", 1) == DNSD_RRL_PASS);
	CHECK(rrl_init(&r, 5, 2, 1) == 0 && r.bucket != NULL);
	for (int i = 0; i < 5; i++)
		CHECK(rrl_acct(&r, &a, DNSD_RRL_POSITIVE, "x", 100) == DNSD_RRL_PASS);
	for (int i = 0; i < 6; i++)	/* slip 2: drop, slip, drop, slip ... */
		CHECK(rrl_acct(&r, &a, DNSD_RRL_POSITIVE, "x", 100) ==
		    (i % 2 == 0 ? DNSD_RRL_DROP : DNSD_RRL_SLIP));
	/* the same /24 shares the bucket; another /24, kind or QNAME does not */
	sa4(&b, "192.0.2.254");
	CHECK(rrl_acct(&r, &b, DNSD_RRL_POSITIVE, "x", 100) != DNSD_RRL_PASS);
	sa6(&b, "::ffff:192.0.2.77");	/* IPv4-mapped: the same /24 */
	CHECK(rrl_acct(&r, &b, DNSD_RRL_POSITIVE, "x", 100) != DNSD_RRL_PASS);
	sa4(&b, "192.0.3.1");
	CHECK(rrl_acct(&r, &b, DNSD_RRL_POSITIVE, "x", 100) == DNSD_RRL_PASS);
	CHECK(rrl_acct(&r, &a, DNSD_RRL_NXDOMAIN, "x", 100) == DNSD_RRL_PASS);
	CHECK(rrl_acct(&r, &a, DNSD_RRL_POSITIVE, "y", 100) == DNSD_RRL_PASS);
	/* NXDOMAIN, NODATA and errors are keyed without the QNAME */
	for (int i = 0; i < 4; i++)
		CHECK(rrl_acct(&r, &a, DNSD_RRL_NXDOMAIN, i % 2 ? "p" : "q", 100) == DNSD_RRL_PASS);
	CHECK(rrl_acct(&r, &a, DNSD_RRL_NXDOMAIN, "other", 100) != DNSD_RRL_PASS);
	/* a new second refills the bucket */
	for (int i = 0; i < 5; i++)
		CHECK(rrl_acct(&r, &a, DNSD_RRL_POSITIVE, "x", 101) == DNSD_RRL_PASS);
	CHECK(rrl_acct(&r, &a, DNSD_RRL_POSITIVE, "x", 101) == DNSD_RRL_DROP);
	/* IPv6 /56 */
	sa6(&a, "2001:db8:0:100::1");
	sa6(&b, "2001:db8:0:1ff:ffff::2");
	sa6(&c, "2001:db8:0:200::1");
	for (int i = 0; i < 5; i++)
		CHECK(rrl_acct(&r, &a, DNSD_RRL_ERROR, NULL, 100) == DNSD_RRL_PASS);
	CHECK(rrl_acct(&r, &b, DNSD_RRL_ERROR, NULL, 100) == DNSD_RRL_DROP);
	CHECK(rrl_acct(&r, &c, DNSD_RRL_ERROR, NULL, 100) == DNSD_RRL_PASS);
	rrl_fini(&r);
	/* slip 0 drops all, slip 1 slips all, slip 3 every third */
	for (unsigned slip = 0; slip <= 3; slip += (slip == 1 ? 2 : 1)) {
		CHECK(rrl_init(&r, 1, slip, 7) == 0);
		sa4(&a, "198.51.100.9");
		CHECK(rrl_acct(&r, &a, DNSD_RRL_EMPTY, NULL, 5) == DNSD_RRL_PASS);
		for (unsigned i = 1; i <= 9; i++) {
			enum dnsd_rrl_verdict want = slip != 0 && i % slip == 0 ? DNSD_RRL_SLIP :
			    DNSD_RRL_DROP;

			CHECK(rrl_acct(&r, &a, DNSD_RRL_EMPTY, NULL, 5) == want);
		}
		rrl_fini(&r);
	}
	/* the kinds, after Knot */
	CHECK(rrl_kind(0, 1, DNSD_T_TXT) == DNSD_RRL_POSITIVE);
	CHECK(rrl_kind(0, 0, DNSD_T_TXT) == DNSD_RRL_EMPTY);
	CHECK(rrl_kind(0, 1, DNSD_T_ANY) == DNSD_RRL_ANY);
	CHECK(rrl_kind(3, 0, DNSD_T_TXT) == DNSD_RRL_NXDOMAIN);
	CHECK(rrl_kind(5, 0, DNSD_T_TXT) == DNSD_RRL_ERROR);
	CHECK(rrl_kind(1, 0, 0) == DNSD_RRL_ERROR);
	return 0;
}

static int
hex(const char *s, uint8_t *out)
{
	size_t n = strlen(s) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (int)n;
}

/* RFC 9018 Appendix A.1 and A.2: the server cookie, byte for byte. */
static int
test_cookie_vectors(void)
{
	struct dnsd_params prm;
	char err[256];
	struct dnsd *d;
	struct dnsd_ctx c;
	uint8_t secret[16], cc[8], ip[4] = { 198, 51, 100, 100 }, want[16], got[16];

	params_init(&prm);
	prm.cookies = true;
	CHECK((d = dnsd_new(&prm, err, sizeof(err))) != NULL);
	memset(&c, 0, sizeof(c));
	CHECK(cookie_ctx_init(d, &c) == 0 && c.mac != NULL);
	CHECK(hex("e5e973e5a6b2a43f48e7dc849e37bfcf", secret) == 16);
	CHECK(hex("2464c4abcf10c957", cc) == 8);
	CHECK(hex("010000005cf79f111f8130c3eee29480", want) == 16);
	CHECK(cookie_make(&c, secret, cc, ip, 4, 1559731985, got) == 0);
	CHECK(memcmp(got, want, 16) == 0);
	CHECK(hex("010000005cf7a871d4a564a1442aca77", want) == 16);
	CHECK(cookie_make(&c, secret, cc, ip, 4, 1559734385, got) == 0);
	CHECK(memcmp(got, want, 16) == 0);
	/* validity: the A.1 cookie 40 minutes later is valid, 2 hours later not */
	memcpy(c.ck_cur, secret, 16);
	c.ck_has_prev = false;
	CHECK(hex("010000005cf79f111f8130c3eee29480", want) == 16);
	c.wall = 1559731985 + 2400;
	CHECK(cookie_valid(&c, cc, want, 16, ip, 4));
	c.wall = 1559731985 - 200;	/* up to 5 minutes ahead of us */
	CHECK(cookie_valid(&c, cc, want, 16, ip, 4));
	c.wall = 1559731985 - 400;
	CHECK(!cookie_valid(&c, cc, want, 16, ip, 4));
	c.wall = 1559731985 + 7200;
	CHECK(!cookie_valid(&c, cc, want, 16, ip, 4));
	c.wall = 1559731985;
	ip[3]++;	/* another client address */
	CHECK(!cookie_valid(&c, cc, want, 16, ip, 4));
	cookie_ctx_fini(&c);
	dnsd_free(d);
	return 0;
}

/* The COOKIE option of an answer (the last 28 bytes), or -1. */
static int
answer_cookie(const uint8_t *a, int n, uint8_t out[24])
{
	if (n < 12 + 11 + 28 || a[n - 28] != 0 || a[n - 27] != DNSD_OPT_COOKIE ||
	    a[n - 26] != 0 || a[n - 25] != 24 || a[n - 28 - 11] != 0 || a[n - 28 - 10] != 0 ||
	    a[n - 28 - 9] != 41)
		return -1;
	memcpy(out, a + n - 24, 24);
	return 0;
}

static int
ask_cookie(struct dnsd *d, const char *name, const uint8_t *ck, size_t cklen, uint8_t *a, int *n)
{
	struct qopt o = { .id = 11, .qtype = LDNS_RR_TYPE_TXT, .edns = 1, .udpsize = 1232,
	    .cookie = ck, .cookielen = cklen };
	uint8_t q[600];
	size_t ql = mkq(q, name, &o);

	*n = dnsd_answer(d, q, ql, a, DNSD_MAX_UDP_PAYLOAD, false);
	return *n > 12 ? (int)(a[3] & 0xf) : -1;
}

/* Client cookie -> server cookie -> accepted and echoed; bad ones replaced; malformed FORMERR. */
static int
test_cookies(void)
{
	struct dnsd_params prm;
	char err[256];
	struct dnsd *d;
	const char *v[1] = { V1 };
	uint8_t cc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, ck[24], ck2[24], bad[41], a[2048];
	int n;

	params_init(&prm);
	prm.cookies = true;
	CHECK((d = dnsd_new(&prm, err, sizeof(err))) != NULL);
	CHECK(dnsd_publish(d, UUID1, v, 1) == 0);
	/* a client cookie alone gets the answer and a server cookie (RFC 7873 §5.2.3) */
	CHECK(ask_cookie(d, UUID1 ".auth.example.org", cc, 8, a, &n) == 0 && a[7] == 1);
	CHECK(answer_cookie(a, n, ck) == 0 && memcmp(ck, cc, 8) == 0 && ck[8] == 1);
	/* sent back: valid, echoed unchanged, no BADCOOKIE (§5.2.5) */
	CHECK(ask_cookie(d, UUID1 ".auth.example.org", ck, 24, a, &n) == 0 && a[7] == 1);
	CHECK(answer_cookie(a, n, ck2) == 0 && memcmp(ck, ck2, 24) == 0);
	CHECK(a[n - 28 - 6] == 0);	/* extended RCODE 0 */
	/* a wrong server cookie: answered normally with a fresh one (§5.2.4) */
	memcpy(bad, ck, 24);
	bad[23] ^= 1;
	CHECK(ask_cookie(d, UUID1 ".auth.example.org", bad, 24, a, &n) == 0 && a[7] == 1);
	CHECK(answer_cookie(a, n, ck2) == 0 && memcmp(ck2, cc, 8) == 0 &&
	    memcmp(ck2 + 16, bad + 16, 8) != 0);
	/* a server cookie that is not ours in size (8..32 bytes allowed) */
	memcpy(bad, cc, 8);
	memset(bad + 8, 0x55, 32);
	CHECK(ask_cookie(d, UUID1 ".auth.example.org", bad, 40, a, &n) == 0);
	CHECK(answer_cookie(a, n, ck2) == 0 && ck2[8] == 1);
	/* malformed lengths: FORMERR with OPT, no cookie (§5.2.2) */
	static const size_t badlen[] = { 0, 7, 9, 15, 41 };
	for (size_t i = 0; i < sizeof(badlen) / sizeof(badlen[0]); i++) {
		CHECK(ask_cookie(d, UUID1 ".auth.example.org", bad, badlen[i], a, &n) == 1);
		CHECK(n == 12 + 11 && a[11] == 1 && a[12] == 0 && a[14] == 41);
	}
	/* rotation: the previous secret is still accepted, the one before is not */
	cookie_rotate(d);
	CHECK(ask_cookie(d, UUID1 ".auth.example.org", ck, 24, a, &n) == 0);
	CHECK(answer_cookie(a, n, ck2) == 0 && memcmp(ck, ck2, 24) == 0);
	cookie_rotate(d);
	CHECK(ask_cookie(d, UUID1 ".auth.example.org", ck, 24, a, &n) == 0);
	CHECK(answer_cookie(a, n, ck2) == 0 && memcmp(ck2, cc, 8) == 0 &&
	    memcmp(ck + 16, ck2 + 16, 8) != 0);
	/* QDCOUNT 0 with a client cookie: NOERROR with a server cookie (§5.4) */
	{
		struct qopt o = { .id = 12, .qtype = 1, .edns = 1, .udpsize = 1232,
		    .cookie = cc, .cookielen = 8 };
		uint8_t q[600];
		size_t ql = mkq(q, "x", &o);

		q[5] = 0;
		memmove(q + 12, q + 12 + 7, ql - 12 - 7);	/* drop the question */
		ql -= 7;
		n = dnsd_answer(d, q, ql, a, sizeof(a), false);
		CHECK(n > 12 && (a[3] & 0xf) == 0 && a[5] == 0 && answer_cookie(a, n, ck2) == 0);
	}
	dnsd_free(d);
	/* cookies off: the option is ignored, no cookie back */
	params_init(&prm);
	CHECK((d = dnsd_new(&prm, err, sizeof(err))) != NULL);
	CHECK(ask_cookie(d, "auth.example.org", cc, 8, a, &n) == 0);
	CHECK(answer_cookie(a, n, ck2) == -1);
	dnsd_free(d);
	return 0;
}

/* answer_query() as a UDP worker runs it, from a client address. */
static int
ask_from(struct dnsd *d, struct dnsd_ctx *c, const struct qopt *o, const char *name, bool tcp,
    uint8_t *a)
{
	uint8_t q[600];
	size_t ql = mkq(q, name, o);
	int n;

	rcu_online(d, 0);
	n = answer_query(d, c, q, ql, a, tcp ? 65535 : DNSD_MAX_UDP_PAYLOAD, tcp);
	rcu_offline(d, 0);
	return n;
}

/* RRL on the answer path: limited UDP answers dropped or slipped (TC, or BADCOOKIE). */
static int
test_rrl_answers(void)
{
	struct dnsd_params prm;
	char err[256];
	struct dnsd *d;
	struct dnsd_ctx c;
	struct sockaddr_storage from;
	const char *v[1] = { V1 };
	uint8_t cc[8] = { 9, 9, 9, 9, 9, 9, 9, 9 }, ck[24], a[65535];
	struct qopt o = { .id = 5, .qtype = LDNS_RR_TYPE_TXT, .edns = 1, .udpsize = 1232 };
	int n, pass = 0, drop = 0, tc = 0;

	params_init(&prm);
	prm.rrl_rate = 3;
	prm.rrl_slip = 2;
	prm.cookies = true;
	CHECK((d = dnsd_new(&prm, err, sizeof(err))) != NULL);
	CHECK(dnsd_publish(d, UUID1, v, 1) == 0);
	memset(&c, 0, sizeof(c));
	CHECK(cookie_ctx_init(d, &c) == 0);
	sa4(&from, "203.0.113.5");
	c.from = (const struct sockaddr *)&from;
	c.mono = 50;
	c.wall = (uint32_t)time(NULL);
	cookie_tick(d, &c);
	for (int i = 0; i < 13; i++) {
		n = ask_from(d, &c, &o, UUID1 ".auth.example.org", false, a);
		if (n == 0)
			drop++;
		else if (n > 12 && (a[2] & 0x02) && a[7] == 0 && a[5] == 1 && a[11] == 1)
			tc++;	/* TC, the question, no answer, OPT */
		else if (n > 12 && !(a[2] & 0x02) && a[7] == 1)
			pass++;
	}
	CHECK(pass == 3 && drop == 5 && tc == 5);
	/* TCP is never limited */
	CHECK(ask_from(d, &c, &o, UUID1 ".auth.example.org", true, a) > 12 && a[7] == 1);
	/* a client cookie alone: the slipped answer is BADCOOKIE with a server cookie */
	o.cookie = cc;
	o.cookielen = 8;
	n = ask_from(d, &c, &o, UUID1 ".auth.example.org", false, a);
	if (n == 0)
		n = ask_from(d, &c, &o, UUID1 ".auth.example.org", false, a);
	CHECK(n > 12 && !(a[2] & 0x02) && (a[3] & 0xf) == (DNSD_RC_BADCOOKIE & 0xf) &&
	    a[7] == 0 && answer_cookie(a, n, ck) == 0 && a[n - 28 - 6] == DNSD_RC_BADCOOKIE >> 4);
	/* a valid server cookie proves the address: never limited */
	o.cookie = ck;
	o.cookielen = 24;
	for (int i = 0; i < 10; i++)
		CHECK(ask_from(d, &c, &o, UUID1 ".auth.example.org", false, a) > 12 && a[7] == 1);
	/* another network is not affected; the next second refills */
	o.cookie = NULL;
	sa4(&from, "203.0.114.5");
	CHECK(ask_from(d, &c, &o, UUID1 ".auth.example.org", false, a) > 12 && a[7] == 1);
	sa4(&from, "203.0.113.5");
	c.mono = 51;
	CHECK(ask_from(d, &c, &o, UUID1 ".auth.example.org", false, a) > 12 && a[7] == 1);
	cookie_ctx_fini(&c);
	dnsd_free(d);
	return 0;
}


/* ------------------------------------------------------------------ */
/* The allocation guard (docs/architecture.md): zero allocations per answer. */

static int
alloc_run(struct dnsd *d, const char *name, uint16_t qtype, int want_rcode, int want_an)
{
	struct qopt o = { .id = 1, .qtype = qtype, .edns = 1, .udpsize = 1232 };
	uint8_t q[600], a[2048];
	size_t ql = mkq(q, name, &o);
	long before;
	int bad = 0;

	atomic_store(&nallocs, 0);
	atomic_store(&counting, true);
	before = atomic_load(&nallocs);
	for (int i = 0; i < 1000; i++) {
		int n = dnsd_answer(d, q, ql, a, DNSD_MAX_UDP_PAYLOAD, false);

		if (n < 12 || (a[3] & 0xf) != want_rcode || a[7] != want_an)
			bad++;
	}
	atomic_store(&counting, false);
	if (bad != 0 || atomic_load(&nallocs) != before) {
		fprintf(stderr, "    %s: %d bad answers, %ld allocations\n", name, bad,
		    atomic_load(&nallocs) - before);
		return 1;
	}
	return 0;
}

static int
test_alloc_guard(void)
{
	struct dnsd *d = mkdnsd();
	const char *v[2] = { V1, V2 };
	int rc = 0;

	CHECK(d != NULL);
	CHECK(dnsd_publish(d, UUID1, v, 2) == 0);
	CHECK(dnsd_publish(d, UUID2, NULL, 0) == 0);
	/* the guard must be able to see an allocation */
	atomic_store(&nallocs, 0);
	atomic_store(&counting, true);
	CHECK(dnsd_publish(d, UUID2, NULL, 0) == 0);
	atomic_store(&counting, false);
	CHECK(atomic_load(&nallocs) > 0);

	rc |= alloc_run(d, UUID1 ".auth.example.org", LDNS_RR_TYPE_TXT, 0, 2);	/* hit */
	rc |= alloc_run(d, "nx.auth.example.org", LDNS_RR_TYPE_TXT, 3, 0);	/* NXDOMAIN */
	rc |= alloc_run(d, UUID2 ".auth.example.org", LDNS_RR_TYPE_TXT, 0, 0);	/* NODATA */
	rc |= alloc_run(d, UUID1 ".auth.example.org", LDNS_RR_TYPE_A, 0, 0);	/* NODATA */
	rc |= alloc_run(d, "www.auth.example.org", LDNS_RR_TYPE_A, 0, 2);	/* static */
	dnsd_free(d);
	return rc;
}

/*
 * The same with RRL and cookies on, as a UDP worker answers: 1000 queries
 * each with a client cookie alone, with a valid server cookie, and without
 * one, from one address at a low rate, so that answers are passed, dropped
 * and slipped (TC and BADCOOKIE), and the server cookie is made and checked.
 */
static int
test_alloc_guard_rrl_cookies(void)
{
	struct dnsd_params prm;
	char err[256];
	struct dnsd *d;
	struct dnsd_ctx c;
	struct sockaddr_storage from;
	const char *v[2] = { V1, V2 };
	uint8_t cc[8] = { 7, 7, 7, 7, 7, 7, 7, 7 }, ck[24], a[2048];
	struct qopt o = { .id = 1, .qtype = LDNS_RR_TYPE_TXT, .edns = 1, .udpsize = 1232 };
	int n, kinds[4] = { 0 };
	long allocs;

	params_init(&prm);
	prm.rrl_rate = 100;
	prm.rrl_slip = 2;
	prm.cookies = true;
	CHECK((d = dnsd_new(&prm, err, sizeof(err))) != NULL);
	CHECK(dnsd_publish(d, UUID1, v, 2) == 0);
	memset(&c, 0, sizeof(c));
	CHECK(cookie_ctx_init(d, &c) == 0);
	sa4(&from, "192.0.2.10");
	c.from = (const struct sockaddr *)&from;
	c.mono = 7;
	c.wall = (uint32_t)time(NULL);
	cookie_tick(d, &c);
	o.cookie = cc;
	o.cookielen = 8;
	CHECK(ask_from(d, &c, &o, UUID1 ".auth.example.org", false, a) > 0);
	n = ask_from(d, &c, &o, UUID1 ".auth.example.org", false, a);
	CHECK(answer_cookie(a, n, ck) == 0);
	atomic_store(&nallocs, 0);
	atomic_store(&counting, true);
	for (int i = 0; i < 3000; i++) {
		o.cookie = i % 3 == 0 ? NULL : i % 3 == 1 ? cc : ck;
		o.cookielen = i % 3 == 1 ? 8 : 24;
		c.mono = 8 + (uint32_t)(i / 1000);	/* three seconds */
		n = ask_from(d, &c, &o, i % 2 ? UUID1 ".auth.example.org" : "nx.auth.example.org",
		    false, a);
		if (n == 0)
			kinds[0]++;	/* dropped */
		else if (a[2] & 0x02)
			kinds[1]++;	/* slipped: TC */
		else if ((a[3] & 0xf) == (DNSD_RC_BADCOOKIE & 0xf))
			kinds[2]++;	/* slipped: BADCOOKIE */
		else
			kinds[3]++;	/* answered */
	}
	atomic_store(&counting, false);
	allocs = atomic_load(&nallocs);
	if (allocs != 0)
		fprintf(stderr, "    %ld allocations in 3000 answers\n", allocs);
	CHECK(allocs == 0);
	CHECK(kinds[0] > 0 && kinds[1] > 0 && kinds[2] > 0 && kinds[3] > 1000);
	cookie_ctx_fini(&c);
	dnsd_free(d);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Publishers and a reader at once: no torn entry is ever seen. */

struct race {
	struct dnsd *d;
	atomic_bool stop;
	atomic_int bad;
	int id;
};

static void *
publisher(void *arg)
{
	struct race *r = arg;
	const char *v2[2] = { V1, V2 }, *v1[1] = { V3 };

	for (int i = 0; i < 3000; i++) {
		char name[48];

		snprintf(name, sizeof(name), "r%d", i % 40);
		if (dnsd_publish(r->d, name, i & 1 ? v2 : v1, (size_t)(i % 3 == 0 ? 0 : i % 2 + 1)) != 0)
			atomic_fetch_add(&r->bad, 1);
		if (i % 500 == 0) {	/* force table growth during the race */
			for (int k = 0; k < 200; k++) {
				snprintf(name, sizeof(name), "g%d-%d-%d", r->id, i, k);
				dnsd_publish(r->d, name, v1, 1);
			}
		}
	}
	return NULL;
}

static void *
reader(void *arg)
{
	struct race *r = arg;
	struct qopt o = { .id = 1, .qtype = LDNS_RR_TYPE_TXT };
	uint8_t q[600], a[2048];

	while (!atomic_load(&r->stop)) {
		for (int i = 0; i < 40; i++) {
			char name[64];
			size_t ql;
			int n;
			ldns_pkt *p = NULL;

			snprintf(name, sizeof(name), "R%d.auth.example.org", i);
			ql = mkq(q, name, &o);
			n = dnsd_answer(r->d, q, ql, a, sizeof(a), false);
			if (n <= 0 || ldns_wire2pkt(&p, a, (size_t)n) != LDNS_STATUS_OK) {
				atomic_fetch_add(&r->bad, 1);
				continue;
			}
			size_t an = ldns_pkt_ancount(p);
			int rc = pkt_rcode(p);
			/* never published yet: NXDOMAIN; else 0, 1 or 2 values */
			if (!((rc == 3 && an == 0) || (rc == 0 && an <= 2)))
				atomic_fetch_add(&r->bad, 1);
			ldns_pkt_free(p);
		}
	}
	return NULL;
}

static int
test_concurrent_publish(void)
{
	struct race r[2];
	struct race shared;
	pthread_t pub[2], rd;

	memset(&shared, 0, sizeof(shared));
	shared.d = mkdnsd();
	CHECK(shared.d != NULL);
	CHECK(pthread_create(&rd, NULL, reader, &shared) == 0);
	for (int i = 0; i < 2; i++) {
		r[i] = shared;
		r[i].id = i;
		atomic_store(&r[i].bad, 0);
		CHECK(pthread_create(&pub[i], NULL, publisher, &r[i]) == 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(pub[i], NULL);
	atomic_store(&shared.stop, true);
	pthread_join(rd, NULL);
	CHECK(atomic_load(&shared.bad) == 0);
	CHECK(atomic_load(&r[0].bad) == 0 && atomic_load(&r[1].bad) == 0);
	dnsd_free(shared.d);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Real sockets: UDP, TCP with two pipelined queries, the health check. */

static int
test_sockets(void)
{
	struct dnsd *d = mkdnsd();
	const char *v[1] = { V1 };
	char err[256];
	struct sockaddr_in sin;
	struct qopt o = { .id = 0x1111, .qtype = LDNS_RR_TYPE_TXT };
	uint8_t q[600], two[1200], a[4096];
	size_t ql, l2, got = 0;
	ssize_t n;
	int fd;
	struct timeval tv = { 2, 0 };

	CHECK(d != NULL);
	CHECK(dnsd_publish(d, UUID1, v, 1) == 0);
	if (dnsd_start(d, err, sizeof(err)) == -1) {
		fprintf(stderr, "    %s\n", err);
		dnsd_free(d);
		return 1;
	}
	CHECK(dnsd_port(d) > 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)dnsd_port(d));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	/* UDP */
	CHECK((fd = socket(AF_INET, SOCK_DGRAM, 0)) != -1);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ql = mkq(q, UUID1 ".auth.example.org", &o);
	CHECK(sendto(fd, q, ql, 0, (struct sockaddr *)&sin, sizeof(sin)) == (ssize_t)ql);
	n = recv(fd, a, sizeof(a), 0);
	close(fd);
	CHECK(n > (ssize_t)ql && a[0] == 0x11 && a[1] == 0x11 && (a[2] & 0x84) == 0x84 && a[7] == 1);

	/* TCP: two queries in one write, answered in order */
	CHECK((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	two[0] = 0;
	two[1] = (uint8_t)ql;
	memcpy(two + 2, q, ql);
	o.id = 0x2222;
	o.qtype = LDNS_RR_TYPE_SOA;
	l2 = mkq(q, "auth.example.org", &o);
	two[2 + ql] = 0;
	two[3 + ql] = (uint8_t)l2;
	memcpy(two + 4 + ql, q, l2);
	CHECK(send(fd, two, ql + l2 + 4, 0) == (ssize_t)(ql + l2 + 4));
	for (int i = 0; i < 20 && got < 4; i++) {
		size_t need;

		if (got >= 2) {
			need = 2 + (size_t)(a[0] << 8 | a[1]);
			if (got >= need + 2 &&
			    got >= need + 2 + (size_t)(a[need] << 8 | a[need + 1]))
				break;
		}
		if ((n = recv(fd, a + got, sizeof(a) - got, 0)) <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	{
		size_t l1 = (size_t)(a[0] << 8 | a[1]);

		CHECK(got >= l1 + 4);
		size_t lb = (size_t)(a[l1 + 2] << 8 | a[l1 + 3]);
		CHECK(got == l1 + lb + 4);
		CHECK(a[2] == 0x11 && a[3] == 0x11 && a[9] == 1);	/* TXT first */
		CHECK(a[l1 + 4] == 0x22 && a[l1 + 5] == 0x22 && a[l1 + 11] == 1);	/* then SOA */
	}
	CHECK(dnsd_healthy(d));
	dnsd_free(d);
	return 0;
}

/*
 * No other socket may bind our UDP port, even with SO_REUSEPORT and the same
 * user (dig sets SO_REUSEPORT on each query socket and binds port 0): with
 * it, a client whose ephemeral port happened to be ours sent its query to
 * itself and read it back as the "answer" (QR clear; seen as a rare flake of
 * tests/integration/test_api_wire.sh). Also: with the guard in place every
 * query of many clients is still answered, by the right worker sockets.
 */
/* An address of family on port: the loopback, or the wildcard. */
static socklen_t
mkaddr(struct sockaddr_storage *ss, int family, bool any, unsigned port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	sin6->sin6_addr = any ? in6addr_any : in6addr_loopback;
	return sizeof(*sin6);
}

/* 1 if a socket with SO_REUSEPORT (as dig makes) can bind port beside the server. */
static int
hijack_try(int family, bool any, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t sl = mkaddr(&ss, family, any, port);
	struct timeval tv = { 1, 0 };
	struct qopt o = { .id = 0x4242, .qtype = LDNS_RR_TYPE_SOA };
	uint8_t q[600], a[2048];
	int fd, one = 1, bound;
	size_t ql;
	ssize_t n;

	if ((fd = socket(family, SOCK_DGRAM, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	bound = bind(fd, (struct sockaddr *)&ss, sl) == 0;
	if (bound) {	/* show what a client on this port would read */
		sl = mkaddr(&ss, family, false, port);
		ql = mkq(q, "auth.example.org", &o);
		if (connect(fd, (struct sockaddr *)&ss, sl) == 0 &&
		    send(fd, q, ql, 0) == (ssize_t)ql && (n = recv(fd, a, sizeof(a), 0)) >= 12)
			fprintf(stderr, "    bound port %u beside the server; read QR=%d\n", port,
			    a[2] >> 7);
	}
	close(fd);
	return bound;
}

/* Start a server on listen with threads workers; check the port is ours alone. */
static int
guard_run(const char *listen, unsigned proto, int family, unsigned threads)
{
	struct dnsd_params p;
	struct dnsd *d;
	char err[256];
	struct sockaddr_storage ss;
	socklen_t sl;
	struct timeval tv = { 2, 0 };
	int fds[64], answered = 0;

	params_init(&p);
	CHECK(config_listen_parse(listen, &p.listen));
	p.protocol = proto;
	p.threads = threads;
	if ((d = dnsd_new(&p, err, sizeof(err))) == NULL || dnsd_start(d, err, sizeof(err)) == -1) {
		fprintf(stderr, "    %s: %s\n", listen, err);
		dnsd_free(d);
		return 1;
	}
	CHECK(hijack_try(family, true, dnsd_port(d)) == 0);
	CHECK(hijack_try(family, false, dnsd_port(d)) == 0);

	/*
	 * 64 clients at once, each on its own port, each sending first a message
	 * to drop (a response, or a stub shorter than a header), then its query:
	 * the batches mix drops and answers, and every client gets its own answer.
	 */
	sl = mkaddr(&ss, family, false, dnsd_port(d));
	for (int i = 0; i < 64; i++) {
		struct qopt o = { .id = (uint16_t)(0x100 + i), .qtype = LDNS_RR_TYPE_SOA };
		struct qopt r = { .id = (uint16_t)(0xee00 + i), .flags = 0x8400,
		    .qtype = LDNS_RR_TYPE_SOA };
		uint8_t q[600], drop[600];
		size_t ql = mkq(q, i % 2 ? "nx.auth.example.org" : "auth.example.org", &o);
		size_t dl = i % 3 ? mkq(drop, "auth.example.org", &r) : 5;

		fds[i] = socket(family, SOCK_DGRAM, 0);
		CHECK(fds[i] != -1);
		setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		CHECK(sendto(fds[i], drop, dl, 0, (struct sockaddr *)&ss, sl) == (ssize_t)dl);
		CHECK(sendto(fds[i], q, ql, 0, (struct sockaddr *)&ss, sl) == (ssize_t)ql);
	}
	for (int i = 0; i < 64; i++) {
		uint8_t a[2048];
		ssize_t n = recv(fds[i], a, sizeof(a), 0);

		if (n >= 12 && (a[2] & 0x80) && a[0] == 0x01 && a[1] == (uint8_t)i)
			answered++;
		close(fds[i]);
	}
	if (answered != 64)
		fprintf(stderr, "    %s threads=%u: %d of 64 answered\n", listen, threads, answered);
	CHECK(answered == 64);
	CHECK(dnsd_healthy(d));
	dnsd_free(d);
	return 0;
}

/*
 * No other socket may bind our UDP port, even with SO_REUSEPORT and the same
 * user (dig sets SO_REUSEPORT on each query socket and binds port 0): with
 * it, a client whose ephemeral port happened to be ours sent its query to
 * itself and read it back as the "answer" (QR clear; seen as a rare flake of
 * tests/integration/test_api_wire.sh). With the guard in place, every query
 * of many clients at once is still answered.
 */
static int
test_port_guard(void)
{
	int fd, rc = 0;
	struct sockaddr_storage ss;
	socklen_t sl = mkaddr(&ss, AF_INET6, false, 0);

	for (unsigned threads = 1; threads <= 3; threads++)
		rc |= guard_run("127.0.0.1:0", DNSD_PROTO_UDP | DNSD_PROTO_TCP | DNSD_PROTO_V4,
		    AF_INET, threads);
	/* IPv6 too, where this host has ::1 */
	if ((fd = socket(AF_INET6, SOCK_DGRAM, 0)) != -1 &&
	    bind(fd, (struct sockaddr *)&ss, sl) == 0) {
		close(fd);
		rc |= guard_run("[::1]:0", DNSD_PROTO_UDP | DNSD_PROTO_V6, AF_INET6, 2);
	} else if (fd != -1)
		close(fd);
	return rc;
}

/* TCP connections idle past tcp_idle_timeout are closed (RFC 7766 §6.2.3). */
static int
test_tcp_idle(void)
{
	struct dnsd *d = mkdnsd();
	char err[256], c;
	struct sockaddr_in sin;
	int fd;
	struct timeval tv = { 5, 0 };

	CHECK(d != NULL);
	CHECK(dnsd_start(d, err, sizeof(err)) == 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)dnsd_port(d));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CHECK(recv(fd, &c, 1, 0) == 0);	/* closed by the server after ~2 s */
	close(fd);
	dnsd_free(d);
	return 0;
}

static const struct test_case tests[] = {
	{ "txt_hit", test_txt_hit },
	{ "case_echo", test_case_echo },
	{ "nodata", test_nodata },
	{ "mark_sweep", test_mark_sweep },
	{ "nxdomain_refused", test_nxdomain_refused },
	{ "publish_rotation", test_publish_rotation },
	{ "edns", test_edns },
	{ "truncation", test_truncation },
	{ "any", test_any },
	{ "opcode_class_xfr", test_opcode_class_xfr },
	{ "malformed", test_malformed },
	{ "cname", test_cname },
	{ "static", test_static },
	{ "zone_errors", test_zone_errors },
	{ "alloc_guard", test_alloc_guard },
	{ "alloc_guard_rrl_cookies", test_alloc_guard_rrl_cookies },
	{ "concurrent_publish", test_concurrent_publish },
	{ "sockets", test_sockets },
	{ "tcp_idle", test_tcp_idle },
	{ "port_guard", test_port_guard },
	{ "table_growth", test_table_growth },
	{ "edns_payload", test_edns_payload },
	{ "opt_on_errors", test_opt_on_errors },
	{ "mx_srv_additional", test_mx_srv_additional },
	{ "rrl_bucket", test_rrl_bucket },
	{ "cookie_vectors", test_cookie_vectors },
	{ "cookies", test_cookies },
	{ "rrl_answers", test_rrl_answers },
};

TEST_MAIN(tests)
