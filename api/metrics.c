/* api/metrics.c -- the API's counters and the Prometheus text that GET /metrics serves */
/* SPDX-License-Identifier: ISC */

/*
 * The text follows the Prometheus text exposition format 0.0.4: for each
 * family a "# HELP" and a "# TYPE" line, then its samples; histograms as
 * cumulative _bucket{le=...} lines ending in le="+Inf", then _sum and
 * _count. docs/operations.md ("## Metrics") lists every family.
 */

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* A growing text buffer with a hard cap; once over the cap it stays failed. */
struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void __attribute__((format(printf, 2, 3)))
put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		if (t->cap >= API_METRICS_MAX_TEXT) {
			t->failed = true;
			return;
		}
		size_t ncap = t->cap * 2 > API_METRICS_MAX_TEXT ? API_METRICS_MAX_TEXT : t->cap * 2;
		char *nb = realloc(t->buf, ncap);

		if (nb == NULL) {
			t->failed = true;
			return;
		}
		t->buf = nb;
		t->cap = ncap;
	}
}

/* The "# HELP" and "# TYPE" lines of a family. */
static void
family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *const route_name[API_M_NROUTE] = { "register", "update", "health", "other" };

/* Count one answered request (see internal.h). */
void
api_metrics_count(struct api_metrics *m, const char *path, unsigned status, uint64_t ns,
    bool auth_failed)
{
	static const double bound[API_LAT_BUCKETS] = API_LAT_BOUNDS;
	unsigned r = API_M_OTHER;
	size_t b;

	if (m == NULL)
		return;
	if (path != NULL && strcmp(path, "/register") == 0)
		r = API_M_REGISTER;
	else if (path != NULL && strcmp(path, "/update") == 0)
		r = API_M_UPDATE;
	else if (path != NULL && strcmp(path, "/health") == 0)
		r = API_M_HEALTH;
	if (status >= API_METRICS_STATUS_MIN && status < API_METRICS_STATUS_MIN + API_METRICS_NSTATUS)
		atomic_fetch_add_explicit(&m->requests[r][status - API_METRICS_STATUS_MIN], 1,
		    memory_order_relaxed);
	for (b = 0; b < API_LAT_BUCKETS && (double)ns / 1e9 > bound[b]; b++)
		;
	if (b < API_LAT_BUCKETS)
		atomic_fetch_add_explicit(&m->lat_bucket[r][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->lat_ns[r], ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->lat_count[r], 1, memory_order_relaxed);
	if (auth_failed)
		atomic_fetch_add_explicit(&m->auth_failures[r], 1, memory_order_relaxed);
}

/* One histogram series: per-bucket counts (not cumulative) turned into le= lines. */
static void
histogram(struct text *t, const char *name, const char *labels, const double *bound,
    const uint64_t *bucket, size_t nbucket, uint64_t count, uint64_t sum_ns)
{
	uint64_t cum = 0;
	const char *sep = labels[0] != '\0' ? "," : "";

	for (size_t i = 0; i < nbucket; i++) {
		cum += bucket[i];
		put(t, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, bound[i],
		    (unsigned long long)cum);
	}
	put(t, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)count);
	put(t, "%s_sum%s%s%s %.9f\n", name, labels[0] != '\0' ? "{" : "", labels,
	    labels[0] != '\0' ? "}" : "", (double)sum_ns / 1e9);
	put(t, "%s_count%s%s%s %llu\n", name, labels[0] != '\0' ? "{" : "", labels,
	    labels[0] != '\0' ? "}" : "", (unsigned long long)count);
}

/* The DNS families, from dnsd's per-worker counters. */
static void
dns_text(struct text *t, struct dnsd *d)
{
	static const char *const tr[DNSD_STAT_NTRANSPORT] = { "udp", "tcp" };
	static const char *const qt[DNSD_STAT_NQTYPE] = { "TXT", "SOA", "NS", "A/AAAA", "ANY",
	    "other" };
	static const char *const rc[DNSD_STAT_NRCODE] = { "NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED", "BADVERS", "BADCOOKIE", "other" };
	static const char *const ck[DNSD_STAT_NCOOKIE] = { "client_only", "valid", "invalid",
	    "malformed" };
	struct dnsd_stats s;

	dnsd_stats_read(d, &s);
	family(t, "dns01d_dns_queries_total", "counter",
	    "DNS queries answered, by transport, QTYPE class and RCODE of the answer.");
	for (size_t i = 0; i < DNSD_STAT_NTRANSPORT; i++)
		for (size_t q = 0; q < DNSD_STAT_NQTYPE; q++)
			for (size_t r = 0; r < DNSD_STAT_NRCODE; r++)
				put(t, "dns01d_dns_queries_total{transport=\"%s\",qtype=\"%s\","
				    "rcode=\"%s\"} %llu\n", tr[i], qt[q], rc[r],
				    (unsigned long long)s.queries[i][q][r]);
	family(t, "dns01d_dns_truncated_total", "counter", "UDP answers sent with TC=1.");
	put(t, "dns01d_dns_truncated_total %llu\n", (unsigned long long)s.truncated);
	family(t, "dns01d_dns_malformed_total", "counter",
	    "DNS messages dropped unanswered: shorter than a header, a response, or too long.");
	for (size_t i = 0; i < DNSD_STAT_NTRANSPORT; i++)
		put(t, "dns01d_dns_malformed_total{transport=\"%s\"} %llu\n", tr[i],
		    (unsigned long long)s.malformed[i]);
	family(t, "dns01d_dns_rrl_total", "counter",
	    "UDP answers response-rate limiting dropped or slipped (TC=1 or BADCOOKIE).");
	put(t, "dns01d_dns_rrl_total{action=\"drop\"} %llu\n", (unsigned long long)s.rrl_dropped);
	put(t, "dns01d_dns_rrl_total{action=\"slip\"} %llu\n", (unsigned long long)s.rrl_slipped);
	family(t, "dns01d_dns_cookies_total", "counter",
	    "DNS queries with a COOKIE option, by what it held (RFC 7873, RFC 9018).");
	for (size_t k = 0; k < DNSD_STAT_NCOOKIE; k++)
		put(t, "dns01d_dns_cookies_total{result=\"%s\"} %llu\n", ck[k],
		    (unsigned long long)s.cookies[k]);
	family(t, "dns01d_dns_tcp_connections", "gauge", "DNS TCP connections open.");
	put(t, "dns01d_dns_tcp_connections %llu\n", (unsigned long long)s.tcp_open);
	family(t, "dns01d_dns_tcp_accepted_total", "counter", "DNS TCP connections accepted.");
	put(t, "dns01d_dns_tcp_accepted_total %llu\n", (unsigned long long)s.tcp_accepted);
	family(t, "dns01d_accounts", "gauge",
	    "Challenge names served from memory (accounts, and the API's own with tls = acme).");
	put(t, "dns01d_accounts %llu\n", (unsigned long long)s.names);
	family(t, "dns01d_txt_values", "gauge", "TXT values served from memory.");
	put(t, "dns01d_txt_values %llu\n", (unsigned long long)s.values);
}

