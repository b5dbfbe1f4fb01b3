/* acme/acme.h -- the ACME protocol (RFC 8555, RFC 9773 ARI) shared by dns01 and dns01d */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01_ACME_H
#define DNS01_ACME_H

/*
 * One module speaks ACME: accounts, JWS, orders, authorizations, finalize,
 * download, ARI and polling, plus the wrappers it stands on (HTTP on libcurl in
 * http.c, keys and certificates on OpenSSL in crypto.c, JSON on jansson in
 * json.c). dns01 (client/) and the daemon's certificate manager both link it;
 * neither holds any ACME logic of its own. Library types stop in the wrapper
 * files; prototypes of the wrappers' JSON internals are in acme/internal.h.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define ACME_VERSION "0.1.0"

/* ------------------------------------------------------------------ */
/* Limits. Every input (CA responses, state files, PEM files) is untrusted. */

#define ACME_ERR_MAX 1024		/* bytes of the one error line */
#define ACME_JSON_MAX_DEPTH 32		/* nesting accepted in an untrusted JSON document */
#define ACME_MAX_RESPONSE (1024 * 1024)	/* bytes of one HTTP response body */
#define ACME_MAX_HEADER 8192		/* bytes of one response header line kept */
#define ACME_MAX_LINKS 8		/* Link: rel="alternate" URLs kept (RFC 8555 §7.4.2) */
#define ACME_MAX_FILE (1024 * 1024)	/* bytes of a PEM, storage or state file */
#define ACME_MAX_NAME 253		/* RFC 1035 §2.3.4: octets of a domain name (text form) */
#define ACME_MAX_LABEL 63		/* RFC 1035 §2.3.4: octets of one label */
#define ACME_MAX_AUTHZ 100		/* authorizations in one order */
#define ACME_MAX_CHAIN 10		/* certificates in one chain */
#define ACME_MAX_SUBPROBLEMS 8	/* RFC 8555 §6.7.1 subproblems shown */
#define ACME_MAX_BADNONCE 5		/* RFC 8555 §6.5: badNonce retries per request */
#define ACME_POLL_MAX 400		/* status polls of one order or authorization */
#define ACME_POLL_TIMEOUT 300		/* seconds a poll loop may take in all */
#define ACME_POLL_MAX_DELAY 30	/* seconds a Retry-After may make us wait at most */
#define ACME_POLL_FIRST_MS 50		/* backoff without Retry-After: 50 ms, doubling ... */
#define ACME_POLL_BACKOFF_MAX_MS 1000	/* ... to at most 1 s between two polls */
#define ACME_HTTP_TIMEOUT 30		/* seconds one HTTP request may take */
#define ACME_HTTP_CONNECT_TIMEOUT 10	/* seconds to connect */
#define ACME_USER_AGENT "dns01/" ACME_VERSION	/* dns01 and dns01d send the same */
#define ACME_MAX_PROFILES 16		/* meta.profiles names kept (draft-aaron-acme-profiles) */
#define ACME_MAX_PROFILE_NAME 64	/* octets of one profile name */
#define ACME_MAX_ISSUERS 10		/* draft-ietf-acme-dns-persist §3.1: issuerDomainNames */
#define ACME_ACCOUNT_LABEL_LEN 16	/* draft-ietf-acme-dns-account-label §3.2: base32 of 10 bytes */

/*
 * The one error line. The first message set is kept (it is the most specific),
 * unless an outer caller replaces it on purpose with acme_err_replace().
 * Control characters are replaced, so an untrusted CA "detail" stays one line.
 */
struct acme_err {
	char msg[ACME_ERR_MAX];
	bool set;
};
/* ------------------------------------------------------------------ */
/* util.c -- errors, time parsing, names, files */

