/* acme/acme.c -- one session with one CA: directory, nonces, JWS, accounts, polling */
/* SPDX-License-Identifier: ISC */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/common.h"
#include "internal.h"

#define ACME_ERR_PREFIX "urn:ietf:params:acme:error:"
#define ACME_JOSE "application/jose+json"
#define ACME_PEM_CHAIN "application/pem-certificate-chain"

/* Seconds since an arbitrary start, for the poll budget. */
static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* RFC 7638 §3: base64url(SHA-256(canonical JWK)). */
int
acme_thumbprint(const struct jwk *j, char out[44])
{
	unsigned char d[32];
	char *c, *b;
	int rc = -1;

	c = json_jwk_canonical(j);
	if (c == NULL || crypto_sha256(c, strlen(c), d) == -1)
		goto out;
	b = b64url_encode(d, sizeof(d));
	if (b == NULL || strlen(b) != 43) {
		free(b);
		goto out;
	}
	memcpy(out, b, 44);
	free(b);
	rc = 0;
out:
	free(c);
	return rc;
}

/* RFC 8555 §8.1 keyAuthorization and §8.4 TXT = base64url(SHA-256(keyAuthorization)). */
int
acme_dns01_txt(const char *token, const char *thumbprint, char txt[44])
{
	unsigned char d[32];
	char *ka = NULL, *b = NULL;
	int rc = -1;

	if (asprintf(&ka, "%s.%s", token, thumbprint) == -1) {
		ka = NULL;
		goto out;
	}
	if (crypto_sha256(ka, strlen(ka), d) == -1 || (b = b64url_encode(d, sizeof(d))) == NULL ||
	    strlen(b) != 43)
		goto out;
	memcpy(txt, b, 44);
	rc = 0;
out:
	free(ka);
	free(b);
	return rc;
}

/* RFC 8555 §6.2: protected header, payload, signature; POST-as-GET has payload "". */
char *
acme_jws(const struct crypto_key *key, const char *nonce, const char *url, const char *kid,
    const char *jwk_json, const char *payload, struct acme_err *err)
{
	char *prot = NULL, *p64 = NULL, *pl64 = NULL, *input = NULL, *s64 = NULL, *out = NULL;
	unsigned char *sig = NULL;
	size_t siglen;

	prot = json_protected(crypto_key_alg(key), nonce, url, kid, jwk_json);
	if (prot == NULL)
		goto oom;
	p64 = b64url_encode(prot, strlen(prot));
	pl64 = payload != NULL ? b64url_encode(payload, strlen(payload)) : strdup("");
	if (p64 == NULL || pl64 == NULL || asprintf(&input, "%s.%s", p64, pl64) == -1) {
		input = NULL;
		goto oom;
	}
	if (crypto_sign(key, input, strlen(input), &sig, &siglen, err) == -1)
		goto out;
	s64 = b64url_encode(sig, siglen);
	if (s64 == NULL || (out = json_jws(p64, pl64, s64)) == NULL)
		goto oom;
	goto out;
oom:
	acme_errf(err, "out of memory building a JWS");
out:
	free(prot);
	free(p64);
	free(pl64);
	free(input);
	free(s64);
	free(sig);
	return out;
}

/* RFC 8555 §7.3.4: {"alg":"HS256","kid":eab_kid,"url":newAccount} over the account JWK. */
char *
acme_eab_jws(const char *eab_kid, const char *hmac_key_b64, const char *url,
    const char *jwk_json, struct acme_err *err)
{
	char *prot = NULL, *p64 = NULL, *pl64 = NULL, *input = NULL, *s64 = NULL, *out = NULL;
	unsigned char *key = NULL, mac[32];
	size_t keylen = 0;

	if (b64url_decode(hmac_key_b64, &key, &keylen) == -1 || keylen == 0) {
		acme_errf(err, "the EAB HMAC key is not base64url: check --eab-hmac-key "
		    "(DNS01_EAB_HMAC_KEY)");
		goto out;
	}
	prot = json_protected("HS256", NULL, url, eab_kid, NULL);
	if (prot == NULL || (p64 = b64url_encode(prot, strlen(prot))) == NULL ||
	    (pl64 = b64url_encode(jwk_json, strlen(jwk_json))) == NULL ||
	    asprintf(&input, "%s.%s", p64, pl64) == -1) {
		input = NULL;
		acme_errf(err, "out of memory");
		goto out;
	}
	if (crypto_hmac_sha256(key, keylen, input, strlen(input), mac) == -1 ||
	    (s64 = b64url_encode(mac, sizeof(mac))) == NULL) {
		acme_errf(err, "cannot compute the EAB HMAC");
		goto out;
	}
	out = json_jws(p64, pl64, s64);
	if (out == NULL)
		acme_errf(err, "out of memory");
out:
	if (key != NULL) {
		explicit_bzero(key, keylen);
		free(key);
	}
	explicit_bzero(mac, sizeof(mac));
	free(prot);
	free(p64);
	free(pl64);
	free(input);
	free(s64);
	return out;
}

