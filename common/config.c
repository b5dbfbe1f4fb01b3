/* common/config.c -- acme-dns's config.cfg plus dns01d's own keys, into struct config */
/* SPDX-License-Identifier: ISC */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

/*
 * How a key's value is checked and where it goes. Each known key names its
 * table, its kind and the field of struct config it fills.
 */
enum key_kind {
	K_STR,		/* any string (paths, e-mail, header names ...) */
	K_BOOL,
	K_UINT,		/* integer within [min, max] into an unsigned */
	K_U32,		/* integer within [min, max] into a uint32_t */
	K_STRV,		/* array of strings */
	K_PORT,		/* "443" or 443, within [min, max] */
	K_PROTOCOL,	/* general.protocol */
	K_DOMAIN,	/* a domain name: lower-cased, trailing dot stripped */
	K_NSADMIN,	/* a mailbox as a name: '@' written as '.' */
	K_LISTEN,	/* "IP:port", "[IPv6]:port", ":port", or an array of them */
	K_IP,		/* an IP literal, brackets allowed */
	K_ENGINE,	/* database.engine */
	K_TLS,		/* api.tls */
	K_HEADER,	/* an HTTP header field name */
	K_CIDRS,	/* array of CIDRs */
	K_LOGLEVEL,
	K_LOGTYPE,
	K_LOGFORMAT,
	K_RATE,		/* "N/second", "N/minute", "N/hour", or 0 (off) */
	K_CIDRLIST,	/* array of CIDRs, parsed into a struct cidr array */
	K_TOKEN,	/* a secret bearer token: checked, never echoed, wiped on free */
	K_USER,		/* general.user: an existing user, resolved to uid and gid */
	K_GROUP,	/* general.group: an existing group, resolved to gid */
	K_METRICS,	/* api.metrics_listen: "IPv4:port" or "[IPv6]:port", "" = off */
};

struct key_desc {
	const char *table;
	const char *key;
	enum key_kind kind;
	size_t off;		/* offsetof(struct config, field) */
	long long min, max;	/* for K_UINT, K_U32, K_PORT */
	bool required;
};

#define F(field) offsetof(struct config, field)
#define TTL_MAX 2147483647LL	/* RFC 2181 §8: TTLs are 31-bit */

static const struct key_desc keys[] = {
	{ "general", "listen", K_LISTEN, F(listen), 0, 0, true },
	{ "general", "protocol", K_PROTOCOL, F(protocol), 0, 0, false },
	{ "general", "domain", K_DOMAIN, F(domain), 0, 0, true },
	{ "general", "nsname", K_DOMAIN, F(nsname), 0, 0, true },
	{ "general", "nsadmin", K_NSADMIN, F(nsadmin), 0, 0, true },
	{ "general", "records", K_STRV, F(records), 0, 0, false },
	{ "general", "debug", K_BOOL, F(debug), 0, 0, false },
	{ "general", "dns_threads", K_UINT, F(dns_threads), 0, CONFIG_MAX_THREADS, false },
	{ "general", "txt_ttl", K_U32, F(txt_ttl), 0, TTL_MAX, false },
	{ "general", "negative_ttl", K_U32, F(negative_ttl), 0, TTL_MAX, false },
	{ "general", "persist_ttl", K_U32, F(persist_ttl), 0, TTL_MAX, false },
	{ "general", "tcp_idle_timeout", K_UINT, F(tcp_idle_timeout), 1, CONFIG_MAX_TIMEOUT, false },
	{ "general", "tcp_max_clients", K_UINT, F(tcp_max_clients), 1, CONFIG_MAX_TCP_CLIENTS, false },
	{ "general", "user", K_USER, F(user), 0, 0, false },
	{ "general", "group", K_GROUP, F(group), 0, 0, false },
	{ "general", "rrl_rate", K_UINT, F(rrl_rate), 0, CONFIG_MAX_RRL_RATE, false },
	{ "general", "rrl_slip", K_UINT, F(rrl_slip), 0, CONFIG_MAX_RRL_SLIP, false },
	{ "general", "cookies", K_BOOL, F(cookies), 0, 0, false },
	{ "general", "cookie_rotation", K_UINT, F(cookie_rotation), CONFIG_MIN_COOKIE_ROTATION,
	    CONFIG_MAX_COOKIE_ROTATION, false },
	{ "general", "seccomp", K_BOOL, F(seccomp), 0, 0, false },
	{ "general", "txt_expiry", K_UINT, F(txt_expiry), 0, CONFIG_MAX_TXT_EXPIRY, false },

	{ "database", "engine", K_ENGINE, F(db_engine), 0, 0, false },
	{ "database", "connection", K_STR, F(db_connection), 0, 0, true },

	{ "api", "ip", K_IP, F(api_ip), 0, 0, false },
	{ "api", "port", K_PORT, F(api_port), 0, 65535, true },
	{ "api", "disable_registration", K_BOOL, F(disable_registration), 0, 0, false },
	{ "api", "tls", K_TLS, F(tls), 0, 0, false },
	{ "api", "tls_cert_privkey", K_STR, F(tls_cert_privkey), 0, 0, false },
	{ "api", "tls_cert_fullchain", K_STR, F(tls_cert_fullchain), 0, 0, false },
	{ "api", "acme_cache_dir", K_STR, F(acme_cache_dir), 0, 0, false },
	{ "api", "notification_email", K_STR, F(notification_email), 0, 0, false },
	{ "api", "hsts_enabled", K_BOOL, F(hsts_enabled), 0, 0, false },
	{ "api", "hsts_max_age", K_UINT, F(hsts_max_age), 0, CONFIG_MAX_HSTS_AGE, false },
	{ "api", "hsts_include_subdomains", K_BOOL, F(hsts_include_subdomains), 0, 0, false },
	{ "api", "hsts_preload", K_BOOL, F(hsts_preload), 0, 0, false },
	{ "api", "acme_directory", K_STR, F(acme_directory), 0, 0, false },
	{ "api", "acme_ca_file", K_STR, F(acme_ca_file), 0, 0, false },
	{ "api", "acme_eab_kid", K_STR, F(acme_eab_kid), 0, 0, false },
	{ "api", "acme_eab_hmac_key", K_STR, F(acme_eab_hmac_key), 0, 0, false },
	{ "api", "acme_renew_before", K_UINT, F(acme_renew_before), 0, CONFIG_MAX_RENEW_BEFORE, false },
	{ "api", "corsorigins", K_STRV, F(corsorigins), 0, 0, false },
	{ "api", "use_header", K_BOOL, F(use_header), 0, 0, false },
	{ "api", "header_name", K_HEADER, F(header_name), 0, 0, false },
	{ "api", "trusted_proxies", K_CIDRS, F(trusted_proxies), 0, 0, false },
	{ "api", "txt_values", K_UINT, F(txt_values), 1, CONFIG_MAX_TXT_VALUES, false },
	{ "api", "max_body", K_UINT, F(max_body), CONFIG_MIN_BODY, CONFIG_MAX_BODY, false },
	{ "api", "api_threads", K_UINT, F(api_threads), 1, CONFIG_MAX_THREADS, false },
	{ "api", "connection_timeout", K_UINT, F(connection_timeout), 1, CONFIG_MAX_TIMEOUT, false },
	{ "api", "request_timeout", K_UINT, F(request_timeout), 1, CONFIG_MAX_TIMEOUT, false },
	{ "api", "max_conns_per_ip", K_UINT, F(max_conns_per_ip), 0, CONFIG_MAX_CONNS_PER_IP, false },
	{ "api", "auth_fail_rate", K_RATE, F(auth_fail_rate), 0, 0, false },
	{ "api", "register_rate", K_RATE, F(register_rate), 0, 0, false },
	{ "api", "register_allowfrom", K_CIDRLIST, F(register_allowfrom), 0, 0, false },
	{ "api", "register_token", K_TOKEN, F(register_token), 0, 0, false },
	{ "api", "metrics_listen", K_METRICS, F(metrics_listen), 0, 0, false },

	{ "logconfig", "loglevel", K_LOGLEVEL, F(loglevel), 0, 0, false },
	{ "logconfig", "logtype", K_LOGTYPE, F(logtype), 0, 0, false },
	{ "logconfig", "logfile", K_STR, F(logfile), 0, 0, false },
	{ "logconfig", "logformat", K_LOGFORMAT, F(logformat), 0, 0, false },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const known_tables[] = { "general", "database", "api", "logconfig" };

/* A parse in progress: the file name for messages and the error buffer. */
struct cctx {
	const char *name;
	char *err;
	size_t errlen;
};

static void __attribute__((format(printf, 3, 4)))
cerr(struct cctx *c, unsigned line, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err == NULL || c->errlen == 0)
		return;
	if (line > 0)
		snprintf(c->err, c->errlen, "%s:%u: %s", c->name, line, msg);
	else
		snprintf(c->err, c->errlen, "%s: %s", c->name, msg);
}

