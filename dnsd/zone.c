/* dnsd/zone.c -- the static zone: SOA, apex NS and the config's records, parsed with ldns */
/* SPDX-License-Identifier: ISC */
#define DNSD_INTERNAL
#include <ldns/ldns.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnsd.h"

/* One parsed record before it is grouped into nodes. */
struct rec {
	uint8_t owner[DNSD_MAX_NAME];	/* lower case */
	uint8_t shown[DNSD_MAX_NAME];	/* as written */
	size_t ownerlen;
	size_t node;
	struct dnsd_rr rr;
};

static void
lower_name(uint8_t *dst, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (uint8_t)(src[i] + 32) : src[i];
}

/* Number of labels in a wire name (root not counted). */
static unsigned
name_labels(const uint8_t *n)
{
	unsigned c = 0;

	while (*n != 0) {
		c++;
		n += *n + 1;
	}
	return c;
}

/*
 * acme-dns read records with the root as origin, so "auth.example.org A ..."
 * meant auth.example.org. We parse with origin = domain (relative names are
 * below the zone), and take a name that ends in "<domain>.<domain>" as the
 * acme-dns absolute name it was meant to be. Returns the new length.
 */
static size_t
collapse_double_apex(uint8_t *n, size_t len, const struct dnsd_zone *z)
{
	size_t tail = 2 * z->apexlen - 1, off = 0;
	uint8_t low[DNSD_MAX_NAME];

	if (len < tail)
		return len;
	lower_name(low, n, len);
	while (off < len && len - off > tail)
		off += (size_t)n[off] + 1;
	if (off + tail != len || memcmp(low + off, z->apex, z->apexlen - 1) != 0 ||
	    memcmp(low + off + z->apexlen - 1, z->apex, z->apexlen) != 0)
		return len;
	memmove(n + off, n + off + z->apexlen - 1, z->apexlen);
	return len - (z->apexlen - 1);
}

static ldns_rdf *
fixed_dname(const ldns_rdf *r, const struct dnsd_zone *z)
{
	uint8_t buf[DNSD_MAX_NAME];
	size_t len = ldns_rdf_size(r);

	if (len > sizeof(buf))
		return NULL;
	memcpy(buf, ldns_rdf_data(r), len);
	len = collapse_double_apex(buf, len, z);
	if (len == ldns_rdf_size(r))
		return NULL;
	return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, len, buf);
}

static bool
type_allowed(ldns_rr_type t)
{
	switch (t) {
	case LDNS_RR_TYPE_A: case LDNS_RR_TYPE_AAAA: case LDNS_RR_TYPE_NS:
	case LDNS_RR_TYPE_CNAME: case LDNS_RR_TYPE_CAA: case LDNS_RR_TYPE_TXT:
	case LDNS_RR_TYPE_MX: case LDNS_RR_TYPE_SRV: case LDNS_RR_TYPE_PTR:
	case LDNS_RR_TYPE_TLSA: case LDNS_RR_TYPE_SSHFP:
		return true;
	default:
		return false;
	}
}

/*
 * The type a `records` line names, read before ldns parses the line: the
 * owner (absent when the line starts with a blank), then an optional TTL and
 * class in either order, then the type (RFC 1035 §5.1). Returns 0 when there
 * is no known type. Types are refused here first because ldns's parsers of
 * some types we never serve leak memory on malformed data (CERT, found by
 * tests/fuzz/fuzz_config).
 */
static ldns_rr_type
line_type(const char *line)
{
	char tok[DNSD_MAX_TYPE_TOKEN];
	const char *p = line;
	bool owner = *line != ' ' && *line != '\t';
	size_t n;

	for (;;) {
		p += strspn(p, " \t");
		if (*p == '\0')
			return 0;
		n = strcspn(p, " \t");
		if (owner) {
			owner = false;
			p += n;
			continue;
		}
		if (n >= sizeof(tok))
			return 0;
		memcpy(tok, p, n);
		tok[n] = '\0';
		p += n;
		if ((tok[0] >= '0' && tok[0] <= '9') || ldns_get_rr_class_by_name(tok) != 0)
			continue;	/* a TTL ("3600", "1h") or a class */
		return ldns_get_rr_type_by_name(tok);
	}
}

