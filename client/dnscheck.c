/* client/dnscheck.c -- does _acme-challenge TXT resolve to our value? (on ldns) */
/* SPDX-License-Identifier: ISC */

#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>

/* client.h (with <stdbool.h>) first: ldns/common.h defines its own bool otherwise. */
#include "client.h"

#include <ldns/ldns.h>

/* Split "HOST:PORT", "[V6]:PORT", "V6" or "HOST" into host and port. */
static int
split_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *end;
	char *ep;
	unsigned long p = 53;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL || (size_t)(end - s - 1) >= hostlen)
			return -1;
		snprintf(host, hostlen, "%.*s", (int)(end - s - 1), s + 1);
		if (end[1] == ':') {
			p = strtoul(end + 2, &ep, 10);
			if (*ep != '\0' || end[2] == '\0')
				return -1;
		} else if (end[1] != '\0') {
			return -1;
		}
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			if ((size_t)(colon - s) >= hostlen)
				return -1;
			snprintf(host, hostlen, "%.*s", (int)(colon - s), s);
			p = strtoul(colon + 1, &ep, 10);
			if (*ep != '\0' || colon[1] == '\0')
				return -1;
		} else {
			if (strlen(s) >= hostlen)
				return -1;
			snprintf(host, hostlen, "%s", s);	/* a bare IPv6 address or a name */
		}
	}
	if (p == 0 || p > 65535 || host[0] == '\0')
		return -1;
	*port = (uint16_t)p;
	return 0;
}

/* The nameserver address as an ldns rdf (numeric, or looked up once). */
static ldns_rdf *
ns_rdf(const char *host)
{
	struct addrinfo hints, *ai = NULL;
	char buf[INET6_ADDRSTRLEN];
	ldns_rdf *r = NULL;

	r = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, host);
	if (r == NULL)
		r = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, host);
	if (r != NULL)
		return r;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, NULL, &hints, &ai) != 0 || ai == NULL)
		return NULL;
	if (ai->ai_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr, buf,
		    sizeof(buf));
		r = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, buf);
	} else if (ai->ai_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr, buf,
		    sizeof(buf));
		r = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, buf);
	}
	freeaddrinfo(ai);
	return r;
}

/* A TXT RR's character-strings joined (RFC 8555 §8.4 values fit in one string). */
static void
txt_value(const ldns_rr *rr, char *out, size_t outlen)
{
	size_t i, n = 0, l;
	const ldns_rdf *rd;

	out[0] = '\0';
	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		rd = ldns_rr_rdf(rr, i);
		if (rd == NULL || ldns_rdf_size(rd) < 1)
			continue;
		l = ldns_rdf_data(rd)[0];
		if (l > ldns_rdf_size(rd) - 1)
			l = ldns_rdf_size(rd) - 1;
		if (n + l >= outlen)
			return;
		memcpy(out + n, ldns_rdf_data(rd) + 1, l);
		n += l;
		out[n] = '\0';
	}
}

/* A resolver on "HOST:PORT" (or /etc/resolv.conf when NULL) with rd and timeout. */
static ldns_resolver *
resolver_new(const char *resolver, bool rd, int timeout, struct acme_err *err)
{
	ldns_resolver *res = NULL;
	ldns_rdf *ns = NULL;
	char host[256];
	uint16_t port = 53;
	struct timeval tv = { timeout, 0 };

	if (resolver != NULL) {
		if (split_hostport(resolver, host, sizeof(host), &port) == -1) {
			acme_errf(err, "bad --resolver '%s': use HOST:PORT, e.g. 127.0.0.1:53",
			    resolver);
			return NULL;
		}
		res = ldns_resolver_new();
		ns = ns_rdf(host);
		if (res == NULL || ns == NULL ||
		    ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK) {
			acme_errf(err, "cannot use --resolver '%s': give an IP address and port",
			    resolver);
			ldns_rdf_deep_free(ns);
			if (res != NULL)
				ldns_resolver_deep_free(res);
			return NULL;
		}
		ldns_rdf_deep_free(ns);
		ldns_resolver_set_port(res, port);
	} else if (ldns_resolver_new_frm_file(&res, NULL) != LDNS_STATUS_OK || res == NULL) {
		acme_errf(err, "cannot read /etc/resolv.conf: give --resolver HOST:PORT");
		return NULL;
	}
	ldns_resolver_set_recursive(res, rd);
	ldns_resolver_set_dnssec(res, false);
	ldns_resolver_set_timeout(res, tv);
	ldns_resolver_set_retry(res, 1);
	ldns_resolver_set_fallback(res, true);	/* TCP on TC (RFC 7766 §5) */
	return res;
}

