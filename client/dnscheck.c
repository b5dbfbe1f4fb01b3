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

/* Ask the resolver (RD set: it follows the CNAME, as the CA's resolver will). */
int
dnscheck_txt(const char *resolver, const char *name, const char *const *want, size_t nwant,
    char **cname, int *answered, struct acme_err *err)
{
	ldns_resolver *res = NULL;
	ldns_rdf *qname = NULL, *ns = NULL;
	ldns_pkt *pkt = NULL;
	ldns_rr_list *ans;
	ldns_rr *rr;
	char host[256], val[512];
	uint16_t port = 53;
	struct timeval tv = { CLIENT_DNS_TIMEOUT, 0 };
	bool *seen = NULL;
	size_t i, k, found = 0;
	int rc = -1;

	if (cname != NULL)
		*cname = NULL;
	*answered = 0;
	if (resolver != NULL) {
		if (split_hostport(resolver, host, sizeof(host), &port) == -1) {
			acme_errf(err, "bad --resolver '%s': use HOST:PORT, e.g. 127.0.0.1:53",
			    resolver);
			goto out;
		}
		res = ldns_resolver_new();
		ns = ns_rdf(host);
		if (res == NULL || ns == NULL ||
		    ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK) {
			acme_errf(err, "cannot use --resolver '%s': give an IP address and port",
			    resolver);
			goto out;
		}
		ldns_resolver_set_port(res, port);
	} else if (ldns_resolver_new_frm_file(&res, NULL) != LDNS_STATUS_OK || res == NULL) {
		acme_errf(err, "cannot read /etc/resolv.conf: give --resolver HOST:PORT");
		goto out;
	}
	ldns_resolver_set_recursive(res, true);
	ldns_resolver_set_dnssec(res, false);
	ldns_resolver_set_timeout(res, tv);
	ldns_resolver_set_retry(res, 1);
	ldns_resolver_set_fallback(res, true);	/* TCP on TC (RFC 7766 §5) */
	qname = ldns_dname_new_frm_str(name);
	seen = calloc(nwant + 1, sizeof(*seen));
	if (qname == NULL || seen == NULL) {
		acme_errf(err, "bad DNS name %s", name);
		goto out;
	}
	pkt = ldns_resolver_query(res, qname, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, LDNS_RD);
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
	rc = found == nwant ? 1 : 0;
out:
	free(seen);
	ldns_pkt_free(pkt);
	ldns_rdf_deep_free(qname);
	ldns_rdf_deep_free(ns);
	if (res != NULL)
		ldns_resolver_deep_free(res);
	return rc;
}
