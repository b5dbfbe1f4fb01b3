/* api/api.h -- the acme-dns compatible HTTP API (/register, /update, /health) */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01D_API_H
#define DNS01D_API_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "../common/common.h"
#include "../dnsd/dnsd.h"
#include "../storage/storage.h"

#define API_MAX_BODY_DEFAULT 4096	/* bytes; larger bodies get 413 */
#define API_MAX_BODY_LIMIT (1024 * 1024)	/* the most api.max_body may be set to */
#define API_MAX_HEADER 8192		/* bytes of request headers (MHD memory limit) */
#define API_MAX_CONNECTIONS 1024
#define API_DEFAULT_TIMEOUT 10		/* seconds an idle connection is kept */
#define API_CONN_MEMORY (2 * API_MAX_HEADER)	/* per-connection MHD pool: request + reply headers */
#define API_BODY_INITIAL 512		/* first allocation of a request body buffer; doubles up to the cap */
#define API_MAX_JSON_DEPTH 16		/* nesting of [ and {; deeper bodies are refused before parsing */
#define API_MAX_LABEL 63		/* RFC 1035 §2.3.4: octets in one DNS label */
#define API_MAX_FORWARDED 64		/* entries of header_name examined, right to left */
#define API_MAX_TLS_FILE (1024 * 1024)	/* the most bytes read from a PEM file */
#define API_TLS_MAX_CHAIN 10		/* certificates in the served chain */
#define API_TLS_MAX_SERIAL 20		/* RFC 5280 §4.1.2.2: octets of a serial number */
#define API_TLS_MAX_RETIRED 8		/* replaced certificates kept for handshakes in flight */
#define API_TLS_POLL_MS 1000		/* tls = "cert": how often the files are stat'ed */
#define API_HSTS_MAX 96			/* bytes of the Strict-Transport-Security value */
#define API_LOG_PATH_MAX 128		/* bytes of the request path kept for the access log */
#define API_LOG_USER_MAX 48		/* bytes of the user field of the access log: a UUID, or
					 * "bad:" and a sanitized, cut X-Api-User */
#define API_DEFAULT_PER_IP 64		/* concurrent connections from one address (max_conns_per_ip) */
#define API_DEFAULT_REQUEST_TIMEOUT 10	/* seconds a request's headers and body may take */
#define API_MAX_DRAIN (256 * 1024)	/* bytes of an oversize body read and discarded so the
					 * 413 reaches the client (closing on unread data
					 * sends a TCP RST that can destroy the reply); past
					 * this the 413 is sent at once and the connection closed */

struct api;

/*
 * Start serving HTTP (or HTTPS when cfg->tls is "cert") on cfg->api_ip and
 * cfg->api_port, with worker threads of its own. st and d are borrowed and
 * must outlive the api. Returns NULL with a one-line message in err.
 */
struct api *api_start(const struct config *cfg, struct storage *st, struct dnsd *d,
    char *err, size_t errlen);

/* The TCP port actually bound (when the config asked for port 0). */
unsigned api_port(const struct api *a);
/* The port of the metrics listener ([api] metrics_listen), or 0 when it is off. */
unsigned api_metrics_port(const struct api *a);

/* Stop serving, finish in-flight requests, free everything. Accepts NULL. */
void api_stop(struct api *a);

/*
 * Serve a new certificate: chain_pem (leaf first) and key_pem. The chain must
 * parse in order and the key match the leaf; otherwise the old certificate
 * stays, one error line is logged and err says why. New TLS handshakes get
 * the new one at once; connections already up are not touched. With tls =
 * "acme" the HTTPS listener starts with the first certificate. 0 or -1.
 */
int api_set_certificate(struct api *a, const char *chain_pem, size_t chain_len,
    const char *key_pem, size_t key_len, char *err, size_t errlen);
/* tls = "cert": re-read the two files now (SIGHUP). 0, or -1 with the old kept (logged). */
int api_reload_certificate(struct api *a);
/*
 * dns01d -n: check the files as the API would load them (readable, the chain
 * parses, the key matches the leaf). 0, or -1 with one line in err.
 */
int api_check_certificate_files(const char *chain_path, const char *key_path, char *err,
    size_t errlen);

/* ------------------------------------------------------------------ */
/* Below: the module's internal, library-free interfaces between its files
 * (server.c speaks MHD; the others see plain structs), exported for tests. */

