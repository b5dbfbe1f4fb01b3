/* dnsd/answer.c -- one query in, one answer out: checks, fast paths and the zone walk */
/* SPDX-License-Identifier: ISC */
#define DNSD_INTERNAL
#include <string.h>
#include <time.h>

#include "dnsd.h"

/*
 * Nothing in this file allocates, locks or blocks: the query is parsed in
 * place, the name lower-cased into a stack buffer, and the answer written
 * straight into the caller's buffer. The challenge table is read under the
 * caller's read-copy-update announcement (see table.c).
 */

#define HDR_LEN 12
#define F_QR 0x8000
#define F_OPCODE 0x7800
#define F_AA 0x0400
#define F_TC 0x0200
#define F_RD 0x0100
#define F_CD 0x0010
#define EDNS_DO 0x8000
#define OPT_LEN 11
#define COOKIE_OPT_LEN (4 + 8 + 16)	/* option header, client and server cookie */
#define COOKIE_REUSE_AGE 1800	/* echo a valid server cookie younger than this (RFC 9018 §4.3) */
#define MAX_QDCOUNT 16		/* questions skipped to find the OPT of a FORMERR/NOTIMP query */

/* The parsed query. */
struct query {
	const uint8_t *q;
	size_t qlen;
	uint16_t flags;
	size_t qnamelen;		/* wire length of QNAME, root included */
	size_t qend;			/* offset just after QCLASS */
	uint8_t lname[DNSD_MAX_NAME];	/* QNAME in lower case */
	uint8_t loff[DNSD_MAX_NAME / 2 + 1];	/* offset of each label in lname */
	unsigned nlabels;
	uint16_t qtype;
	uint16_t qclass;
	bool edns;			/* the query had an OPT record */
	bool dobit;
	uint8_t version;
	uint16_t udpsize;
	const uint8_t *cookie;		/* the COOKIE option's data (RFC 7873 §4), or NULL */
	size_t cookielen;
	unsigned ncookie;		/* COOKIE options seen */
	size_t apexoff;			/* where the apex starts in QNAME, once in zone */
};

/* The answer being written. */
struct wr {
	uint8_t *b;
	size_t cap;		/* room for the sections, OPT excluded */
	size_t len;
	bool full;		/* something did not fit */
	uint16_t an, ns, ar;
	bool seeded;		/* comp[] holds the question's labels */
	unsigned ncomp;
	uint16_t comp[DNSD_MAX_COMP];	/* offsets of names, for compression */
	const struct query *x;
	struct dnsd *d;
	struct dnsd_ctx *c;
	bool has_ck;		/* the answer carries ck (a client cookie came) */
	bool ck_valid;		/* the query's server cookie is ours: no RRL */
	uint8_t ck[24];		/* client cookie, then our server cookie */
};

/* What a name is in the zone. */
enum res_kind { RES_NODE, RES_ENTRY, RES_NX, RES_CUT, RES_OUT };