/* How many of want[] the answer's TXT records hold (each counted once). */
static size_t
txt_found(const ldns_pkt *pkt, const char *const *want, size_t nwant, bool *seen)
{
	ldns_rr_list *ans = ldns_pkt_answer(pkt);
	ldns_rr *rr;
	char val[512];
	size_t i, k, found = 0;

	for (i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
		rr = ldns_rr_list_rr(ans, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
			continue;
		txt_value(rr, val, sizeof(val));
		for (k = 0; k < nwant; k++) {
			if (!seen[k] && strcmp(val, want[k]) == 0) {
				seen[k] = true;
				found++;
			}
		}
	}
	return found;
}

/* One query; NULL when nothing answered (timeout, refused). */
static ldns_pkt *
query(ldns_resolver *res, const char *name, ldns_rr_type type, bool rd)
{
	ldns_rdf *q = ldns_dname_new_frm_str(name);
	ldns_pkt *pkt;

	if (q == NULL)
		return NULL;
	pkt = ldns_resolver_query(res, q, type, LDNS_RR_CLASS_IN, rd ? LDNS_RD : 0);
	ldns_rdf_deep_free(q);
	return pkt;
}

/* Ask the resolver (RD set: it follows the CNAME, as the CA's resolver will). */
int
dnscheck_txt(const char *resolver, const char *name, const char *const *want, size_t nwant,
    char **cname, int *answered, struct acme_err *err)
{
	ldns_resolver *res = NULL;
	ldns_pkt *pkt = NULL;
	ldns_rr_list *ans;
	ldns_rr *rr;
	bool *seen = NULL;
	size_t i;
	int rc = -1;

	if (cname != NULL)
		*cname = NULL;
	*answered = 0;
	res = resolver_new(resolver, true, CLIENT_DNS_TIMEOUT, err);
	seen = calloc(nwant + 1, sizeof(*seen));
	if (res == NULL || seen == NULL)
		goto out;
	pkt = query(res, name, LDNS_RR_TYPE_TXT, true);
	rc = 0;
	if (pkt == NULL)
		goto out;	/* a timeout is "not yet" */
	*answered = 1;
	ans = ldns_pkt_answer(pkt);
	for (i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
		rr = ldns_rr_list_rr(ans, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && cname != NULL && *cname == NULL &&
		    ldns_rr_rd_count(rr) > 0)
			*cname = ldns_rdf2str(ldns_rr_rdf(rr, 0));
	}
	rc = txt_found(pkt, want, nwant, seen) == nwant ? 1 : 0;
out:
	free(seen);
	ldns_pkt_free(pkt);
	if (res != NULL)
		ldns_resolver_deep_free(res);
	return rc;
}

/* The first record of type t in the answer, as text (new string), or NULL. */
static char *
first_rdata(const ldns_pkt *pkt, ldns_rr_type t)
{
	ldns_rr_list *ans = pkt != NULL ? ldns_pkt_answer(pkt) : NULL;
	ldns_rr *rr;
	size_t i;

	for (i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
		rr = ldns_rr_list_rr(ans, i);
		if (ldns_rr_get_type(rr) == t && ldns_rr_rd_count(rr) > 0)
			return ldns_rdf2str(ldns_rr_rdf(rr, 0));
	}
	return NULL;
}

/* Add the A and AAAA addresses of host (through the resolver) to a. */
static void
add_addresses(ldns_resolver *res, const char *host, struct dnscheck_auth *a)
{
	static const ldns_rr_type types[] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA };
	ldns_pkt *pkt;
	ldns_rr_list *ans;
	ldns_rr *rr;
	size_t t, i;

	for (t = 0; t < 2; t++) {
		pkt = query(res, host, types[t], true);
		ans = pkt != NULL ? ldns_pkt_answer(pkt) : NULL;
		for (i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
			rr = ldns_rr_list_rr(ans, i);
			if (ldns_rr_get_type(rr) != types[t] || ldns_rr_rd_count(rr) == 0 ||
			    a->naddr >= CLIENT_MAX_NS)
				continue;
			a->addr[a->naddr] = ldns_rdf2str(ldns_rr_rdf(rr, 0));
			if (a->addr[a->naddr] != NULL)
				a->naddr++;
		}
		ldns_pkt_free(pkt);
	}
}

/* See client.h: CNAME target, then the closest enclosing NS set, then its addresses. */
int
dnscheck_auth_find(const char *resolver, const char *name, const char *fallback,
    struct dnscheck_auth *a, struct acme_err *err)
{
	ldns_resolver *res;
	ldns_pkt *pkt;
	ldns_rr_list *ans;
	ldns_rr *rr;
	const char *z;
	char *host;
	size_t i, labels;