static char **
str_field(struct config *cfg, size_t off)
{
	return (char **)(void *)((char *)cfg + off);
}

/* Replace the string at *dst with a copy of s. */
static int
set_str(struct cctx *c, unsigned line, char **dst, const char *s)
{
	char *d;

	if ((d = strdup(s)) == NULL) {
		cerr(c, line, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = d;
	return 0;
}

/*
 * True if s holds no control characters. TOML escapes could put a newline
 * into a path or a record; nothing in this config needs one, and a record
 * with a newline would smuggle a second zone line past its own line number.
 */
static bool
no_controls(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/*
 * Normalise a domain name in place: lower-case it and strip one trailing
 * dot; then check it is 1..253 bytes of labels of 1..63 letters, digits,
 * '-' or '_', no label starting or ending with '-' (RFC 1035 §2.3.1, with
 * '_' allowed as RFC 2181 §11 permits).
 */
static bool
domain_normalise(char *s)
{
	size_t len, lab = 0, i;

	for (i = 0; s[i] != '\0'; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		s[--len] = '\0';
	if (len == 0 || len > 253)
		return false;
	for (i = 0; i <= len; i++) {
		char ch = s[i];

		if (ch == '.' || ch == '\0') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-' || s[i - lab] == '-')
				return false;
			lab = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		    ch == '_')
			lab++;
		else
			return false;
	}
	return true;
}

/* Parse "1".."65535"-style decimal text (no sign, at most 5 digits). */
static bool
parse_port_text(const char *s, long long *out)
{
	long long v = 0;
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 5)
			return false;
		v = v * 10 + (s[n] - '0');
	}
	if (n == 0)
		return false;
	*out = v;
	return true;
}

/*
 * Parse a DNS listen address: "IPv4:port", "[IPv6]:port" or ":port" (all
 * addresses), as acme-dns hands it to Go's net.Listen. Host names are not
 * resolved: dnsd binds literals. This is the only parser of listen.
 */
bool
config_listen_parse(const char *s, struct config_listen *out)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *hs = s;
	long long port;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return false;
		hs = s + 1;
		hl = (size_t)(rb - hs);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return false;
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl) != NULL)
			return false;	/* a bare IPv6 address needs brackets */
	}
	/* Port 0 lets dnsd pick a free port (tests read it back with dnsd_port()). */
	if (!parse_port_text(colon + 1, &port) || port > 65535)
		return false;
	out->port = (unsigned)port;
	if (hl == 0) {
		out->family = AF_UNSPEC;
		return s[0] != '[';
	}
	if (hl >= sizeof(host))
		return false;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (s[0] != '[' && inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (s[0] == '[' && inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		return true;
	}
	memset(out, 0, sizeof(*out));
	return false;
}

/*
 * [api] metrics_listen: "" is off; otherwise a literal address and port
 * (no ":port" wildcard: the metrics are meant for loopback or a monitoring
 * network), parsed once into cfg->metrics_addr. Returns 0 or -1.
 */
static int
metrics_addr_set(const char *s, struct config *cfg)
{
	struct config_listen l;
	struct sockaddr_in *sin = (struct sockaddr_in *)&cfg->metrics_addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cfg->metrics_addr;

	memset(&cfg->metrics_addr, 0, sizeof(cfg->metrics_addr));
	cfg->metrics_on = false;
	if (*s == '\0')
		return 0;
	if (!config_listen_parse(s, &l) || l.family == AF_UNSPEC)
		return -1;
	if (l.family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, l.addr, 4);
		sin->sin_port = htons((uint16_t)l.port);
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, l.addr, 16);
		sin6->sin6_port = htons((uint16_t)l.port);
	}
	cfg->metrics_on = true;
	return 0;
}