/* The error replies of the wire contract. Each has a fixed status and body. */
enum api_err {
	API_ERR_NONE = 0,
	API_ERR_MALFORMED,	/* 400 malformed_json_payload: /register body is not our JSON */
	API_ERR_BAD_CIDR,	/* 400 invalid_allowfrom_cidr */
	API_ERR_FORBIDDEN,	/* 401 forbidden: any /update auth failure, undecodable /update body */
	API_ERR_BAD_SUBDOMAIN,	/* 400 bad_subdomain: not a valid DNS label */
	API_ERR_BAD_TXT,	/* 400 bad_txt: not 43 base64url characters */
	API_ERR_DB,		/* 500 db_error */
	API_ERR_DB_UNAVAILABLE,	/* 503 db_unavailable: the database server cannot be reached */
	API_ERR_NOT_FOUND,	/* 404 not_found (also /register when registration is disabled) */
	API_ERR_METHOD,		/* 405 method_not_allowed */
	API_ERR_TOO_LARGE,	/* 413 payload_too_large */
	API_ERR_INTERNAL,	/* 500 internal_error: out of memory and the like */
	API_ERR_TOO_MANY,	/* 429 too_many_requests (with Retry-After) */
	/* /persist (dns-persist-01 records); see docs/api.md */
	API_ERR_PERSIST_VALUE,	/* 400 bad_persist_value: value missing, empty, or not printable ASCII */
	API_ERR_PERSIST_TOO_LONG,	/* 400 persist_value_too_long: over STORAGE_PERSIST_LEN bytes */
	API_ERR_ISSUER,		/* 400 bad_issuer: no issuer domain name, or not a domain name */
	API_ERR_PERSIST_PARAM,	/* 400 bad_persist_parameter: not tag=value (RFC 8659 §4.2) */
	API_ERR_PERSIST_DUP,	/* 400 duplicate_persist_parameter: a tag given twice */
	API_ERR_ACCOUNTURI,	/* 400 missing_accounturi: no (or an empty) accounturi parameter */
	API_ERR_PERSIST_UNTIL,	/* 400 bad_persist_until: persistUntil is not Unix seconds */
	API_ERR_PERSIST_LIMIT,	/* 400 persist_limit_reached: STORAGE_PERSIST_MAX issuers already */
	API_ERR_PERSIST_NONE,	/* 404 persist_not_found: DELETE of an issuer with no record */
	API_ERR_BAD_NOTE,	/* 400 bad_note: /register note too long or with control characters */
};

struct api_limiter;

/* What routes.c needs from the daemon: borrowed, read-only after api_start. */
struct api_ctx {
	const struct config *cfg;
	struct storage *st;
	struct dnsd *d;
	const struct cidr *trusted;	/* cfg->trusted: parsed by common/config.c, borrowed */
	size_t ntrusted;
	struct api_limiter *auth_addr;	/* failed logins per client address; NULL = no limit */
	struct api_limiter *auth_user;	/* failed logins per username; NULL = no limit */
	struct api_limiter *reg_addr;	/* /register per client address; NULL = no limit */
};

/* One request, as server.c hands it over. Everything is borrowed. */
struct api_request {
	const char *method;		/* "GET", "POST", ... */
	const char *path;		/* without the query string */
	const char *api_user;		/* X-Api-User, or NULL */
	const char *api_key;		/* X-Api-Key, or NULL (a secret: never logged) */
	const struct sockaddr *client;	/* the client as auth.c decided; NULL if unknown */
	const char *body;		/* body_len bytes, not NUL-terminated */
	size_t body_len;
	const char *origin;		/* Origin header (CORS), or NULL */
	const char *acr_method;		/* Access-Control-Request-Method (CORS preflight), or NULL */
	const char *authorization;	/* Authorization header, or NULL (a secret: never logged) */
	const char *query_subdomain;	/* the query argument subdomain (GET /persist), or NULL */
};

/* The reply routes.c decides on. */
struct api_response {
	unsigned status;
	const char *body;		/* static text, or owned when owned != NULL */
	size_t body_len;
	char *owned;			/* malloc'd body; freed by api_response_clear() */
	bool json;			/* send Content-Type: application/json */
	const char *allow;		/* Allow header value for 405 and OPTIONS (static), or NULL */
	const char *cors_origin;	/* Access-Control-Allow-Origin (static or req->origin), or NULL */
	bool preflight;			/* a CORS preflight: also send the Allow-Methods/Headers */
	char user[API_LOG_USER_MAX];	/* the user, or the one a failed login tried, for the access log */
	unsigned retry_after;		/* seconds, sent as Retry-After when non-zero (429) */
	char location[API_LOG_PATH_MAX];	/* Location header of a redirect, or "" */
	const char *content_type;	/* Content-Type other than JSON (a redirect's text/html), or NULL */
	bool auth_failed;		/* a failed login (/update) or bearer token (/register): /metrics */
};