	memset(a, 0, sizeof(*a));
	res = resolver_new(resolver, true, CLIENT_DNS_TIMEOUT, err);
	if (res == NULL)
		return -1;
	pkt = query(res, name, LDNS_RR_TYPE_CNAME, true);
	a->target = first_rdata(pkt, LDNS_RR_TYPE_CNAME);
	ldns_pkt_free(pkt);
	if (a->target == NULL && asprintf(&a->target, "%s.", fallback) == -1)
		a->target = NULL;
	if (a->target == NULL) {
		ldns_resolver_deep_free(res);
		acme_errf(err, "out of memory");
		return -1;
	}
	/* Walk up from the target to the first name with NS records: the zone's apex. */
	for (z = a->target, labels = 0; *z != '\0' && strcmp(z, ".") != 0 && labels < 127;
	    labels++) {
		pkt = query(res, z, LDNS_RR_TYPE_NS, true);
		ans = pkt != NULL ? ldns_pkt_answer(pkt) : NULL;
		for (i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
			rr = ldns_rr_list_rr(ans, i);
			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || ldns_rr_rd_count(rr) == 0)
				continue;
			if (a->zone == NULL)
				a->zone = strdup(z);
			host = ldns_rdf2str(ldns_rr_rdf(rr, 0));
			if (host != NULL)
				add_addresses(res, host, a);
			free(host);
		}
		ldns_pkt_free(pkt);
		if (a->zone != NULL)
			break;
		z = strchr(z, '.');
		if (z == NULL)
			break;
		z++;
	}
	ldns_resolver_deep_free(res);
	return 0;
}

/* See client.h. */
void
dnscheck_auth_free(struct dnscheck_auth *a)
{
	size_t i;

	free(a->target);
	free(a->zone);
	for (i = 0; i < a->naddr; i++)
		free(a->addr[i]);
	memset(a, 0, sizeof(*a));
}

/* See client.h: one authoritative server, RD off (it must hold the data itself). */
int
dnscheck_txt_direct(const char *addr, int port, const char *name, const char *const *want,
    size_t nwant)
{
	ldns_resolver *res;
	ldns_pkt *pkt = NULL;
	char hp[300];
	bool *seen;
	int rc = -1;

	snprintf(hp, sizeof(hp), strchr(addr, ':') != NULL ? "[%s]:%d" : "%s:%d", addr, port);
	res = resolver_new(hp, false, CLIENT_NS_TIMEOUT, &(struct acme_err){ 0 });
	seen = calloc(nwant + 1, sizeof(*seen));
	if (res == NULL || seen == NULL)
		goto out;
	pkt = query(res, name, LDNS_RR_TYPE_TXT, false);
	if (pkt == NULL || ldns_pkt_get_rcode(pkt) == LDNS_RCODE_REFUSED ||
	    ldns_pkt_get_rcode(pkt) == LDNS_RCODE_SERVFAIL)
		goto out;
	rc = txt_found(pkt, want, nwant, seen) == nwant ? 1 : 0;
out:
	free(seen);
	ldns_pkt_free(pkt);
	if (res != NULL)
		ldns_resolver_deep_free(res);
	return rc;
}

/* See client.h. */
void
dnscheck_values_free(char **vals, size_t n)
{
	size_t i;

	for (i = 0; vals != NULL && i < n; i++)
		free(vals[i]);
	free(vals);
}

/* See client.h: every TXT value of the answer, strings joined (dns-persist-01 §9.1). */
int
dnscheck_txt_values(const char *resolver, const char *name, char ***vals, size_t *nvals,
    char **cname, int *answered, struct acme_err *err)
{
	ldns_resolver *res;
	ldns_pkt *pkt;
	ldns_rr_list *ans;
	ldns_rr *rr;
	size_t i, n;
	int rc = 0;

	*vals = NULL;
	*nvals = 0;
	if (cname != NULL)
		*cname = NULL;
	*answered = 0;
	if ((res = resolver_new(resolver, true, CLIENT_DNS_TIMEOUT, err)) == NULL)
		return -1;
	pkt = query(res, name, LDNS_RR_TYPE_TXT, true);
	if (pkt == NULL)
		goto out;	/* a timeout is "not yet" */
	*answered = 1;
	ans = ldns_pkt_answer(pkt);
	n = ans != NULL ? ldns_rr_list_rr_count(ans) : 0;
	if (n > 0 && (*vals = calloc(n, sizeof(**vals))) == NULL) {
		acme_errf(err, "out of memory");
		rc = -1;
		goto out;
	}
	for (i = 0; i < n; i++) {
		rr = ldns_rr_list_rr(ans, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && cname != NULL && *cname == NULL &&
		    ldns_rr_rd_count(rr) > 0)
			*cname = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT ||
		    ((*vals)[*nvals] = malloc(CLIENT_MAX_TXT + 1)) == NULL)
			continue;
		txt_value(rr, (*vals)[*nvals], CLIENT_MAX_TXT + 1);
		(*nvals)++;
	}
out:
	ldns_pkt_free(pkt);
	ldns_resolver_deep_free(res);
	return rc;
}
