/* api/persist.c -- /persist: an account's dns-persist-01 records, and their syntax check */
/* SPDX-License-Identifier: ISC */

/*
 * A record is one issue-value of RFC 8659 §4.2, as draft-ietf-acme-dns-
 * persist uses it at _validation-persist.<name>:
 *
 *   issue-value = *WSP issuer-domain-name *WSP [";" *WSP parameters *WSP]
 *   parameters  = parameter *(*WSP ";" *WSP parameter)
 *   parameter   = tag *WSP "=" *WSP value
 *   tag         = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT))
 *   value       = *(%x21-3A / %x3C-7E)
 *
 * The issuer domain name is required here (RFC 8659 allows an empty one,
 * which means "no CA" and makes no sense as a validation record), and so
 * is accounturi (the draft's §4: the record binds an account). Tags are
 * compared without case. The account keeps one record per issuer domain
 * name, so a second POST for the same CA replaces the first.
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define PERSIST_MAX_PARAMS 64		/* parameters in one value (1024 bytes hold ~250) */
#define PERSIST_UNTIL_DIGITS 19		/* persistUntil: Unix seconds that fit in 63 bits */

/* One parameter's tag and value, as offsets into the checked text. */
struct param {
	size_t tag, taglen, val, vallen;
};

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';	/* RFC 5234 WSP */
}

static size_t
skip_wsp(const char *v, size_t i, size_t len)
{
	while (i < len && is_wsp(v[i]))
		i++;
	return i;
}

/*
 * Scan an RFC 8659 label-style token (a tag, or one domain label) at i:
 * alphanumerics, with hyphens only between them. Returns its end, or i
 * when there is none or it ends with a hyphen.
 */
static size_t
scan_token(const char *v, size_t i, size_t len)
{
	size_t j = i, last = i;

	while (j < len && (is_alnum(v[j]) || (v[j] == '-' && j > i))) {
		if (is_alnum(v[j]))
			last = j + 1;
		j++;
	}
	return last == i || last != j ? i : j;
}

/*
 * Scan the issuer domain name at *i into out (lower case): labels of
 * scan_token joined by dots, each at most API_MAX_LABEL, all at most
 * STORAGE_ISSUER_LEN. Returns API_ERR_NONE or API_ERR_ISSUER.
 */
static enum api_err
scan_issuer(const char *v, size_t *i, size_t len, char out[STORAGE_ISSUER_LEN + 1])
{
	size_t p = *i, e, k;

	for (;;) {
		if ((e = scan_token(v, p, len)) == p || e - p > API_MAX_LABEL ||
		    e - *i > STORAGE_ISSUER_LEN)
			return API_ERR_ISSUER;
		if (e < len && v[e] == '.') {
			p = e + 1;
			continue;
		}
		break;
	}
	for (k = *i; k < e; k++)
		out[k - *i] = (char)((v[k] >= 'A' && v[k] <= 'Z') ? v[k] + 32 : v[k]);
	out[e - *i] = '\0';
	*i = e;
	return API_ERR_NONE;
}

/*
 * Scan the parameters from *i to the end into p[*n]. Returns API_ERR_NONE,
 * API_ERR_PERSIST_PARAM (bad syntax, too many) or API_ERR_PERSIST_DUP.
 */
static enum api_err
scan_params(const char *v, size_t i, size_t len, struct param *p, size_t *n)
{
	size_t e, k;

	*n = 0;
	for (;;) {
		if (*n >= PERSIST_MAX_PARAMS || (e = scan_token(v, i, len)) == i)
			return API_ERR_PERSIST_PARAM;
		p[*n].tag = i;
		p[*n].taglen = e - i;
		i = skip_wsp(v, e, len);
		if (i >= len || v[i] != '=')
			return API_ERR_PERSIST_PARAM;
		i = skip_wsp(v, i + 1, len);
		for (e = i; e < len && v[e] > ' ' && v[e] <= '~' && v[e] != ';'; e++)
			;
		p[*n].val = i;
		p[*n].vallen = e - i;
		for (k = 0; k < *n; k++)	/* RFC 8659 §4.2: one value per tag */
			if (p[k].taglen == p[*n].taglen &&
			    strncasecmp(v + p[k].tag, v + p[*n].tag, p[k].taglen) == 0)
				return API_ERR_PERSIST_DUP;
		(*n)++;
		i = skip_wsp(v, e, len);
		if (i >= len)
			return API_ERR_NONE;
		if (v[i] != ';')
			return API_ERR_PERSIST_PARAM;
		i = skip_wsp(v, i + 1, len);
	}
}