/* RFC 9110 §5.1: a field name is a token of tchar. */
static bool
header_name_valid(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return false;
	return n > 0 && n <= CONFIG_MAX_HEADER_NAME;
}

static int
want_type(struct cctx *c, const struct toml_kv *kv, enum toml_type t, const char *what)
{
	if (kv->type == t)
		return 0;
	cerr(c, kv->line, "[%s] %s: expected %s", kv->table, kv->key, what);
	return -1;
}

/* An integer value within [min, max]. */
static int
want_int(struct cctx *c, const struct toml_kv *kv, const struct key_desc *d, long long *out)
{
	if (want_type(c, kv, TOML_INTEGER, "an integer") == -1)
		return -1;
	if (kv->integer < d->min || kv->integer > d->max) {
		cerr(c, kv->line, "[%s] %s: %lld is out of range (%lld..%lld)", kv->table,
		    kv->key, kv->integer, d->min, d->max);
		return -1;
	}
	*out = kv->integer;
	return 0;
}

/* Which families a parsed listen address covers: 1 IPv4, 2 IPv6 (wildcards both). */
static unsigned
listen_covers(const struct config_listen *l)
{
	static const uint8_t any[16];

	if (l->family == AF_UNSPEC || (l->family == AF_INET6 && memcmp(l->addr, any, 16) == 0))
		return 3;	/* ":port" and "[::]:port": every address of both families */
	if (l->family == AF_INET && memcmp(l->addr, any, 4) == 0)
		return 1;
	return 0;
}

/*
 * [general] listen: one "addr:port" string (acme-dns), or an array of 1 to
 * CONFIG_MAX_LISTEN of them (dns01d), e.g. public IPv4 and IPv6 plus
 * loopback. They share one port (dnsd binds every address on it), name no
 * address twice, and a wildcard stands alone in its family (it already
 * covers the others). Fills listen_addrs, nlisten, listen_addr (the first)
 * and listen (the text, for logs). Returns 0 or -1.
 */
static int
set_listen(struct cctx *c, const struct toml_kv *kv, struct config *cfg)
{
	const char *one[1] = { kv->str };
	const char *const *v = one;
	struct config_listen *l = cfg->listen_addrs, *a, *b;
	char text[CONFIG_MAX_LISTEN * (INET6_ADDRSTRLEN + 16)] = "";
	size_t n = 1, i, j, used = 0;
	unsigned line = kv->line;

	if (kv->type == TOML_ARRAY) {
		v = (const char *const *)kv->array.v;
		n = kv->array.n;
	} else if (want_type(c, kv, TOML_STRING, "a string or an array of strings") == -1)
		return -1;
	if (n == 0 || n > CONFIG_MAX_LISTEN) {
		cerr(c, kv->line, "[general] listen: %zu addresses (1..%d)", n, CONFIG_MAX_LISTEN);
		return -1;
	}
	for (i = 0; i < n; i++) {
		a = &l[i];
		if (kv->type == TOML_ARRAY)
			line = kv->array.line[i];
		if (!no_controls(v[i]) || !config_listen_parse(v[i], a)) {
			cerr(c, line, "[general] listen: \"%s\" is not \"IPv4:port\", "
			    "\"[IPv6]:port\" or \":port\"", v[i]);
			return -1;
		}
		for (j = 0; j < i; j++) {
			b = &l[j];
			if (a->port != b->port) {
				cerr(c, line, "[general] listen: \"%s\": every address must use the "
				    "same port (%u)", v[i], b->port);
				return -1;
			}
			if ((a->family == b->family && memcmp(a->addr, b->addr, 16) == 0) ||
			    (listen_covers(a) & (b->family == AF_INET ? 1 : 2)) ||
			    (listen_covers(b) & (a->family == AF_INET ? 1 : 2))) {
				cerr(c, line, "[general] listen: \"%s\" overlaps \"%s\"", v[i], v[j]);
				return -1;
			}
		}
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%s", i ? ", " : "",
		    v[i]);
	}
	cfg->nlisten = n;
	cfg->listen_addr = l[0];
	return set_str(c, kv->line, &cfg->listen, text);
}

/* Copy an array value's strings into dst, checking each. */
static int
set_strv(struct cctx *c, const struct toml_kv *kv, struct config_strv *dst, bool cidrs)
{
	struct config_strv v;
	size_t i;
	int rc = -1;

	memset(&v, 0, sizeof(v));
	if (want_type(c, kv, TOML_ARRAY, "an array of strings") == -1)
		return -1;
	for (i = 0; i < kv->array.n; i++) {
		struct cidr tmp;

		if (!no_controls(kv->array.v[i])) {
			cerr(c, kv->array.line[i], "[%s] %s: control character in string",
			    kv->table, kv->key);
			goto out;
		}
		if (cidrs && cidr_parse(kv->array.v[i], &tmp) == -1) {
			cerr(c, kv->array.line[i], "[%s] %s: \"%s\" is not an IP address or CIDR",
			    kv->table, kv->key, kv->array.v[i]);
			goto out;
		}
	}
	if (kv->array.n > 0) {
		v.v = calloc(kv->array.n, sizeof(*v.v));
		v.line = calloc(kv->array.n, sizeof(*v.line));
		if (v.v == NULL || v.line == NULL) {
			cerr(c, kv->line, "out of memory");
			goto out;
		}
		for (i = 0; i < kv->array.n; i++) {
			if ((v.v[i] = strdup(kv->array.v[i])) == NULL) {
				cerr(c, kv->line, "out of memory");
				goto out;
			}
			v.line[i] = kv->array.line[i];
			v.n++;
		}
	}
	config_strv_free(dst);
	*dst = v;
	memset(&v, 0, sizeof(v));
	rc = 0;
out:
	if (rc == -1)
		config_strv_free(&v);
	return rc;
}

/*
 * Parse a rate: "N/second", "N/minute" or "N/hour" (unit in any case, N in
 * 1..CONFIG_MAX_RATE), or "0" / 0 for no limit. Returns 0 or -1.
 */
