/* api/server.c -- libmicrohttpd setup: listen, read bounded bodies, hand requests to routes.c */
/* SPDX-License-Identifier: ISC */

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "internal.h"

#define API_DEFAULT_THREADS 2		/* MHD worker threads when api_threads is 0 */
#define API_LOG_METHOD_MAX 16		/* bytes of the request method kept for the access log */
#define API_FORWARDED_MAX API_CONN_MEMORY	/* bytes of all header_name lines joined */
#define API_FD_SPARE 128		/* descriptors beyond the connection limits: database, logs, listeners */

struct api {
	struct MHD_Daemon *mhd;
	struct api_ctx ctx;
	size_t max_body;
	unsigned port;
	struct api_deadline *deadline;	/* closes requests that take too long to arrive */
	struct api_tls *tls;		/* NULL for plain HTTP */
	char hsts[API_HSTS_MAX];	/* Strict-Transport-Security value, or "" */
	int pending_fd;			/* bound, waiting for the first certificate, or -1 */
	pthread_mutex_t start_mu;	/* guards a deferred start */
	const struct config *cfg;
	struct MHD_Daemon *metrics_mhd;	/* GET /metrics on metrics_listen, or NULL (off) */
	unsigned metrics_port;
	struct api_metrics metrics;	/* the API's counters (metrics.c) */
};

/*
 * Per-connection state, allocated when MHD accepts the socket and reused by
 * every keep-alive request on it, so a request with a small body costs no
 * allocation of ours until the reply.
 */
struct conn {
	struct timespec t0;		/* when the request's headers were complete */
	char *body;			/* inline, or malloc'd when the body outgrew it */
	size_t len, cap;
	bool too_large;			/* body over max_body: 413 */
	bool answered;			/* a reply was queued before the body ended */
	size_t drained;			/* bytes discarded after too_large */
	struct api_deadline_node dl;	/* this connection's request deadline */
	const char *hsts;		/* the api's Strict-Transport-Security value, or NULL */
	char inline_body[API_BODY_INITIAL];
};

/* MHD's own messages (bad requests, TLS handshakes) are noise at info level. */
static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	(void)cls;
	if (!log_enabled(LOG_LEVEL_DEBUG))
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_debug("api: %s", buf);
}

/*
 * Allocate the per-socket state at accept, and start the request deadline;
 * free it at close (MHD tells us before it closes the socket).
 */
static void
notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct api *a = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *cs;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((cs = calloc(1, sizeof(*cs))) != NULL) {
			cs->body = cs->inline_body;
			cs->cap = sizeof(cs->inline_body);
			ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
			if (ci != NULL)
				api_deadline_arm(a->deadline, &cs->dl, ci->connect_fd);
			cs->hsts = a != NULL && a->hsts[0] != '\0' ? a->hsts : NULL;
		}
		*socket_context = cs;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		cs = *socket_context;
		if (cs != NULL)
			api_deadline_disarm(a->deadline, &cs->dl);
		if (cs != NULL && cs->body != cs->inline_body)
			free(cs->body);
		free(cs);
		*socket_context = NULL;
	}
}

/*
 * Release a body that outgrew the inline buffer when its request ends, and
 * start the deadline of the next request on a kept-alive connection.
 */
static void
request_completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct api *a = cls;
	struct conn *cs = *req_cls;

	(void)c;
	(void)toe;
	if (cs == NULL)
		return;
	if (cs->dl.fd >= 0 && cs->dl.due != 0)
		api_deadline_arm(a->deadline, &cs->dl, cs->dl.fd);
	if (cs->body != cs->inline_body) {
		free(cs->body);
		cs->body = cs->inline_body;
		cs->cap = sizeof(cs->inline_body);
	}
	cs->len = 0;
	*req_cls = NULL;
}

/* Append n body bytes, doubling the buffer up to max; past max only flag it. */
static int
body_append(struct conn *cs, const char *data, size_t n, size_t max)
{
	size_t need, cap;
	char *p;

	if (cs->too_large)
		return 0;
	if (n > max || cs->len > max - n) {
		cs->too_large = true;
		return 0;
	}
	need = cs->len + n;
	if (need > cs->cap) {
		for (cap = cs->cap; cap < need; cap *= 2)
			;
		if (cap > max)
			cap = max;
		if (cs->body == cs->inline_body) {
			if ((p = malloc(cap)) == NULL)
				return -1;
			memcpy(p, cs->body, cs->len);
		} else if ((p = realloc(cs->body, cap)) == NULL) {
			return -1;
		}
		cs->body = p;
		cs->cap = cap;
	}
	memcpy(cs->body + cs->len, data, n);
	cs->len = need;
	return 0;
}

