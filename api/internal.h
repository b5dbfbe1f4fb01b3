/* api/internal.h -- the api module's own interfaces: rate limits and the request deadline */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01D_API_INTERNAL_H
#define DNS01D_API_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "api.h"

/* ------------------------------------------------------------------ */
/* limit.c -- token buckets keyed by address or user, in a fixed-size table */

#define API_LIMIT_KEY 16		/* bytes of a bucket key: an IPv6 address or a UUID */
#define API_LIMIT_SETS 1024		/* hash sets of a limiter table */
#define API_LIMIT_WAYS 8		/* buckets per set; a full set evicts its fullest bucket */
#define API_LIMIT_V6_PREFIX 8		/* bytes of an IPv6 address that name its bucket (a /64) */
#define API_DEADLINE_TICK_MS 200	/* how often expired requests are looked for */

struct api_limiter;

/*
 * A limiter of count events per period seconds, in bursts of up to count,
 * for each key, in a table of API_LIMIT_SETS * API_LIMIT_WAYS buckets (a
 * key not in the table has a full bucket). Thread-safe. Returns NULL when
 * count is 0 (no limit) or memory is short (*oom set then).
 */
struct api_limiter *api_limiter_new(unsigned count, unsigned period, bool *oom);
/* Free a limiter. Accepts NULL. */
void api_limiter_free(struct api_limiter *l);
/*
 * Seconds until key has a token again: 0 if it has one now (nothing is
 * taken). A NULL limiter always has tokens. now is CLOCK_MONOTONIC in ns.
 */
unsigned api_limiter_wait(struct api_limiter *l, const uint8_t key[API_LIMIT_KEY],
    uint64_t now);
/*
 * Take one token if key has one and return 0; otherwise take nothing and
 * return the seconds until it has one (at least 1).
 */
unsigned api_limiter_take(struct api_limiter *l, const uint8_t key[API_LIMIT_KEY],
    uint64_t now);
/* Charge one event to key even when it has no token left (the bucket stays at empty). */
void api_limiter_charge(struct api_limiter *l, const uint8_t key[API_LIMIT_KEY],
    uint64_t now);
/* Empty key's bucket at once. */
void api_limiter_drain(struct api_limiter *l, const uint8_t key[API_LIMIT_KEY],
    uint64_t now);
/*
 * Create ctx->auth_addr, auth_user (both from cfg->auth_fail_rate) and
 * reg_addr (cfg->register_rate); a rate of 0 leaves its limiter NULL.
 * Returns 0, or -1 with a message in err.
 */
int api_limits_start(struct api_ctx *ctx, char *err, size_t errlen);
/* Free ctx's limiters. */
void api_limits_free(struct api_ctx *ctx);
/*
 * The bucket key of a client address: an IPv4 address as ::ffff:a.b.c.d,
 * an IPv6 address cut to its /64 (one site's allocation, RFC 6177), and a
 * NULL or unknown address as all-ones (all unknown clients share one bucket).
 */
void api_limit_addr_key(const struct sockaddr *sa, uint8_t key[API_LIMIT_KEY]);
/* The bucket key of a normalized UUID (36 characters): its 16 bytes. */
void api_limit_user_key(const char *uuid, uint8_t key[API_LIMIT_KEY]);
/* CLOCK_MONOTONIC now, in ns. */
uint64_t api_now_ns(void);

/*
 * The absolute request deadline. MHD's connection timeout restarts on every
 * byte, so a client sending one byte a second holds a connection forever.
 * Each connection is armed when it opens and again after each reply, and
 * disarmed once its request (headers and body) is complete; a thread shuts
 * down the socket of any connection still armed after the deadline, and MHD
 * then closes it as a client abort.
 */
struct api_deadline;

/* One connection's place in the deadline list (embedded in server.c's state). */
struct api_deadline_node {
	struct api_deadline_node *prev, *next;
	uint64_t due;			/* CLOCK_MONOTONIC ns */
	int fd;
	bool linked;
};

/* Start the deadline thread for seconds. Returns NULL on failure. */
struct api_deadline *api_deadline_start(unsigned seconds);
/* Stop the thread and free. Every node must be disarmed first, or MHD stopped. Accepts NULL. */
void api_deadline_stop(struct api_deadline *d);
/* (Re)start node's deadline now for socket fd. */
void api_deadline_arm(struct api_deadline *d, struct api_deadline_node *node, int fd);
/* The request is complete (or the connection is closing): no deadline. */
void api_deadline_disarm(struct api_deadline *d, struct api_deadline_node *node);
/* Connections closed by the deadline so far (for the log and tests). */
uint64_t api_deadline_closed(struct api_deadline *d);