/* The parameter called tag (any case) in p[n], or NULL. */
static const struct param *
find_param(const char *v, const struct param *p, size_t n, const char *tag)
{
	for (size_t k = 0; k < n; k++)
		if (p[k].taglen == strlen(tag) && strncasecmp(v + p[k].tag, tag, p[k].taglen) == 0)
			return &p[k];
	return NULL;
}

/* Check a dns-persist-01 record value; see api.h. */
enum api_err
api_persist_value_check(const char *value, size_t len, char issuer[STORAGE_ISSUER_LEN + 1])
{
	struct param p[PERSIST_MAX_PARAMS];
	const struct param *q;
	size_t i, n;
	enum api_err e;

	issuer[0] = '\0';
	if (value == NULL || len == 0)
		return API_ERR_PERSIST_VALUE;
	if (len > STORAGE_PERSIST_LEN)
		return API_ERR_PERSIST_TOO_LONG;
	for (i = 0; i < len; i++)	/* printable ASCII and WSP only: it goes into DNS as is */
		if (!((value[i] >= ' ' && value[i] <= '~') || value[i] == '\t'))
			return API_ERR_PERSIST_VALUE;
	i = skip_wsp(value, 0, len);
	if ((e = scan_issuer(value, &i, len, issuer)) != API_ERR_NONE)
		return e;
	i = skip_wsp(value, i, len);
	if (i < len && value[i] != ';') {
		issuer[0] = '\0';
		return API_ERR_ISSUER;	/* the name runs on: "ca.example x" */
	}
	n = 0;
	if (i < len && (i = skip_wsp(value, i + 1, len)) < len &&
	    (e = scan_params(value, i, len, p, &n)) != API_ERR_NONE)
		goto fail;
	e = API_ERR_ACCOUNTURI;
	if ((q = find_param(value, p, n, "accounturi")) == NULL || q->vallen == 0)
		goto fail;
	e = API_ERR_PERSIST_UNTIL;
	if ((q = find_param(value, p, n, "persistUntil")) != NULL) {
		if (q->vallen == 0 || q->vallen > PERSIST_UNTIL_DIGITS)
			goto fail;
		for (i = 0; i < q->vallen; i++)
			if (value[q->val + i] < '0' || value[q->val + i] > '9')
				goto fail;
	}
	return API_ERR_NONE;
fail:
	issuer[0] = '\0';
	return e;
}

/* Check and lower-case an issuer domain name; see api.h. */
enum api_err
api_persist_issuer_check(const char *s, size_t len, char issuer[STORAGE_ISSUER_LEN + 1])
{
	size_t i = 0;

	issuer[0] = '\0';
	if (s == NULL || len == 0 || len > STORAGE_ISSUER_LEN ||
	    scan_issuer(s, &i, len, issuer) != API_ERR_NONE || i != len) {
		issuer[0] = '\0';
		return API_ERR_ISSUER;
	}
	return API_ERR_NONE;
}

/*
 * The subdomain a request names must be the authenticated account's: not a
 * label is 400 bad_subdomain; another account's is 401 forbidden, as /update.
 */
static bool
subdomain_ok(const struct storage_account *acct, const char *sub, struct api_response *resp)
{
	if (sub == NULL || !api_label_valid(sub)) {
		api_response_error(resp, API_ERR_BAD_SUBDOMAIN);
		return false;
	}
	if (strcmp(sub, acct->subdomain) != 0) {
		api_response_error(resp, API_ERR_FORBIDDEN);
		return false;
	}
	return true;
}

/* Publish set at _validation-persist.<sub>; false (500 set) if DNS memory failed. */
static bool
publish(const struct api_ctx *ctx, const char *sub, const struct storage_persist_set *set,
    struct api_response *resp)
{
	const char *values[STORAGE_PERSIST_MAX];
	size_t i;

	for (i = 0; i < set->n && i < STORAGE_PERSIST_MAX; i++)
		values[i] = set->rec[i].value;
	if (dnsd_publish_persist(ctx->d, sub, values, i) == -1) {
		log_warnx("%s: persist record stored, but DNS memory update failed", sub);
		api_response_error(resp, API_ERR_INTERNAL);
		return false;
	}
	return true;
}