#define API_CORS_METHODS "GET, POST"	/* Access-Control-Allow-Methods in a preflight reply */
#define API_CORS_HEADERS "Content-Type, X-Api-User, X-Api-Key"	/* ...Allow-Headers */
#define API_CORS_MAX_AGE "600"		/* seconds a browser may cache a preflight */

/* routes.c */

/*
 * Answer one request: /register, /update, /health, CORS preflight, 404, 405.
 * Fills *resp (zeroed first); the caller releases it with api_response_clear().
 * /update publishes to dnsd before it answers 200, so the value is served the
 * moment the client sees the reply.
 */
void api_route(const struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp);
/* Set resp to the error reply for e (static body). */
void api_response_error(struct api_response *resp, enum api_err e);
/* Free an owned body. Accepts a zeroed struct. */
void api_response_clear(struct api_response *resp);

/* tls.c -- the certificate for new handshakes (GnuTLS stops there) */

struct api_tls;
struct MHD_OptionItem;

/*
 * The TLS state for cfg: with tls = "cert" the files are loaded and checked
 * (an error fails the start) and a watcher re-reads them when they change;
 * otherwise it starts empty. NULL with err set.
 */
struct api_tls *api_tls_new(const struct config *cfg, char *err, size_t errlen);
/* Free everything; MHD must have stopped. Accepts NULL. */
void api_tls_free(struct api_tls *t);
/* True once a certificate is installed. */
bool api_tls_ready(struct api_tls *t);
/* The served leaf's notAfter into *not_after; false with none (NULL t: plain HTTP). */
bool api_tls_not_after(struct api_tls *t, time_t *not_after);
/* The MHD option that makes each handshake ask for the current certificate. */
void api_tls_option(struct MHD_OptionItem *item);
/* Check and install a PEM chain and key; on error the old stays (logged). 0 or -1. */
int api_tls_swap(struct api_tls *t, const char *chain, size_t chain_len, const char *key,
    size_t key_len, char *err, size_t errlen);
/* Re-read the files (tls = "cert"); on error the old stays (logged). 0 or -1. */
int api_tls_reload_files(struct api_tls *t);
/* Load and check a pair of files without serving them. 0 or -1 with err. */
int api_tls_check_files(const char *chain_path, const char *key_path, char *err,
    size_t errlen);

/* auth.c */

/*
 * Normalise an X-Api-User value into the lower-case 8-4-4-4-12 form in
 * out[37]. Like acme-dns (Go's uuid.Parse) it accepts the plain form in any
 * case, "{...}", "urn:uuid:..." and 32 hex digits. Returns 0, or -1 if s is
 * not a UUID.
 */
int api_user_normalize(const char *s, char out[STORAGE_ID_LEN + 1]);
/* True if s looks like an API key: exactly 40 characters of [A-Za-z0-9_-]. */
bool api_key_valid(const char *s);
/*
 * Decide the client address. Without use_header, or when the TCP peer is
 * not in trusted[0..ntrusted), it is the peer. Otherwise it is taken from the
 * header value (X-Forwarded-For style, "client, proxy1, proxy2"): the
 * right-most entry that is not itself a trusted proxy, because every entry to
 * its left was written by an untrusted party. A missing or empty header means
 * the peer. IPv4-mapped IPv6 addresses are unmapped. Returns 0 with *out set,
 * or -1 if a header entry is not an IP address (the client is then unknown).
 */
int api_client_addr(const struct sockaddr *peer, bool use_header, const char *header,
    const struct cidr *trusted, size_t ntrusted, struct sockaddr_storage *out);
/*
 * True if client may update the account: no allowfrom entries means any
 * address (acme-dns); otherwise client must lie in one of them (IPv4-mapped
 * IPv6 matches IPv4 nets). A NULL client matches only an empty list.
 */
bool api_allowfrom_ok(const struct storage_account *acct, const struct sockaddr *client);
/* Parse one allowfrom entry as acme-dns does (brackets around IPv6 ignored). */
int api_cidr_parse(const char *s, struct cidr *out);
/*
 * The Access-Control-Allow-Origin value for a request's Origin: "*" when the
 * list holds "*", origin itself when an entry matches it (one '*' wildcard
 * allowed, as rs/cors does), NULL otherwise (no CORS headers).
 */
const char *api_cors_origin(const struct config_strv *origins, const char *origin);

/* json.c */