struct res {
	enum res_kind kind;
	const struct dnsd_node *node;	/* RES_NODE, RES_CUT (the cut) */
	const struct dnsd_centry *entry;	/* RES_ENTRY */
};

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
wr16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint8_t
lc(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

/* ------------------------------------------------------------------ */
/* parsing */

/* Parse QNAME at off (RFC 1035 §4.1.2): no compression, at most 255 bytes. */
static int
parse_qname(struct query *x, size_t off)
{
	const uint8_t *q = x->q;
	size_t pos = off, n;

	x->nlabels = 0;
	for (;;) {
		if (pos >= x->qlen)
			return -1;
		n = q[pos];
		if (n == 0)
			break;
		if (n > DNSD_MAX_LABEL)	/* a pointer or an extended label type */
			return -1;
		if (pos + 1 + n >= x->qlen || pos - off + 1 + n + 1 > DNSD_MAX_NAME)
			return -1;
		x->loff[x->nlabels++] = (uint8_t)(pos - off);
		x->lname[pos - off] = (uint8_t)n;
		for (size_t i = 1; i <= n; i++)
			x->lname[pos - off + i] = lc(q[pos + i]);
		pos += 1 + n;
	}
	x->lname[pos - off] = 0;
	x->qnamelen = pos - off + 1;
	return 0;
}

/* Skip a possibly compressed name; returns the offset after it or 0. */
static size_t
skip_name(const uint8_t *q, size_t qlen, size_t pos)
{
	for (unsigned i = 0; i < DNSD_MAX_NAME; i++) {
		if (pos >= qlen)
			return 0;
		if (q[pos] == 0)
			return pos + 1;
		if ((q[pos] & 0xc0) == 0xc0)
			return pos + 2 <= qlen ? pos + 2 : 0;
		if (q[pos] > DNSD_MAX_LABEL)
			return 0;
		pos += (size_t)q[pos] + 1;
	}
	return 0;
}

/*
 * Walk the answer, authority and additional sections to find the OPT record
 * (RFC 6891 §6.1.1: at most one, owned by the root, with well-formed
 * options). Returns 0, or -1 for FORMERR.
 */
static int
parse_sections(struct query *x)
{
	const uint8_t *q = x->q;
	unsigned counts[3] = { rd16(q + 6), rd16(q + 8), rd16(q + 10) };
	size_t pos = x->qend;

	for (int s = 0; s < 3; s++) {
		for (unsigned i = 0; i < counts[s]; i++) {
			size_t start = pos, rdlen;
			uint16_t type;

			if ((pos = skip_name(q, x->qlen, pos)) == 0 || pos + 10 > x->qlen)
				return -1;
			type = rd16(q + pos);
			rdlen = rd16(q + pos + 8);
			if (pos + 10 + rdlen > x->qlen)
				return -1;
			if (type == DNSD_T_OPT) {
				if (s != 2 || x->edns || pos != start + 1 || q[start] != 0)
					return -1;
				x->edns = true;
				x->udpsize = rd16(q + pos + 2);
				x->version = q[pos + 5];
				x->dobit = (rd16(q + pos + 6) & EDNS_DO) != 0;
				/* Options are TLVs that must fill RDATA exactly (§6.1.2). */
				for (size_t o = 0; o < rdlen;) {
					const uint8_t *opt = q + pos + 10 + o;

					if (o + 4 > rdlen)
						return -1;
					o += 4 + rd16(opt + 2);
					if (o > rdlen)
						return -1;
					if (rd16(opt) == DNSD_OPT_COOKIE) {
						x->cookie = opt + 4;
						x->cookielen = rd16(opt + 2);
						x->ncookie++;
					}
				}
			}
			pos += 10 + rdlen;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* writing */

static bool
put(struct wr *w, const void *p, size_t n)
{
	if (w->full || w->len + n > w->cap) {
		w->full = true;
		return false;
	}
	memcpy(w->b + w->len, p, n);
	w->len += n;
	return true;
}

static bool
put16(struct wr *w, unsigned v)
{
	uint8_t b[2];

	wr16(b, v);
	return put(w, b, 2);
}

/* True if the name at msg offset off equals name (wire), ignoring case. */
static bool
name_at_eq(const uint8_t *msg, size_t msglen, size_t off, const uint8_t *name)
{
	for (unsigned hops = 0; hops < DNSD_MAX_NAME; hops++) {
		if (off >= msglen)
			return false;
		uint8_t c = msg[off];
		if ((c & 0xc0) == 0xc0) {
			if (off + 1 >= msglen)
				return false;
			off = (size_t)(c & 0x3f) << 8 | msg[off + 1];
			continue;
		}
		if (c != *name)
			return false;
		if (c == 0)
			return true;
		if (off + 1 + c > msglen)
			return false;
		for (size_t i = 1; i <= c; i++)
			if (lc(msg[off + i]) != lc(name[i]))
				return false;
		off += 1 + (size_t)c;
		name += 1 + (size_t)c;
	}
	return false;
}

/* Write a name, compressed against earlier names (RFC 1035 §4.1.4). */
static bool
put_name(struct wr *w, const uint8_t *name)
{
	if (!w->seeded) {
		/* the question's labels are the first names to point at */
		for (unsigned i = 0; i < w->x->nlabels && w->ncomp < DNSD_MAX_COMP; i++)
			w->comp[w->ncomp++] = (uint16_t)(HDR_LEN + w->x->loff[i]);
		w->seeded = true;
	}
	for (size_t off = 0; name[off] != 0; off += (size_t)name[off] + 1) {
		for (unsigned i = 0; i < w->ncomp; i++)
			if (name_at_eq(w->b, w->len, w->comp[i], name + off))
				return put16(w, 0xc000u | w->comp[i]);
		if (w->len < 0x3fff && w->ncomp < DNSD_MAX_COMP)
			w->comp[w->ncomp++] = (uint16_t)w->len;
		if (!put(w, name + off, (size_t)name[off] + 1))
			return false;
	}
	return put(w, "", 1);
}

/* Length of a wire name in RDATA (uncompressed, as the zone stores it). */
static size_t
wire_len(const uint8_t *n)
{
	size_t l = 0;

	while (n[l] != 0)
		l += (size_t)n[l] + 1;
	return l + 1;
}

/* Write one static RR; names in NS, CNAME, PTR, MX and SOA RDATA are compressed (RFC 3597 §4). */
static bool
put_rr(struct wr *w, const uint8_t *owner, const struct dnsd_rr *rr, uint32_t ttl)
{
	uint8_t fixed[10];
	size_t rdstart, l;
	const uint8_t *p = rr->rdata;

	if (!put_name(w, owner))
		return false;
	dnsd_rr_fixed(fixed, rr->type, ttl, 0);	/* RDLENGTH once the RDATA is written */
	if (!put(w, fixed, 10))
		return false;
	rdstart = w->len;
	switch (rr->type) {
	case DNSD_T_NS:
	case DNSD_T_CNAME:
	case DNSD_T_PTR:
		put_name(w, p);
		break;
	case DNSD_T_MX:
		put(w, p, 2);
		put_name(w, p + 2);
		break;
	case DNSD_T_SOA:
		l = wire_len(p);
		put_name(w, p);
		put_name(w, p + l);
		l += wire_len(p + l);
		put(w, p + l, 20);
		break;
	default:
		put(w, p, rr->rdlen);
		break;
	}
	if (w->full)
		return false;
	wr16(w->b + rdstart - 2, (unsigned)(w->len - rdstart));
	return true;
}

static bool
put_rrset(struct wr *w, const uint8_t *owner, const struct dnsd_rrset *s, uint16_t *count)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (!put_rr(w, owner, &s->rr[i], s->rr[i].ttl))
			return false;
		(*count)++;
	}
	return true;
}

/* The SOA of a negative answer, owner pointing at the apex inside QNAME (RFC 2308 §3). */
static bool
put_neg_soa(struct wr *w, const struct dnsd_zone *z)
{
	if (!put16(w, 0xc000u | (unsigned)(HDR_LEN + w->x->apexoff)) ||
	    !put(w, z->soa_neg, z->soa_neglen))
		return false;
	w->ns++;
	return true;
}

/* The TXT RRset of a challenge entry, owner = the question (0xC00C built in). */
static bool
put_entry_txt(struct wr *w, const struct dnsd_centry *e)
{
	if (!put(w, e->data + e->labellen, e->bloblen))
		return false;
	w->an += e->ntxt;
	return true;
}

/* The same RRset with another owner (a CNAME target): rewrite each owner. */
static bool
put_entry_txt_as(struct wr *w, const struct dnsd_centry *e, const uint8_t *owner)
{
	const uint8_t *p = e->data + e->labellen, *end = p + e->bloblen;

	while (p < end) {
		size_t rrlen = 12 + rd16(p + 10);

		if (!put_name(w, owner) || !put(w, p + 2, rrlen - 2))
			return false;
		w->an++;
		p += rrlen;
	}
	return true;
}

/* Where the target name starts in the RDATA of an NS, MX or SRV record. */
static size_t
target_off(uint16_t type)
{
	switch (type) {
	case DNSD_T_MX:
		return 2;	/* PREFERENCE (RFC 1035 §3.3.9) */
	case DNSD_T_SRV:
		return 6;	/* priority, weight, port (RFC 2782) */
	default:
		return 0;	/* NS */
	}
}

/*
 * Additional-section addresses for the NS, MX or SRV targets of s that are
 * in the zone (RFC 1034 §4.3.2 step 3b and step 6; RFC 1035 §3.3.9; RFC
 * 2782; RFC 9471). A target below cut is required glue: if it does not fit,
 * the answer is truncated; other addresses are left out when they do not fit.
 */
static void
put_glue(struct wr *w, const struct dnsd_zone *z, const struct dnsd_rrset *s,
    const struct dnsd_node *cut)
{
	for (unsigned i = 0; i < s->n; i++) {
		const uint8_t *t = s->rr[i].rdata + target_off(s->type);
		uint8_t low[DNSD_MAX_NAME];
		size_t l = wire_len(t);
		const struct dnsd_node *n;

		for (size_t k = 0; k < l; k++)
			low[k] = lc(t[k]);
		if ((n = zone_find(z, low, l)) == NULL)
			continue;
		bool required = cut != NULL && l >= cut->namelen &&
		    memcmp(low + l - cut->namelen, cut->name, cut->namelen) == 0;
		static const uint16_t types[2] = { DNSD_T_A, DNSD_T_AAAA };
		for (int k = 0; k < 2; k++) {
			const struct dnsd_rrset *a = zone_rrset(n, types[k]);
			size_t len = w->len;
			unsigned ncomp = w->ncomp;
			uint16_t ar = w->ar;

			if (a == NULL)
				continue;
			if (!put_rrset(w, n->shown, a, &w->ar) && !required) {
				w->len = len;
				w->ncomp = ncomp;
				w->ar = ar;
				w->full = false;
				return;
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* the zone walk */

/*
 * Classify a lower-case name with label offsets loff (RFC 1034 §4.3.2
 * step 3): outside the zone, below a zone cut, a static node, a challenge
 * entry, or nonexistent. The full name is matched, never one label.
 */
static void
resolve(struct dnsd *d, const uint8_t *name, size_t len, const uint8_t *loff,
    unsigned nlabels, uint16_t qtype, struct res *r, size_t *apexoff)
{
	const struct dnsd_zone *z = d->zone;
	unsigned nrel;

	r->kind = RES_OUT;
	if (len < z->apexlen || memcmp(name + len - z->apexlen, z->apex, z->apexlen) != 0)
		return;
	if (len == z->apexlen)
		nrel = 0;
	else {
		for (nrel = 1; nrel < nlabels && loff[nrel] < len - z->apexlen; nrel++)
			;
		if (nrel >= nlabels || loff[nrel] != len - z->apexlen)
			return;	/* "xauth.example.org" only looks like the apex */
	}
	if (apexoff != NULL)
		*apexoff = len - z->apexlen;
	if (nrel == 0) {
		r->kind = RES_NODE;
		r->node = &z->node[0];
		return;
	}
	if (z->has_delegation) {
		for (unsigned k = nrel; k-- > 0;) {
			const struct dnsd_node *n = zone_find(z, name + loff[k], len - loff[k]);

			if (n == NULL)
				break;
			if (n->delegation && !(k == 0 && qtype == DNSD_T_DS)) {
				r->kind = RES_CUT;	/* RFC 1034 §4.3.2 step 3b */
				r->node = n;
				return;
			}
		}
	}
	/* A challenge name (one label below the apex) skips the static lookup
	   unless a static name there has a label of the same length. */
	if ((nrel > 1 || (z->child_lens >> name[0] & 1)) &&
	    (r->node = zone_find(z, name, len)) != NULL) {
		r->kind = RES_NODE;
		return;
	}
	if (nrel == 1 && (r->entry = table_find(d, name + 1, name[0])) != NULL) {
		r->kind = RES_ENTRY;
		return;
	}
	/* _validation-persist.<subdomain>: the account's persist records (dns-persist-01). */
	if (nrel == 2 && name[0] == sizeof(DNSD_PERSIST_LABEL) - 1 &&
	    memcmp(name + 1, DNSD_PERSIST_LABEL, sizeof(DNSD_PERSIST_LABEL) - 1) == 0 &&
	    (r->entry = table_find_persist(d, name + loff[1] + 1, name[loff[1]])) != NULL) {
		r->kind = RES_ENTRY;
		return;
	}
	r->kind = RES_NX;
}

/* Label offsets of a lower-case wire name; returns the count. */
static unsigned
label_offsets(const uint8_t *n, uint8_t *loff)
{
	unsigned c = 0;

	for (size_t off = 0; n[off] != 0; off += (size_t)n[off] + 1)
		loff[c++] = (uint8_t)off;
	return c;
}

/* The RRset an ANY query gets (RFC 8482 §4.2: one RRset, not all of them). */
static const struct dnsd_rrset *
any_rrset(const struct dnsd_zone *z, const struct dnsd_node *n)
{
	if (n == &z->node[0])
		return zone_rrset(n, DNSD_T_SOA);
	if (n->nset == 0)
		return NULL;
	const struct dnsd_rrset *c = zone_rrset(n, DNSD_T_CNAME);
	return c != NULL ? c : &n->set[0];
}

/*
 * Answer at a static node; returns the RCODE. CNAMEs inside the zone are
 * followed (RFC 1034 §4.3.2 step 3a), and the RCODE is that of the last
 * name (RFC 6604 §2).
 */
static unsigned
answer_node(struct dnsd *d, struct wr *w, const struct dnsd_node *n, bool *aa)
{
	const struct dnsd_zone *z = d->zone;
	uint16_t qtype = w->x->qtype;
	const struct dnsd_rrset *s;

	*aa = true;
	for (unsigned hop = 0; hop <= DNSD_MAX_CNAME_CHAIN; hop++) {
		if (qtype == DNSD_T_ANY)
			s = any_rrset(z, n);
		else if ((s = zone_rrset(n, qtype)) == NULL && qtype != DNSD_T_CNAME)
			s = zone_rrset(n, DNSD_T_CNAME);
		if (s == NULL) {
			put_neg_soa(w, z);	/* NODATA (RFC 2308 §2.2) */
			return DNSD_RC_NOERROR;
		}
		put_rrset(w, n->shown, s, &w->an);
		if (s->type == DNSD_T_NS || s->type == DNSD_T_MX || s->type == DNSD_T_SRV)
			put_glue(w, z, s, NULL);
		if (s->type != DNSD_T_CNAME || qtype == DNSD_T_CNAME || qtype == DNSD_T_ANY)
			return DNSD_RC_NOERROR;

		/* Follow the CNAME if its target is in the zone. */
		const uint8_t *t = s->rr[0].rdata;
		uint8_t low[DNSD_MAX_NAME], loff[DNSD_MAX_NAME / 2 + 1];
		size_t l = wire_len(t);
		struct res r;

		for (size_t k = 0; k < l; k++)
			low[k] = lc(t[k]);
		resolve(d, low, l, loff, label_offsets(low, loff), qtype, &r, NULL);
		switch (r.kind) {
		case RES_NODE:
			n = r.node;
			continue;
		case RES_ENTRY:
			if (qtype == DNSD_T_TXT && r.entry->ntxt > 0)
				put_entry_txt_as(w, r.entry, t);
			else
				put_neg_soa(w, z);
			return DNSD_RC_NOERROR;
		case RES_NX:
			put_neg_soa(w, z);
			return DNSD_RC_NXDOMAIN;
		case RES_CUT:
		case RES_OUT:
			return DNSD_RC_NOERROR;
		}
	}
	return DNSD_RC_NOERROR;	/* a CNAME loop: stop after the chain limit */
}

/* A referral to the child zone at cut (RFC 1034 §4.3.2 step 3b): no AA. */
static void
answer_cut(struct dnsd *d, struct wr *w, const struct dnsd_node *cut)
{
	const struct dnsd_rrset *s = zone_rrset(cut, DNSD_T_NS);

	if (put_rrset(w, cut->shown, s, &w->ns))
		put_glue(w, d->zone, s, cut);
}

/* ------------------------------------------------------------------ */

/*
 * Response-rate limiting of a UDP answer (rrl.c). Returns false to drop it;
 * a slipped answer is cut to its header (and question): TC=1, or BADCOOKIE
 * with a fresh server cookie when the query had a client cookie (RFC 7873
 * §5.2.3), so the client can come back over TCP or with its cookie.
 */
static bool
rrl_step(struct wr *w, unsigned *rcode, bool *aa, bool question)
{
	const struct query *x = w->x;
	enum dnsd_rrl_kind kind;

	kind = rrl_kind(*rcode, w->an, question ? x->qtype : 0);
	switch (rrl_account(&w->d->rrl, w->c->from, kind, x->lname, x->qnamelen, w->c->mono)) {
	case DNSD_RRL_PASS:
		return true;
	case DNSD_RRL_DROP:
		if (dnsd_is_own_probe(w->d, w->c->from))
			return true;	/* /health's probe */
		if (w->c->cnt != NULL)
			dnsd_count(&w->c->cnt->rrl_dropped);
		return false;
	case DNSD_RRL_SLIP:
	default:
		if (dnsd_is_own_probe(w->d, w->c->from))
			return true;
		if (w->c->cnt != NULL)
			dnsd_count(&w->c->cnt->rrl_slipped);
		if (w->has_ck && x->edns) {
			*rcode = DNSD_RC_BADCOOKIE;
			*aa = false;
			w->len = question ? x->qend : HDR_LEN;
			w->an = w->ns = w->ar = 0;
		} else
			w->full = true;	/* finish() truncates it: TC=1 */
		return true;
	}
}

/* The OPT record at the end of the answer (RFC 6891 §6.1.2-3), with the cookie. */
static void
put_opt(struct wr *w, unsigned rcode)
{
	const struct query *x = w->x;
	uint8_t *o = w->b + w->len;

	o[0] = 0;
	wr16(o + 1, DNSD_T_OPT);
	wr16(o + 3, DNSD_MAX_UDP_PAYLOAD);
	o[5] = (uint8_t)(rcode >> 4);
	o[6] = 0;
	wr16(o + 7, x->dobit ? EDNS_DO : 0);	/* RFC 3225 §3 */
	wr16(o + 9, w->has_ck ? COOKIE_OPT_LEN : 0);
	w->len += OPT_LEN;
	if (w->has_ck) {	/* RFC 7873 §5.2 */
		o += OPT_LEN;
		wr16(o, DNSD_OPT_COOKIE);
		wr16(o + 2, sizeof(w->ck));
		memcpy(o + 4, w->ck, sizeof(w->ck));
		w->len += COOKIE_OPT_LEN;
	}
	w->ar++;
}

/* The /metrics QTYPE class of qtype (0: no question was read). */
static unsigned
stat_qtype(uint16_t qtype)
{
	switch (qtype) {
	case DNSD_T_TXT:
		return DNSD_STAT_Q_TXT;
	case DNSD_T_SOA:
		return DNSD_STAT_Q_SOA;
	case DNSD_T_NS:
		return DNSD_STAT_Q_NS;
	case DNSD_T_A:
	case DNSD_T_AAAA:
		return DNSD_STAT_Q_ADDR;
	case DNSD_T_ANY:
		return DNSD_STAT_Q_ANY;
	default:
		return DNSD_STAT_Q_OTHER;
	}
}

/* The /metrics RCODE slot of an (extended) rcode. */
static unsigned
stat_rcode(unsigned rcode)
{
	if (rcode <= DNSD_RC_REFUSED)
		return rcode;
	if (rcode == DNSD_RC_BADVERS)
		return DNSD_STAT_RC_BADVERS;
	if (rcode == DNSD_RC_BADCOOKIE)
		return DNSD_STAT_RC_BADCOOKIE;
	return DNSD_STAT_RC_OTHER;
}

/* Count one answer in this thread's counters (a plain add each, see dnsd.h). */
static void
count_answer(struct dnsd_counters *cnt, const struct query *x, unsigned rcode, bool tcp,
    bool truncated)
{
	dnsd_count(&cnt->queries[tcp ? DNSD_STAT_TCP : DNSD_STAT_UDP][stat_qtype(x->qtype)]
	    [stat_rcode(rcode)]);
	if (truncated)
		dnsd_count(&cnt->truncated);
}

/* Write the header and the OPT record; returns the answer's length, or 0 (RRL drop). */
static int
finish(struct wr *w, uint16_t id, unsigned rcode, bool aa, bool tcp, bool question)
{
	const struct query *x = w->x;
	uint16_t flags;

	if (!tcp && w->d->rrl.bucket != NULL && w->c->from != NULL && !w->ck_valid &&
	    !rrl_step(w, &rcode, &aa, question))
		return 0;
	flags = F_QR | (x->flags & (F_OPCODE | F_RD | F_CD)) | (rcode & 0xf);
	if (w->full) {
		if (tcp) {	/* cannot happen with the size caps; fail safe */
			rcode = DNSD_RC_SERVFAIL;
			flags = (uint16_t)((flags & ~0xfu) | rcode);
			aa = false;
		} else
			flags |= F_TC;	/* RFC 1035 §4.2.1, RFC 6891 §7 */
		w->len = question ? x->qend : HDR_LEN;
		w->an = w->ns = w->ar = 0;
	}
	if (aa)
		flags |= F_AA;
	if (x->edns)	/* the cap always leaves room for it */
		put_opt(w, rcode);
	wr16(w->b, id);
	wr16(w->b + 2, flags);
	wr16(w->b + 4, question ? 1 : 0);
	wr16(w->b + 6, w->an);
	wr16(w->b + 8, w->ns);
	wr16(w->b + 10, w->ar);
	if (w->c->cnt != NULL)
		count_answer(w->c->cnt, x, rcode, tcp, (flags & F_TC) != 0);
	return (int)w->len;
}

/*
 * Skip the question section of a query we will not answer (QDCOUNT != 1,
 * or an opcode we do not implement) so that its OPT can still be found.
 * Returns 0, or -1 if it cannot be read.
 */
static int
skip_questions(struct query *x, unsigned qdcount)
{
	size_t pos = HDR_LEN;

	if (qdcount > MAX_QDCOUNT)
		return -1;
	for (unsigned i = 0; i < qdcount; i++) {
		if ((pos = skip_name(x->q, x->qlen, pos)) == 0 || pos + 4 > x->qlen)
			return -1;
		pos += 4;
	}
	x->qend = pos;
	return 0;
}

/*
 * The COOKIE option (RFC 7873 §5.2): 8 bytes of client cookie, then
 * nothing or a server cookie of 8 to 32 bytes; anything else, or two
 * options, is FORMERR (§5.2.2). A valid server cookie of ours is echoed
 * while young and marks the client as not spoofed (no RRL); otherwise a
 * fresh one is made (§5.2.3-4). Returns -1 for FORMERR.
 */
static int
cookie_step(struct wr *w, const struct query *x)
{
	struct dnsd_ctx *c = w->c;
	uint8_t ip[16];
	size_t iplen, len = x->cookielen;

	if (x->cookie == NULL)
		return 0;
	if (x->ncookie > 1 || len < 8 || (len > 8 && (len < 16 || len > 40))) {
		if (c->cnt != NULL)
			dnsd_count(&c->cnt->cookies[DNSD_STAT_CK_MALFORMED]);
		return -1;
	}
	if (c->mac == NULL)
		return 0;	/* cookies off: the option is ignored (§5.2) */
	iplen = cookie_client_ip(c->from, ip);
	memcpy(w->ck, x->cookie, 8);
	if (len > 8 && cookie_valid(c, x->cookie, x->cookie + 8, len - 8, ip, iplen)) {
		const uint8_t *t = x->cookie + 12;
		uint32_t ts = (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];

		if (c->cnt != NULL)
			dnsd_count(&c->cnt->cookies[DNSD_STAT_CK_VALID]);
		w->ck_valid = true;
		if ((uint32_t)(c->wall - ts) <= COOKIE_REUSE_AGE) {
			memcpy(w->ck + 8, x->cookie + 8, 16);
			w->has_ck = true;
			return 0;
		}
	} else if (c->cnt != NULL)
		dnsd_count(&c->cnt->cookies[len > 8 ? DNSD_STAT_CK_INVALID : DNSD_STAT_CK_CLIENT]);
	w->has_ck = cookie_make(c, c->ck_cur, x->cookie, ip, iplen, c->wall, w->ck + 8) == 0;
	return 0;
}

/*
 * The header, question and OPT checks (docs/dns.md has the table). Returns
 * -1 when the query is parsed and should be answered, else what
 * answer_query() returns (an error answer, or 0 to drop).
 */
static int
check_query(struct wr *w, struct query *x, uint16_t id, bool tcp)
{
	unsigned qdcount = rd16(x->q + 4);

	if (x->flags & F_QR) {	/* a response: never answer it (RFC 1035 §4.1.1) */
		if (w->c->cnt != NULL)
			dnsd_count(&w->c->cnt->malformed[tcp ? DNSD_STAT_TCP : DNSD_STAT_UDP]);
		return 0;
	}
	if ((x->flags & F_OPCODE) != 0) {	/* NOTIMP, with OPT if one is readable */
		if (skip_questions(x, qdcount) == -1 || parse_sections(x) == -1)
			x->edns = false;
		return finish(w, id, DNSD_RC_NOTIMP, false, tcp, false);
	}
	if (qdcount == 1) {
		if (parse_qname(x, HDR_LEN) == -1 || HDR_LEN + x->qnamelen + 4 > x->qlen)
			return finish(w, id, DNSD_RC_FORMERR, false, tcp, false);
		x->qtype = rd16(x->q + HDR_LEN + x->qnamelen);
		x->qclass = rd16(x->q + HDR_LEN + x->qnamelen + 2);
		x->qend = HDR_LEN + x->qnamelen + 4;
	} else if (skip_questions(x, qdcount) == -1)
		return finish(w, id, DNSD_RC_FORMERR, false, tcp, false);
	if (parse_sections(x) == -1) {	/* no readable OPT: no OPT back (RFC 6891 §7) */
		x->edns = false;
		return finish(w, id, DNSD_RC_FORMERR, false, tcp, false);
	}
	if (cookie_step(w, x) == -1)	/* RFC 7873 §5.2.2 */
		return finish(w, id, DNSD_RC_FORMERR, false, tcp, false);
	if (qdcount != 1) {	/* one question (RFC 9619), or none with a cookie (RFC 7873 §5.4) */
		w->len = HDR_LEN;
		return finish(w, id, qdcount == 0 && w->has_ck ? DNSD_RC_NOERROR : DNSD_RC_FORMERR,
		    false, tcp, false);
	}
	return -1;
}

/* Start the parse state x of query q and the writer w of the answer into out. */
static inline void
answer_init(struct dnsd *d, struct dnsd_ctx *c, const uint8_t *q, size_t qlen, uint8_t *out,
    size_t outcap, struct query *x, struct wr *w)
{
	x->q = q;
	x->qlen = qlen;
	x->flags = rd16(q + 2);
	x->qend = HDR_LEN;
	x->edns = x->dobit = false;
	x->version = 0;
	x->nlabels = 0;
	x->qtype = x->qclass = x->udpsize = 0;
	x->apexoff = 0;
	x->cookie = NULL;
	x->cookielen = 0;
	x->ncookie = 0;
	w->b = out;
	w->cap = outcap - OPT_LEN - COOKIE_OPT_LEN;
	w->len = HDR_LEN;
	w->full = false;
	w->an = w->ns = w->ar = 0;
	w->seeded = false;
	w->ncomp = 0;
	w->x = x;
	w->d = d;
	w->c = c;
	w->has_ck = w->ck_valid = false;
}

/* Size limit: TCP 65535; UDP the EDNS0 size within 512..1232, else 512; at most outcap. */
static inline size_t
answer_limit(const struct query *x, size_t outcap, bool tcp)
{
	size_t limit;

	if (tcp)
		limit = DNSD_MAX_TCP_MSG;
	else if (!x->edns || x->udpsize < DNSD_MIN_UDP_PAYLOAD)
		limit = DNSD_MIN_UDP_PAYLOAD;	/* RFC 6891 §6.2.5 */
	else
		limit = x->udpsize < DNSD_MAX_UDP_PAYLOAD ? x->udpsize : DNSD_MAX_UDP_PAYLOAD;
	return limit > outcap ? outcap : limit;
}

/* Answer a checked question of class IN from the zone and the challenge table. */
static inline int
answer_zone(struct dnsd *d, struct wr *w, struct query *x, uint16_t id, bool tcp)
{
	struct res r;
	bool aa = false;
	unsigned rcode;

	resolve(d, x->lname, x->qnamelen, x->loff, x->nlabels, x->qtype, &r, &x->apexoff);
	switch (r.kind) {
	case RES_OUT:	/* not our zone (RFC 1035 §4.1.1) */
		return finish(w, id, DNSD_RC_REFUSED, false, tcp, true);
	case RES_ENTRY:	/* the fast path: a challenge name */
		aa = true;
		rcode = DNSD_RC_NOERROR;
		if ((x->qtype == DNSD_T_TXT || x->qtype == DNSD_T_ANY) && r.entry->ntxt > 0)
			put_entry_txt(w, r.entry);
		else
			put_neg_soa(w, d->zone);	/* NODATA (RFC 2308 §2.2) */
		break;
	case RES_NX:	/* RFC 2308 §2.1 */
		aa = true;
		rcode = DNSD_RC_NXDOMAIN;
		put_neg_soa(w, d->zone);
		break;
	case RES_CUT:
		rcode = DNSD_RC_NOERROR;
		answer_cut(d, w, r.node);
		break;
	case RES_NODE:
	default:
		rcode = answer_node(d, w, r.node, &aa);
		break;
	}
	return finish(w, id, rcode, aa, tcp, true);
}

/*
 * dnsd_answer() for a caller that is already an online reader. The checks
 * come one at a time, each with its reason; see docs/dns.md for the table.
 */
int
answer_query(struct dnsd *d, struct dnsd_ctx *c, const uint8_t *q, size_t qlen, uint8_t *out,
    size_t outcap, bool tcp)
{
	struct query x;
	struct wr w;
	uint16_t id;
	int rc;

	if (qlen < HDR_LEN) {	/* no header to answer: drop */
		if (c->cnt != NULL)
			dnsd_count(&c->cnt->malformed[tcp ? DNSD_STAT_TCP : DNSD_STAT_UDP]);
		return 0;
	}
	if (outcap < DNSD_MIN_UDP_PAYLOAD)
		return -1;
	answer_init(d, c, q, qlen, out, outcap, &x, &w);
	id = rd16(q);
	if ((rc = check_query(&w, &x, id, tcp)) != -1)
		return rc;
	w.cap = answer_limit(&x, outcap, tcp) - (x.edns ? OPT_LEN : 0) -
	    (w.has_ck ? COOKIE_OPT_LEN : 0);
	memcpy(out + HDR_LEN, q + HDR_LEN, x.qend - HDR_LEN);	/* case as received (0x20) */
	w.len = x.qend;

	if (x.version > 0)	/* RFC 6891 §6.1.3 */
		return finish(&w, id, DNSD_RC_BADVERS, false, tcp, true);
	if (x.qclass != DNSD_C_IN)
		return finish(&w, id, DNSD_RC_REFUSED, false, tcp, true);
	if (x.qtype == DNSD_T_AXFR || x.qtype == DNSD_T_IXFR)	/* no zone transfer */
		return finish(&w, id, DNSD_RC_REFUSED, false, tcp, true);
	if (x.qtype == DNSD_T_OPT)	/* a pseudo-type, not a question (RFC 6891 §6.1.1) */
		return finish(&w, id, DNSD_RC_FORMERR, false, tcp, true);
	return answer_zone(d, &w, &x, id, tcp);
}

/*
 * Answer one DNS message (see dnsd.h). Callers outside the DNS workers
 * borrow one of a few reader slots, claimed with one compare-and-swap, so
 * this is safe from any thread and still takes no lock.
 */
int
dnsd_answer(struct dnsd *d, const uint8_t *q, size_t qlen, uint8_t *out, size_t outcap,
    bool tcp)
{
	unsigned slot;
	struct dnsd_ctx *c;
	struct timespec ts;
	int rc;

	if (d == NULL || q == NULL || out == NULL)
		return -1;
	for (unsigned spin = 0;; spin++) {
		slot = DNSD_READER_EXT + spin % DNSD_EXT_READERS;
		uint64_t zero = 0, e = atomic_load(&d->epoch);
		if (atomic_compare_exchange_strong(&d->reader[slot].seen, &zero, e))
			break;
	}
	c = &d->ext[slot - DNSD_READER_EXT];
	c->from = NULL;	/* no client address: no RRL, cookies over an empty address */
	c->wall = (uint32_t)time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	c->mono = (uint32_t)ts.tv_sec;
	cookie_tick(d, c);
	rc = answer_query(d, c, q, qlen, out, outcap, tcp);
	rcu_offline(d, slot);
	return rc;
}