/* One line for a problem document. */
void
acme_problem_format(const struct acme_problem *p, const char *retry_after, char *buf,
    size_t len)
{
	const char *t = p->type != NULL ? p->type : "error";
	size_t n, i;
	long secs;
	char when[32];

	if (strncmp(t, ACME_ERR_PREFIX, strlen(ACME_ERR_PREFIX)) == 0)
		t += strlen(ACME_ERR_PREFIX);
	n = (size_t)snprintf(buf, len, "%s: %s", t, p->detail != NULL ? p->detail : "(no detail)");
	for (i = 0; i < p->nsub && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i == 0 ? " (" : "; ", p->sub[i]);
	if (p->nsub > 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, ")");
	if (retry_after != NULL && n < len && acme_retry_after(retry_after, time(NULL), &secs) == 0)
		snprintf(buf + n, len - n, " (retry after %s)",
		    acme_time_str(time(NULL) + secs, when, sizeof(when)));
}

/* True if the last problem has this ACME error name. */
bool
acme_problem_is(const struct acme *a, const char *name)
{
	const char *t = a->problem.type;

	if (t == NULL || strncmp(t, ACME_ERR_PREFIX, strlen(ACME_ERR_PREFIX)) != 0)
		return false;
	return strcmp(t + strlen(ACME_ERR_PREFIX), name) == 0;
}

/* Keep the Replay-Nonce of any response (RFC 8555 §6.5.1), if it is base64url. */
static void
take_nonce(struct acme *a, struct http_response *r)
{
	const char *s = r->nonce;
	size_t i;

	if (s == NULL || strlen(s) == 0 || strlen(s) > 256)
		return;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return;
	free(a->nonce);
	a->nonce = r->nonce;
	r->nonce = NULL;
}

/* HEAD newNonce (§7.2). */
static int
new_nonce(struct acme *a, struct acme_err *err)
{
	struct http_request req;
	struct http_response resp;
	int rc = -1;

	memset(&req, 0, sizeof(req));
	req.method = "HEAD";
	req.url = a->dir.new_nonce;
	if (http_send(a->http, &req, &resp, err) == -1)
		goto out;
	take_nonce(a, &resp);
	if (a->nonce == NULL) {
		acme_errf(err, "the CA sent no Replay-Nonce from %s (HTTP %ld)", req.url,
		    resp.status);
		goto out;
	}
	rc = 0;
out:
	http_response_free(&resp);
	return rc;
}

/* Read the directory; it alone names the CA's endpoints (§7.1.1). */
int
acme_open(struct acme *a, struct http *h, const char *directory_url, struct crypto_key *key,
    struct acme_err *err)
{
	struct http_request req;
	struct http_response resp;
	int rc = -1;