/* ------------------------------------------------------------------ */
/* metrics.c -- the API's counters and the Prometheus text of GET /metrics */

#define API_METRICS_MAX_CONNECTIONS 16	/* concurrent connections to the metrics listener */
#define API_METRICS_TIMEOUT 10		/* seconds an idle metrics connection is kept */
#define API_METRICS_MEMORY 8192		/* per-connection MHD pool: a GET and its reply headers */
#define API_METRICS_MAX_TEXT (256 * 1024)	/* cap of one /metrics reply (about 20 kB today) */
#define API_METRICS_STATUS_MIN 100	/* HTTP statuses counted: 100..599 */
#define API_METRICS_NSTATUS 500
#define API_LAT_BUCKETS 11		/* buckets of the request latency histogram */
/* Their upper bounds in seconds (Prometheus "le"). */
#define API_LAT_BOUNDS { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0 }

/* The route label of a request: its path, or "other" for any other path. */
enum api_metrics_route {
	API_M_REGISTER, API_M_UPDATE, API_M_HEALTH, API_M_OTHER, API_M_NROUTE
};

/*
 * The API's counters. API requests are few next to DNS queries, so these
 * are plain shared atomics (relaxed adds), not per-thread blocks.
 */
struct api_metrics {
	_Atomic uint64_t requests[API_M_NROUTE][API_METRICS_NSTATUS];
	_Atomic uint64_t lat_bucket[API_M_NROUTE][API_LAT_BUCKETS];	/* not cumulative */
	_Atomic uint64_t lat_count[API_M_NROUTE];
	_Atomic uint64_t lat_ns[API_M_NROUTE];
	_Atomic uint64_t auth_failures[API_M_NROUTE];
};

/* Count one answered request: path as requested, the status sent, ns it took. */
void api_metrics_count(struct api_metrics *m, const char *path, unsigned status, uint64_t ns,
    bool auth_failed);
/*
 * The /metrics text (Prometheus text exposition format 0.0.4) from m, the
 * DNS and storage counters, and the served certificate (tls NULL: none).
 * Returns a malloc'd string of *len bytes the caller frees, or NULL.
 */
char *api_metrics_text(struct api_metrics *m, struct dnsd *d, struct storage *st,
    struct api_tls *tls, size_t *len);

/* ------------------------------------------------------------------ */
/* routes.c -- replies that server.c and storage's callers share */

/*
 * Set resp to 429 {"error":"too_many_requests"} with Retry-After:
 * retry_after seconds (at least 1).
 */
void api_response_too_many(struct api_response *resp, unsigned retry_after);
/*
 * If path (with method) is one of the routes written differently -- a
 * trailing slash, doubled slashes, dot segments, other letter case -- set
 * resp to the redirect acme-dns's router (julienschmidt/httprouter v1.3.0,
 * RedirectTrailingSlash and RedirectFixedPath) sends, and return true.
 */
bool api_route_redirect(const struct api_ctx *ctx, const char *method, const char *path,
    struct api_response *resp);
/* True if the Authorization value carries the bearer token (constant time in the sent length). */
bool api_bearer_ok(const char *authorization, const char *token);
/*
 * The access log's user field for a failed login: the normalized UUID when
 * the header is one, "-" when absent, else "bad:" and the value with
 * anything outside [A-Za-z0-9._:{}-] as '?', cut to fit out.
 */
void api_log_user(const char *api_user, char *out, size_t outlen);
/* Hand a malloc'd JSON body to resp with status; NULL (out of memory) is a 500. */
void api_reply_owned(struct api_response *resp, unsigned status, char *body);
/* A storage failure: 503 while the database server is unreachable, else 500. */
void api_response_db_error(const struct api_ctx *ctx, struct api_response *resp);
/*
 * The credentials and allowfrom checks of /update and /persist (same 401
 * for every failure, same rate limits). True with *acct filled; otherwise
 * resp holds the refusal.
 */
bool api_authenticate(const struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp, struct storage_account *acct);

/* ------------------------------------------------------------------ */
/* persist.c -- /persist: the account's dns-persist-01 records */

/*
 * GET, POST or DELETE /persist (see docs/api.md). Returns false for any
 * other method, with resp set to 405 (the caller adds Allow).
 */
bool api_route_persist(const struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp);

#endif