/* The API families. */
static void
api_text(struct text *t, struct api_metrics *m)
{
	static const double bound[API_LAT_BUCKETS] = API_LAT_BOUNDS;
	uint64_t b[API_LAT_BUCKETS];
	char labels[32];

	family(t, "dns01d_api_requests_total", "counter",
	    "API requests answered, by route and HTTP status.");
	for (size_t r = 0; r < API_M_NROUTE; r++) {
		for (size_t s = 0; s < API_METRICS_NSTATUS; s++) {
			uint64_t n = atomic_load_explicit(&m->requests[r][s], memory_order_relaxed);

			if (n > 0)
				put(t, "dns01d_api_requests_total{route=\"%s\",status=\"%zu\"} %llu\n",
				    route_name[r], s + API_METRICS_STATUS_MIN, (unsigned long long)n);
		}
	}
	family(t, "dns01d_api_request_duration_seconds", "histogram",
	    "API request latency, from the complete request to the queued reply.");
	for (size_t r = 0; r < API_M_NROUTE; r++) {
		for (size_t i = 0; i < API_LAT_BUCKETS; i++)
			b[i] = atomic_load_explicit(&m->lat_bucket[r][i], memory_order_relaxed);
		snprintf(labels, sizeof(labels), "route=\"%s\"", route_name[r]);
		histogram(t, "dns01d_api_request_duration_seconds", labels, bound, b,
		    API_LAT_BUCKETS, atomic_load_explicit(&m->lat_count[r], memory_order_relaxed),
		    atomic_load_explicit(&m->lat_ns[r], memory_order_relaxed));
	}
	family(t, "dns01d_api_auth_failures_total", "counter",
	    "Failed logins on /update and wrong bearer tokens on /register.");
	put(t, "dns01d_api_auth_failures_total{route=\"update\"} %llu\n",
	    (unsigned long long)atomic_load_explicit(&m->auth_failures[API_M_UPDATE],
	    memory_order_relaxed));
	put(t, "dns01d_api_auth_failures_total{route=\"register\"} %llu\n",
	    (unsigned long long)atomic_load_explicit(&m->auth_failures[API_M_REGISTER],
	    memory_order_relaxed));
}

/* The storage families and the certificate's remaining lifetime. */
static void
storage_text(struct text *t, struct storage *st, struct api_tls *tls)
{
	static const double bound[STORAGE_WRITE_BUCKETS] = STORAGE_WRITE_BOUNDS;
	struct storage_stats s;
	time_t not_after;

	storage_stats(st, &s);
	family(t, "dns01d_storage_write_duration_seconds", "histogram",
	    "Committed writes (register, update): the call until the commit is durable.");
	histogram(t, "dns01d_storage_write_duration_seconds", "", bound, s.write_bucket,
	    STORAGE_WRITE_BUCKETS, s.writes, s.write_ns);
	family(t, "dns01d_storage_write_errors_total", "counter", "Writes that failed.");
	put(t, "dns01d_storage_write_errors_total %llu\n", (unsigned long long)s.write_errors);
	/* tls = none, or tls = acme before the first certificate: the family is left out. */
	if (api_tls_not_after(tls, &not_after)) {
		family(t, "dns01d_api_certificate_expiry_seconds", "gauge",
		    "Seconds until the served API certificate expires (negative: expired).");
		put(t, "dns01d_api_certificate_expiry_seconds %lld\n",
		    (long long)(not_after - time(NULL)));
	}
}

/* The whole /metrics text (see internal.h). */
char *
api_metrics_text(struct api_metrics *m, struct dnsd *d, struct storage *st,
    struct api_tls *tls, size_t *len)
{
	struct text t = { NULL, 0, 16384, false };

	if ((t.buf = malloc(t.cap)) == NULL)
		return NULL;
	family(&t, "dns01d_build_info", "gauge", "The running dns01d; always 1.");
	put(&t, "dns01d_build_info{version=\"%s\"} 1\n", DNS01D_VERSION);
	dns_text(&t, d);
	api_text(&t, m);
	storage_text(&t, st, tls);
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	*len = t.len;
	return t.buf;
}
