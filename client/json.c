/* client/json.c -- the acme-dns documents, the storage file and --json output, on jansson */
/* SPDX-License-Identifier: ISC */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/common.h"
#include "client.h"


/* Parse untrusted text (already size-capped by the reader) into an object. */
static json_t *
parse_object(const char *body, size_t len)
{
	json_t *j;
	json_error_t e;

	if (body == NULL || len == 0 || !acme_json_depth_ok(body, len))
		return NULL;
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Dump compactly with sorted keys. */
static char *
dump(json_t *j)
{
	char *s;

	if (j == NULL)
		return NULL;
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

/* acme-dns /register body: {"allowfrom": [...]} or {}. */
char *
json_acmedns_register(const char *const *allow_from, size_t n)
{
	json_t *j, *a;
	size_t i;

	j = json_object();
	if (j == NULL)
		return NULL;
	if (n > 0) {
		a = json_array();
		if (a == NULL || json_object_set_new(j, "allowfrom", a) != 0)
			goto bad;
		for (i = 0; i < n; i++)
			if (json_array_append_new(a, json_string(allow_from[i])) != 0)
				goto bad;
	}
	return dump(j);
bad:
	json_decref(j);
	return NULL;
}

/* acme-dns /update body. */
char *
json_acmedns_update(const char *subdomain, const char *txt)
{
	return dump(json_pack("{s:s, s:s}", "subdomain", subdomain, "txt", txt));
}

/* /persist body: {"subdomain": S, "value": V}. */
char *
json_acmedns_persist(const char *subdomain, const char *value)
{
	return dump(json_pack("{s:s, s:s}", "subdomain", subdomain, "value", value));
}

/* A DNS label or name of [A-Za-z0-9-_.] (acme-dns subdomains are UUIDs). */
static bool
name_ok(const char *s, bool dots)
{
	size_t i, n;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n == 0 || n > ACME_MAX_NAME)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || (dots && c == '.')))
			return false;
	}
	return true;
}

/*
 * Check an account's members against allowlists; server_url must be http(s).
 * Without need_url a missing server_url passes (acme-dns-auth.py and older
 * goacmedns write none; the caller falls back to --api).
 */
static bool
account_ok(const struct acmedns_account *a, bool need_url)
{
	return name_ok(a->username, false) && name_ok(a->password, false) &&
	    strlen(a->password) <= 256 && name_ok(a->subdomain, false) &&
	    name_ok(a->fulldomain, true) &&
	    (is_http_url(a->server_url) || (!need_url && a->server_url == NULL));
}

/* Fill a from an object with case-insensitive keys (goacmedns writes FullDomain ...). */
static void
account_from(const json_t *o, struct acmedns_account *a)
{
	const char *k;
	json_t *v;
	char **slot;

	json_object_foreach((json_t *)(uintptr_t)o, k, v) {
		slot = NULL;
		if (strcasecmp(k, "username") == 0)
			slot = &a->username;
		else if (strcasecmp(k, "password") == 0)
			slot = &a->password;
		else if (strcasecmp(k, "fulldomain") == 0)
			slot = &a->fulldomain;
		else if (strcasecmp(k, "subdomain") == 0)
			slot = &a->subdomain;
		else if (strcasecmp(k, "server_url") == 0)
			slot = &a->server_url;
		if (slot != NULL && *slot == NULL && json_is_string(v))
			*slot = strdup(json_string_value(v));
	}
}

/* The /register response (201): {"username","password","fulldomain","subdomain","allowfrom"}. */
int
json_acmedns_account(const char *body, size_t len, const char *server_url,
    struct acmedns_account *a, struct acme_err *err)
{
	json_t *j;
	int rc = -1;