/* The HTTP status of e. */
unsigned api_err_status(enum api_err e);
/* The one-line JSON body of e, e.g. {"error":"forbidden"} (static). */
const char *api_err_body(enum api_err e);
/* True if s is a DNS label (RFC 1035 §2.3.1 LDH rule, 1..63 octets). */
bool api_label_valid(const char *s);
/*
 * True if the [ / { nesting of the JSON text stays within max levels. It
 * skips strings, so it costs one pass and no memory; it runs before jansson
 * so a deep body is refused without recursion.
 */
bool api_json_depth_ok(const char *body, size_t len, unsigned max);

struct api_register_req {
	char allowfrom[STORAGE_MAX_ALLOWFROM][STORAGE_CIDR_LEN];	/* as sent, brackets removed (as acme-dns stores them) */
	size_t n;
	char note[STORAGE_NOTE_MAX + 1];	/* dns01d's optional "note", "" when none */
};

/*
 * Parse a /register body: empty, null, {} or {"allowfrom":[...]} with keys
 * matched case-insensitively (Go's encoding/json) and unknown keys ignored.
 * Returns API_ERR_NONE, API_ERR_MALFORMED (not JSON, not UTF-8, too deep,
 * wrong types) or API_ERR_BAD_CIDR (an entry that is not a CIDR, too long,
 * or more than STORAGE_MAX_ALLOWFROM entries). dns01d's optional "note"
 * (a string, or null) that storage_note_valid refuses is API_ERR_BAD_NOTE.
 */
enum api_err api_json_register_parse(const char *body, size_t len, struct api_register_req *out);
/*
 * Parse and check an /update body against the authenticated account's
 * subdomain, in acme-dns's order: an undecodable body or a missing or foreign
 * subdomain is API_ERR_FORBIDDEN; a subdomain that is not a DNS label is
 * API_ERR_BAD_SUBDOMAIN; a txt that is not 43 base64url characters is
 * API_ERR_BAD_TXT. On API_ERR_NONE the value is copied into txt.
 */
enum api_err api_json_update_parse(const char *body, size_t len, const char *subdomain,
    char txt[STORAGE_TXT_LEN + 1]);
/*
 * The 201 body of /register, on one line with acme-dns's key order:
 * {"username","password","fulldomain","subdomain","allowfrom"}. Returns a
 * malloc'd string the caller frees with free(), or NULL.
 */
char *api_json_register_reply(const struct storage_account *acct, const char *key,
    const char *domain);
/* The 200 body of /update: {"txt":"<value>"}. malloc'd, or NULL. */
char *api_json_update_reply(const char *txt);

/* A /persist body: {"subdomain": S, "value": V} (POST) or {"subdomain": S, "issuer": D} (DELETE). */
struct api_persist_req {
	char subdomain[API_MAX_LABEL + 1];	/* "" when absent or too long */
	char value[STORAGE_PERSIST_LEN + 1];	/* "" when absent */
	size_t value_len;			/* as sent (may exceed STORAGE_PERSIST_LEN: then value is "") */
	bool value_nul;				/* the value held a NUL */
	char issuer[STORAGE_ISSUER_LEN + 1];	/* "" when absent */
	size_t issuer_len;			/* as sent */
};
/*
 * Parse a /persist body: a JSON object (keys matched as Go would), the
 * fields strings or absent. Returns API_ERR_NONE or API_ERR_MALFORMED (not
 * JSON, not an object, a field of another type, trailing data).
 */
enum api_err api_json_persist_parse(const char *body, size_t len, struct api_persist_req *out);
/*
 * The 200 body of /persist: {"subdomain","fqdn","record"?,"records"}: the
 * record just stored (one, or NULL) and all the account's records. fqdn is
 * _validation-persist.<subdomain>.<domain>. malloc'd, or NULL.
 */
char *api_json_persist_reply(const char *subdomain, const char *domain,
    const struct storage_persist *one, const struct storage_persist_set *set);

/* persist.c */
/*
 * Check value (len bytes) as a dns-persist-01 record: an RFC 8659 §4.2
 * issue-value with an issuer domain name, parameters tag=value separated by
 * ';', accounturi present, persistUntil (if any) in Unix seconds, at most
 * STORAGE_PERSIST_LEN bytes. On API_ERR_NONE the issuer, lower-cased, is
 * in issuer; otherwise the return names the first fault found.
 */
enum api_err api_persist_value_check(const char *value, size_t len,
    char issuer[STORAGE_ISSUER_LEN + 1]);
/* Check and lower-case an issuer domain name (DELETE). API_ERR_NONE or API_ERR_ISSUER. */
enum api_err api_persist_issuer_check(const char *s, size_t len,
    char issuer[STORAGE_ISSUER_LEN + 1]);

#endif
