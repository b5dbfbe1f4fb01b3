/* client/client.h -- dns01, the ACME client (RFC 8555) that answers DNS-01 through acme-dns */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01_CLIENT_H
#define DNS01_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define CLIENT_VERSION "0.1.0"

/* ------------------------------------------------------------------ */
/* Limits. Every input (CA responses, storage file, PEM files) is untrusted. */

#define CLIENT_ERR_MAX 1024		/* bytes of the one error line */
#define CLIENT_MAX_RESPONSE (1024 * 1024)	/* bytes of one HTTP response body */
#define CLIENT_MAX_HEADER 8192		/* bytes of one response header line kept */
#define CLIENT_MAX_LINKS 8		/* Link: rel="alternate" URLs kept (RFC 8555 §7.4.2) */
#define CLIENT_MAX_FILE (1024 * 1024)	/* bytes of a PEM, storage or state file */
#define CLIENT_MAX_DOMAINS 100		/* -d names in one order */
#define CLIENT_MAX_NAME 253		/* RFC 1035 §2.3.4: octets of a domain name (text form) */
#define CLIENT_MAX_LABEL 63		/* RFC 1035 §2.3.4: octets of one label */
#define CLIENT_MAX_AUTHZ 100		/* authorizations in one order */
#define CLIENT_MAX_CHAIN 10		/* certificates in one chain */
#define CLIENT_MAX_SUBPROBLEMS 8	/* RFC 8555 §6.7.1 subproblems shown */
#define CLIENT_MAX_ALLOW_FROM 32	/* --allow-from entries */
#define CLIENT_MAX_BADNONCE 5		/* RFC 8555 §6.5: badNonce retries per request */
#define CLIENT_POLL_MAX 40		/* status polls of one order or authorization */
#define CLIENT_POLL_TIMEOUT 300		/* seconds a poll loop may take in all */
#define CLIENT_POLL_MAX_DELAY 30	/* seconds between two polls at most */
#define CLIENT_HTTP_TIMEOUT 30		/* seconds one HTTP request may take */
#define CLIENT_HTTP_CONNECT_TIMEOUT 10	/* seconds to connect */
#define CLIENT_DNS_WAIT 30		/* seconds to wait for the TXT to resolve */
#define CLIENT_DNS_INTERVAL 2		/* seconds between two DNS checks */
#define CLIENT_DNS_TIMEOUT 3		/* seconds one DNS query may take */
#define CLIENT_HOOK_TIMEOUT 600		/* seconds the deploy hook may run */
#define CLIENT_USER_AGENT "dns01/" CLIENT_VERSION

/* Exit codes: users and scripts rely on them. */
enum client_exit {
	CLIENT_EXIT_OK = 0,		/* done: issued, renewed, revoked, registered */
	CLIENT_EXIT_NOTHING = 1,	/* renew: nothing due */
	CLIENT_EXIT_ERROR = 2,		/* any error; one line on stderr says what to do */
};

/*
 * The one error line. The first message set is kept (it is the most specific),
 * unless an outer caller replaces it on purpose with client_err_replace().
 * Control characters are replaced, so an untrusted CA "detail" stays one line.
 */
struct client_err {
	char msg[CLIENT_ERR_MAX];
	bool set;
};

/* ------------------------------------------------------------------ */
/* util.c -- errors, time parsing, names, files */