/* Make rr's owner and every domain-name field absolute in the zone (fixed_dname). */
static void
fix_names(ldns_rr *rr, const struct dnsd_zone *z)
{
	ldns_rdf *fix;

	if ((fix = fixed_dname(ldns_rr_owner(rr), z)) != NULL) {
		ldns_rdf *old = ldns_rr_owner(rr);

		ldns_rr_set_owner(rr, fix);	/* does not free the old owner */
		ldns_rdf_deep_free(old);
	}
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);

		if (ldns_rdf_get_type(f) == LDNS_RDF_TYPE_DNAME &&
		    (fix = fixed_dname(f, z)) != NULL)
			ldns_rdf_deep_free(ldns_rr_set_rdf(rr, fix, i));
	}
}

/*
 * rr's owner into r (as written and lower-case), checked to be inside the
 * zone and not a wildcard. Returns NULL, or the message.
 */
static const char *
record_owner(const struct dnsd_zone *z, const ldns_rr *rr, struct rec *r)
{
	size_t len = ldns_rdf_size(ldns_rr_owner(rr)), off = 0;

	if (len > DNSD_MAX_NAME)
		return "name too long";
	memcpy(r->shown, ldns_rdf_data(ldns_rr_owner(rr)), len);
	lower_name(r->owner, r->shown, len);
	r->ownerlen = len;
	if (len < z->apexlen || memcmp(r->owner + len - z->apexlen, z->apex, z->apexlen) != 0)
		return "record outside the zone";
	/* A label that merely ends like the apex ("xauth.example.org") is outside too. */
	while (off < len && len - off > z->apexlen)
		off += (size_t)r->owner[off] + 1;
	if (off + z->apexlen != len)
		return "record outside the zone";
	if (ldns_dname_is_wildcard(ldns_rr_owner(rr)))
		return "wildcard records are not supported";
	return NULL;
}

/* rr's type, TTL and wire rdata into r. Returns NULL, or the message. */
static const char *
record_rdata(const ldns_rr *rr, struct rec *r)
{
	ldns_buffer *buf;
	const char *msg = NULL;

	if ((buf = ldns_buffer_new(512)) == NULL ||
	    ldns_rr_rdata2buffer_wire(buf, rr) != LDNS_STATUS_OK ||
	    ldns_buffer_position(buf) > UINT16_MAX - 512) {
		ldns_buffer_free(buf);
		return "cannot encode the record data";
	}
	r->rr.type = (uint16_t)ldns_rr_get_type(rr);
	r->rr.ttl = ldns_rr_ttl(rr);
	r->rr.rdlen = (uint16_t)ldns_buffer_position(buf);
	if ((r->rr.rdata = malloc(r->rr.rdlen + 1)) == NULL)
		msg = "out of memory";
	else
		memcpy(r->rr.rdata, ldns_buffer_begin(buf), r->rr.rdlen);
	ldns_buffer_free(buf);
	return msg;
}

#define TYPES_SERVED "record type not supported (A, AAAA, NS, CNAME, CAA, TXT, MX, SRV, " \
	"PTR, TLSA, SSHFP are)"

/* Parse one `records` line into r. Returns 0, or -1 with a message in err. */
static int
parse_record(const struct dnsd_zone *z, const ldns_rdf *origin, const char *line,
    struct rec *r, char *err, size_t errlen)
{
	ldns_rr *rr = NULL;
	ldns_rr_type t = line_type(line);
	ldns_status st;
	const char *msg = NULL;

