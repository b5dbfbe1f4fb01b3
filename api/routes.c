/* api/routes.c -- /register, /update, /health and CORS: request in, reply out, no HTTP library */
/* SPDX-License-Identifier: ISC */

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* The Allow header of each path (RFC 9110 §10.2.1), for 405 and plain OPTIONS. */
#define ALLOW_LIFECYCLE "POST, DELETE, OPTIONS"	/* /update, /register: dns01d's DELETE */
#define ALLOW_HEALTH "GET, HEAD, OPTIONS"
#define ALLOW_PERSIST "GET, POST, DELETE, OPTIONS"

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

/* 429 too_many_requests with Retry-After (routes.c's and storage callers' one way to say it). */
void
api_response_too_many(struct api_response *resp, unsigned retry_after)
{
	api_response_error(resp, API_ERR_TOO_MANY);
	resp->retry_after = retry_after > 0 ? retry_after : 1;
}

/* Hand a malloc'd JSON body to resp with status; NULL (out of memory) is a 500. */
void
api_reply_owned(struct api_response *resp, unsigned status, char *body)
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

/* A storage failure: 503 while the database server is unreachable, else 500. */
void
api_response_db_error(const struct api_ctx *ctx, struct api_response *resp)
{
	api_response_error(resp, storage_available(ctx->st) ? API_ERR_DB : API_ERR_DB_UNAVAILABLE);
}

/*
 * The gates of /register, cheapest first: register_allowfrom, then the
 * per-address rate (so a token cannot be guessed faster than accounts can
 * be made), then the bearer token. Returns true to go on; otherwise resp
 * holds the refusal.
 */
static bool
register_permitted(const struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp)
{
	const struct config *cfg = ctx->cfg;
	uint8_t key[API_LIMIT_KEY];
	unsigned wait;

	if (cfg->nregister_allowfrom > 0 && (req->client == NULL ||
	    !cidr_match_any(cfg->register_allowfrom, cfg->nregister_allowfrom, req->client))) {
		api_response_error(resp, API_ERR_FORBIDDEN);
		return false;
	}
	api_limit_addr_key(req->client, key);
	if ((wait = api_limiter_take(ctx->reg_addr, key, api_now_ns())) != 0) {
		api_response_too_many(resp, wait);
		return false;
	}
	if (cfg->register_token != NULL && !api_bearer_ok(req->authorization, cfg->register_token)) {
		api_response_error(resp, API_ERR_FORBIDDEN);
		resp->auth_failed = true;
		return false;
	}
	return true;
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

	if (!register_permitted(ctx, req, resp))
		return;
	if ((e = api_json_register_parse(req->body, req->body_len, &rr)) != API_ERR_NONE) {
		api_response_error(resp, e);
		return;
	}
	for (i = 0; i < rr.n; i++)
		cidrs[i] = rr.allowfrom[i];
	if (storage_register_note(ctx->st, cidrs, rr.n, rr.note, &acct, key) == -1) {
		api_response_db_error(ctx, resp);
		return;
	}
	snprintf(resp->user, sizeof(resp->user), "%s", acct.username);
	/* The account is durable; a DNS memory failure only delays the name until /update. */
	if (dnsd_publish(ctx->d, acct.subdomain, NULL, 0) == -1)
		log_warnx("%s: registered, but not yet in DNS memory", acct.subdomain);
	api_reply_owned(resp, 201, api_json_register_reply(&acct, key, ctx->cfg->domain));
	explicit_bzero(key, sizeof(key));
}

/*
 * A failed login: 401 as always, with the user tried in the access log, and
 * one event charged to the address. user (the normalized UUID, or NULL when
 * the key was not checked against an account) is charged too. Once a user
 * is over the rate, each further failure against it empties the failing
 * address's bucket, so guessing spread over many addresses gets one try per
 * address per refill. The per-user limit never refuses a check: the owner,
 * whose key is right and whose address is under its own limit, is always
 * let in (see docs/api.md, "Rate limits").
 */
static void
auth_failed(const struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp, const uint8_t akey[API_LIMIT_KEY], const char *user,
    uint64_t now)
{
	char ip[INET6_ADDRSTRLEN + 1] = "-";
	uint8_t ukey[API_LIMIT_KEY];
	unsigned wait;

	api_response_error(resp, API_ERR_FORBIDDEN);
	resp->auth_failed = true;
	api_log_user(req->api_user, resp->user, sizeof(resp->user));
	if (ctx->auth_addr == NULL)
		return;
	api_limiter_charge(ctx->auth_addr, akey, now);
	if (user != NULL && ctx->auth_user != NULL) {
		api_limit_user_key(user, ukey);
		if (api_limiter_take(ctx->auth_user, ukey, now) != 0)
			api_limiter_drain(ctx->auth_addr, akey, now);
	}
	if ((wait = api_limiter_wait(ctx->auth_addr, akey, now)) != 0) {
		if (req->client != NULL)
			cidr_addr_str(req->client, ip, sizeof(ip));
		log_warnx("api: %s: too many failed logins (last for user %s): refused for %u s",
		    ip, resp->user, wait);
	}
}