	memset(a, 0, sizeof(*a));
	j = parse_object(body, len);
	if (j == NULL) {
		acme_errf(err, "the API's /register answer is not a JSON object");
		return -1;
	}
	account_from(j, a);
	/* The URL we asked wins over any server_url in the answer (issue 12: it leaked). */
	free(a->server_url);
	a->server_url = strdup(server_url);
	if (!account_ok(a, true)) {
		acme_errf(err, "the API's /register answer lacks a valid username, password, "
		    "subdomain or fulldomain");
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	if (rc != 0)
		acmedns_account_free(a);
	return rc;
}

/* Free an account, wiping the password. */
void
acmedns_account_free(struct acmedns_account *a)
{
	if (a == NULL)
		return;
	free(a->username);
	acme_free_secret(a->password);
	free(a->fulldomain);
	free(a->subdomain);
	free(a->server_url);
	memset(a, 0, sizeof(*a));
}

/* Look up key in the lego/goacmedns storage document. */
int
json_storage_get(const char *text, size_t len, const char *key, struct acmedns_account *a,
    struct acme_err *err)
{
	json_t *j, *e;
	int rc = -1;

	memset(a, 0, sizeof(*a));
	j = parse_object(text, len);
	if (j == NULL) {
		acme_errf(err, "not a JSON object");
		return -1;
	}
	e = json_object_get(j, key);
	if (e == NULL) {
		rc = 0;
		goto out;
	}
	if (!json_is_object(e)) {
		acme_errf(err, "the entry for %s is not an object", key);
		goto out;
	}
	account_from(e, a);
	if (!account_ok(a, false)) {
		acme_errf(err, "the entry for %s lacks a valid username, password, subdomain, "
		    "fulldomain or server_url", key);
		acmedns_account_free(a);
		goto out;
	}
	rc = 1;
out:
	json_decref(j);
	return rc;
}

/* Set key in the storage document; other entries (and their members) are kept. */
char *
json_storage_put(const char *text, size_t len, const char *key,
    const struct acmedns_account *a, struct acme_err *err)
{
	json_t *j = NULL, *e;
	char *out = NULL;

	if (text != NULL && len > 0) {
		j = parse_object(text, len);
		if (j == NULL) {
			acme_errf(err, "not a JSON object");
			return NULL;
		}
	} else {
		j = json_object();
	}
	e = json_pack("{s:s, s:s, s:s, s:s}", "fulldomain", a->fulldomain, "subdomain",
	    a->subdomain, "username", a->username, "password", a->password);
	if (e != NULL && a->server_url != NULL &&
	    json_object_set_new(e, "server_url", json_string(a->server_url)) != 0) {
		json_decref(e);
		e = NULL;
	}
	if (j == NULL || e == NULL || json_object_set_new(j, key, e) != 0) {
		acme_errf(err, "out of memory");
		goto out;
	}
	out = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
out:
	json_decref(j);
	return out;
}

/* Add a string member if s is not NULL. */
static int
set_opt(json_t *j, const char *key, const char *s)
{
	if (s == NULL)
		return 0;
	return json_object_set_new(j, key, json_string(s));
}

/* Add an array of strings. */
static int
set_list(json_t *j, const char *key, const char *const *v, size_t n)
{
	json_t *a;
	size_t i;

	if (v == NULL)
		return 0;
	a = json_array();
	if (a == NULL || json_object_set_new(j, key, a) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) != 0)
			return -1;
	return 0;
}

/* The --json result object. */
char *
json_result(const struct client_result *r)
{
	json_t *j;

	j = json_object();
	if (j == NULL)
		return NULL;
	if (set_opt(j, "command", r->command) != 0 || set_opt(j, "status", r->status) != 0 ||
	    set_opt(j, "account", r->account) != 0 ||
	    set_opt(j, "account_status", r->account_status) != 0 ||
	    set_opt(j, "contact", r->contact) != 0 ||
	    set_list(j, "domains", r->domains, r->ndomains) != 0 ||
	    set_opt(j, "cert_dir", r->cert_dir) != 0 || set_opt(j, "serial", r->serial) != 0 ||
	    set_opt(j, "not_after", r->not_after) != 0 ||
	    set_opt(j, "renewal_reason", r->renewal_reason) != 0 ||
	    set_opt(j, "profile", r->profile) != 0 ||
	    set_opt(j, "challenges", r->challenges) != 0 ||
	    set_list(j, "records", r->records, r->nrecords) != 0 ||
	    set_opt(j, "error", r->error) != 0)
		goto bad;
	if (r->badnonce_retries > 0 &&
	    json_object_set_new(j, "badnonce_retries", json_integer(r->badnonce_retries)) != 0)
		goto bad;
	if (r->seconds > 0 && json_object_set_new(j, "seconds", json_real(r->seconds)) != 0)
		goto bad;
	return dump(j);
bad:
	json_decref(j);
	return NULL;
}