void client_errf(struct client_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void client_err_replace(struct client_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void client_err_clear(struct client_err *e);

/*
 * Parse an HTTP Retry-After value (RFC 9110 §10.2.3): delay-seconds or an
 * HTTP-date in any of the three forms of §5.6.7. *seconds is the wait from now
 * (0 if the date is past). Returns 0, or -1 if the value is neither form.
 */
int client_retry_after(const char *value, time_t now, long *seconds);
/* Parse an RFC 3339 date-time ("2026-11-24T13:00:00Z", fractions, offsets). 0 or -1. */
int client_rfc3339(const char *s, time_t *out);
/* Format t as RFC 3339 UTC into buf (at least 21 bytes); returns buf. */
const char *client_time_str(time_t t, char *buf, size_t len);

/*
 * Check and normalise a DNS name for an order: lower-cased, trailing dot
 * removed, LDH labels (RFC 1123 §2.1), at least two labels, an optional "*."
 * first label (RFC 8555 §7.1.3). Returns a new string, or NULL if invalid.
 */
char *client_domain_normalize(const char *s);
/* The name without a leading "*." (RFC 8555 §8.4: wildcard and base share a TXT name). */
const char *client_base_domain(const char *domain);
/* True if s is a plausible http(s) URL without spaces or control characters. */
bool client_url_valid(const char *s);
/* True if url is http:// to a host other than 127.0.0.0/8, ::1 or localhost. */
bool client_url_plain_remote(const char *url);

/*
 * Read a whole file of at most max bytes into a new NUL-terminated buffer.
 * Returns 0, 1 if the file does not exist (nothing set in err), or -1.
 */
int client_file_read(const char *path, size_t max, char **buf, size_t *len,
    struct client_err *err);
/*
 * Write a file atomically: temp file in the same directory, fchmod(mode),
 * write, fsync, rename over path, fsync the directory. Returns 0 or -1.
 */
int client_file_write(const char *path, const void *data, size_t len, unsigned mode,
    struct client_err *err);
/* Create a directory and its parents (mode for new ones). Returns 0 or -1. */
int client_mkdirs(const char *path, unsigned mode, struct client_err *err);
/* Free a buffer that held a secret, wiping it first. Accepts NULL. */
void client_free_secret(char *p);

/* ------------------------------------------------------------------ */
/* http.c -- HTTP(S) on libcurl; CURLcode stops here */

struct http;			/* one libcurl handle, reused for keep-alive */

struct http_response {
	long status;			/* HTTP status code */
	char *body;			/* NUL-terminated, at most CLIENT_MAX_RESPONSE bytes */
	size_t len;
	char *content_type;		/* without parameters, lower-cased */
	char *location;			/* absolute URL or NULL */
	char *nonce;			/* Replay-Nonce (RFC 8555 §6.5.1) or NULL */
	char *retry_after;		/* raw Retry-After value or NULL */
	char *alternate[CLIENT_MAX_LINKS];	/* Link rel="alternate", absolute URLs */
	size_t nalternate;
};

struct http_request {
	const char *method;		/* "GET", "HEAD" or "POST" */
	const char *url;
	const char *content_type;	/* for POST, or NULL */
	const char *accept;		/* or NULL */
	const char *api_user;		/* X-Api-User, or NULL */
	const char *api_key;		/* X-Api-Key (secret, never logged), or NULL */
	const char *body;		/* POST body or NULL */
	size_t body_len;
};

/*
 * A new HTTP client. ca_file (or NULL for the system store) verifies every
 * https server. Returns NULL with err set.
 */
struct http *http_new(const char *ca_file, struct client_err *err);
void http_free(struct http *h);
/*
 * Send one request and read the response into *resp (zeroed first; the caller
 * frees it with http_response_free even on failure). Any HTTP status is a
 * success here; -1 means no response (with err saying why and what to do).
 */
int http_send(struct http *h, const struct http_request *req, struct http_response *resp,
    struct client_err *err);
void http_response_free(struct http_response *resp);
/* Parse one Link header value into resp->alternate (exported for tests). */
void http_parse_link(const char *base_url, const char *value, struct http_response *resp);

/* ------------------------------------------------------------------ */
/* crypto.c -- keys, JWS signatures, CSR and certificates on OpenSSL; its types stop here */

enum crypto_key_type {
	CRYPTO_KEY_EC256 = 0,		/* P-256, ES256 (default) */
	CRYPTO_KEY_EC384,		/* P-384, ES384 */
	CRYPTO_KEY_RSA2048,		/* RS256 */
	CRYPTO_KEY_RSA3072,
	CRYPTO_KEY_RSA4096,
};

struct crypto_key;		/* a private (or, from a JWK, public) key */

/* A JWK's members as base64url strings (RFC 7518 §6.2.1, §6.3.1); unused ones NULL. */
struct jwk {
	char *kty;			/* "EC" or "RSA" */
	char *crv;			/* "P-256", "P-384" */
	char *x, *y;
	char *n, *e;
};

/* A parsed certificate: the parts dns01 decides on. */
struct crypto_cert {
	time_t not_before, not_after;
	char *serial_hex;		/* upper-case hex */
	char *ari_id;			/* RFC 9773 §4.1 certID, or NULL without an AKI */
	char *issuer_cn;		/* or NULL */
	char **names;			/* dNSName SANs */
	size_t nnames;
};

/* A CSR's contents, for tests and self-checks. */
struct crypto_csr_info {
	char **names;			/* dNSName SANs */
	size_t nnames;
	char *cn;			/* or NULL */
	int key_bits;
	bool is_ec;
	bool signature_ok;
};

/* A PEM chain split into its parts (RFC 8555 §9.1 application/pem-certificate-chain). */
struct crypto_chain {
	char *leaf_pem;			/* the first certificate */
	char *chain_pem;		/* the others, in order */
	char *full_pem;			/* all of them */
	size_t ncerts;
};

/* "ec256" ... "rsa4096" -> type; 0 or -1. */
int crypto_key_type_parse(const char *s, enum crypto_key_type *t);
const char *crypto_key_type_name(enum crypto_key_type t);
struct crypto_key *crypto_key_generate(enum crypto_key_type t, struct client_err *err);
/* Load a PEM private key (EC P-256/P-384 or RSA >= 2048 bits). NULL on failure. */
struct crypto_key *crypto_key_load(const char *pem, size_t len, struct client_err *err);
/* PEM (PKCS#8) of the private key into a new buffer; free with client_free_secret. */
int crypto_key_pem(const struct crypto_key *k, char **pem, size_t *len, struct client_err *err);
/* A public key from JWK members (for tests and verification). NULL on failure. */
struct crypto_key *crypto_key_from_jwk(const struct jwk *j, struct client_err *err);
void crypto_key_free(struct crypto_key *k);
/* The JWS alg for this key (RFC 7518 §3.1): "ES256", "ES384" or "RS256". */
const char *crypto_key_alg(const struct crypto_key *k);
/* The key type, for rollover (a new key of the same kind). */
enum crypto_key_type crypto_key_kind(const struct crypto_key *k);
/* Fill j with the public JWK members; free with jwk_free. 0 or -1. */
int crypto_key_jwk(const struct crypto_key *k, struct jwk *j, struct client_err *err);
void jwk_free(struct jwk *j);
/*
 * Sign data for a JWS (RFC 7515 §5.1) with the key's alg. ECDSA signatures
 * are converted from DER to the raw fixed-size R||S of RFC 7518 §3.4.
 * *sig is new. 0 or -1.
 */
int crypto_sign(const struct crypto_key *k, const void *data, size_t len,
    unsigned char **sig, size_t *siglen, struct client_err *err);
/* Verify a JWS signature (raw R||S for ECDSA). 0 if valid, -1 otherwise. */
int crypto_verify(const struct crypto_key *k, const void *data, size_t len,
    const unsigned char *sig, size_t siglen);
/* HMAC-SHA256 (RFC 7518 §3.2, HS256) into out[32]. 0 or -1. */
int crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char out[32]);
/* SHA-256 into out[32]. 0 or -1. */
int crypto_sha256(const void *data, size_t len, unsigned char out[32]);
/* base64url without padding (RFC 7515 §2). New string, or NULL. */
char *b64url_encode(const void *data, size_t len);
/* Decode base64url (padding optional). *out is new (NUL-terminated). 0 or -1. */
int b64url_decode(const char *s, unsigned char **out, size_t *len);
/*
 * A DER CSR (RFC 2986) signed by key, with every name as a dNSName SAN
 * (RFC 8555 §7.4) and the first name of at most 64 octets as CN. 0 or -1.
 */
int crypto_csr(const struct crypto_key *key, const char *const *names, size_t n,
    unsigned char **der, size_t *len, struct client_err *err);
/* Parse a DER CSR and check its self-signature. 0 or -1. Free with crypto_csr_info_free. */
int crypto_csr_parse(const unsigned char *der, size_t len, struct crypto_csr_info *info);
void crypto_csr_info_free(struct crypto_csr_info *info);
/* Parse the first certificate of a PEM buffer. 0 or -1. Free with crypto_cert_free. */
int crypto_cert_parse(const char *pem, size_t len, struct crypto_cert *c, struct client_err *err);
void crypto_cert_free(struct crypto_cert *c);
/* The DER of the first certificate of a PEM buffer (for revokeCert). 0 or -1. */
int crypto_cert_der(const char *pem, size_t len, unsigned char **der, size_t *derlen,
    struct client_err *err);
/* Split a PEM chain (1..CLIENT_MAX_CHAIN certificates, nothing else). 0 or -1. */
int crypto_chain_split(const char *pem, size_t len, struct crypto_chain *ch,
    struct client_err *err);
void crypto_chain_free(struct crypto_chain *ch);
/*
 * How well a chain matches --preferred-chain: 2 if the topmost certificate's
 * issuer CN is cn, 1 if any certificate's issuer CN is cn, 0 otherwise.
 */
int crypto_chain_issuer_match(const char *pem, size_t len, const char *cn);
/* True if the first certificate of pem carries the public half of key. */
bool crypto_cert_matches_key(const char *pem, size_t len, const struct crypto_key *key);

/* ------------------------------------------------------------------ */
/* json.c -- every JSON document on jansson; json_t stops here */

/* The directory (RFC 8555 §7.1.1), plus renewalInfo (RFC 9773 §3). */
struct acme_directory {
	char *new_nonce, *new_account, *new_order, *new_authz;
	char *revoke_cert, *key_change, *renewal_info;
	char *terms_of_service;		/* meta.termsOfService or NULL */
	bool eab_required;		/* meta.externalAccountRequired */
};

/* A problem document (RFC 8555 §6.7, RFC 7807). */
struct acme_problem {
	char *type;			/* full URN */
	char *detail;
	long status;
	char *sub[CLIENT_MAX_SUBPROBLEMS];	/* "identifier: type: detail" */
	size_t nsub;
};

struct acme_order {
	char *status;
	char **authz;
	size_t nauthz;
	char *finalize;
	char *certificate;
	struct acme_problem error;	/* error.type NULL if none */
};

struct acme_authz {
	char *status;
	char *identifier;		/* the name, without "*." */
	bool wildcard;
	char *chall_url;		/* the dns-01 challenge, or NULL */
	char *chall_token;
	char *chall_status;
	struct acme_problem error;	/* the challenge's error, if any */
};

struct acme_account_info {
	char *status;
	char *contact;			/* contacts joined by ", ", or NULL */
};

/* An account at an acme-dns API, as lego and goacmedns store it. */
struct acmedns_account {
	char *username, *password, *fulldomain, *subdomain, *server_url;
};

/* What --json prints. NULL members are left out. */
struct client_result {
	const char *command;
	const char *status;		/* "issued", "renewed", "not-due", "revoked", ... */
	const char *account;
	const char *account_status;
	const char *contact;
	const char *const *domains;
	size_t ndomains;
	const char *cert_dir;
	const char *serial;
	const char *not_after;
	const char *renewal_reason;
	const char *const *records;	/* register: the CNAME lines */
	size_t nrecords;
	const char *error;
	long badnonce_retries;
	double seconds;
};

int json_directory_parse(const char *body, size_t len, struct acme_directory *d,
    struct client_err *err);
void acme_directory_free(struct acme_directory *d);
/* Parse a problem document; 0, or -1 if body is not one. */
int json_problem_parse(const char *body, size_t len, struct acme_problem *p);
void acme_problem_free(struct acme_problem *p);
int json_order_parse(const char *body, size_t len, struct acme_order *o, struct client_err *err);
void acme_order_free(struct acme_order *o);
int json_authz_parse(const char *body, size_t len, struct acme_authz *a, struct client_err *err);
void acme_authz_free(struct acme_authz *a);
int json_account_parse(const char *body, size_t len, struct acme_account_info *a);
void acme_account_info_free(struct acme_account_info *a);
/* renewalInfo (RFC 9773 §4.2) suggestedWindow. 0 or -1. */
int json_renewal_info_parse(const char *body, size_t len, time_t *start, time_t *end);
/* The RFC 7638 §3.2 canonical JWK: required members only, sorted, no whitespace. */
char *json_jwk_canonical(const struct jwk *j);
/* A JWS protected header (RFC 8555 §6.2); nonce, kid and jwk_json may be NULL. */
char *json_protected(const char *alg, const char *nonce, const char *url, const char *kid,
    const char *jwk_json);
/* The flattened JWS JSON serialization (RFC 7515 §7.2.2). */
char *json_jws(const char *protected_b64, const char *payload_b64, const char *sig_b64);
/* newAccount payload (RFC 8555 §7.3); eab_jws is a JWS in JSON or NULL. */
char *json_new_account(const char *email, bool agree_tos, bool only_existing,
    const char *eab_jws);
/* newOrder payload (RFC 8555 §7.4), with "replaces" (RFC 9773 §5) if not NULL. */
char *json_new_order(const char *const *names, size_t n, const char *replaces);
/* newAuthz payload (RFC 8555 §7.4.1). */
char *json_new_authz(const char *name);
char *json_finalize(const char *csr_b64);
/* revokeCert payload (RFC 8555 §7.6); reason < 0 leaves it out. */
char *json_revoke(const char *cert_b64, int reason);
/* keyChange inner payload (RFC 8555 §7.3.5). */
char *json_key_change(const char *account_url, const char *old_jwk_json);
/* {"status":"deactivated"} (RFC 8555 §7.3.6). */
char *json_deactivate(void);
/* acme-dns bodies. */
char *json_acmedns_register(const char *const *allow_from, size_t n);
char *json_acmedns_update(const char *subdomain, const char *txt);
/* Parse the /register response; every member is checked against an allowlist. */
int json_acmedns_account(const char *body, size_t len, const char *server_url,
    struct acmedns_account *a, struct client_err *err);
void acmedns_account_free(struct acmedns_account *a);
/*
 * The lego/goacmedns storage file: look up key. Returns 1 and fills *a if
 * found, 0 if not, -1 if the document is malformed.
 */
int json_storage_get(const char *text, size_t len, const char *key, struct acmedns_account *a,
    struct client_err *err);
/* Return the storage document with key set to a; other entries are kept. */
char *json_storage_put(const char *text, size_t len, const char *key,
    const struct acmedns_account *a, struct client_err *err);
/* A flat {"key": "string"} map (the account cache): get (new string or NULL). */
char *json_map_get(const char *text, size_t len, const char *key);
/* Return the map with key set to value (NULL removes it). */
char *json_map_put(const char *text, size_t len, const char *key, const char *value);
/* The --json output, one line. */
char *json_result(const struct client_result *r);

/* ------------------------------------------------------------------ */
/* dnscheck.c -- does the challenge TXT resolve? (ldns; ldns types stop here) */

/*
 * Query TXT at name through resolver ("HOST:PORT", "[V6]:PORT", "HOST", or
 * NULL for /etc/resolv.conf) with RD set. Returns 1 if every value in want is
 * in the answer section (the resolver follows the CNAME), 0 if not (yet), -1
 * on a resolver setup error. *cname gets the CNAME target seen, if any;
 * *answered tells whether the resolver answered at all.
 */
int dnscheck_txt(const char *resolver, const char *name, const char *const *want,
    size_t nwant, char **cname, int *answered, struct client_err *err);

/* ------------------------------------------------------------------ */
/* acmedns.c -- the acme-dns API (register, update) and its storage file */

/* POST <api>/register (with allowfrom CIDRs). 0 or -1. */
int acmedns_register(struct http *h, const char *api_url, const char *const *allow_from,
    size_t nallow, struct acmedns_account *a, struct client_err *err);
/* POST <server_url>/update with X-Api-User/X-Api-Key. 0 or -1. */
int acmedns_update(struct http *h, const struct acmedns_account *a, const char *txt,
    struct client_err *err);
/* Look up domain (wildcard -> base) in the storage file: 1 found, 0 not, -1 error. */
int acmedns_storage_lookup(const char *path, const char *domain, struct acmedns_account *a,
    struct client_err *err);
/* Add or replace domain's entry; written atomically at mode 0600. 0 or -1. */
int acmedns_storage_store(const char *path, const char *domain,
    const struct acmedns_account *a, struct client_err *err);

/* ------------------------------------------------------------------ */
/* acme.c -- one session with one CA: directory, nonces, JWS, polling (RFC 8555) */

struct acme {
	struct http *http;		/* borrowed */
	char *directory_url;
	struct acme_directory dir;
	struct crypto_key *key;		/* borrowed: the account key */
	char *jwk_json;			/* canonical JWK of key */
	char thumbprint[44];		/* RFC 7638, base64url */
	char *kid;			/* the account URL once known */
	char *nonce;			/* the freshest Replay-Nonce */
	struct acme_problem problem;	/* the last problem document received */
	char *retry_after;		/* with the last problem, if any */
	long badnonce_retries;		/* how often badNonce was retried */
};

/* The options of an account registration. */
struct acme_account_opts {
	const char *email;		/* or NULL */
	bool agree_tos;
	const char *eab_kid;		/* RFC 8555 §7.3.4, or NULL */
	const char *eab_hmac_key;	/* base64url, secret */
	bool only_existing;		/* §7.3.1 onlyReturnExisting */
};

/* Read the directory (RFC 8555 §7.1.1) and set up the session. 0 or -1. */
int acme_open(struct acme *a, struct http *h, const char *directory_url,
    struct crypto_key *key, struct client_err *err);
void acme_close(struct acme *a);
/* Swap the account key (after keyChange). key is borrowed. 0 or -1. */
int acme_set_key(struct acme *a, struct crypto_key *key, struct client_err *err);
/*
 * A JWS in flattened JSON over payload (NULL = POST-as-GET, RFC 8555 §6.3)
 * signed by key; header fields per RFC 8555 §6.2. New string or NULL.
 */
char *acme_jws(const struct crypto_key *key, const char *nonce, const char *url,
    const char *kid, const char *jwk_json, const char *payload, struct client_err *err);
/* The RFC 7638 thumbprint of a JWK into out[44]. 0 or -1. */
int acme_thumbprint(const struct jwk *j, char out[44]);
/*
 * keyAuthorization = token "." thumbprint (RFC 8555 §8.1) and its DNS-01 TXT
 * value base64url(SHA-256(keyAuthorization)) (§8.4) into txt[44]. 0 or -1.
 */
int acme_dns01_txt(const char *token, const char *thumbprint, char txt[44]);
/* The EAB JWS (RFC 8555 §7.3.4): HS256 over the account JWK. New string or NULL. */
char *acme_eab_jws(const char *eab_kid, const char *hmac_key_b64, const char *url,
    const char *jwk_json, struct client_err *err);
/*
 * A signed POST to url (kid, or jwk if use_jwk). Nonces are taken from every
 * response; badNonce is retried with the fresh nonce up to CLIENT_MAX_BADNONCE
 * times (§6.5). Returns 0 on a 2xx answer, -1 otherwise with a->problem set
 * (when the CA sent one) and err holding the problem's detail.
 */
int acme_post(struct acme *a, const char *url, const char *payload, bool use_jwk,
    struct http_response *resp, struct client_err *err);
/* True if the last problem was urn:ietf:params:acme:error:<name>. */
bool acme_problem_is(const struct acme *a, const char *name);
/* One line for a problem: "rateLimited: detail (sub; sub) (retry after T)". */
void acme_problem_format(const struct acme_problem *p, const char *retry_after, char *buf,
    size_t len);
/* Find or create the account (§7.3), with EAB when given; sets a->kid. 0 or -1. */
int acme_account(struct acme *a, const struct acme_account_opts *o, struct client_err *err);
/* POST-as-GET the account object. 0 or -1. */
int acme_account_get(struct acme *a, struct acme_account_info *info, struct client_err *err);
/* keyChange (§7.3.5): roll the account over to new_key. 0 or -1. */
int acme_key_change(struct acme *a, struct crypto_key *new_key, struct client_err *err);
/* Deactivate the account (§7.3.6). 0 or -1. */
int acme_deactivate(struct acme *a, struct client_err *err);
/* revokeCert with the account key (§7.6); reason per RFC 5280 §5.3.1 or -1. */
int acme_revoke(struct acme *a, const unsigned char *der, size_t len, int reason,
    struct client_err *err);
/* newOrder (§7.4). *order_url is new. 0 or -1 (a->problem tells why). */
int acme_new_order(struct acme *a, const char *const *names, size_t n, const char *replaces,
    struct acme_order *o, char **order_url, struct client_err *err);
/* newAuthz (§7.4.1) for one name; *authz_url is new. 0 or -1. */
int acme_new_authz(struct acme *a, const char *name, char **authz_url, struct client_err *err);
/* POST-as-GET an authorization. 0 or -1. */
int acme_get_authz(struct acme *a, const char *url, struct acme_authz *az,
    struct client_err *err);
/* Tell the CA to validate a challenge (§7.5.1). 0 or -1. */
int acme_respond(struct acme *a, const char *chall_url, struct client_err *err);
/* Poll an authorization until it is no longer pending (bounded, with backoff). 0 if valid. */
int acme_poll_authz(struct acme *a, const char *url, struct client_err *err);
/* Finalize (§7.4) and poll the order until valid; fills o. 0 or -1. */
int acme_finalize(struct acme *a, const char *order_url, struct acme_order *o,
    const unsigned char *csr, size_t csrlen, struct client_err *err);
/*
 * Download the certificate chain (§7.4.2). With preferred (an issuer CN),
 * the Link rel="alternate" chains are fetched too and the best match wins.
 * *pem is new. 0 or -1.
 */
int acme_download(struct acme *a, const char *cert_url, const char *preferred, char **pem,
    size_t *pemlen, struct client_err *err);
/* renewalInfo (RFC 9773 §4.2) for certID. 0 or -1. */
int acme_renewal_info(struct acme *a, const char *cert_id, time_t *start, time_t *end,
    struct client_err *err);
/* The delay before the next poll: Retry-After if given, else the backoff step. */
long acme_poll_delay(const char *retry_after, unsigned attempt);

/* ------------------------------------------------------------------ */
/* cli.c -- the command line and DNS01_<OPTION> environment variables */

enum client_cmd {
	CLIENT_CMD_NONE = 0,
	CLIENT_CMD_REGISTER,
	CLIENT_CMD_ISSUE,
	CLIENT_CMD_RENEW,
	CLIENT_CMD_REVOKE,
	CLIENT_CMD_ACCOUNT_SHOW,
	CLIENT_CMD_ACCOUNT_ROLLOVER,
	CLIENT_CMD_ACCOUNT_DEACTIVATE,
	CLIENT_CMD_HELP,
	CLIENT_CMD_VERSION,
};

struct client_opts {
	enum client_cmd cmd;
	char *api;			/* --api */
	char *storage;			/* --storage */
	char **allow_from;		/* --allow-from, repeated */
	size_t nallow;
	char **domains;			/* -d (issue/renew) or DOMAIN... (register), normalised */
	size_t ndomains;
	char *out;			/* --out */
	long days;			/* --days, -1 if not given */
	bool force;			/* --force */
	char *cert;			/* --cert */
	int reason;			/* --reason, -1 if not given */
	char *directory;		/* --directory */
	char *state_dir;		/* --state-dir */
	char *ca_file;			/* --ca-file */
	char *resolver;			/* --resolver */
	char *email;			/* --email */
	bool agree_tos;			/* --agree-tos */
	enum crypto_key_type key_type;	/* --key-type */
	char *eab_kid;			/* --eab-kid */
	char *eab_hmac_key;		/* --eab-hmac-key (secret) */
	char *deploy_hook;		/* --deploy-hook */
	char *preferred_chain;		/* --preferred-chain */
	bool json;			/* --json */
	bool insecure_http;		/* --insecure-http: allow http:// off loopback */
	int verbose;			/* -v */
};

/*
 * Parse argv, after DNS01_<OPTION> environment variables (the command line
 * wins). Values of secret options are overwritten in argv so they do not show
 * in the process title. Returns 0, or -1 with a usage error in err. Free with
 * client_opts_free.
 */
int client_opts_parse(int argc, char **argv, struct client_opts *o, struct client_err *err);
void client_opts_free(struct client_opts *o);
/* The usage text. */
void client_usage(FILE *f);

/* ------------------------------------------------------------------ */
/* cmd.c (register, revoke, account, dispatch) and issue.c (issue, renew) */

/* Run the command in o; returns an enum client_exit value, err set on 2. */
int client_run(const struct client_opts *o, struct client_result *res, struct client_err *err);
int cmd_register(const struct client_opts *o, struct client_result *res, struct client_err *err);
int cmd_issue(const struct client_opts *o, struct client_result *res, struct client_err *err);
int cmd_revoke(const struct client_opts *o, struct client_result *res, struct client_err *err);
int cmd_account(const struct client_opts *o, struct client_result *res, struct client_err *err);
/* An open session: state directory, account key, HTTP client, CA session. */
struct session {
	char *state_dir;		/* --state-dir or the default */
	char *key_path;			/* <state_dir>/account.key (0600) */
	char *cache_path;		/* <state_dir>/accounts.json: directory URL -> account URL */
	struct crypto_key *key;		/* the account key */
	struct http *http;
	struct acme acme;
	bool acme_open;
};

/* Open state and key (created when create_key and missing), read the directory. 0 or -1. */
int session_open(const struct client_opts *o, struct session *s, bool create_key,
    struct client_err *err);
void session_close(struct session *s);
/*
 * Find the account: the cached URL if the CA still knows it, else newAccount
 * (created only if may_create; with EAB when given). Fills info. 0 or -1.
 */
int session_account(struct session *s, const struct client_opts *o, bool may_create,
    struct acme_account_info *info, struct client_err *err);
/*
 * Is the certificate due (renew)? Returns 1 due, 0 not due (reason set in
 * why), from --force, --days, the ARI window (when start/end are non-zero) or
 * a third of the lifetime left (RFC 9773 §4.2 for the window).
 */
int client_renewal_due(const struct crypto_cert *c, time_t now, long days, bool force,
    time_t ari_start, time_t ari_end, const char **why);
/* The whole program: parse, run, print. Returns the exit code. */
int client_main(int argc, char **argv);

#endif