static int
set_rate(struct cctx *c, const struct toml_kv *kv, struct config_rate *out)
{
	static const struct { const char *name; unsigned secs; } units[] = {
		{ "second", 1 }, { "minute", 60 }, { "hour", 3600 },
	};
	const char *s = kv->str, *slash;
	unsigned long long n = 0;
	size_t i;

	if (kv->type == TOML_INTEGER && kv->integer == 0) {
		out->count = 0;
		out->period = 60;
		return 0;
	}
	if (kv->type != TOML_STRING)
		goto bad;
	if (strcmp(s, "0") == 0) {
		out->count = 0;
		out->period = 60;
		return 0;
	}
	if ((slash = strchr(s, '/')) == NULL || slash == s || slash - s > 7)
		goto bad;
	for (i = 0; s + i < slash; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		n = n * 10 + (unsigned)(s[i] - '0');
	}
	if (n == 0 || n > CONFIG_MAX_RATE)
		goto bad;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(slash + 1, units[i].name) == 0) {
			out->count = (unsigned)n;
			out->period = units[i].secs;
			return 0;
		}
	}
bad:
	if (kv->type == TOML_STRING && no_controls(s))
		cerr(c, kv->line, "[%s] %s: \"%s\" is not \"N/second\", \"N/minute\", "
		    "\"N/hour\" (N in 1..%d) or 0", kv->table, kv->key, s, CONFIG_MAX_RATE);
	else
		cerr(c, kv->line, "[%s] %s: expected \"N/second\", \"N/minute\", \"N/hour\" "
		    "(N in 1..%d) or 0", kv->table, kv->key, CONFIG_MAX_RATE);
	return -1;
}

/* Parse an array of CIDRs into cfg->register_allowfrom (the only K_CIDRLIST key). */
static int
set_cidrlist(struct cctx *c, const struct toml_kv *kv, struct config *cfg)
{
	struct cidr *v = NULL;
	size_t i;

	if (want_type(c, kv, TOML_ARRAY, "an array of strings") == -1)
		return -1;
	if (kv->array.n > 0 && (v = calloc(kv->array.n, sizeof(*v))) == NULL) {
		cerr(c, kv->line, "out of memory");
		return -1;
	}
	for (i = 0; i < kv->array.n; i++) {
		if (!no_controls(kv->array.v[i])) {
			cerr(c, kv->array.line[i], "[%s] %s: control character in string",
			    kv->table, kv->key);
			free(v);
			return -1;
		}
		if (cidr_parse(kv->array.v[i], &v[i]) == -1) {
			cerr(c, kv->array.line[i], "[%s] %s: \"%s\" is not an IP address or CIDR",
			    kv->table, kv->key, kv->array.v[i]);
			free(v);
			return -1;
		}
	}
	free(cfg->register_allowfrom);
	cfg->register_allowfrom = v;
	cfg->nregister_allowfrom = kv->array.n;
	return 0;
}

/*
 * A bearer token (RFC 6750 §2.1 b64token): CONFIG_MIN_TOKEN..CONFIG_MAX_TOKEN
 * characters of A-Z a-z 0-9 - . _ ~ + / with optional trailing '='. It is a
 * secret, so an error never quotes it.
 */
static int
set_token(struct cctx *c, const struct toml_kv *kv, char **dst)
{
	const char *s = kv->str;
	size_t n, eq = 0;

	if (want_type(c, kv, TOML_STRING, "a string") == -1)
		return -1;
	for (n = 0; s[n] != '\0'; n++) {
		unsigned char ch = (unsigned char)s[n];

		if (ch == '=' && n > 0) {
			eq++;
			continue;
		}
		if (eq > 0 || !(isalnum(ch) || strchr("-._~+/", ch) != NULL))
			break;
	}
	if (s[n] != '\0' || n < CONFIG_MIN_TOKEN || n > CONFIG_MAX_TOKEN) {
		cerr(c, kv->line, "[%s] %s: must be %d to %d characters of A-Z a-z 0-9 - . _ ~ + / "
		    "(the value is not shown: it is a secret)", kv->table, kv->key,
		    CONFIG_MIN_TOKEN, CONFIG_MAX_TOKEN);
		return -1;
	}
	if (*dst != NULL) {
		explicit_bzero(*dst, strlen(*dst));
		free(*dst);
		*dst = NULL;
	}
	return set_str(c, kv->line, dst, s);
}

/*
 * Look up general.user (its uid and primary gid) or general.group (its gid)
 * in the system's user database, so that a missing name is a file:line error
 * when the config is checked, not a surprise after the ports are bound.
 */
static int
resolve_id(struct cctx *c, const struct toml_kv *kv, bool user, struct config *cfg)
{
	char buf[CONFIG_MAX_PWBUF];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	int e;

	if (*kv->str == '\0') {
		cerr(c, kv->line, "[general] %s is empty", kv->key);
		return -1;
	}
	if (user)
		e = getpwnam_r(kv->str, &pw, buf, sizeof(buf), &pwp);
	else
		e = getgrnam_r(kv->str, &gr, buf, sizeof(buf), &grp);
	if (e != 0) {
		cerr(c, kv->line, "[general] %s: cannot look up \"%s\": %s", kv->key, kv->str,
		    strerror(e));
		return -1;
	}
	if (user && pwp != NULL) {
		cfg->run_uid = pw.pw_uid;
		if (!cfg->has_group)
			cfg->run_gid = pw.pw_gid;
		return 0;
	}
	if (!user && grp != NULL) {
		cfg->run_gid = gr.gr_gid;
		cfg->has_group = true;
		return 0;
	}
	cerr(c, kv->line, "[general] %s: no such %s \"%s\"", kv->key, user ? "user" : "group",
	    kv->str);
	return -1;
}