/* Copy s into buf for the log, capped, with anything but printable ASCII as '?'. */
static const char *
log_clean(const char *s, char *buf, size_t len)
{
	size_t i;

	if (s == NULL)
		s = "";
	for (i = 0; i < len - 1 && s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		buf[i] = ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\' ? '?' : (char)ch;
	}
	buf[i] = '\0';
	return buf;
}

/* One access-log line: never the key, never a password. */
static void
log_request(const struct conn *cs, const struct sockaddr *peer, const struct sockaddr *client,
    const char *method, const char *url, const struct api_response *resp)
{
	char ip[INET6_ADDRSTRLEN + 1], pip[INET6_ADDRSTRLEN + 1];
	char path[API_LOG_PATH_MAX], meth[API_LOG_METHOD_MAX], status[8], ms[32];
	struct sockaddr_storage pss;
	struct timespec t1;
	double d;

	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	d = (double)(t1.tv_sec - cs->t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - cs->t0.tv_nsec) / 1e6;
	snprintf(ms, sizeof(ms), "%.3f", d);
	snprintf(status, sizeof(status), "%u", resp->status);
	strcpy(ip, "-");
	strcpy(pip, "-");
	if (peer != NULL && api_client_addr(peer, false, NULL, NULL, 0, &pss) == 0)
		cidr_addr_str((const struct sockaddr *)&pss, pip, sizeof(pip));
	if (client != NULL)
		cidr_addr_str(client, ip, sizeof(ip));
	log_event(LOG_LEVEL_INFO, "request", "ip", ip, "peer", pip,
	    "method", log_clean(method, meth, sizeof(meth)),
	    "path", log_clean(url, path, sizeof(path)), "status", status, "ms", ms,
	    "user", resp->user[0] != '\0' ? resp->user : "-", (const char *)NULL);
}

