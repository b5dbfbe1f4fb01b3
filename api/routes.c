/* api/routes.c -- /register, /update, /health and CORS: request in, reply out, no HTTP library */
/* SPDX-License-Identifier: ISC */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"

/* The Allow header of each path (RFC 9110 §10.2.1), for 405 and plain OPTIONS. */
#define ALLOW_POST "POST, OPTIONS"
#define ALLOW_HEALTH "GET, HEAD, OPTIONS"

/* Set resp to the error reply for e (static body). */
void
api_response_error(struct api_response *resp, enum api_err e)
{
	api_response_clear(resp);
	resp->status = api_err_status(e);
	resp->body = api_err_body(e);
	resp->body_len = strlen(resp->body);
	resp->json = true;
}

/* Free an owned body. Accepts a zeroed struct. */
void
api_response_clear(struct api_response *resp)
{
	free(resp->owned);
	resp->owned = NULL;
	resp->body = NULL;
	resp->body_len = 0;
}

/* Hand a malloc'd JSON body to resp with status; NULL (out of memory) is a 500. */
static void
reply_owned(struct api_response *resp, unsigned status, char *body)
{
	if (body == NULL) {
		log_warnx("api: out of memory building a reply");
		api_response_error(resp, API_ERR_INTERNAL);
		return;
	}
	api_response_clear(resp);
	resp->status = status;
	resp->owned = body;
	resp->body = body;
	resp->body_len = strlen(body);
	resp->json = true;
}

/* An empty reply (health, OPTIONS). */
static void
reply_empty(struct api_response *resp, unsigned status)
{
	api_response_clear(resp);
	resp->status = status;
	resp->body = "";
	resp->body_len = 0;
	resp->json = false;
}

/*
 * POST /register: parse the optional body, create the account (fsync'd by
 * storage), make its name exist in DNS at once (NODATA rather than NXDOMAIN),
 * then answer 201 with the credentials. The key is wiped from our stack.
 */
static void
route_register(const struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp)
{
	struct api_register_req rr;
	struct storage_account acct;
	const char *cidrs[STORAGE_MAX_ALLOWFROM];
	char key[STORAGE_KEY_LEN + 1];
	enum api_err e;
	size_t i;

	if ((e = api_json_register_parse(req->body, req->body_len, &rr)) != API_ERR_NONE) {
		api_response_error(resp, e);
		return;
	}
	for (i = 0; i < rr.n; i++)
		cidrs[i] = rr.allowfrom[i];
	if (storage_register(ctx->st, cidrs, rr.n, &acct, key) == -1) {
		api_response_error(resp, API_ERR_DB);
		return;
	}
	memcpy(resp->user, acct.username, sizeof(resp->user));
	/* The account is durable; a DNS memory failure only delays the name until /update. */
	if (dnsd_publish(ctx->d, acct.subdomain, NULL, 0) == -1)
		log_warnx("%s: registered, but not yet in DNS memory", acct.subdomain);
	reply_owned(resp, 201, api_json_register_reply(&acct, key, ctx->cfg->domain));
	explicit_bzero(key, sizeof(key));
}

/*
 * POST /update, in acme-dns's order: header format, credentials, source
 * address, body, then store and publish. Every authentication failure is the
 * same 401 so a caller learns nothing about which check failed.
 */