	if (t == 0 || (!type_allowed(t) && t != LDNS_RR_TYPE_SOA)) {
		snprintf(err, errlen, "%s", t == 0 ? "record type missing or unknown" :
		    TYPES_SERVED);
		return -1;
	}
	st = ldns_rr_new_frm_str(&rr, line, DNSD_DEFAULT_RR_TTL, origin, NULL);
	if (st != LDNS_STATUS_OK) {
		snprintf(err, errlen, "%s", ldns_get_errorstr_by_id(st));
		return -1;
	}
	fix_names(rr, z);
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
		msg = "only class IN is served";
	else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA)
		msg = "the SOA is built from nsname and nsadmin; remove this record";
	else if (!type_allowed(ldns_rr_get_type(rr)))
		msg = TYPES_SERVED;
	else if ((msg = record_owner(z, rr, r)) == NULL)
		msg = record_rdata(rr, r);
	if (msg != NULL)
		snprintf(err, errlen, "%s", msg);
	ldns_rr_free(rr);
	return msg == NULL ? 0 : -1;
}

/* Convert a dotted name to an absolute wire name; returns its length or 0. */
static size_t
dotted_to_wire(const char *s, uint8_t *out)
{
	ldns_rdf *r;
	size_t len = 0;

	if (s == NULL || *s == '\0' || strcmp(s, ".") == 0)
		return 0;
	if ((r = ldns_dname_new_frm_str(s)) == NULL)
		return 0;
	if (ldns_rdf_size(r) <= DNSD_MAX_NAME && ldns_rdf_size(r) > 1) {
		len = ldns_rdf_size(r);
		memcpy(out, ldns_rdf_data(r), len);
	}
	ldns_rdf_deep_free(r);
	return len;
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	if (x->rr.type != y->rr.type)
		return x->rr.type < y->rr.type ? -1 : 1;
	if (x->rr.rdlen != y->rr.rdlen)
		return x->rr.rdlen < y->rr.rdlen ? -1 : 1;
	return memcmp(x->rr.rdata, y->rr.rdata, x->rr.rdlen);
}

/* Find or add the node for a lower-case name; returns its number. */
static size_t
node_get(struct dnsd_zone *z, const uint8_t *name, size_t len, const uint8_t *shown)
{
	uint64_t h = dnsd_hash(z->seed, name, len);
	size_t i = h & z->indexmask;

	for (;; i = (i + 1) & z->indexmask) {
		uint32_t v = z->index[i];

		if (v == 0)
			break;
		if (z->node[v - 1].hash == h && z->node[v - 1].namelen == len &&
		    memcmp(z->node[v - 1].name, name, len) == 0)
			return v - 1;
	}
	struct dnsd_node *n = &z->node[z->nnode];
	n->hash = h;
	memcpy(n->name, name, len);
	memcpy(n->shown, shown, len);
	n->namelen = (uint8_t)len;
	z->index[i] = (uint32_t)++z->nnode;
	return z->nnode - 1;
}

/* Add the node of r's owner and every empty non-terminal above it (RFC 8020 §2). */
static size_t
node_add(struct dnsd_zone *z, const struct rec *r)
{
	size_t off = 0, first = 0;
	bool have = false;

	while (r->ownerlen - off >= z->apexlen) {
		size_t k = node_get(z, r->owner + off, r->ownerlen - off, r->shown + off);

		if (!have)
			first = k;
		have = true;
		if (r->ownerlen - off == z->apexlen)
			break;
		off += (size_t)r->owner[off] + 1;
	}
	return first;
}