/*
 * The credentials and source-address checks of /update (and /persist), in
 * acme-dns's order: header format, key, allowfrom. Every failure is the
 * same 401 so a caller learns nothing about which check failed. Returns
 * true with *acct filled; otherwise resp holds the refusal.
 */
bool
api_authenticate(const struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp, struct storage_account *acct)
{
	char user[STORAGE_ID_LEN + 1];
	uint8_t akey[API_LIMIT_KEY];
	uint64_t t = api_now_ns();
	unsigned wait;

	/* An address over its failed-login rate is not even checked. */
	api_limit_addr_key(req->client, akey);
	if ((wait = api_limiter_wait(ctx->auth_addr, akey, t)) != 0) {
		api_log_user(req->api_user, resp->user, sizeof(resp->user));
		api_response_too_many(resp, wait);
		return false;
	}
	if (api_user_normalize(req->api_user, user) == -1 || !api_key_valid(req->api_key)) {
		auth_failed(ctx, req, resp, akey, NULL, t);
		return false;
	}
	switch (storage_auth(ctx->st, user, req->api_key, acct)) {
	case STORAGE_AUTH_OK:
		break;
	case STORAGE_AUTH_DENIED:
		auth_failed(ctx, req, resp, akey, user, t);
		return false;
	case STORAGE_AUTH_BUSY:
		/* A bcrypt check (legacy hash) is needed and one already runs. */
		api_response_too_many(resp, STORAGE_BCRYPT_RETRY);
		return false;
	default:
		api_response_db_error(ctx, resp);
		return false;
	}
	snprintf(resp->user, sizeof(resp->user), "%s", acct->username);
	if (!api_allowfrom_ok(acct, req->client)) {
		auth_failed(ctx, req, resp, akey, NULL, t);
		return false;
	}
	/* Authorised: only now may a verified legacy hash be rewritten (best effort). */
	if (acct->legacy)
		(void)storage_key_upgrade(ctx->st, acct, req->api_key);
	return true;
}