/* A port, as acme-dns writes it (port = "443") or as an integer, within d's range. */
static int
set_port(struct cctx *c, const struct key_desc *d, const struct toml_kv *kv, unsigned *field)
{
	long long n;

	if (kv->type == TOML_INTEGER)
		n = kv->integer;
	else if (kv->type != TOML_STRING || !parse_port_text(kv->str, &n)) {
		cerr(c, kv->line, "[%s] %s: expected a port number (\"443\" or 443)",
		    kv->table, kv->key);
		return -1;
	}
	if (n < d->min || n > d->max) {
		cerr(c, kv->line, "[%s] %s: %lld is out of range (%lld..%lld)", kv->table,
		    kv->key, n, d->min, d->max);
		return -1;
	}
	*field = (unsigned)n;
	return 0;
}

/* The index of s (any case) in the n names, or -1. */
static int
name_index(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

#define NAMES(a) (a), sizeof(a) / sizeof((a)[0])

/* [general] protocol: one of acme-dns's nine names, as CONFIG_PROTO_* bits. */
static int
set_protocol(struct cctx *c, const struct toml_kv *kv, struct config *cfg)
{
	static const char *const names[] = { "both", "both4", "both6", "udp", "udp4", "udp6",
		"tcp", "tcp4", "tcp6" };
	static const unsigned bits[] = {
		CONFIG_PROTO_UDP | CONFIG_PROTO_TCP | CONFIG_PROTO_V4 | CONFIG_PROTO_V6,
		CONFIG_PROTO_UDP | CONFIG_PROTO_TCP | CONFIG_PROTO_V4,
		CONFIG_PROTO_UDP | CONFIG_PROTO_TCP | CONFIG_PROTO_V6,
		CONFIG_PROTO_UDP | CONFIG_PROTO_V4 | CONFIG_PROTO_V6,
		CONFIG_PROTO_UDP | CONFIG_PROTO_V4,
		CONFIG_PROTO_UDP | CONFIG_PROTO_V6,
		CONFIG_PROTO_TCP | CONFIG_PROTO_V4 | CONFIG_PROTO_V6,
		CONFIG_PROTO_TCP | CONFIG_PROTO_V4,
		CONFIG_PROTO_TCP | CONFIG_PROTO_V6,
	};
	int i = name_index(kv->str, NAMES(names));

	if (i == -1) {
		cerr(c, kv->line, "[general] protocol: \"%s\" is not one of both, both4, both6, "
		    "udp, udp4, udp6, tcp, tcp4, tcp6", kv->str);
		return -1;
	}
	cfg->protocol = bits[i];
	return 0;
}

/* A domain name (K_DOMAIN), or an admin address with @ for . (K_NSADMIN), normalised. */
static int
set_domain(struct cctx *c, const struct key_desc *d, const struct toml_kv *kv, char **field)
{
	char *t = strdup(kv->str), *p;

	if (t == NULL) {
		cerr(c, kv->line, "out of memory");
		return -1;
	}
	/* acme-dns: "admin email address, where @ is substituted with ." */
	if (d->kind == K_NSADMIN)
		for (p = t; *p != '\0'; p++)
			if (*p == '@')
				*p = '.';
	if (!domain_normalise(t)) {
		cerr(c, kv->line, "[%s] %s: \"%s\" is not a valid domain name", kv->table,
		    kv->key, kv->str);
		free(t);
		return -1;
	}
	free(*field);
	*field = t;
	return 0;
}

/* [api] ip: an address, stored without brackets; empty means every address. */
static int
set_ip(struct cctx *c, const struct toml_kv *kv, char **field)
{
	struct sockaddr_storage ss;
	char buf[INET6_ADDRSTRLEN];

	/* An empty ip means every address, as Go's net.Listen(":port") does. */
	if (*kv->str == '\0')
		return set_str(c, kv->line, field, "0.0.0.0");
	if (cidr_addr_parse(kv->str, &ss) == -1) {
		cerr(c, kv->line, "[api] ip: \"%s\" is not an IP address", kv->str);
		return -1;
	}
	return set_str(c, kv->line, field,
	    cidr_addr_str((struct sockaddr *)&ss, buf, sizeof(buf)));
}

/* [database] engine: SQLite as written; PostgreSQL always as "postgres". */
static int
set_engine(struct cctx *c, const struct toml_kv *kv, char **field)
{
	static const char *const names[] = { "sqlite3", "sqlite", "postgres", "postgresql" };
	int i = name_index(kv->str, NAMES(names));

	if (i == -1) {
		cerr(c, kv->line, "[database] engine: \"%s\" is not \"sqlite3\" or \"postgres\"",
		    kv->str);
		return -1;
	}
	return set_str(c, kv->line, field, i < 2 ? kv->str : "postgres");
}

/* [api] tls: one of the five modes. */
static int
set_tls(struct cctx *c, const struct toml_kv *kv, struct config *cfg)
{
	static const char *const names[] = { "none", "cert", "letsencrypt",
		"letsencryptstaging", "acme" };
	static const enum config_tls v[] = { CONFIG_TLS_NONE, CONFIG_TLS_CERT,
		CONFIG_TLS_LETSENCRYPT, CONFIG_TLS_LETSENCRYPT_STAGING, CONFIG_TLS_ACME };
	int i = name_index(kv->str, NAMES(names));

	if (i == -1) {
		cerr(c, kv->line, "[api] tls: \"%s\" is not \"none\", \"cert\", \"letsencrypt\", "
		    "\"letsencryptstaging\" or \"acme\"", kv->str);
		return -1;
	}
	cfg->tls = v[i];
	return 0;
}

/* [logconfig] loglevel, logtype and logformat. */
static int
set_log(struct cctx *c, const struct key_desc *d, const struct toml_kv *kv, struct config *cfg,
    char **field)
{
	static const char *const levels[] = { "debug", "info", "warning", "error", "warn" };
	static const char *const types[] = { "stdout", "file", "syslog" };
	static const char *const formats[] = { "text", "json" };
	int i;

	if (d->kind == K_LOGLEVEL) {
		if ((i = name_index(kv->str, NAMES(levels))) != -1) {
			cfg->loglevel = i == 4 ? LOG_LEVEL_WARN : (enum log_level)i;
			return 0;
		}
		cerr(c, kv->line, "[logconfig] loglevel: \"%s\" is not debug, info, warning "
		    "or error", kv->str);
	} else if (d->kind == K_LOGTYPE) {
		if ((i = name_index(kv->str, NAMES(types))) != -1)
			return set_str(c, kv->line, field, types[i]);
		cerr(c, kv->line, "[logconfig] logtype: \"%s\" is not \"stdout\", \"file\" or "
		    "\"syslog\"", kv->str);
	} else {
		if ((i = name_index(kv->str, NAMES(formats))) != -1) {
			cfg->logformat = i == 0 ? LOG_FORMAT_TEXT : LOG_FORMAT_JSON;
			return 0;
		}
		cerr(c, kv->line, "[logconfig] logformat: \"%s\" is not \"text\" or \"json\"",
		    kv->str);
	}
	return -1;
}

/* Store one known string-valued key's value into cfg (field: its place in cfg). */
static int
apply_string(struct cctx *c, const struct key_desc *d, const struct toml_kv *kv,
    struct config *cfg, void *field)
{
	const char *s = kv->str;

	if (want_type(c, kv, TOML_STRING, "a string") == -1)
		return -1;
	if (!no_controls(s)) {
		cerr(c, kv->line, "[%s] %s: control character in string", kv->table, kv->key);
		return -1;
	}
	switch (d->kind) {
	case K_PROTOCOL:
		return set_protocol(c, kv, cfg);
	case K_DOMAIN:
	case K_NSADMIN:
		return set_domain(c, d, kv, field);
	case K_METRICS:
		if (metrics_addr_set(s, cfg) == -1) {
			cerr(c, kv->line, "[api] metrics_listen: \"%s\" is not \"IPv4:port\" or "
			    "\"[IPv6]:port\" (or \"\" for off)", s);
			return -1;
		}
		return set_str(c, kv->line, field, s);
	case K_IP:
		return set_ip(c, kv, field);
	case K_ENGINE:
		return set_engine(c, kv, field);
	case K_TLS:
		return set_tls(c, kv, cfg);
	case K_HEADER:
		if (!header_name_valid(s)) {
			cerr(c, kv->line, "[api] header_name: \"%s\" is not an HTTP header name", s);
			return -1;
		}
		return set_str(c, kv->line, field, s);
	case K_LOGLEVEL:
	case K_LOGTYPE:
	case K_LOGFORMAT:
		return set_log(c, d, kv, cfg, field);
	case K_USER:
	case K_GROUP:
		if (resolve_id(c, kv, d->kind == K_USER, cfg) == -1)
			return -1;
		return set_str(c, kv->line, field, s);
	default:
		return set_str(c, kv->line, field, s);
	}
}

/* Store one known key's value into cfg. */
static int
apply(struct cctx *c, const struct key_desc *d, const struct toml_kv *kv, struct config *cfg)
{
	void *field = (char *)cfg + d->off;
	long long n;

	switch (d->kind) {
	case K_BOOL:
		if (want_type(c, kv, TOML_BOOL, "true or false") == -1)
			return -1;
		*(bool *)field = kv->boolean;
		return 0;
	case K_UINT:
		if (want_int(c, kv, d, &n) == -1)
			return -1;
		*(unsigned *)field = (unsigned)n;
		return 0;
	case K_U32:
		if (want_int(c, kv, d, &n) == -1)
			return -1;
		*(uint32_t *)field = (uint32_t)n;
		return 0;
	case K_PORT:
		return set_port(c, d, kv, field);
	case K_STRV:
	case K_CIDRS:
		return set_strv(c, kv, field, d->kind == K_CIDRS);
	case K_LISTEN:
		return set_listen(c, kv, cfg);
	case K_RATE:
		return set_rate(c, kv, field);
	case K_CIDRLIST:
		return set_cidrlist(c, kv, cfg);
	case K_TOKEN:
		return set_token(c, kv, field);
	default:
		return apply_string(c, d, kv, cfg, field);
	}
}

/* Fill in the defaults before any key is read. */
static int
defaults(struct cctx *c, struct config *cfg)
{
	cfg->protocol = CONFIG_PROTO_UDP | CONFIG_PROTO_TCP | CONFIG_PROTO_V4 | CONFIG_PROTO_V6;
	cfg->dns_threads = 0;
	cfg->txt_ttl = 1;
	cfg->negative_ttl = 60;
	cfg->persist_ttl = CONFIG_DEFAULT_PERSIST_TTL;
	cfg->tcp_idle_timeout = 10;
	cfg->tcp_max_clients = 1024;
	cfg->rrl_rate = 20;
	cfg->rrl_slip = 2;
	cfg->cookies = true;
	cfg->cookie_rotation = 86400;
	cfg->seccomp = true;
	cfg->txt_values = 2;
	cfg->max_body = 4096;
	cfg->api_threads = 2;
	cfg->connection_timeout = 10;
	cfg->request_timeout = 10;
	cfg->max_conns_per_ip = 64;
	cfg->auth_fail_rate.count = 10;
	cfg->auth_fail_rate.period = 60;
	cfg->register_rate.count = 100;
	cfg->register_rate.period = 3600;
	cfg->tls = CONFIG_TLS_NONE;
	cfg->hsts_max_age = 31536000;	/* one year, acme-dns's default */
	cfg->loglevel = LOG_LEVEL_INFO;
	cfg->logformat = LOG_FORMAT_TEXT;
	if (set_str(c, 0, &cfg->db_engine, "sqlite3") == -1 ||
	    set_str(c, 0, &cfg->api_ip, "127.0.0.1") == -1 ||
	    set_str(c, 0, &cfg->acme_cache_dir, "api-certs") == -1 ||
	    set_str(c, 0, &cfg->header_name, "X-Forwarded-For") == -1 ||
	    set_str(c, 0, &cfg->logtype, "stdout") == -1)
		return -1;
	return 0;
}

/* tls and the ACME keys: letsencrypt* pick their directory; acme needs one. */
static int
tls_check(struct cctx *c, struct config *cfg)
{
	const char *le = NULL;

	if (cfg->tls == CONFIG_TLS_LETSENCRYPT)
		le = CONFIG_LE_DIRECTORY;
	else if (cfg->tls == CONFIG_TLS_LETSENCRYPT_STAGING)
		le = CONFIG_LE_STAGING_DIRECTORY;
	if (le != NULL && cfg->acme_directory == NULL &&
	    set_str(c, 0, &cfg->acme_directory, le) == -1)
		return -1;
	if (cfg->tls == CONFIG_TLS_ACME && cfg->acme_directory == NULL) {
		cerr(c, 0, "missing key [api] acme_directory (tls = \"acme\" needs the CA's "
		    "directory URL)");
		return -1;
	}
	if (cfg->acme_directory != NULL && !is_http_url(cfg->acme_directory)) {
		cerr(c, 0, "[api] acme_directory: \"%s\" is not an http(s) URL",
		    cfg->acme_directory);
		return -1;
	}
	if ((cfg->acme_eab_kid != NULL) != (cfg->acme_eab_hmac_key != NULL)) {
		cerr(c, 0, "[api] acme_eab_kid and acme_eab_hmac_key go together");
		return -1;
	}
	if (cfg->tls >= CONFIG_TLS_LETSENCRYPT && *cfg->acme_cache_dir == '\0') {
		cerr(c, 0, "[api] acme_cache_dir is empty");
		return -1;
	}
	return 0;
}

/*
 * Parse what the modules take as typed values, once: the API's bind address
 * (ip and port) and trusted_proxies as CIDRs. Both were checked as they were
 * read, so a failure here is an internal error, still reported as one line.
 */
static int
derive(struct cctx *c, struct config *cfg)
{
	size_t i;

	if (cidr_addr_parse(cfg->api_ip, &cfg->api_addr) == -1) {
		cerr(c, 0, "[api] ip: \"%s\" is not an IP address", cfg->api_ip);
		return -1;
	}
	if (cfg->api_addr.ss_family == AF_INET)
		((struct sockaddr_in *)&cfg->api_addr)->sin_port = htons((uint16_t)cfg->api_port);
	else
		((struct sockaddr_in6 *)&cfg->api_addr)->sin6_port = htons((uint16_t)cfg->api_port);
	if (cfg->trusted_proxies.n == 0)
		return 0;
	if ((cfg->trusted = calloc(cfg->trusted_proxies.n, sizeof(*cfg->trusted))) == NULL) {
		cerr(c, 0, "out of memory");
		return -1;
	}
	for (i = 0; i < cfg->trusted_proxies.n; i++) {
		if (cidr_parse(cfg->trusted_proxies.v[i], &cfg->trusted[i]) == -1) {
			cerr(c, 0, "[api] trusted_proxies: \"%s\" is not an IP address or CIDR",
			    cfg->trusted_proxies.v[i]);
			return -1;
		}
	}
	cfg->ntrusted = cfg->trusted_proxies.n;
	return 0;
}

/* Checks that involve more than one key, after all keys are read. */
static int
cross_check(struct cctx *c, struct config *cfg, const unsigned *seen)
{
	size_t i;
	int fam;

	for (i = 0; i < NKEYS; i++) {
		if (keys[i].required && seen[i] == 0) {
			cerr(c, 0, "missing key [%s] %s", keys[i].table, keys[i].key);
			return -1;
		}
	}
	if (tls_check(c, cfg) == -1)
		return -1;
	if (cfg->tls == CONFIG_TLS_CERT) {
		if (cfg->tls_cert_privkey == NULL || *cfg->tls_cert_privkey == '\0') {
			cerr(c, 0, "missing key [api] tls_cert_privkey (tls = \"cert\" needs it)");
			return -1;
		}
		if (cfg->tls_cert_fullchain == NULL || *cfg->tls_cert_fullchain == '\0') {
			cerr(c, 0, "missing key [api] tls_cert_fullchain (tls = \"cert\" needs it)");
			return -1;
		}
	}
	if (strcmp(cfg->logtype, "file") == 0 && (cfg->logfile == NULL || *cfg->logfile == '\0')) {
		cerr(c, 0, "missing key [logconfig] logfile (logtype = \"file\" needs it)");
		return -1;
	}
	if (*cfg->db_connection == '\0') {
		cerr(c, 0, "[database] connection is empty");
		return -1;
	}
	/* A literal address of one family cannot be served by the other only. */
	for (i = 0; i < cfg->nlisten; i++) {
		fam = cfg->listen_addrs[i].family;
		if (((fam == AF_INET && !(cfg->protocol & CONFIG_PROTO_V4)) ||
		    (fam == AF_INET6 && !(cfg->protocol & CONFIG_PROTO_V6)))) {
			cerr(c, 0, "[general] protocol does not serve the %s address in listen "
			    "\"%s\"", fam == AF_INET ? "IPv4" : "IPv6", cfg->listen);
			return -1;
		}
	}
	if (cfg->group != NULL && cfg->user == NULL) {
		cerr(c, 0, "[general] group is set but user is not (group needs user)");
		return -1;
	}
	if (cfg->use_header && cfg->trusted_proxies.n == 0)
		log_warnx("%s: [api] use_header is set but trusted_proxies is empty: "
		    "%s will be ignored", c->name, cfg->header_name);
	return derive(c, cfg);
}

static const struct key_desc *
find_key(const char *table, const char *key)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcasecmp(keys[i].table, table) == 0 && strcasecmp(keys[i].key, key) == 0)
			return &keys[i];
	return NULL;
}