/* Append the SOA RDATA (RFC 1035 §3.3.13) to buf; returns the new length. */
static size_t
soa_rdata(uint8_t *buf, const uint8_t *mname, size_t mlen, const uint8_t *rname, size_t rlen,
    uint32_t minimum)
{
	uint32_t v[5] = {
		(uint32_t)time(NULL), DNSD_SOA_REFRESH, DNSD_SOA_RETRY, DNSD_SOA_EXPIRE, minimum,
	};
	size_t len = 0;

	memcpy(buf, mname, mlen);
	len += mlen;
	memcpy(buf + len, rname, rlen);
	len += rlen;
	for (int i = 0; i < 5; i++) {
		buf[len++] = (uint8_t)(v[i] >> 24);
		buf[len++] = (uint8_t)(v[i] >> 16);
		buf[len++] = (uint8_t)(v[i] >> 8);
		buf[len++] = (uint8_t)v[i];
	}
	return len;
}

/* Group the sorted records into RRsets per node and check CNAME rules. */
static int
zone_group(struct dnsd_zone *z, const size_t *owner, const char *path, char *err,
    size_t errlen)
{
	size_t i, k;

	for (i = 0; i < z->nrr; i = k) {
		struct dnsd_node *n = &z->node[owner[i]];
		struct dnsd_rrset *set;
		uint32_t ttl = z->rr[i].ttl;

		for (k = i; k < z->nrr && owner[k] == owner[i] && z->rr[k].type == z->rr[i].type; k++)
			if (z->rr[k].ttl < ttl)
				ttl = z->rr[k].ttl;
		for (size_t m = i; m < k; m++)
			z->rr[m].ttl = ttl;	/* one TTL per RRset (RFC 2181 §5.2) */
		if ((set = realloc(n->set, (n->nset + 1) * sizeof(*set))) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		n->set = set;
		set[n->nset].type = z->rr[i].type;
		set[n->nset].n = (uint16_t)(k - i);
		set[n->nset].rr = &z->rr[i];
		n->nset++;
	}
	for (i = 0; i < z->nnode; i++) {
		struct dnsd_node *n = &z->node[i];
		const struct dnsd_rrset *c = zone_rrset(n, DNSD_T_CNAME);

		if (c != NULL && (i == 0 || n->nset > 1 || c->n > 1)) {
			unsigned line = c->rr[0].line;

			for (size_t m = 0; m < n->nset; m++)
				if (n->set[m].rr[0].line > line)
					line = n->set[m].rr[0].line;
			snprintf(err, errlen, "%s:%u: %s", path, line, i == 0 ?
			    "a CNAME cannot be at the zone apex (RFC 1034 §3.6.2)" :
			    "a CNAME cannot have other data at its name (RFC 1034 §3.6.2)");
			return -1;
		}
		if (i > 0 && n->namelen == z->apexlen + 1 + n->name[0])
			z->child_lens |= 1ULL << n->name[0];
		if (i > 0 && zone_rrset(n, DNSD_T_NS) != NULL) {
			n->delegation = true;
			z->has_delegation = true;
		}
	}
	return 0;
}

/* The apex, primary NS and admin mailbox of the SOA, in wire form. 0, or -1 with err. */
struct zone_names {
	uint8_t mname[DNSD_MAX_NAME], rname[DNSD_MAX_NAME];
	size_t mlen, rlen;
};

static int
zone_names(struct dnsd_zone *z, const struct dnsd_params *p, const char *path,
    struct zone_names *n, char *err, size_t errlen)
{
	if ((z->apexlen = dotted_to_wire(p->domain, z->apex)) == 0) {
		snprintf(err, errlen, "%s: general.domain is missing or not a domain name", path);
		return -1;
	}
	lower_name(z->apex, z->apex, z->apexlen);
	z->apexlabels = name_labels(z->apex);
	if ((n->mlen = dotted_to_wire(p->nsname, n->mname)) == 0) {
		snprintf(err, errlen, "%s: general.nsname is missing or not a domain name", path);
		return -1;
	}
	if ((n->rlen = dotted_to_wire(p->nsadmin, n->rname)) == 0) {
		snprintf(err, errlen, "%s: general.nsadmin is missing or not a domain name", path);
		return -1;
	}
	return 0;
}

/*
 * Parse the config's records into recs (*nrec of them); *apex_ns says whether
 * one is an NS at the apex. 0, or -1 with "file:line: message" in err.
 */
static int
zone_records(struct dnsd_zone *z, const struct dnsd_params *p, const char *path,
    struct rec *recs, size_t *nrec, bool *apex_ns, char *err, size_t errlen)
{
	ldns_rdf *origin;
	char msg[256];
	int rc = 0;

	if ((origin = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, z->apexlen, z->apex)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < p->nrecords; i++) {
		unsigned line = p->record_lines ? p->record_lines[i] : 0;

		if (parse_record(z, origin, p->records[i], &recs[*nrec], msg, sizeof(msg)) == -1) {
			if (line > 0)
				snprintf(err, errlen, "%s:%u: %s: %s", path, line, msg, p->records[i]);
			else
				snprintf(err, errlen, "%s: %s: %s", path, msg, p->records[i]);
			rc = -1;
			break;
		}
		recs[*nrec].rr.line = line;
		if (recs[*nrec].ownerlen == z->apexlen && recs[*nrec].rr.type == DNSD_T_NS)
			*apex_ns = true;
		(*nrec)++;
	}
	ldns_rdf_deep_free(origin);
	return rc;
}

/* Append an apex record of type with rdata to recs. 0, or -1 out of memory. */
static int
apex_record(const struct dnsd_zone *z, struct rec *r, uint16_t type, const uint8_t *rdata,
    size_t rdlen)
{
	memcpy(r->owner, z->apex, z->apexlen);
	memcpy(r->shown, z->apex, z->apexlen);
	r->ownerlen = z->apexlen;
	r->rr.type = type;
	r->rr.ttl = DNSD_DEFAULT_RR_TTL;
	r->rr.rdlen = (uint16_t)rdlen;
	if ((r->rr.rdata = malloc(rdlen)) == NULL)
		return -1;
	memcpy(r->rr.rdata, rdata, rdlen);
	return 0;
}

/*
 * The nodes (the apex first, then every owner and the names between) and
 * the records grouped by node and type, duplicates dropped (RFC 2181 §5).
 * recs is sorted; the rdata it hands to z->rr is set to NULL there. 0 or -1.
 */
static int
zone_nodes(struct dnsd_zone *z, struct rec *recs, size_t nrec, const char *path, char *err,
    size_t errlen)
{
	size_t *owner = NULL, bound = 1, cap, i;
	int rc = -1;

	for (i = 0; i < nrec; i++)
		bound += name_labels(recs[i].owner) - z->apexlabels;
	for (cap = 16; cap < bound * 2; cap *= 2)
		;
	if ((z->node = calloc(bound, sizeof(*z->node))) == NULL ||
	    (z->index = calloc(cap, sizeof(*z->index))) == NULL)
		goto oom;
	z->indexmask = cap - 1;
	node_get(z, z->apex, z->apexlen, z->apex);
	for (i = 0; i < nrec; i++)
		recs[i].node = node_add(z, &recs[i]);
	qsort(recs, nrec, sizeof(*recs), rec_cmp);
	if ((z->rr = calloc(nrec, sizeof(*z->rr))) == NULL ||
	    (owner = calloc(nrec, sizeof(*owner))) == NULL)
		goto oom;
	for (i = 0; i < nrec; i++) {
		struct dnsd_rr *last = z->nrr > 0 ? &z->rr[z->nrr - 1] : NULL;

		if (last != NULL && owner[z->nrr - 1] == recs[i].node &&
		    last->type == recs[i].rr.type && last->rdlen == recs[i].rr.rdlen &&
		    memcmp(last->rdata, recs[i].rr.rdata, last->rdlen) == 0)
			continue;	/* a duplicate (RFC 2181 §5); freed with recs */
		owner[z->nrr] = recs[i].node;
		z->rr[z->nrr++] = recs[i].rr;
		recs[i].rr.rdata = NULL;	/* now owned by z->rr */
	}
	rc = zone_group(z, owner, path, err, errlen);
	free(owner);
	return rc;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* The SOA RR of negative answers, after its owner (RFC 2308 §3). */
static void
zone_soa_neg(struct dnsd_zone *z, const uint8_t *soa, size_t soalen, uint32_t t)
{
	dnsd_rr_fixed(z->soa_neg, DNSD_T_SOA, t, soalen);
	memcpy(z->soa_neg + 10, soa, soalen);
	z->soa_neglen = 10 + soalen;
}

/*
 * Build the static zone from params. Records are grouped by name and type,
 * duplicates dropped (RFC 2181 §5), an RRset's TTL is its smallest (§5.2),
 * and CNAME must stand alone at its name (RFC 1034 §3.6.2). The apex gets the
 * SOA and, unless the config has one, an NS for nsname. Returns the zone, or
 * NULL with "file:line: message" in err. The caller frees with zone_free().
 */
struct dnsd_zone *
zone_new(const struct dnsd_params *p, uint64_t seed, char *err, size_t errlen)
{
	struct dnsd_zone *z = NULL;
	struct rec *recs = NULL;
	struct zone_names n;
	uint8_t soa[2 * DNSD_MAX_NAME + 20];
	size_t nrec = 0, soalen, i;
	const char *path = p->config_path ? p->config_path : "config";
	bool apex_ns = false;

	if ((z = calloc(1, sizeof(*z))) == NULL ||
	    (recs = calloc(p->nrecords + 2, sizeof(*recs))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	z->seed = seed;
	if (zone_names(z, p, path, &n, err, errlen) == -1 ||
	    zone_records(z, p, path, recs, &nrec, &apex_ns, err, errlen) == -1)
		goto fail;
	/* The SOA (RFC 1035 §3.3.13), MINIMUM = negative TTL (RFC 2308 §4). */
	soalen = soa_rdata(soa, n.mname, n.mlen, n.rname, n.rlen, p->negative_ttl);
	if (apex_record(z, &recs[nrec++], DNSD_T_SOA, soa, soalen) == -1 ||
	    (!apex_ns && apex_record(z, &recs[nrec++], DNSD_T_NS, n.mname, n.mlen) == -1)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (zone_nodes(z, recs, nrec, path, err, errlen) == -1)
		goto fail;
	zone_soa_neg(z, soa, soalen, p->negative_ttl);
	goto done;
fail:
	zone_free(z);
	z = NULL;
done:
	if (recs != NULL) {
		for (i = 0; i < nrec; i++)
			free(recs[i].rr.rdata);
		free(recs);
	}
	return z;
}

/* Free the zone and everything it owns. Accepts NULL. */
void
zone_free(struct dnsd_zone *z)
{
	if (z == NULL)
		return;
	for (size_t i = 0; i < z->nrr; i++)
		free(z->rr[i].rdata);
	for (size_t i = 0; i < z->nnode; i++)
		free(z->node[i].set);
	free(z->rr);
	free(z->node);
	free(z->index);
	free(z);
}

/* The node of a lower-case wire name, or NULL. Read-only: safe from any thread. */
const struct dnsd_node *
zone_find(const struct dnsd_zone *z, const uint8_t *name, size_t len)
{
	uint64_t h = dnsd_hash(z->seed, name, len);

	for (size_t i = h & z->indexmask;; i = (i + 1) & z->indexmask) {
		uint32_t v = z->index[i];

		if (v == 0)
			return NULL;
		const struct dnsd_node *n = &z->node[v - 1];
		if (n->hash == h && n->namelen == len && memcmp(n->name, name, len) == 0)
			return n;
	}
}

/* The RRset of type at node n, or NULL. */
const struct dnsd_rrset *
zone_rrset(const struct dnsd_node *n, uint16_t type)
{
	for (size_t i = 0; i < n->nset; i++)
		if (n->set[i].type == type)
			return &n->set[i];
	return NULL;
}