/* Count one answered request for /metrics (metrics.c), with its time since cs->t0. */
static void
count_request(struct api *a, const struct conn *cs, const char *url,
    const struct api_response *resp)
{
	struct timespec t1;
	int64_t ns;

	if (!a->cfg->metrics_on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (int64_t)(t1.tv_sec - cs->t0.tv_sec) * 1000000000 + (t1.tv_nsec - cs->t0.tv_nsec);
	api_metrics_count(&a->metrics, url, resp->status, ns > 0 ? (uint64_t)ns : 0,
	    resp->auth_failed);
}

/* Turn resp into an MHD reply and queue it. Takes the owned body. */
static enum MHD_Result
queue(struct MHD_Connection *c, struct api_response *resp)
{
	const union MHD_ConnectionInfo *ci;
	const struct conn *cs;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (resp->owned != NULL) {
		r = MHD_create_response_from_buffer_with_free_callback(resp->body_len,
		    resp->owned, free);
		if (r != NULL)
			resp->owned = NULL;	/* MHD frees it once sent */
	} else {
		/* Static text (persistent): MHD neither copies nor frees it. */
		r = MHD_create_response_from_buffer(resp->body_len,
		    (void *)(uintptr_t)resp->body, MHD_RESPMEM_PERSISTENT);
	}
	if (r == NULL) {
		api_response_clear(resp);
		return MHD_NO;
	}
	if (resp->json)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	else if (resp->content_type != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	if (resp->location[0] != '\0')
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, resp->location);
	if (resp->allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
	if (resp->retry_after > 0) {
		char ra[16];

		snprintf(ra, sizeof(ra), "%u", resp->retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (resp->cors_origin != NULL) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN,
		    resp->cors_origin);
		if (strcmp(resp->cors_origin, "*") != 0)
			MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Origin");
		if (resp->preflight) {
			MHD_add_response_header(r, "Access-Control-Allow-Methods", API_CORS_METHODS);
			MHD_add_response_header(r, "Access-Control-Allow-Headers", API_CORS_HEADERS);
			MHD_add_response_header(r, "Access-Control-Max-Age", API_CORS_MAX_AGE);
		}
	}
	/* RFC 6797 §7.1: only over HTTPS, so cs->hsts is set only with TLS on. */
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	cs = ci != NULL ? ci->socket_context : NULL;
	if (cs != NULL && cs->hsts != NULL)
		MHD_add_response_header(r, "Strict-Transport-Security", cs->hsts);
	ret = MHD_queue_response(c, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Reply 413 before the body is complete; MHD then closes the connection. */
static enum MHD_Result
reply_too_large(struct api *a, struct conn *cs, struct MHD_Connection *c, const char *method,
    const char *url)
{
	const union MHD_ConnectionInfo *ci;
	struct api_response resp;
	struct sockaddr_storage ss;
	const struct sockaddr *peer = NULL;
	enum MHD_Result ret;

	api_deadline_disarm(a->deadline, &cs->dl);	/* answered: MHD closes after the reply */
	memset(&resp, 0, sizeof(resp));
	api_response_error(&resp, API_ERR_TOO_LARGE);
	if ((ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS)) != NULL)
		peer = ci->client_addr;
	if (peer != NULL)
		api_client_addr(peer, false, NULL, NULL, 0, &ss);
	log_request(cs, peer, peer != NULL ? (const struct sockaddr *)&ss : NULL, method, url,
	    &resp);
	count_request(a, cs, url, &resp);
	cs->answered = true;
	ret = queue(c, &resp);
	return ret;
}

struct join {
	const char *name;
	char *buf;
	size_t len, cap;
	bool overflow;
};

/* MHD header iterator: join every line of one header with ", " (RFC 9110 §5.3). */
static enum MHD_Result
join_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct join *j = cls;
	size_t n;

	(void)kind;
	if (key == NULL || value == NULL || strcasecmp(key, j->name) != 0)
		return MHD_YES;
	n = strlen(value);
	if (j->len + n + 3 > j->cap) {
		j->overflow = true;
		return MHD_NO;
	}
	if (j->len > 0) {
		memcpy(j->buf + j->len, ", ", 2);
		j->len += 2;
	}
	memcpy(j->buf + j->len, value, n);
	j->len += n;
	j->buf[j->len] = '\0';
	return MHD_YES;
}

/* The whole request is in: decide the client, route, reply, log. */
static enum MHD_Result
answer(struct api *a, struct conn *cs, struct MHD_Connection *c, const char *method,
    const char *url)
{
	const union MHD_ConnectionInfo *ci;
	struct api_request req;
	struct api_response resp;
	struct sockaddr_storage client;
	const struct sockaddr *peer = NULL;
	char fwd[API_FORWARDED_MAX];
	const char *hdr = NULL;
	enum MHD_Result ret;
	int crc = -1;

	api_deadline_disarm(a->deadline, &cs->dl);	/* the whole request is in */
	memset(&req, 0, sizeof(req));
	if ((ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS)) != NULL)
		peer = ci->client_addr;
	if (peer != NULL) {
		if (a->ctx.cfg->use_header && a->ctx.ntrusted > 0 &&
		    cidr_match_any(a->ctx.trusted, a->ctx.ntrusted, peer)) {
			struct join j = { a->ctx.cfg->header_name != NULL ?
			    a->ctx.cfg->header_name : "X-Forwarded-For", fwd, 0, sizeof(fwd), false };

			fwd[0] = '\0';
			MHD_get_connection_values(c, MHD_HEADER_KIND, join_header, &j);
			hdr = j.overflow ? NULL : fwd;
			if (!j.overflow)
				crc = api_client_addr(peer, true, hdr, a->ctx.trusted,
				    a->ctx.ntrusted, &client);
		} else {
			crc = api_client_addr(peer, false, NULL, NULL, 0, &client);
		}
	}
	req.method = method;
	req.path = url;
	req.api_user = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Api-User");
	req.api_key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Api-Key");
	req.client = crc == 0 ? (const struct sockaddr *)&client : NULL;
	req.body = cs->body;
	req.body_len = cs->len;
	req.origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN);
	req.acr_method = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_ACCESS_CONTROL_REQUEST_METHOD);
	req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	req.query_subdomain = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "subdomain");

	if (cs->too_large) {
		memset(&resp, 0, sizeof(resp));
		api_response_error(&resp, API_ERR_TOO_LARGE);
	} else {
		api_route(&a->ctx, &req, &resp);
	}
	log_request(cs, peer, req.client, method, url, &resp);
	count_request(a, cs, url, &resp);
	ret = queue(c, &resp);
	api_response_clear(&resp);
	return ret;
}