/* A string member, or NULL; a present member of another type is an error (*bad). */
static char *
get_str(const json_t *j, const char *key, bool *bad)
{
	json_t *v = json_object_get(j, key);
	char *s;

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = true;
		return NULL;
	}
	s = strdup(json_string_value(v));
	if (s == NULL)
		*bad = true;
	return s;
}

/* See client.h. */
char *
json_cert_entry(const struct cert_entry *e)
{
	json_t *j = json_object();

	if (j == NULL)
		return NULL;
	if (set_opt(j, "out", e->out) != 0 || set_opt(j, "directory", e->directory) != 0 ||
	    set_opt(j, "storage", e->storage) != 0 || set_opt(j, "key_type", e->key_type) != 0 ||
	    set_opt(j, "csr", e->csr) != 0 || set_opt(j, "deploy_hook", e->deploy_hook) != 0 ||
	    set_opt(j, "preferred_chain", e->preferred_chain) != 0 ||
	    set_opt(j, "api", e->api) != 0 ||
	    set_list(j, "domains", (const char *const *)e->domains, e->ndomains) != 0 ||
	    json_object_set_new(j, "reuse_key", json_boolean(e->reuse_key)) != 0) {
		json_decref(j);
		return NULL;
	}
	return dump(j);
}

/* See client.h. */
int
json_cert_entry_parse(const char *text, size_t len, struct cert_entry *e, struct acme_err *err)
{
	json_t *j, *d, *v;
	bool bad = false;
	size_t i;
	int rc = -1;

	memset(e, 0, sizeof(*e));
	j = parse_object(text, len);
	if (j == NULL) {
		acme_errf(err, "not a JSON object");
		return -1;
	}
	e->out = get_str(j, "out", &bad);
	e->directory = get_str(j, "directory", &bad);
	e->storage = get_str(j, "storage", &bad);
	e->key_type = get_str(j, "key_type", &bad);
	e->csr = get_str(j, "csr", &bad);
	e->deploy_hook = get_str(j, "deploy_hook", &bad);
	e->preferred_chain = get_str(j, "preferred_chain", &bad);
	e->api = get_str(j, "api", &bad);
	e->reuse_key = json_is_true(json_object_get(j, "reuse_key"));
	d = json_object_get(j, "domains");
	if (bad || e->out == NULL || e->out[0] != '/' || !json_is_array(d) ||
	    json_array_size(d) > CLIENT_MAX_DOMAINS) {
		acme_errf(err, "lacks an absolute \"out\" or a \"domains\" list");
		goto out;
	}
	e->domains = calloc(json_array_size(d) + 1, sizeof(*e->domains));
	if (e->domains == NULL)
		goto out;
	json_array_foreach(d, i, v) {
		if (!json_is_string(v) ||
		    (e->domains[e->ndomains] = acme_domain_normalize(json_string_value(v))) == NULL) {
			acme_errf(err, "has a bad name in \"domains\"");
			goto out;
		}
		e->ndomains++;
	}
	if (e->ndomains == 0 && e->csr == NULL) {
		acme_errf(err, "names no domains and no CSR");
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	if (rc != 0)
		cert_entry_free(e);
	return rc;
}

/* See client.h: a string member of the settings file, or NULL. */
char *
json_settings_get(const char *text, size_t len, const char *key)
{
	json_t *j = parse_object(text, len), *v;
	char *out = NULL;

	if (j == NULL)
		return NULL;
	v = json_object_get(j, key);
	if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v))
		out = strdup(json_string_value(v));
	json_decref(j);
	return out;
}

/* See client.h: text (may be NULL or not an object: started afresh) with key set. */
char *
json_settings_put(const char *text, size_t len, const char *key, const char *value)
{
	json_t *j = text != NULL ? parse_object(text, len) : NULL;

	if (j == NULL && (j = json_object()) == NULL)
		return NULL;
	if (value == NULL)
		(void)json_object_del(j, key);
	else if (json_object_set_new(j, key, json_string(value)) != 0) {
		json_decref(j);
		return NULL;
	}
	return dump(j);
}