/* POST /persist: check the value, store it (replacing the issuer's), publish, 200. */
static void
persist_post(const struct api_ctx *ctx, const struct api_request *req,
    const struct storage_account *acct, struct api_response *resp)
{
	struct api_persist_req pr;
	struct storage_persist_set now;
	char issuer[STORAGE_ISSUER_LEN + 1];
	enum api_err e;
	size_t i;

	if ((e = api_json_persist_parse(req->body, req->body_len, &pr)) != API_ERR_NONE) {
		api_response_error(resp, e);
		return;
	}
	if (!subdomain_ok(acct, pr.subdomain, resp))
		return;
	e = pr.value_len > STORAGE_PERSIST_LEN ? API_ERR_PERSIST_TOO_LONG : pr.value_nul ?
	    API_ERR_PERSIST_VALUE : api_persist_value_check(pr.value, pr.value_len, issuer);
	if (e != API_ERR_NONE) {
		api_response_error(resp, e);
		return;
	}
	switch (storage_persist_put(ctx->st, acct->subdomain, issuer, pr.value, &now)) {
	case STORAGE_PERSIST_OK:
		break;
	case STORAGE_PERSIST_FULL:
		api_response_error(resp, API_ERR_PERSIST_LIMIT);
		return;
	default:
		api_response_db_error(ctx, resp);
		return;
	}
	if (!publish(ctx, acct->subdomain, &now, resp))
		return;
	for (i = 0; i < now.n && strcmp(now.rec[i].issuer, issuer) != 0; i++)
		;
	api_reply_owned(resp, 200, api_json_persist_reply(acct->subdomain, ctx->cfg->domain,
	    i < now.n ? &now.rec[i] : NULL, &now));
}

/* DELETE /persist: remove the issuer's record, publish what is left, 200. */
static void
persist_delete(const struct api_ctx *ctx, const struct api_request *req,
    const struct storage_account *acct, struct api_response *resp)
{
	struct api_persist_req pr;
	struct storage_persist_set now;
	char issuer[STORAGE_ISSUER_LEN + 1];
	enum api_err e;

	if ((e = api_json_persist_parse(req->body, req->body_len, &pr)) != API_ERR_NONE) {
		api_response_error(resp, e);
		return;
	}
	if (!subdomain_ok(acct, pr.subdomain, resp))
		return;
	if (pr.issuer_len > STORAGE_ISSUER_LEN ||
	    api_persist_issuer_check(pr.issuer, pr.issuer_len, issuer) != API_ERR_NONE) {
		api_response_error(resp, API_ERR_ISSUER);
		return;
	}
	switch (storage_persist_delete(ctx->st, acct->subdomain, issuer, &now)) {
	case STORAGE_PERSIST_OK:
		break;
	case STORAGE_PERSIST_NONE:
		api_response_error(resp, API_ERR_PERSIST_NONE);
		return;
	default:
		api_response_db_error(ctx, resp);
		return;
	}
	if (!publish(ctx, acct->subdomain, &now, resp))
		return;
	api_reply_owned(resp, 200, api_json_persist_reply(acct->subdomain, ctx->cfg->domain,
	    NULL, &now));
}

/* GET /persist?subdomain=S: the account's records. */
static void
persist_get(const struct api_ctx *ctx, const struct api_request *req,
    const struct storage_account *acct, struct api_response *resp)
{
	struct storage_persist_set now;

	if (!subdomain_ok(acct, req->query_subdomain, resp))
		return;
	if (storage_persist_get(ctx->st, acct->subdomain, &now) == -1) {
		api_response_db_error(ctx, resp);
		return;
	}
	api_reply_owned(resp, 200, api_json_persist_reply(acct->subdomain, ctx->cfg->domain,
	    NULL, &now));
}

/* Route /persist by method; see internal.h. Authentication comes first, as on /update. */
bool
api_route_persist(const struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp)
{
	struct storage_account acct;
	const char *m = req->method != NULL ? req->method : "";
	void (*fn)(const struct api_ctx *, const struct api_request *,
	    const struct storage_account *, struct api_response *);

	if (strcmp(m, "GET") == 0)
		fn = persist_get;
	else if (strcmp(m, "POST") == 0)
		fn = persist_post;
	else if (strcmp(m, "DELETE") == 0)
		fn = persist_delete;
	else {
		api_response_error(resp, API_ERR_METHOD);
		return false;
	}
	if (api_authenticate(ctx, req, resp, &acct))
		fn(ctx, req, &acct, resp);
	return true;
}