/* The announced Content-Length, or 0 when there is none (chunked, or no body). */
static unsigned long long
content_length(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long v;
	char *end;

	if (cl == NULL || *cl < '0' || *cl > '9')
		return 0;	/* MHD itself refuses a malformed length */
	errno = 0;
	v = strtoull(cl, &end, 10);
	return errno == ERANGE ? ULLONG_MAX : v;
}

/*
 * MHD's access handler, called once when the headers are in, once per body
 * chunk, and once when the body is complete (RFC 9112 §6 framing is MHD's).
 */
static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct api *a = cls;
	struct conn *cs = *req_cls;
	const union MHD_ConnectionInfo *ci;
	unsigned long long cl;

	(void)version;
	if (cs == NULL) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		if (ci == NULL || (cs = ci->socket_context) == NULL)
			return MHD_NO;	/* out of memory at accept: drop the connection */
		clock_gettime(CLOCK_MONOTONIC, &cs->t0);
		cs->len = 0;
		cs->too_large = false;
		cs->answered = false;
		cs->drained = 0;
		*req_cls = cs;
		/*
		 * RFC 9110 §15.5.14: refuse an announced oversize body. When the
		 * client waits for "100 Continue" (RFC 9110 §10.1.1), or the body
		 * is too big to drain, answer before it is sent; otherwise read and
		 * discard it, so the 413 is not lost to a reset connection.
		 */
		cl = content_length(c);
		if (cl > a->max_body) {
			cs->too_large = true;
			if (cl > API_MAX_DRAIN || MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			    MHD_HTTP_HEADER_EXPECT) != NULL)
				return reply_too_large(a, cs, c, method, url);
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (cs->answered)
			return MHD_YES;
		if (body_append(cs, upload_data, n, a->max_body) == -1)
			return MHD_NO;
		/* Oversize: discard up to API_MAX_DRAIN, then answer and close. */
		if (cs->too_large && (cs->drained += n) > API_MAX_DRAIN)
			return reply_too_large(a, cs, c, method, url);
		return MHD_YES;
	}
	if (cs->answered)
		return MHD_YES;
	return answer(a, cs, c, method, url);
}


/*
 * Create, bind and listen on the API socket ourselves so a bind failure is
 * one clear line (MHD would print its own). addr is the parsed ip and port
 * (common/config.c); "::" is dual-stack like Go's listener.
 */
static int
listen_socket(const struct sockaddr_storage *addr, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN];
	socklen_t len = addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	int fd, on = 1, off = 0, e;

	fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd != -1) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (addr->ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		if (bind(fd, (const struct sockaddr *)addr, len) == 0 &&
		    listen(fd, SOMAXCONN) == 0)
			return fd;
	}
	e = errno;
	if (fd != -1)
		close(fd);
	snprintf(err, errlen, "cannot listen on %s port %u: %s",
	    cidr_addr_str((const struct sockaddr *)addr, host, sizeof(host)),
	    ntohs(addr->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)addr)->sin6_port :
	    ((const struct sockaddr_in *)addr)->sin_port), strerror(e));
	return -1;
}

/*
 * Every API connection and every DNS TCP client is a descriptor: raise the
 * soft RLIMIT_NOFILE towards the hard one when it is below what the limits
 * allow (systemd's default soft limit is 1024), and say so if it stays short.
 */
static void
fd_limit_fit(const struct config *cfg)
{
	rlim_t want = API_MAX_CONNECTIONS + (rlim_t)cfg->tcp_max_clients + API_FD_SPARE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < want)
		log_warnx("api: open file limit %llu is below the %llu the connection limits "
		    "need: raise LimitNOFILE", (unsigned long long)rl.rlim_cur,
		    (unsigned long long)want);
}

/* The port a bound socket got (the config may ask for port 0). */
static unsigned
fd_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
}