static bool
table_known(const char *table)
{
	size_t i;

	for (i = 0; i < sizeof(known_tables) / sizeof(known_tables[0]); i++)
		if (strcasecmp(known_tables[i], table) == 0)
			return true;
	return false;
}

/*
 * Parse the config text (len bytes; name is used in messages) into *cfg:
 * zero it, apply the defaults, read every known key in file order (unknown
 * ones are warned about and skipped), then check required and cross-key
 * rules. Returns 0, or -1 with one line "name:line: message" (or "name:
 * message") in err and *cfg zeroed. The caller frees cfg with config_free().
 */
int
config_parse(const char *name, const char *text, size_t len, struct config *cfg,
    char *err, size_t errlen)
{
	struct cctx c = { name ? name : "(config)", err, errlen };
	struct toml_doc doc;
	unsigned seen[NKEYS];
	size_t i;
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	memset(&doc, 0, sizeof(doc));
	memset(seen, 0, sizeof(seen));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (defaults(&c, cfg) == -1)
		goto out;
	if (set_str(&c, 0, &cfg->path, c.name) == -1)
		goto out;
	if (toml_parse(c.name, text, len, &doc, err, errlen) == -1)
		goto out;

	for (i = 0; i < doc.ntables; i++)
		if (!table_known(doc.tables[i].name))
			log_warnx("%s:%u: unknown table [%s] ignored", c.name, doc.tables[i].line,
			    doc.tables[i].name);
	for (i = 0; i < doc.nkv; i++) {
		const struct toml_kv *kv = &doc.kv[i];
		const struct key_desc *d;

		if (*kv->table != '\0' && !table_known(kv->table))
			continue;	/* warned once for the table */
		if ((d = find_key(kv->table, kv->key)) == NULL) {
			log_warnx("%s:%u: unknown key '%s' ignored", c.name, kv->line, kv->key);
			continue;
		}
		seen[d - keys] = kv->line;
		if (apply(&c, d, kv, cfg) == -1)
			goto out;
	}
	if (cross_check(&c, cfg, seen) == -1)
		goto out;
	rc = 0;
out:
	toml_doc_free(&doc);
	if (rc == -1)
		config_free(cfg);
	return rc;
}