/* POST /update: authenticate, parse the body, then store and publish. */
static void
route_update(const struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp)
{
	struct storage_account acct;
	struct storage_txt now;
	const char *values[STORAGE_MAX_TXT];
	char txt[STORAGE_TXT_LEN + 1];
	enum api_err e;
	size_t i;

	if (!api_authenticate(ctx, req, resp, &acct))
		return;
	e = api_json_update_parse(req->body, req->body_len, acct.subdomain, txt);
	if (e != API_ERR_NONE) {
		api_response_error(resp, e);
		return;
	}
	/* Store first: DNS must never serve a value that is not committed to the real file. */
	if (storage_txt_set(ctx->st, acct.subdomain, txt, &now) == -1) {
		api_response_db_error(ctx, resp);
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
	api_reply_owned(resp, 200, api_json_update_reply(txt));
}

/*
 * DELETE /update (dns01d): drop every value of the caller's account, so its
 * name answers NODATA; DELETE /register: deregister it, so the name
 * answers NXDOMAIN and the credentials stop working. Authenticated as
 * /update; the body is ignored. Stored first, then DNS memory, then the
 * reply {"subdomain":"...","cleared":true} or {..."deleted":true}.
 */
static void
route_lifecycle(const struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp, bool deregister)
{
	struct storage_account acct;
	char *body;
	int r;

	if (!api_authenticate(ctx, req, resp, &acct))
		return;
	r = deregister ? storage_account_delete(ctx->st, acct.subdomain) :
	    storage_txt_clear(ctx->st, acct.subdomain);
	if (r == 1) {	/* deleted by someone else since storage_auth */
		api_response_error(resp, API_ERR_FORBIDDEN);
		return;
	}
	if (r == -1) {
		api_response_db_error(ctx, resp);
		return;
	}
	if ((deregister ? dnsd_unpublish(ctx->d, acct.subdomain) :
	    dnsd_publish(ctx->d, acct.subdomain, NULL, 0)) == -1) {
		log_warnx("%s: stored, but DNS memory update failed", acct.subdomain);
		api_response_error(resp, API_ERR_INTERNAL);
		return;
	}
	log_info("%s: %s by its owner", acct.subdomain, deregister ? "deregistered" :
	    "values cleared");
	if ((body = malloc(STORAGE_ID_LEN + 48)) != NULL)
		snprintf(body, STORAGE_ID_LEN + 48, "{\"subdomain\":\"%s\",\"%s\":true}",
		    acct.subdomain, deregister ? "deleted" : "cleared");
	api_reply_owned(resp, 200, body);
}

/* GET /health: 200 only while both the database and the DNS server answer. */
static void
route_health(const struct api_ctx *ctx, struct api_response *resp)
{
	bool ok = storage_healthy(ctx->st) && dnsd_healthy(ctx->d);

	reply_empty(resp, ok ? 200 : 503);
}

/* Longest request path worth cleaning for a redirect: longer never names a route here. */
#define REDIRECT_PATH_MAX 256

/*
 * httprouter's CleanPath, enough to compare with our routes: doubled
 * slashes folded, "." dropped, ".." removing the segment before it (never
 * above the root), and the trailing slash dropped (RedirectTrailingSlash
 * then fixes it). Writes into out; returns false if it does not fit.
 */
static bool
clean_path(const char *p, char *out, size_t outlen)
{
	size_t o = 0, n;

	while (*p != '\0') {
		while (*p == '/')
			p++;
		for (n = 0; p[n] != '\0' && p[n] != '/'; n++)
			;
		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;	/* the slash before the dropped segment */
			p += n;
			continue;
		}
		if (o + 1 + n >= outlen)
			return false;
		out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return true;
}

/*
 * The redirect of acme-dns's router (see internal.h). Only methods with
 * routes redirect (its router keeps one tree per method: GET /health, POST
 * /register and /update; HEAD /health is dns01d's own), never "/". GET gets
 * 301 and everything else 307 (httprouter v1.3.0, as acme-dns pins it),
 * and Go's http.Redirect writes the body: an HTML link for GET, a
 * Content-Type but no body for HEAD, nothing for the rest. Unlike Go, the
 * query string is not carried over (MHD does not keep it raw).
 */
bool
api_route_redirect(const struct api_ctx *ctx, const char *method, const char *path,
    struct api_response *resp)
{
	static const char *const post[] = { "/update", "/register" };
	static const char *const get[] = { "/health" };
	const char *const *routes;
	char clean[REDIRECT_PATH_MAX];
	const char *to = NULL;
	size_t n, i;
	int len;

	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
		routes = get;
		n = 1;
	} else if (strcmp(method, "POST") == 0) {
		routes = post;
		n = ctx->cfg->disable_registration ? 1 : 2;
	} else {
		return false;
	}
	if (strcmp(path, "/") == 0 || strlen(path) >= REDIRECT_PATH_MAX ||
	    !clean_path(path, clean, sizeof(clean)))
		return false;
	for (i = 0; i < n; i++)
		if (strcasecmp(clean, routes[i]) == 0 && strcmp(path, routes[i]) != 0)
			to = routes[i];
	if (to == NULL)
		return false;
	api_response_clear(resp);
	snprintf(resp->location, sizeof(resp->location), "%s", to);
	resp->json = false;
	resp->body = "";
	resp->body_len = 0;
	if (strcmp(method, "GET") == 0) {
		resp->status = 301;
		len = snprintf(NULL, 0, "<a href=\"%s\">Moved Permanently</a>.\n\n", to);
		if (len > 0 && (resp->owned = malloc((size_t)len + 1)) != NULL) {
			snprintf(resp->owned, (size_t)len + 1,
			    "<a href=\"%s\">Moved Permanently</a>.\n\n", to);
			resp->body = resp->owned;
			resp->body_len = (size_t)len;
		}
		resp->content_type = "text/html; charset=utf-8";
	} else {
		resp->status = 307;
		if (strcmp(method, "HEAD") == 0)
			resp->content_type = "text/html; charset=utf-8";
	}
	return true;
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
	enum { ROUTE_REGISTER, ROUTE_UPDATE, ROUTE_HEALTH, ROUTE_PERSIST } route;
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
	else if (strcmp(p, "/register") == 0 && strcmp(m, "DELETE") == 0)
		route = ROUTE_REGISTER;	/* deregistering stays possible: it needs the key */
	else if (strcmp(p, "/health") == 0)
		route = ROUTE_HEALTH;
	else if (strcmp(p, "/persist") == 0)
		route = ROUTE_PERSIST;
	else {
		if (!api_route_redirect(ctx, m, p, resp))
			api_response_error(resp, API_ERR_NOT_FOUND);
		return;
	}
	allow = route == ROUTE_HEALTH ? ALLOW_HEALTH : route == ROUTE_PERSIST ? ALLOW_PERSIST :
	    ALLOW_LIFECYCLE;

	if (strcmp(m, "OPTIONS") == 0) {
		reply_empty(resp, 200);
		resp->allow = allow;
	} else if (route == ROUTE_PERSIST) {
		if (!api_route_persist(ctx, req, resp))
			resp->allow = allow;
	} else if (route == ROUTE_HEALTH && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)) {
		route_health(ctx, resp);
	} else if (route != ROUTE_HEALTH && strcmp(m, "DELETE") == 0) {
		route_lifecycle(ctx, req, resp, route == ROUTE_REGISTER);
	} else if (route == ROUTE_HEALTH || strcmp(m, "POST") != 0) {
		api_response_error(resp, API_ERR_METHOD);
		resp->allow = allow;
	} else if (route == ROUTE_UPDATE) {
		route_update(ctx, req, resp);
	} else {
		route_register(ctx, req, resp);
	}
}