/* RFC 6797 §6.1: the Strict-Transport-Security value from the hsts_* keys, or "". */
static void
hsts_value(const struct config *cfg, char *buf, size_t len)
{
	buf[0] = '\0';
	if (cfg->hsts_enabled)
		snprintf(buf, len, "max-age=%u%s%s", cfg->hsts_max_age,
		    cfg->hsts_include_subdomains ? "; includeSubDomains" : "",
		    cfg->hsts_preload ? "; preload" : "");
}

/* Start MHD on the bound socket fd (taken over on success), with TLS when a->tls. */
static int
start_mhd(struct api *a, int fd, char *err, size_t errlen)
{
	const struct config *cfg = a->cfg;
	struct MHD_OptionItem tls_opts[2];
	unsigned threads, timeout, flags;

	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	memset(tls_opts, 0, sizeof(tls_opts));
	tls_opts[0].option = MHD_OPTION_END;
	tls_opts[1].option = MHD_OPTION_END;
	if (a->tls != NULL) {
		flags |= MHD_USE_TLS;
		api_tls_option(&tls_opts[0]);
	}
	threads = cfg->api_threads != 0 ? cfg->api_threads : API_DEFAULT_THREADS;
	timeout = cfg->connection_timeout != 0 ? cfg->connection_timeout : API_DEFAULT_TIMEOUT;
	a->mhd = MHD_start_daemon(flags, 0, NULL, NULL, access_handler, a,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_MAX_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_conns_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONN_MEMORY,
	    MHD_OPTION_NOTIFY_CONNECTION, notify_connection, a,
	    MHD_OPTION_NOTIFY_COMPLETED, request_completed, a,
	    MHD_OPTION_ARRAY, tls_opts,
	    MHD_OPTION_END);
	if (a->mhd == NULL) {
		snprintf(err, errlen, "cannot start the HTTP server%s",
		    a->tls != NULL ? " (check the TLS key and certificate)" : "");
		return -1;
	}
	return 0;
}

/*
 * The metrics listener's handler: GET /metrics gets the text, anything else
 * 404. It answers as soon as the headers are in; a request body is never
 * read (MHD then closes the connection after the reply).
 */
static enum MHD_Result
metrics_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	static const char not_found[] = "404 page not found\n";
	struct api *a = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned status = MHD_HTTP_NOT_FOUND;
	char *text = NULL;
	size_t len = 0;

	(void)version;
	(void)upload_data;
	(void)req_cls;
	*upload_data_size = 0;
	if (strcmp(method, "GET") == 0 && strcmp(url, "/metrics") == 0) {
		if ((text = api_metrics_text(&a->metrics, a->ctx.d, a->ctx.st, a->tls, &len)) == NULL)
			return MHD_NO;	/* out of memory: drop the connection */
		status = MHD_HTTP_OK;
		r = MHD_create_response_from_buffer_with_free_callback(len, text, free);
	} else {
		r = MHD_create_response_from_buffer(sizeof(not_found) - 1,
		    (void *)(uintptr_t)not_found, MHD_RESPMEM_PERSISTENT);
	}
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, status == MHD_HTTP_OK ?
	    "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * Serve GET /metrics on cfg->metrics_addr: one MHD thread of its own, a few
 * connections, no TLS and no auth (meant for loopback or a monitoring
 * network). 0, or -1 with a message in err.
 */
static int
start_metrics(struct api *a, char *err, size_t errlen)
{
	int fd;

	if ((fd = listen_socket(&a->cfg->metrics_addr, err, errlen)) == -1)
		return -1;
	a->metrics_port = fd_port(fd);
	a->metrics_mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, metrics_handler, a,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_METRICS_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_METRICS_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_METRICS_MEMORY,
	    MHD_OPTION_END);
	if (a->metrics_mhd == NULL) {
		close(fd);
		snprintf(err, errlen, "cannot start the metrics listener");
		return -1;
	}
	log_info("api: metrics on %s (GET /metrics, port %u)", a->cfg->metrics_listen,
	    a->metrics_port);
	return 0;
}