/*
 * Read the regular file at path (at most CONFIG_MAX_FILE bytes) and parse
 * it with config_parse. Returns 0, or -1 with "path: reason" or
 * "path:line: message" in err and *cfg zeroed.
 */
int
config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct cctx c = { path ? path : "(config)", err, errlen };
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd = -1, rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	if (path == NULL) {
		cerr(&c, 0, "no config file given");
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		cerr(&c, 0, "%s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		cerr(&c, 0, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		cerr(&c, 0, "not a regular file");
		goto out;
	}
	if (st.st_size > CONFIG_MAX_FILE) {
		cerr(&c, 0, "file larger than %d bytes", CONFIG_MAX_FILE);
		goto out;
	}
	/* Read up to one byte past the cap, in case the file grew since fstat. */
	if ((buf = malloc(CONFIG_MAX_FILE + 1)) == NULL) {
		cerr(&c, 0, "out of memory");
		goto out;
	}
	while (len <= CONFIG_MAX_FILE) {
		r = read(fd, buf + len, CONFIG_MAX_FILE + 1 - len);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			cerr(&c, 0, "%s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > CONFIG_MAX_FILE) {
		cerr(&c, 0, "file larger than %d bytes", CONFIG_MAX_FILE);
		goto out;
	}
	rc = config_parse(path, buf, len, cfg, err, errlen);
out:
	if (fd != -1)
		close(fd);
	free(buf);
	return rc;
}

/* Free every string and array cfg owns, and zero it. A zeroed cfg is fine. */
void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		switch (keys[i].kind) {
		case K_BOOL:
		case K_UINT:
		case K_U32:
		case K_PORT:
		case K_PROTOCOL:
		case K_LOGLEVEL:
		case K_LOGFORMAT:
		case K_TLS:
		case K_RATE:
			break;
		case K_CIDRLIST:
			free(cfg->register_allowfrom);
			break;
		case K_TOKEN:
			if (*str_field(cfg, keys[i].off) != NULL)
				explicit_bzero(*str_field(cfg, keys[i].off),
				    strlen(*str_field(cfg, keys[i].off)));
			free(*str_field(cfg, keys[i].off));
			break;
		case K_STRV:
		case K_CIDRS:
			config_strv_free((struct config_strv *)(void *)((char *)cfg + keys[i].off));
			break;
		default:
			free(*str_field(cfg, keys[i].off));
			break;
		}
	}
	free(cfg->trusted);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

