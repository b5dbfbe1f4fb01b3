/* acme/internal.h -- the acme module's internals: JSON parsers and payload builders */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01_ACME_INTERNAL_H
#define DNS01_ACME_INTERNAL_H

/* For the acme module and the unit and fuzz tests only; everyone else uses acme/acme.h. */

#include "acme.h"

/* ------------------------------------------------------------------ */
/* json.c -- every ACME document on jansson; json_t stops here */

int json_directory_parse(const char *body, size_t len, struct acme_directory *d,
    struct acme_err *err);
/* Parse a problem document; 0, or -1 if body is not one. */
int json_problem_parse(const char *body, size_t len, struct acme_problem *p);
int json_order_parse(const char *body, size_t len, struct acme_order *o, struct acme_err *err);
int json_authz_parse(const char *body, size_t len, struct acme_authz *a, struct acme_err *err);
int json_account_parse(const char *body, size_t len, struct acme_account_info *a);
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
/* newOrder payload (RFC 8555 §7.4), with "replaces" (RFC 9773 §5) and "profile" if not NULL. */
char *json_new_order(const char *const *names, size_t n, const char *replaces,
    const char *profile);
/* newAuthz payload (RFC 8555 §7.4.1). */
char *json_new_authz(const char *name);
char *json_finalize(const char *csr_b64);
/* revokeCert payload (RFC 8555 §7.6); reason < 0 leaves it out. */
char *json_revoke(const char *cert_b64, int reason);
/* keyChange inner payload (RFC 8555 §7.3.5). */
char *json_key_change(const char *account_url, const char *old_jwk_json);
/* {"status":"deactivated"} (RFC 8555 §7.3.6). */
char *json_deactivate(void);
/* A flat {"key": "string"} map (the account cache): get (new string or NULL). */
char *json_map_get(const char *text, size_t len, const char *key);
/* Return the map with key set to value (NULL removes it). */
char *json_map_put(const char *text, size_t len, const char *key, const char *value);

#endif