void acme_errf(struct acme_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void acme_err_replace(struct acme_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void acme_err_clear(struct acme_err *e);

/*
 * Parse an HTTP Retry-After value (RFC 9110 §10.2.3): delay-seconds or an
 * HTTP-date in any of the three forms of §5.6.7. *seconds is the wait from now
 * (0 if the date is past). Returns 0, or -1 if the value is neither form.
 */
int acme_retry_after(const char *value, time_t now, long *seconds);
/* Parse an RFC 3339 date-time ("2026-11-24T13:00:00Z", fractions, offsets). 0 or -1. */
int acme_rfc3339(const char *s, time_t *out);
/* Format t as RFC 3339 UTC into buf (at least 21 bytes); returns buf. */
const char *acme_time_str(time_t t, char *buf, size_t len);

/*
 * Check and normalise a DNS name for an order: lower-cased, trailing dot
 * removed, LDH labels (RFC 1123 §2.1), at least two labels, an optional "*."
 * first label (RFC 8555 §7.1.3). Returns a new string, or NULL if invalid.
 */
char *acme_domain_normalize(const char *s);
/*
 * True if s is an IPv4 or IPv6 address, or a name whose last label is all
 * digits (RFC 3696 §2: no top-level domain is all-numeric). Such names are
 * not DNS identifiers (RFC 8555 §9.7.7; IP identifiers are RFC 8738).
 */
bool acme_name_numeric(const char *s);
/* The name without a leading "*." (RFC 8555 §8.4: wildcard and base share a TXT name). */
const char *acme_base_domain(const char *domain);
/* True if url is http:// to a host other than 127.0.0.0/8, ::1 or localhost. */
bool acme_url_plain_remote(const char *url);

/*
 * Read a whole file of at most max bytes into a new NUL-terminated buffer.
 * Returns 0, 1 if the file does not exist (nothing set in err), or -1.
 */
int acme_file_read(const char *path, size_t max, char **buf, size_t *len,
    struct acme_err *err);
/*
 * Write a file atomically: temp file in the same directory, fchmod(mode),
 * write, fsync, rename over path, fsync the directory. Returns 0 or -1.
 */
int acme_file_write(const char *path, const void *data, size_t len, unsigned mode,
    struct acme_err *err);
/* Create a directory and its parents (mode for new ones). Returns 0 or -1. */
int acme_mkdirs(const char *path, unsigned mode, struct acme_err *err);
/* Free a buffer that held a secret, wiping it first. Accepts NULL. */
void acme_free_secret(char *p);
/* ------------------------------------------------------------------ */
/* http.c -- HTTP(S) on libcurl; CURLcode stops here */

struct http;			/* one libcurl handle, reused for keep-alive */

struct http_response {
	long status;			/* HTTP status code */
	char *body;			/* NUL-terminated, at most ACME_MAX_RESPONSE bytes */
	size_t len;
	char *content_type;		/* without parameters, lower-cased */
	char *location;			/* absolute URL or NULL */
	char *nonce;			/* Replay-Nonce (RFC 8555 §6.5.1) or NULL */
	char *retry_after;		/* raw Retry-After value or NULL */
	char *alternate[ACME_MAX_LINKS];	/* Link rel="alternate", absolute URLs */
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
struct http *http_new(const char *ca_file, struct acme_err *err);
void http_free(struct http *h);
/*
 * Send one request and read the response into *resp (zeroed first; the caller
 * frees it with http_response_free even on failure). Any HTTP status is a
 * success here; -1 means no response (with err saying why and what to do).
 */
int http_send(struct http *h, const struct http_request *req, struct http_response *resp,
    struct acme_err *err);
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
struct crypto_key *crypto_key_generate(enum crypto_key_type t, struct acme_err *err);
/* Load a PEM private key (EC P-256/P-384 or RSA >= 2048 bits). NULL on failure. */
struct crypto_key *crypto_key_load(const char *pem, size_t len, struct acme_err *err);
/* PEM (PKCS#8) of the private key into a new buffer; free with acme_free_secret. */
int crypto_key_pem(const struct crypto_key *k, char **pem, size_t *len, struct acme_err *err);
/* A public key from JWK members (for tests and verification). NULL on failure. */
struct crypto_key *crypto_key_from_jwk(const struct jwk *j, struct acme_err *err);
void crypto_key_free(struct crypto_key *k);
/* The JWS alg for this key (RFC 7518 §3.1): "ES256", "ES384" or "RS256". */
const char *crypto_key_alg(const struct crypto_key *k);
/* The key type, for rollover (a new key of the same kind). */
enum crypto_key_type crypto_key_kind(const struct crypto_key *k);
/* Fill j with the public JWK members; free with jwk_free. 0 or -1. */
int crypto_key_jwk(const struct crypto_key *k, struct jwk *j, struct acme_err *err);
void jwk_free(struct jwk *j);
/*
 * Sign data for a JWS (RFC 7515 §5.1) with the key's alg. ECDSA signatures
 * are converted from DER to the raw fixed-size R||S of RFC 7518 §3.4.
 * *sig is new. 0 or -1.
 */
int crypto_sign(const struct crypto_key *k, const void *data, size_t len,
    unsigned char **sig, size_t *siglen, struct acme_err *err);
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
    unsigned char **der, size_t *len, struct acme_err *err);
/* Parse a DER CSR and check its self-signature. 0 or -1. Free with crypto_csr_info_free. */
int crypto_csr_parse(const unsigned char *der, size_t len, struct crypto_csr_info *info);
void crypto_csr_info_free(struct crypto_csr_info *info);
/*
 * A user's CSR file (PEM "CERTIFICATE REQUEST" or DER) into DER (*der new).
 * Parse it with crypto_csr_parse to check its signature and names. 0 or -1.
 */
int crypto_csr_load(const char *buf, size_t len, unsigned char **der, size_t *derlen,
    struct acme_err *err);
/* The public key of a DER CSR (for crypto_cert_matches_key). NULL on failure. */
struct crypto_key *crypto_csr_key(const unsigned char *der, size_t len, struct acme_err *err);
/* Parse the first certificate of a PEM buffer. 0 or -1. Free with crypto_cert_free. */
int crypto_cert_parse(const char *pem, size_t len, struct crypto_cert *c, struct acme_err *err);
void crypto_cert_free(struct crypto_cert *c);
/* The DER of the first certificate of a PEM buffer (for revokeCert). 0 or -1. */
int crypto_cert_der(const char *pem, size_t len, unsigned char **der, size_t *derlen,
    struct acme_err *err);
/* Split a PEM chain (1..ACME_MAX_CHAIN certificates, nothing else). 0 or -1. */
int crypto_chain_split(const char *pem, size_t len, struct crypto_chain *ch,
    struct acme_err *err);
void crypto_chain_free(struct crypto_chain *ch);
/*
 * How well a chain matches --preferred-chain: 2 if the topmost certificate's
 * issuer CN is cn, 1 if any certificate's issuer CN is cn, 0 otherwise.
 */
int crypto_chain_issuer_match(const char *pem, size_t len, const char *cn);
/* True if the first certificate of pem carries the public half of key. */
bool crypto_cert_matches_key(const char *pem, size_t len, const struct crypto_key *key);
/* ------------------------------------------------------------------ */
/* json.c -- the ACME documents (parsers and payloads in acme/internal.h) */


/* The directory (RFC 8555 §7.1.1), plus renewalInfo (RFC 9773 §3). */
struct acme_directory {
	char *new_nonce, *new_account, *new_order, *new_authz;
	char *revoke_cert, *key_change, *renewal_info;
	char *terms_of_service;		/* meta.termsOfService or NULL */
	bool eab_required;		/* meta.externalAccountRequired */
	char *caa_identity;		/* meta.caaIdentities[0], lower case, or NULL */
	char *profiles[ACME_MAX_PROFILES];	/* meta.profiles names (draft-aaron-acme-profiles) */
	size_t nprofiles;
	char *account_hash_prefix;	/* meta.accountHashPrefix (dns-persist -02) or NULL */
};

/* A problem document (RFC 8555 §6.7, RFC 7807). */
struct acme_problem {
	char *type;			/* full URN */
	char *detail;
	long status;
	char *sub[ACME_MAX_SUBPROBLEMS];	/* "identifier: type: detail" */
	size_t nsub;
};

struct acme_order {
	char *status;
	char **authz;
	size_t nauthz;
	char *finalize;
	char *certificate;
	char *profile;			/* the profile the CA echoes, or NULL */
	struct acme_problem error;	/* error.type NULL if none */
};

/* The DNS challenge types dns01 answers; the order is the index into acme_authz.chall. */
enum acme_chall_type {
	ACME_CHALL_DNS01 = 0,		/* RFC 8555 §8.4 */
	ACME_CHALL_DNS_ACCOUNT01,	/* draft-ietf-acme-dns-account-label */
	ACME_CHALL_DNS_PERSIST01,	/* draft-ietf-acme-dns-persist */
	ACME_CHALL_NTYPES,
};

/* One challenge of an authorization; url NULL means the CA does not offer the type. */
struct acme_chall {
	char *url;
	char *token;			/* dns-01, dns-account-01; checked with acme_token_valid */
	char *status;
	char *issuers[ACME_MAX_ISSUERS];	/* dns-persist-01 issuerDomainNames, lower-case */
	size_t nissuers;
};

struct acme_authz {
	char *status;
	char *identifier;		/* the name, without "*." */
	bool wildcard;
	struct acme_chall chall[ACME_CHALL_NTYPES];	/* by enum acme_chall_type */
	struct acme_problem error;	/* the first challenge error, if any */
};

struct acme_account_info {
	char *status;
	char *contact;			/* contacts joined by ", ", or NULL */
};


/* Free what the parsers filled; each accepts a zeroed struct. */
void acme_directory_free(struct acme_directory *d);
void acme_problem_free(struct acme_problem *p);
void acme_order_free(struct acme_order *o);
void acme_authz_free(struct acme_authz *a);
void acme_account_info_free(struct acme_account_info *a);
/* True if a JSON text nests at most ACME_JSON_MAX_DEPTH deep (checked before parsing). */
bool acme_json_depth_ok(const char *body, size_t len);

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
    struct crypto_key *key, struct acme_err *err);
void acme_close(struct acme *a);
/* Swap the account key (after keyChange). key is borrowed. 0 or -1. */
int acme_set_key(struct acme *a, struct crypto_key *key, struct acme_err *err);
/*
 * A JWS in flattened JSON over payload (NULL = POST-as-GET, RFC 8555 §6.3)
 * signed by key; header fields per RFC 8555 §6.2. New string or NULL.
 */
char *acme_jws(const struct crypto_key *key, const char *nonce, const char *url,
    const char *kid, const char *jwk_json, const char *payload, struct acme_err *err);
/* The RFC 7638 thumbprint of a JWK into out[44]. 0 or -1. */
int acme_thumbprint(const struct jwk *j, char out[44]);
/*
 * keyAuthorization = token "." thumbprint (RFC 8555 §8.1) and its DNS-01 TXT
 * value base64url(SHA-256(keyAuthorization)) (§8.4) into txt[44]. 0 or -1.
 */
int acme_dns01_txt(const char *token, const char *thumbprint, char txt[44]);
/* The EAB JWS (RFC 8555 §7.3.4): HS256 over the account JWK. New string or NULL. */
char *acme_eab_jws(const char *eab_kid, const char *hmac_key_b64, const char *url,
    const char *jwk_json, struct acme_err *err);
/*
 * A signed POST to url (kid, or jwk if use_jwk). Nonces are taken from every
 * response; badNonce is retried with the fresh nonce up to ACME_MAX_BADNONCE
 * times (§6.5). Returns 0 on a 2xx answer, -1 otherwise with a->problem set
 * (when the CA sent one) and err holding the problem's detail.
 */
int acme_post(struct acme *a, const char *url, const char *payload, bool use_jwk,
    struct http_response *resp, struct acme_err *err);
/* True if the last problem was urn:ietf:params:acme:error:<name>. */
bool acme_problem_is(const struct acme *a, const char *name);
/* One line for a problem: "rateLimited: detail (sub; sub) (retry after T)". */
void acme_problem_format(const struct acme_problem *p, const char *retry_after, char *buf,
    size_t len);
/* Find or create the account (§7.3), with EAB when given; sets a->kid. 0 or -1. */
int acme_account(struct acme *a, const struct acme_account_opts *o, struct acme_err *err);
/* POST-as-GET the account object. 0 or -1. */
int acme_account_get(struct acme *a, struct acme_account_info *info, struct acme_err *err);
/* keyChange (§7.3.5): roll the account over to new_key. 0 or -1. */
int acme_key_change(struct acme *a, struct crypto_key *new_key, struct acme_err *err);
/* Deactivate the account (§7.3.6). 0 or -1. */
int acme_deactivate(struct acme *a, struct acme_err *err);
/*
 * revokeCert (§7.6); reason per RFC 5280 §5.3.1 or -1. With cert_key NULL the
 * request is signed by the account (kid); otherwise by the certificate's own
 * key, with its jwk in the header (§7.6: no account needed). 0 or -1.
 */
int acme_revoke(struct acme *a, const unsigned char *der, size_t len, int reason,
    struct acme_err *err);
int acme_revoke_with_key(struct acme *a, const struct crypto_key *cert_key,
    const unsigned char *der, size_t len, int reason, struct acme_err *err);
/*
 * newOrder (§7.4), with "replaces" (RFC 9773 §5) and "profile"
 * (draft-aaron-acme-profiles) when not NULL. *order_url is new. 0 or -1
 * (a->problem tells why; an unknown profile is invalidProfile).
 */
int acme_new_order(struct acme *a, const char *const *names, size_t n, const char *replaces,
    const char *profile, struct acme_order *o, char **order_url, struct acme_err *err);
/* True if the directory's meta.profiles names profile. */
bool acme_profile_offered(const struct acme *a, const char *profile);
/* newAuthz (§7.4.1) for one name; *authz_url is new. 0 or -1. */
int acme_new_authz(struct acme *a, const char *name, char **authz_url, struct acme_err *err);
/* POST-as-GET an authorization. 0 or -1. */
int acme_get_authz(struct acme *a, const char *url, struct acme_authz *az,
    struct acme_err *err);
/* Tell the CA to validate a challenge (§7.5.1). 0 or -1. */
int acme_respond(struct acme *a, const char *chall_url, struct acme_err *err);
/* Poll an authorization until it is no longer pending (bounded, with backoff). 0 if valid. */
int acme_poll_authz(struct acme *a, const char *url, struct acme_err *err);
/* Finalize (§7.4) and poll the order until valid; fills o. 0 or -1. */
int acme_finalize(struct acme *a, const char *order_url, struct acme_order *o,
    const unsigned char *csr, size_t csrlen, struct acme_err *err);
/*
 * Download the certificate chain (§7.4.2). With preferred (an issuer CN),
 * the Link rel="alternate" chains are fetched too and the best match wins.
 * *pem is new. 0 or -1.
 */
int acme_download(struct acme *a, const char *cert_url, const char *preferred, char **pem,
    size_t *pemlen, struct acme_err *err);
/* renewalInfo (RFC 9773 §4.2) for certID. 0 or -1. */
int acme_renewal_info(struct acme *a, const char *cert_id, time_t *start, time_t *end,
    struct acme_err *err);
/*
 * Milliseconds before poll number attempt (0 = the first): Retry-After when
 * the CA sent one (RFC 8555 §7.5.1, clamped to ACME_POLL_MAX_DELAY s), else 0
 * for the first poll, then ACME_POLL_FIRST_MS doubling to ACME_POLL_BACKOFF_MAX_MS.
 */
long acme_poll_delay_ms(const char *retry_after, unsigned attempt);
/* Sleep ms milliseconds (restarted on EINTR). */
void acme_sleep_ms(long ms);
/* ------------------------------------------------------------------ */
/* session.c -- an account key and account URL kept in a state directory */

/* Where a session keeps its state and which CA it talks to. */
struct acme_session_params {
	const char *state_dir;		/* account.key (0600), accounts.json; created 0700 */
	const char *directory_url;	/* the CA's directory (RFC 8555 §7.1.1) */
	const char *ca_file;		/* PEM bundle for the CA's HTTPS, or NULL: system store */
	bool create_key;		/* create account.key if missing */
};

/* An open session: state directory, account key, HTTP client, CA session. */
struct acme_session {
	char *state_dir;
	char *key_path;			/* <state_dir>/account.key (0600) */
	char *cache_path;		/* <state_dir>/accounts.json: directory URL -> account URL */
	struct crypto_key *key;		/* the account key */
	struct http *http;
	struct acme acme;
	bool acme_open;
};

/*
 * Open the state directory and the account key (created when p->create_key
 * and missing, at mode 0600 whatever the umask), then read the directory.
 * 0 or -1. Close with acme_session_close even on failure.
 */
int acme_session_open(struct acme_session *s, const struct acme_session_params *p,
    struct acme_err *err);
void acme_session_close(struct acme_session *s);
/*
 * Find the account: the cached URL if the CA still knows it, else newAccount
 * (created unless o->only_existing; with EAB when given). Fills info. 0 or -1.
 */
int acme_session_account(struct acme_session *s, const struct acme_account_opts *o,
    struct acme_account_info *info, struct acme_err *err);
/* Forget this CA's account URL in the cache (after deactivation). 0 or -1. */
int acme_session_forget(struct acme_session *s, struct acme_err *err);

/* ------------------------------------------------------------------ */
/* challenge.c -- the DNS challenge types: names, record names, dns-persist-01 records */

/* "dns-01" ... for a type; acme_chall_type_parse is the reverse (0 or -1). */
const char *acme_chall_type_name(enum acme_chall_type t);
int acme_chall_type_parse(const char *s, enum acme_chall_type *t);
/*
 * The dns-account-01 label (draft-ietf-acme-dns-account-label §3.2):
 * lower(base32(SHA-256(account URL)[0:10])), 16 characters, into
 * out[ACME_ACCOUNT_LABEL_LEN + 1]. 0 or -1.
 */
int acme_account_label(const char *account_url, char out[ACME_ACCOUNT_LABEL_LEN + 1]);
/*
 * The name of the TXT record a challenge of type t for base (no "*.") is
 * validated at, with a trailing dot: _acme-challenge.<base>.,
 * _<label>._acme-challenge.<base>. or _validation-persist.<base>.
 * account_url is needed for dns-account-01. 0 or -1 (too long).
 */
int acme_chall_record(enum acme_chall_type t, const char *base, const char *account_url,
    char *buf, size_t len);

/* What a dns-persist-01 record must say for one authorization (all borrowed). */
struct acme_persist_want {
	const char *const *issuers;	/* the challenge's issuerDomainNames */
	size_t nissuers;
	const char *account_url;
	const char *hash_prefix;	/* meta.accountHashPrefix, or NULL: -01 records only */
	const char *thumbprint;		/* the account key's RFC 7638 thumbprint */
	const char *domain;		/* the FQDN validated, no "*." */
	bool wildcard;			/* needs policy=wildcard */
	time_t now;			/* persistUntil must not be past */
};

/*
 * Does one TXT value (its character-strings joined) satisfy w?
 * (draft-ietf-acme-dns-persist §4.1: an RFC 8659 §4.2 issue-value naming one of
 * the issuers, accounturi the account URL (-01) or its hashed form (-02),
 * policy=wildcard for a wildcard, persistUntil not past; unknown tags ignored.)
 * On false, *why (if not NULL) says what is wrong, a static string.
 */
bool acme_persist_match(const char *value, const struct acme_persist_want *w, const char **why);

/* ------------------------------------------------------------------ */
/* renew.c -- when is a certificate due? */

/*
 * Is the certificate due? Returns 1 due, 0 not due (reason set in why), from
 * force, days (>= 0: fewer than that many days left), the ARI window (when
 * start/end are non-zero; RFC 9773 §4.2) or less than a third of the lifetime
 * left.
 */
int acme_renewal_due(const struct crypto_cert *c, time_t now, long days, bool force,
    time_t ari_start, time_t ari_end, const char **why);
/* A challenge token is base64url (RFC 8555 §8.4) of sane length: check before use. */
bool acme_token_valid(const char *t);

#endif