/*
 * True if the values of key d are equal in a and b. Every kind that is not a
 * string needs its case here (strings are the default).
 */
static bool
key_equal(const struct key_desc *d, const struct config *a, const struct config *b)
{
	const char *pa = (const char *)a + d->off, *pb = (const char *)b + d->off;

	switch (d->kind) {
	case K_BOOL:
		return *(const bool *)(const void *)pa == *(const bool *)(const void *)pb;
	case K_UINT:
	case K_PORT:
		return *(const unsigned *)(const void *)pa == *(const unsigned *)(const void *)pb;
	case K_U32:
		return *(const uint32_t *)(const void *)pa == *(const uint32_t *)(const void *)pb;
	case K_PROTOCOL:
		return a->protocol == b->protocol;
	case K_LOGLEVEL:
		return a->loglevel == b->loglevel;
	case K_LOGFORMAT:
		return a->logformat == b->logformat;
	case K_TLS:
		return a->tls == b->tls;
	case K_RATE: {
		const struct config_rate *ra = (const void *)pa, *rb = (const void *)pb;

		return ra->count == rb->count && ra->period == rb->period;
	}
	case K_CIDRLIST:
		return a->nregister_allowfrom == b->nregister_allowfrom &&
		    (a->nregister_allowfrom == 0 || memcmp(a->register_allowfrom,
		    b->register_allowfrom, a->nregister_allowfrom * sizeof(struct cidr)) == 0);
	case K_STRV:
	case K_CIDRS: {
		const struct config_strv *va = (const void *)pa, *vb = (const void *)pb;
		size_t i;

		if (va->n != vb->n)
			return false;
		for (i = 0; i < va->n; i++)
			if (strcmp(va->v[i], vb->v[i]) != 0)
				return false;
		return true;
	}
	default: {
		const char *sa = *(char *const *)(const void *)pa, *sb = *(char *const *)(const void *)pb;

		if (sa == NULL || sb == NULL)
			return sa == sb;
		return strcmp(sa, sb) == 0;
	}
	}
}

/* List the keys that differ between a and b (see common.h). */
size_t
config_diff(const struct config *a, const struct config *b, const char *skip_table,
    char *out, size_t outlen)
{
	size_t i, n = 0, used = 0;
	int w;

	if (outlen > 0)
		out[0] = '\0';
	for (i = 0; i < NKEYS; i++) {
		if (skip_table != NULL && strcmp(keys[i].table, skip_table) == 0)
			continue;
		if (key_equal(&keys[i], a, b))
			continue;
		if (used < outlen) {
			w = snprintf(out + used, outlen - used, "%s[%s] %s", n > 0 ? ", " : "",
			    keys[i].table, keys[i].key);
			if (w > 0)
				used += (size_t)w;
		}
		n++;
	}
	return n;
}