/* Start the API: load TLS material, listen, start MHD. */
struct api *
api_start(const struct config *cfg, struct storage *st, struct dnsd *d,
    char *err, size_t errlen)
{
	struct api *a;
	int fd = -1;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->pending_fd = -1;
	a->cfg = cfg;
	pthread_mutex_init(&a->start_mu, NULL);
	a->ctx.cfg = cfg;
	a->ctx.st = st;
	a->ctx.d = d;
	a->max_body = cfg->max_body != 0 ? cfg->max_body : API_MAX_BODY_DEFAULT;
	if (a->max_body > API_MAX_BODY_LIMIT)
		a->max_body = API_MAX_BODY_LIMIT;

	a->ctx.trusted = cfg->trusted;	/* parsed once by common/config.c; borrowed */
	a->ctx.ntrusted = cfg->ntrusted;

	if (cfg->tls != CONFIG_TLS_NONE) {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS) ||
		    !MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK)) {
			snprintf(err, errlen, "tls: libmicrohttpd was built without TLS");
			goto fail;
		}
		if ((a->tls = api_tls_new(cfg, err, errlen)) == NULL)
			goto fail;
		hsts_value(cfg, a->hsts, sizeof(a->hsts));
	}

	if (api_limits_start(&a->ctx, err, errlen) == -1)
		goto fail;
	if ((a->deadline = api_deadline_start(cfg->request_timeout != 0 ? cfg->request_timeout :
	    API_DEFAULT_REQUEST_TIMEOUT)) == NULL) {
		snprintf(err, errlen, "cannot start the request deadline thread");
		goto fail;
	}
	fd_limit_fit(cfg);
	if (cfg->metrics_on && start_metrics(a, err, errlen) == -1)
		goto fail;
	if ((fd = listen_socket(&cfg->api_addr, err, errlen)) == -1)
		goto fail;
	a->port = fd_port(fd);
	if (a->tls != NULL && !api_tls_ready(a->tls)) {
		/* tls = acme with no certificate yet: HTTPS starts when it arrives. */
		a->pending_fd = fd;
		log_info("api: waiting for the first certificate; HTTPS on port %u starts when it "
		    "arrives", a->port);
		return a;
	}
	if (start_mhd(a, fd, err, errlen) == -1)
		goto fail;
	fd = -1;	/* MHD owns and closes the listen socket now */
	return a;
fail:
	if (fd != -1)
		close(fd);
	api_stop(a);
	return NULL;
}

/* The TCP port actually bound. */
unsigned
api_port(const struct api *a)
{
	return a != NULL ? a->port : 0;
}

/* The metrics listener's port, or 0 when it is off. */
unsigned
api_metrics_port(const struct api *a)
{
	return a != NULL ? a->metrics_port : 0;
}

/* Stop MHD (it finishes its threads and closes every socket), then free. */
void
api_stop(struct api *a)
{
	if (a == NULL)
		return;
	if (a->mhd != NULL)
		MHD_stop_daemon(a->mhd);
	if (a->metrics_mhd != NULL)
		MHD_stop_daemon(a->metrics_mhd);
	api_deadline_stop(a->deadline);	/* after MHD: its close callbacks use the list */
	api_limits_free(&a->ctx);
	if (a->pending_fd != -1)
		close(a->pending_fd);
	api_tls_free(a->tls);
	pthread_mutex_destroy(&a->start_mu);
	free(a);
}

/* See api.h. */
int
api_set_certificate(struct api *a, const char *chain_pem, size_t chain_len,
    const char *key_pem, size_t key_len, char *err, size_t errlen)
{
	int rc = -1;

	if (a == NULL || a->tls == NULL) {
		snprintf(err, errlen, "the API does not serve HTTPS");
		return -1;
	}
	if (api_tls_swap(a->tls, chain_pem, chain_len, key_pem, key_len, err, errlen) == -1)
		return -1;
	pthread_mutex_lock(&a->start_mu);
	if (a->mhd == NULL && a->pending_fd != -1) {
		if (start_mhd(a, a->pending_fd, err, errlen) == -1) {
			log_warnx("api: %s", err);
			goto out;
		}
		a->pending_fd = -1;
		log_info("api: HTTPS listener started on port %u with the first certificate",
		    a->port);
	}
	rc = 0;
out:
	pthread_mutex_unlock(&a->start_mu);
	return rc;
}

/* See api.h. */
int
api_reload_certificate(struct api *a)
{
	if (a == NULL || a->tls == NULL)
		return 0;
	return api_tls_reload_files(a->tls);
}

/* See api.h. */
int
api_check_certificate_files(const char *chain_path, const char *key_path, char *err,
    size_t errlen)
{
	return api_tls_check_files(chain_path, key_path, err, errlen);
}