	memset(a, 0, sizeof(*a));
	memset(&resp, 0, sizeof(resp));
	a->http = h;
	a->directory_url = strdup(directory_url);
	if (a->directory_url == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = directory_url;
	req.accept = "application/json";
	if (http_send(h, &req, &resp, err) == -1)
		goto out;	/* the message names the URL and what to check */
	if (resp.status != 200) {
		acme_errf(err, "the ACME directory %s answered HTTP %ld: check --directory",
		    directory_url, resp.status);
		goto out;
	}
	if (json_directory_parse(resp.body, resp.len, &a->dir, err) == -1) {
		acme_err_replace(err, "%s is not a valid ACME directory (%s): check --directory",
		    directory_url, err->msg);
		goto out;
	}
	take_nonce(a, &resp);
	if (key != NULL && acme_set_key(a, key, err) == -1)
		goto out;
	rc = 0;
out:
	http_response_free(&resp);
	if (rc != 0)
		acme_close(a);
	return rc;
}

/* Use key as the account key from now on (the thumbprint changes with it). */
int
acme_set_key(struct acme *a, struct crypto_key *key, struct acme_err *err)
{
	struct jwk j;
	char *json = NULL;

	if (crypto_key_jwk(key, &j, err) == -1)
		return -1;
	json = json_jwk_canonical(&j);
	if (json == NULL || acme_thumbprint(&j, a->thumbprint) == -1) {
		jwk_free(&j);
		free(json);
		acme_errf(err, "cannot compute the JWK thumbprint");
		return -1;
	}
	jwk_free(&j);
	free(a->jwk_json);
	a->jwk_json = json;
	a->key = key;
	return 0;
}

/* Free the session (not the borrowed http and key). */
void
acme_close(struct acme *a)
{
	if (a == NULL)
		return;
	free(a->directory_url);
	acme_directory_free(&a->dir);
	free(a->jwk_json);
	free(a->kid);
	free(a->nonce);
	free(a->retry_after);
	acme_problem_free(&a->problem);
	memset(a, 0, sizeof(*a));
}

/* The signed POST, with an Accept header for certificate downloads. */
static int
post(struct acme *a, const char *url, const char *payload, bool use_jwk, const char *accept,
    struct http_response *resp, struct acme_err *err)
{
	struct http_request req;
	char *jws = NULL, line[ACME_ERR_MAX];
	unsigned attempt;
	int rc = -1;