static void
route_update(const struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp)
{
	struct storage_account acct;
	struct storage_txt now;
	const char *values[STORAGE_MAX_TXT];
	char user[STORAGE_ID_LEN + 1];
	char txt[STORAGE_TXT_LEN + 1];
	enum api_err e;
	size_t i;

	if (api_user_normalize(req->api_user, user) == -1 || !api_key_valid(req->api_key)) {
		api_response_error(resp, API_ERR_FORBIDDEN);
		return;
	}
	switch (storage_auth(ctx->st, user, req->api_key, &acct)) {
	case STORAGE_AUTH_OK:
		break;
	case STORAGE_AUTH_DENIED:
		api_response_error(resp, API_ERR_FORBIDDEN);
		return;
	default:
		api_response_error(resp, API_ERR_DB);
		return;
	}
	memcpy(resp->user, acct.username, sizeof(resp->user));
	if (!api_allowfrom_ok(&acct, req->client)) {
		api_response_error(resp, API_ERR_FORBIDDEN);
		return;
	}
	e = api_json_update_parse(req->body, req->body_len, acct.subdomain, txt);
	if (e != API_ERR_NONE) {
		api_response_error(resp, e);
		return;
	}
	if (storage_txt_set(ctx->st, acct.subdomain, txt, &now) == -1) {
		api_response_error(resp, API_ERR_DB);
		return;
	}
	for (i = 0; i < now.n && i < STORAGE_MAX_TXT; i++)
		values[i] = now.values[i];
	/* Publish before the 200: the value must be served once the client sees it. */
	if (dnsd_publish(ctx->d, acct.subdomain, values, i) == -1) {
		log_warnx("%s: stored, but DNS memory update failed", acct.subdomain);
		api_response_error(resp, API_ERR_INTERNAL);
		return;
	}
	reply_owned(resp, 200, api_json_update_reply(txt));
}

/* GET /health: 200 only while both the database and the DNS server answer. */
static void
route_health(const struct api_ctx *ctx, struct api_response *resp)
{
	bool ok = storage_healthy(ctx->st) && dnsd_healthy(ctx->d);

	reply_empty(resp, ok ? 200 : 503);
}

/* True for the methods CORS is configured for (rs/cors as used by acme-dns: GET, POST). */
static bool
cors_method(const char *m)
{
	return m != NULL && (strcasecmp(m, "GET") == 0 || strcasecmp(m, "POST") == 0);
}

/*
 * Route one request. Like acme-dns, CORS wraps the router: a preflight
 * (OPTIONS with Access-Control-Request-Method) is answered 200 for any path,
 * with the CORS headers only when the origin and method are allowed.
 */
void
api_route(const struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp)
{
	const char *m = req->method != NULL ? req->method : "";
	const char *p = req->path != NULL ? req->path : "";
	enum { ROUTE_REGISTER, ROUTE_UPDATE, ROUTE_HEALTH } route;
	const char *allow;
	const char *cors;

	memset(resp, 0, sizeof(*resp));
	cors = api_cors_origin(&ctx->cfg->corsorigins, req->origin);

	if (strcmp(m, "OPTIONS") == 0 && req->acr_method != NULL && req->acr_method[0] != '\0') {
		reply_empty(resp, 200);
		if (cors != NULL && cors_method(req->acr_method)) {
			resp->cors_origin = cors;
			resp->preflight = true;
		}
		return;
	}
	if (cors_method(m))
		resp->cors_origin = cors;

	if (strcmp(p, "/update") == 0)
		route = ROUTE_UPDATE;
	else if (strcmp(p, "/register") == 0 && !ctx->cfg->disable_registration)
		route = ROUTE_REGISTER;	/* disabled: absent, as acme-dns never adds the route */
	else if (strcmp(p, "/health") == 0)
		route = ROUTE_HEALTH;
	else {
		api_response_error(resp, API_ERR_NOT_FOUND);
		return;
	}
	allow = route == ROUTE_HEALTH ? ALLOW_HEALTH : ALLOW_POST;

	if (strcmp(m, "OPTIONS") == 0) {
		reply_empty(resp, 200);
		resp->allow = allow;
	} else if (route == ROUTE_HEALTH && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)) {
		route_health(ctx, resp);
	} else if (route == ROUTE_HEALTH || strcmp(m, "POST") != 0) {
		api_response_error(resp, API_ERR_METHOD);
		resp->allow = allow;
	} else if (route == ROUTE_UPDATE) {
		route_update(ctx, req, resp);
	} else {
		route_register(ctx, req, resp);
	}
}
