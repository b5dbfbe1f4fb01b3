/* client/acmedns.c -- the acme-dns API (/register, /update) and the lego storage file */
/* SPDX-License-Identifier: ISC */

#include <stdlib.h>
#include <string.h>

#include "../common/common.h"
#include "client.h"

/* <base>/<path> without a doubled slash. */
static char *
api_url(const char *base, const char *path)
{
	char *u = NULL;
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (asprintf(&u, "%.*s/%s", (int)n, base, path) == -1)
		return NULL;
	return u;
}

/* A short, printable excerpt of an error body (the API's {"error":"..."}). */
static void
body_excerpt(const struct http_response *r, char *buf, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < r->len && n + 1 < len && i < 120; i++) {
		char c = r->body[i];
		buf[n++] = (c >= 0x20 && c < 0x7f) ? c : ' ';
	}
	buf[n] = '\0';
}

/* POST /register: a new account (acme-dns answers 201 with the credentials). */
int
acmedns_register(struct http *h, const char *api, const char *const *allow_from,
    size_t nallow, struct acmedns_account *a, struct acme_err *err)
{
	struct http_request req;
	struct http_response resp;
	char *url = NULL, *body = NULL, ex[128];
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	memset(a, 0, sizeof(*a));
	url = api_url(api, "register");
	body = json_acmedns_register(allow_from, nallow);
	if (url == NULL || body == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.content_type = "application/json";
	req.body = body;
	req.body_len = strlen(body);
	if (http_send(h, &req, &resp, err) == -1)
		goto out;	/* the message names the URL and what to check */
	if (resp.status != 201 && resp.status != 200) {
		body_excerpt(&resp, ex, sizeof(ex));
		if (resp.status == 404)
			acme_errf(err, "%s answered 404: registration is disabled there (or --api "
			    "is wrong); register on the server or ask its operator", url);
		else
			acme_errf(err, "%s answered %ld %s: check --api and --allow-from", url,
			    resp.status, ex);
		goto out;
	}
	if (json_acmedns_account(resp.body, resp.len, api, a, err) == -1)
		goto out;
	rc = 0;
out:
	http_response_free(&resp);
	free(url);
	free(body);
	return rc;
}

/* POST <server_url>/<path> with the account's credentials and body (takes ownership; NULL
 * is out of memory); 200 or an error. */
static int
acmedns_post(struct http *h, const struct acmedns_account *a, const char *path, char *body,
    struct acme_err *err)
{
	struct http_request req;
	struct http_response resp;
	char *url = NULL, ex[128];
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	url = api_url(a->server_url, path);
	if (url == NULL || body == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.content_type = "application/json";
	req.api_user = a->username;
	req.api_key = a->password;
	req.body = body;
	req.body_len = strlen(body);
	if (http_send(h, &req, &resp, err) == -1)
		goto out;	/* the message names the URL and what to check */
	if (resp.status == 401 || resp.status == 403) {
		acme_errf(err, "the acme-dns API at %s refused the account's credentials (HTTP %ld): "
		    "check its username/password in --storage, or run dns01 register again",
		    a->server_url, resp.status);
		goto out;
	}
	if (resp.status != 200) {
		body_excerpt(&resp, ex, sizeof(ex));
		acme_errf(err, "the acme-dns API at %s answered %ld to /%s: %s", a->server_url,
		    resp.status, path, ex);
		goto out;
	}
	rc = 0;
out:
	http_response_free(&resp);
	free(url);
	free(body);
	return rc;
}

/* POST <server_url>/update with X-Api-User/X-Api-Key. 0 or -1. */
int
acmedns_update(struct http *h, const struct acmedns_account *a, const char *txt,
    struct acme_err *err)
{
	if (acmedns_post(h, a, "update", json_acmedns_update(a->subdomain, txt), err) == -1)
		return -1;
	log_debug("acme-dns: %s updated", a->fulldomain);
	return 0;
}

/* POST <server_url>/persist: the account's dns-persist-01 record for one CA. 0 or -1. */
int
acmedns_persist(struct http *h, const struct acmedns_account *a, const char *value,
    struct acme_err *err)
{
	if (acmedns_post(h, a, "persist", json_acmedns_persist(a->subdomain, value), err) == -1)
		return -1;
	log_debug("acme-dns: _validation-persist.%s published", a->fulldomain);
	return 0;
}

/* Look up the entry of domain (a wildcard uses its base domain's entry). */
int
acmedns_storage_lookup(const char *path, const char *domain, struct acmedns_account *a,
    struct acme_err *err)
{
	char *text = NULL;
	size_t len;
	int rc, r;

	memset(a, 0, sizeof(*a));
	r = acme_file_read(path, ACME_MAX_FILE, &text, &len, err);
	if (r == 1)
		return 0;
	if (r == -1)
		return -1;
	rc = json_storage_get(text, len, acme_base_domain(domain), a, err);
	if (rc == -1)
		acme_err_replace(err, "storage file %s: %s", path, err->msg);
	acme_free_secret(text);
	return rc;
}

/* Add or replace the entry of domain; the file holds passwords, so 0600. */
int
acmedns_storage_store(const char *path, const char *domain, const struct acmedns_account *a,
    struct acme_err *err)
{
	char *text = NULL, *out = NULL;
	size_t len = 0;
	int rc = -1, r;

	r = acme_file_read(path, ACME_MAX_FILE, &text, &len, err);
	if (r == -1)
		goto out;
	out = json_storage_put(text, len, acme_base_domain(domain), a, err);
	if (out == NULL) {
		acme_err_replace(err, "storage file %s: %s", path, err->msg);
		goto out;
	}
	if (acme_file_write(path, out, strlen(out), 0600, err) == -1)
		goto out;
	rc = 0;
out:
	acme_free_secret(text);
	acme_free_secret(out);
	return rc;
}