	memset(resp, 0, sizeof(*resp));
	for (attempt = 0;; attempt++) {
		acme_problem_free(&a->problem);
		free(a->retry_after);
		a->retry_after = NULL;
		if (a->nonce == NULL && new_nonce(a, err) == -1)
			goto out;
		if (!use_jwk && a->kid == NULL) {
			acme_errf(err, "no account URL yet");
			goto out;
		}
		free(jws);
		jws = acme_jws(a->key, a->nonce, url, use_jwk ? NULL : a->kid,
		    use_jwk ? a->jwk_json : NULL, payload, err);
		if (jws == NULL)
			goto out;
		free(a->nonce);	/* a nonce is good for one request only (§6.5) */
		a->nonce = NULL;
		memset(&req, 0, sizeof(req));
		req.method = "POST";
		req.url = url;
		req.content_type = ACME_JOSE;
		req.accept = accept;
		req.body = jws;
		req.body_len = strlen(jws);
		http_response_free(resp);
		if (http_send(a->http, &req, resp, err) == -1)
			goto out;
		take_nonce(a, resp);
		if (resp->status >= 200 && resp->status < 300) {
			rc = 0;
			goto out;
		}
		if (json_problem_parse(resp->body, resp->len, &a->problem) == -1) {
			acme_errf(err, "the CA answered HTTP %ld to %s without a problem document",
			    resp->status, url);
			goto out;
		}
		if (resp->retry_after != NULL)
			a->retry_after = strdup(resp->retry_after);
		/* §6.5: on badNonce, retry with the nonce that came with the error. */
		if (acme_problem_is(a, "badNonce") && attempt < ACME_MAX_BADNONCE) {
			a->badnonce_retries++;
			log_debug("acme: badNonce from %s, retrying with the fresh nonce", url);
			continue;
		}
		acme_problem_format(&a->problem, a->retry_after, line, sizeof(line));
		acme_errf(err, "%s", line);
		goto out;
	}
out:
	free(jws);
	return rc;
}

/* The signed POST of §6.2 (see client.h). */
int
acme_post(struct acme *a, const char *url, const char *payload, bool use_jwk,
    struct http_response *resp, struct acme_err *err)
{
	return post(a, url, payload, use_jwk, NULL, resp, err);
}

/* newAccount (§7.3), with onlyReturnExisting (§7.3.1) or EAB (§7.3.4). */
int
acme_account(struct acme *a, const struct acme_account_opts *o, struct acme_err *err)
{
	struct http_response resp;
	char *eab = NULL, *payload = NULL;
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	if (!o->only_existing && o->eab_kid != NULL && o->eab_hmac_key != NULL) {
		eab = acme_eab_jws(o->eab_kid, o->eab_hmac_key, a->dir.new_account, a->jwk_json,
		    err);
		if (eab == NULL)
			goto out;
	} else if (!o->only_existing && (o->eab_kid != NULL || o->eab_hmac_key != NULL)) {
		acme_errf(err, "External Account Binding needs both --eab-kid and --eab-hmac-key");
		goto out;
	}
	payload = json_new_account(o->email, o->agree_tos, o->only_existing, eab);
	if (payload == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	if (acme_post(a, a->dir.new_account, payload, true, &resp, err) == -1) {
		if (acme_problem_is(a, "externalAccountRequired") ||
		    (a->dir.eab_required && eab == NULL && !o->only_existing))
			acme_err_replace(err, "the CA requires External Account Binding (%s): give "
			    "--eab-kid and --eab-hmac-key (or DNS01_EAB_KID and DNS01_EAB_HMAC_KEY)",
			    err->msg);
		else if (eab != NULL && a->problem.detail != NULL &&
		    strcasestr(a->problem.detail, "external account") != NULL)
			acme_err_replace(err, "the CA refused the External Account Binding (%s): check "
			    "--eab-kid and --eab-hmac-key against the values the CA gave you", err->msg);
		else if (acme_problem_is(a, "accountDoesNotExist"))
			acme_err_replace(err, "the CA has no account for the key in --state-dir: "
			    "run dns01 issue (with --agree-tos) first");
		else if (!o->agree_tos && (acme_problem_is(a, "userActionRequired") ||
		    acme_problem_is(a, "agreementRequired") || (a->problem.detail != NULL &&
		    strcasestr(a->problem.detail, "terms of service") != NULL)))
			acme_err_replace(err, "the CA wants its terms of service accepted (%s): "
			    "read %s and add --agree-tos", err->msg,
			    a->dir.terms_of_service != NULL ? a->dir.terms_of_service : "them");
		else
			acme_err_replace(err, "the CA refused the account: %s", err->msg);
		goto out;
	}
	if (resp.location == NULL) {
		acme_errf(err, "the CA sent no account URL (Location) from newAccount");
		goto out;
	}
	free(a->kid);
	a->kid = strdup(resp.location);
	if (a->kid == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	log_debug("acme: account %s (%s)", a->kid, resp.status == 201 ? "created" : "existing");
	rc = 0;
out:
	http_response_free(&resp);
	free(eab);
	free(payload);
	return rc;
}

/* POST-as-GET the account (§7.3.3 with an empty payload). */
int
acme_account_get(struct acme *a, struct acme_account_info *info, struct acme_err *err)
{
	struct http_response resp;
	int rc = -1;

	memset(info, 0, sizeof(*info));
	if (acme_post(a, a->kid, NULL, false, &resp, err) == -1)
		goto out;
	if (json_account_parse(resp.body, resp.len, info) == -1) {
		acme_errf(err, "the CA sent an account object without a status");
		goto out;
	}
	rc = 0;
out:
	http_response_free(&resp);
	return rc;
}

/* §7.3.5: inner JWS by the new key (jwk, no nonce), outer by the old key (kid). */
int
acme_key_change(struct acme *a, struct crypto_key *new_key, struct acme_err *err)
{
	struct http_response resp;
	struct jwk j;
	char *new_jwk = NULL, *inner_payload = NULL, *inner = NULL;
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	if (a->dir.key_change == NULL) {
		acme_errf(err, "the CA's directory has no keyChange: it cannot roll keys over");
		return -1;
	}
	if (crypto_key_jwk(new_key, &j, err) == -1)
		return -1;
	new_jwk = json_jwk_canonical(&j);
	jwk_free(&j);
	inner_payload = new_jwk != NULL ? json_key_change(a->kid, a->jwk_json) : NULL;
	if (inner_payload == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	inner = acme_jws(new_key, NULL, a->dir.key_change, NULL, new_jwk, inner_payload, err);
	if (inner == NULL)
		goto out;
	if (acme_post(a, a->dir.key_change, inner, false, &resp, err) == -1) {
		acme_err_replace(err, "the CA refused the key change: %s", err->msg);
		goto out;
	}
	if (acme_set_key(a, new_key, err) == -1)
		goto out;
	rc = 0;
out:
	http_response_free(&resp);
	free(new_jwk);
	free(inner_payload);
	free(inner);
	return rc;
}

/* §7.3.6: {"status":"deactivated"} to the account URL. */
int
acme_deactivate(struct acme *a, struct acme_err *err)
{
	struct http_response resp;
	char *payload;
	int rc = -1;

	payload = json_deactivate();
	if (payload == NULL) {
		acme_errf(err, "out of memory");
		return -1;
	}
	if (acme_post(a, a->kid, payload, false, &resp, err) == -1) {
		acme_err_replace(err, "the CA refused to deactivate the account: %s", err->msg);
		goto out;
	}
	rc = 0;
out:
	http_response_free(&resp);
	free(payload);
	return rc;
}

/* §7.6 revokeCert: by the account (kid) or, with use_jwk, by the key in a->key. */
static int
revoke_cert(struct acme *a, const unsigned char *der, size_t len, int reason, bool use_jwk,
    struct acme_err *err)
{
	struct http_response resp;
	char *c64 = NULL, *payload = NULL;
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	if (a->dir.revoke_cert == NULL) {
		acme_errf(err, "the CA's directory has no revokeCert");
		return -1;
	}
	c64 = b64url_encode(der, len);
	payload = c64 != NULL ? json_revoke(c64, reason) : NULL;
	if (payload == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	if (acme_post(a, a->dir.revoke_cert, payload, use_jwk, &resp, err) == -1) {
		if (acme_problem_is(a, "alreadyRevoked"))
			acme_err_replace(err, "the certificate is already revoked");
		else if (acme_problem_is(a, "unauthorized") && use_jwk)
			acme_err_replace(err, "the CA refused: %s (--cert-key must be the private key "
			    "of the certificate in --cert)", err->msg);
		else if (acme_problem_is(a, "unauthorized"))
			acme_err_replace(err, "the CA refused: %s (revoke with the account that "
			    "issued the certificate: check --state-dir, or use --cert-key)", err->msg);
		else
			acme_err_replace(err, "the CA refused to revoke: %s", err->msg);
		goto out;
	}
	rc = 0;
out:
	http_response_free(&resp);
	free(c64);
	free(payload);
	return rc;
}

/* §7.6 revokeCert signed by the account (kid). */
int
acme_revoke(struct acme *a, const unsigned char *der, size_t len, int reason,
    struct acme_err *err)
{
	return revoke_cert(a, der, len, reason, false, err);
}

/* §7.6 revokeCert signed by the certificate's key, its jwk in the protected header. */
int
acme_revoke_with_key(struct acme *a, const struct crypto_key *cert_key,
    const unsigned char *der, size_t len, int reason, struct acme_err *err)
{
	struct crypto_key *saved_key = a->key;
	char *saved_jwk = a->jwk_json, saved_tp[sizeof(a->thumbprint)];
	int rc = -1;

	memcpy(saved_tp, a->thumbprint, sizeof(saved_tp));
	a->jwk_json = NULL;
	/* The session signs with cert_key for this one request only (borrowed, not freed). */
	if (acme_set_key(a, (struct crypto_key *)(uintptr_t)cert_key, err) == -1)
		goto out;
	rc = revoke_cert(a, der, len, reason, true, err);
out:
	free(a->jwk_json);
	a->jwk_json = saved_jwk;
	a->key = saved_key;
	memcpy(a->thumbprint, saved_tp, sizeof(saved_tp));
	return rc;
}

/* §7.4 newOrder; the order URL is the Location. */
int
acme_new_order(struct acme *a, const char *const *names, size_t n, const char *replaces,
    const char *profile, struct acme_order *o, char **order_url, struct acme_err *err)
{
	struct http_response resp;
	char *payload;
	int rc = -1;

	memset(o, 0, sizeof(*o));
	*order_url = NULL;
	payload = json_new_order(names, n, replaces, profile);
	if (payload == NULL) {
		acme_errf(err, "out of memory");
		return -1;
	}
	if (acme_post(a, a->dir.new_order, payload, false, &resp, err) == -1) {
		acme_err_replace(err, "the CA refused the order: %s", err->msg);
		goto out;
	}
	if (resp.location == NULL) {
		acme_errf(err, "the CA sent no order URL (Location) from newOrder");
		goto out;
	}
	if (json_order_parse(resp.body, resp.len, o, err) == -1)
		goto out;
	*order_url = strdup(resp.location);
	if (*order_url == NULL) {
		acme_errf(err, "out of memory");
		acme_order_free(o);
		goto out;
	}
	rc = 0;
out:
	http_response_free(&resp);
	free(payload);
	return rc;
}

/* See acme.h. */
bool
acme_profile_offered(const struct acme *a, const char *profile)
{
	size_t i;

	for (i = 0; i < a->dir.nprofiles; i++)
		if (strcmp(a->dir.profiles[i], profile) == 0)
			return true;
	return false;
}

/* §7.4.1 pre-authorization. */
int
acme_new_authz(struct acme *a, const char *name, char **authz_url, struct acme_err *err)
{
	struct http_response resp;
	char *payload;
	int rc = -1;

	*authz_url = NULL;
	if (a->dir.new_authz == NULL) {
		acme_errf(err, "the CA offers no newAuthz");
		return -1;
	}
	payload = json_new_authz(name);
	if (payload == NULL) {
		acme_errf(err, "out of memory");
		return -1;
	}
	if (acme_post(a, a->dir.new_authz, payload, false, &resp, err) == -1) {
		acme_err_replace(err, "the CA refused to pre-authorize %s: %s", name, err->msg);
		goto out;
	}
	if (resp.location == NULL || (*authz_url = strdup(resp.location)) == NULL) {
		acme_errf(err, "the CA sent no authorization URL from newAuthz");
		goto out;
	}
	rc = 0;
out:
	http_response_free(&resp);
	free(payload);
	return rc;
}

/* POST-as-GET an authorization (§7.5). */
int
acme_get_authz(struct acme *a, const char *url, struct acme_authz *az, struct acme_err *err)
{
	struct http_response resp;
	int rc = -1;

	memset(az, 0, sizeof(*az));
	if (acme_post(a, url, NULL, false, &resp, err) == -1)
		goto out;
	if (json_authz_parse(resp.body, resp.len, az, err) == -1)
		goto out;
	free(a->retry_after);
	a->retry_after = resp.retry_after != NULL ? strdup(resp.retry_after) : NULL;
	rc = 0;
out:
	http_response_free(&resp);
	return rc;
}

/* §7.5.1: an empty JSON object says "validate now". */
int
acme_respond(struct acme *a, const char *chall_url, struct acme_err *err)
{
	struct http_response resp;
	int rc;

	rc = acme_post(a, chall_url, "{}", false, &resp, err);
	if (rc == -1)
		acme_err_replace(err, "the CA refused the challenge response: %s", err->msg);
	http_response_free(&resp);
	return rc;
}

/* See acme.h: no fixed sleep; the CA's Retry-After, else a short doubling backoff. */
long
acme_poll_delay_ms(const char *retry_after, unsigned attempt)
{
	long s, d;

	/* A Retry-After of 0 (or a past date) would make a busy loop: back off instead. */
	if (retry_after != NULL && acme_retry_after(retry_after, time(NULL), &s) == 0 && s > 0) {
		if (s > ACME_POLL_MAX_DELAY)
			s = ACME_POLL_MAX_DELAY;
		return s * 1000;
	}
	if (attempt == 0)
		return 0;
	d = ACME_POLL_FIRST_MS;
	while (--attempt > 0 && d < ACME_POLL_BACKOFF_MAX_MS)
		d *= 2;
	return d > ACME_POLL_BACKOFF_MAX_MS ? ACME_POLL_BACKOFF_MAX_MS : d;
}

/* See acme.h. */
void
acme_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (ms <= 0)
		return;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Wait before poll number attempt; false when that would pass the poll budget. */
static bool
poll_wait(struct acme *a, unsigned attempt, double start, const char *what)
{
	long d = acme_poll_delay_ms(a->retry_after, attempt);

	if (now_mono() - start + (double)d / 1000.0 > ACME_POLL_TIMEOUT)
		return false;
	log_debug("acme: %s, poll %u in %ld ms%s", what, attempt + 1, d,
	    a->retry_after != NULL ? " (Retry-After)" : "");
	acme_sleep_ms(d);
	return true;
}

/* §7.5.1: poll the authorization until it leaves "pending" (bounded). */
int
acme_poll_authz(struct acme *a, const char *url, struct acme_err *err)
{
	struct acme_authz az;
	double start = now_mono();
	unsigned attempt;
	char line[ACME_ERR_MAX];

	for (attempt = 0; attempt < ACME_POLL_MAX; attempt++) {
		/* The first poll at once: the CA may have validated while we asked. */
		if (attempt > 0 && !poll_wait(a, attempt, start, "authorization pending"))
			break;
		if (acme_get_authz(a, url, &az, err) == -1)
			return -1;
		if (strcmp(az.status, "valid") == 0) {
			log_debug("acme: authorization valid after %u polls, %.2f s", attempt + 1,
			    now_mono() - start);
			acme_authz_free(&az);
			return 0;
		}
		if (strcmp(az.status, "pending") != 0) {
			if (az.error.type != NULL) {
				acme_problem_format(&az.error, NULL, line, sizeof(line));
				acme_errf(err, "the CA could not validate %s%s: %s",
				    az.wildcard ? "*." : "", az.identifier, line);
			} else {
				acme_errf(err, "the authorization for %s is %s", az.identifier,
				    az.status);
			}
			acme_authz_free(&az);
			return -1;
		}
		acme_authz_free(&az);
	}
	acme_errf(err, "the CA did not finish validating %s within %d s: try again later", url,
	    ACME_POLL_TIMEOUT);
	return -1;
}

/* POST-as-GET the order until its status is one of want (or a final one). */
static int
poll_order(struct acme *a, const char *url, struct acme_order *o, const char *want,
    struct acme_err *err)
{
	struct http_response resp;
	double start = now_mono();
	unsigned attempt;
	char line[ACME_ERR_MAX];

	for (attempt = 0; attempt < ACME_POLL_MAX; attempt++) {
		if (strcmp(o->status, want) == 0 || strcmp(o->status, "valid") == 0)
			return 0;
		if (strcmp(o->status, "invalid") == 0) {
			if (o->error.type != NULL) {
				acme_problem_format(&o->error, NULL, line, sizeof(line));
				acme_errf(err, "the order became invalid: %s", line);
			} else {
				acme_errf(err, "the order became invalid");
			}
			return -1;
		}
		snprintf(line, sizeof(line), "order %s", o->status);
		if (!poll_wait(a, attempt, start, line))
			break;
		if (acme_post(a, url, NULL, false, &resp, err) == -1) {
			http_response_free(&resp);
			return -1;
		}
		free(a->retry_after);
		a->retry_after = resp.retry_after != NULL ? strdup(resp.retry_after) : NULL;
		acme_order_free(o);
		if (json_order_parse(resp.body, resp.len, o, err) == -1) {
			http_response_free(&resp);
			return -1;
		}
		http_response_free(&resp);
	}
	acme_errf(err, "the order is still %s after %d s: try again later", o->status,
	    ACME_POLL_TIMEOUT);
	return -1;
}

/* §7.4: wait for "ready", send the CSR, wait for "valid". */
int
acme_finalize(struct acme *a, const char *order_url, struct acme_order *o,
    const unsigned char *csr, size_t csrlen, struct acme_err *err)
{
	struct http_response resp;
	char *c64 = NULL, *payload = NULL;
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	free(a->retry_after);
	a->retry_after = NULL;
	if (poll_order(a, order_url, o, "ready", err) == -1)
		goto out;
	if (strcmp(o->status, "ready") == 0) {
		if (o->finalize == NULL) {
			acme_errf(err, "the CA's order has no finalize URL");
			goto out;
		}
		c64 = b64url_encode(csr, csrlen);
		payload = c64 != NULL ? json_finalize(c64) : NULL;
		if (payload == NULL) {
			acme_errf(err, "out of memory");
			goto out;
		}
		if (acme_post(a, o->finalize, payload, false, &resp, err) == -1) {
			acme_err_replace(err, "the CA refused to finalize: %s", err->msg);
			goto out;
		}
		acme_order_free(o);
		if (json_order_parse(resp.body, resp.len, o, err) == -1)
			goto out;
		free(a->retry_after);
		a->retry_after = resp.retry_after != NULL ? strdup(resp.retry_after) : NULL;
	}
	if (poll_order(a, order_url, o, "valid", err) == -1)
		goto out;
	if (o->certificate == NULL) {
		acme_errf(err, "the CA's valid order has no certificate URL");
		goto out;
	}
	rc = 0;
out:
	http_response_free(&resp);
	free(c64);
	free(payload);
	return rc;
}

/* §7.4.2: the chain; with --preferred-chain also the rel="alternate" ones. */
int
acme_download(struct acme *a, const char *cert_url, const char *preferred, char **pem,
    size_t *pemlen, struct acme_err *err)
{
	struct http_response resp, alt;
	char *urls[ACME_MAX_LINKS];
	size_t nurls = 0, i;
	int best, score, rc = -1;

	*pem = NULL;
	memset(&alt, 0, sizeof(alt));
	if (post(a, cert_url, NULL, false, ACME_PEM_CHAIN, &resp, err) == -1) {
		acme_err_replace(err, "cannot download the certificate: %s", err->msg);
		goto out;
	}
	*pem = resp.body;
	*pemlen = resp.len;
	resp.body = NULL;
	if (preferred == NULL)
		goto done;
	best = crypto_chain_issuer_match(*pem, *pemlen, preferred);
	for (i = 0; i < resp.nalternate; i++)
		urls[nurls++] = resp.alternate[i];
	for (i = 0; i < nurls && best < 2; i++) {
		if (post(a, urls[i], NULL, false, ACME_PEM_CHAIN, &alt, err) == -1) {
			log_warnx("%s: cannot fetch this alternate chain: %s", urls[i], err->msg);
			acme_err_clear(err);
			http_response_free(&alt);
			continue;
		}
		score = crypto_chain_issuer_match(alt.body, alt.len, preferred);
		if (score > best) {
			free(*pem);
			*pem = alt.body;
			*pemlen = alt.len;
			alt.body = NULL;
			best = score;
			log_debug("acme: using alternate chain %s", urls[i]);
		}
		http_response_free(&alt);
	}
	if (best == 0)
		log_warnx("no chain has issuer \"%s\"; keeping the default chain", preferred);
done:
	rc = 0;
out:
	http_response_free(&resp);
	return rc;
}

/* RFC 9773 §4.1: GET <renewalInfo>/<certID>, no JWS. */
int
acme_renewal_info(struct acme *a, const char *cert_id, time_t *start, time_t *end,
    struct acme_err *err)
{
	struct http_request req;
	struct http_response resp;
	char *url = NULL;
	size_t n;
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	if (a->dir.renewal_info == NULL || cert_id == NULL)
		return -1;
	n = strlen(a->dir.renewal_info);
	if (asprintf(&url, "%s%s%s", a->dir.renewal_info,
	    n > 0 && a->dir.renewal_info[n - 1] == '/' ? "" : "/", cert_id) == -1) {
		url = NULL;
		acme_errf(err, "out of memory");
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.accept = "application/json";
	if (http_send(a->http, &req, &resp, err) == -1)
		goto out;
	if (resp.status != 200 || json_renewal_info_parse(resp.body, resp.len, start, end) == -1) {
		acme_errf(err, "renewalInfo answered HTTP %ld without a valid suggestedWindow",
		    resp.status);
		goto out;
	}
	rc = 0;
out:
	http_response_free(&resp);
	free(url);
	return rc;
}
