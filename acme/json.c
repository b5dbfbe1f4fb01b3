/* acme/json.c -- every ACME document (RFC 8555) and the account cache, on jansson */
/* SPDX-License-Identifier: ISC */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/common.h"
#include "internal.h"


/* See acme.h: jansson recurses, so deep nesting is refused before it parses. */
bool
acme_json_depth_ok(const char *body, size_t len)
{
	size_t i, depth = 0;
	bool in_str = false;

	for (i = 0; i < len; i++) {
		char c = body[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > ACME_JSON_MAX_DEPTH)
				return false;
		} else if (c == '}' || c == ']') {
			if (depth > 0)
				depth--;
		}
	}
	return true;
}

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

/* A string member as a new C string, or NULL if absent or not a string. */
static char *
get_str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	const char *s;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return NULL;	/* embedded NUL */
	return strdup(s);
}

/* A URL member: absent is NULL, present must be a valid http(s) URL. */
static int
get_url(const json_t *o, const char *key, char **out)
{
	*out = get_str(o, key);
	if (*out == NULL)
		return json_object_get(o, key) == NULL ? 0 : -1;
	if (!is_http_url(*out)) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/*
 * meta.caaIdentities[0] (RFC 8555 §7.1.1): the CA's issuer domain name, as
 * CAA and dns-persist-01 records name it. NULL when absent or not a domain.
 */
static char *
caa_identity(json_t *meta)
{
	json_t *a = json_object_get(meta, "caaIdentities");
	const char *s;

	if (!json_is_array(a) || !json_is_string(json_array_get(a, 0)))
		return NULL;
	s = json_string_value(json_array_get(a, 0));
	if (s[0] == '*' || strlen(s) != json_string_length(json_array_get(a, 0)))
		return NULL;
	return acme_domain_normalize(s);
}

/* True if s is a profile name we pass on: 1..ACME_MAX_PROFILE_NAME printable, no spaces. */
static bool
profile_name_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > ACME_MAX_PROFILE_NAME)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

/* draft-aaron-acme-profiles §3: meta.profiles maps name -> description; keep the names. */
static void
directory_profiles(json_t *profiles, struct acme_directory *d)
{
	const char *name;
	json_t *v;

	if (!json_is_object(profiles))
		return;
	json_object_foreach(profiles, name, v) {
		(void)v;
		if (d->nprofiles >= ACME_MAX_PROFILES)
			break;
		if (!profile_name_valid(name))
			continue;	/* a name we could not send back anyway */
		d->profiles[d->nprofiles] = strdup(name);
		if (d->profiles[d->nprofiles] != NULL)
			d->nprofiles++;
	}
}

/* RFC 8555 §7.1.1: the directory object. newNonce, newAccount, newOrder are required. */
int
json_directory_parse(const char *body, size_t len, struct acme_directory *d,
    struct acme_err *err)
{
	json_t *j, *meta;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	j = parse_object(body, len);
	if (j == NULL) {
		acme_errf(err, "not a JSON object");
		return -1;
	}
	if (get_url(j, "newNonce", &d->new_nonce) == -1 ||
	    get_url(j, "newAccount", &d->new_account) == -1 ||
	    get_url(j, "newOrder", &d->new_order) == -1 ||
	    get_url(j, "newAuthz", &d->new_authz) == -1 ||
	    get_url(j, "revokeCert", &d->revoke_cert) == -1 ||
	    get_url(j, "keyChange", &d->key_change) == -1 ||
	    get_url(j, "renewalInfo", &d->renewal_info) == -1) {
		acme_errf(err, "a directory entry is not an http(s) URL");
		goto out;
	}
	if (d->new_nonce == NULL || d->new_account == NULL || d->new_order == NULL) {
		acme_errf(err, "newNonce, newAccount or newOrder is missing");
		goto out;
	}
	meta = json_object_get(j, "meta");
	if (json_is_object(meta)) {
		d->terms_of_service = get_str(meta, "termsOfService");
		d->eab_required = json_is_true(json_object_get(meta, "externalAccountRequired"));
		d->caa_identity = caa_identity(meta);
		if (get_url(meta, "accountHashPrefix", &d->account_hash_prefix) == -1) {
			acme_errf(err, "meta.accountHashPrefix is not an http(s) URL");
			goto out;
		}
		directory_profiles(json_object_get(meta, "profiles"), d);
	}
	rc = 0;
out:
	json_decref(j);
	if (rc != 0)
		acme_directory_free(d);
	return rc;
}

/* Free a directory. */
void
acme_directory_free(struct acme_directory *d)
{
	if (d == NULL)
		return;
	free(d->new_nonce);
	free(d->new_account);
	free(d->caa_identity);
	free(d->new_order);
	free(d->new_authz);
	free(d->revoke_cert);
	free(d->key_change);
	free(d->renewal_info);
	free(d->terms_of_service);
	free(d->account_hash_prefix);
	for (size_t i = 0; i < d->nprofiles; i++)
		free(d->profiles[i]);
	memset(d, 0, sizeof(*d));
}

/* Fill p from a problem object (RFC 7807 §3.1, RFC 8555 §6.7.1 subproblems). */
static int
problem_from(const json_t *j, struct acme_problem *p)
{
	const json_t *subs, *s, *id;
	size_t i;
	char *type, *detail, *val;

	memset(p, 0, sizeof(*p));
	if (!json_is_object(j))
		return -1;
	p->type = get_str(j, "type");
	if (p->type == NULL)
		return -1;
	p->detail = get_str(j, "detail");
	if (json_is_integer(json_object_get(j, "status")))
		p->status = (long)json_integer_value(json_object_get(j, "status"));
	subs = json_object_get(j, "subproblems");
	json_array_foreach(subs, i, s) {
		if (p->nsub >= ACME_MAX_SUBPROBLEMS)
			break;
		type = get_str(s, "type");
		detail = get_str(s, "detail");
		id = json_object_get(s, "identifier");
		val = json_is_object(id) ? get_str(id, "value") : NULL;
		if (asprintf(&p->sub[p->nsub], "%s: %s", val != NULL ? val : "?",
		    detail != NULL ? detail : type != NULL ? type : "?") != -1)
			p->nsub++;
		free(type);
		free(detail);
		free(val);
	}
	return 0;
}

/* Parse a problem document. */
int
json_problem_parse(const char *body, size_t len, struct acme_problem *p)
{
	json_t *j;
	int rc;

	memset(p, 0, sizeof(*p));
	j = parse_object(body, len);
	if (j == NULL)
		return -1;
	rc = problem_from(j, p);
	json_decref(j);
	if (rc != 0)
		acme_problem_free(p);
	return rc;
}

/* Free a problem. */
void
acme_problem_free(struct acme_problem *p)
{
	size_t i;

	if (p == NULL)
		return;
	free(p->type);
	free(p->detail);
	for (i = 0; i < p->nsub; i++)
		free(p->sub[i]);
	memset(p, 0, sizeof(*p));
}

/* RFC 8555 §7.1.3 order object. */
int
json_order_parse(const char *body, size_t len, struct acme_order *o, struct acme_err *err)
{
	json_t *j, *az, *v;
	size_t i;
	int rc = -1;

	memset(o, 0, sizeof(*o));
	j = parse_object(body, len);
	if (j == NULL) {
		acme_errf(err, "the CA sent an order that is not a JSON object");
		return -1;
	}
	o->status = get_str(j, "status");
	if (o->status == NULL) {
		acme_errf(err, "the CA sent an order without a status");
		goto out;
	}
	az = json_object_get(j, "authorizations");
	if (az != NULL && !json_is_array(az)) {
		acme_errf(err, "the CA sent an order with bad authorizations");
		goto out;
	}
	if (json_array_size(az) > ACME_MAX_AUTHZ) {
		acme_errf(err, "the CA sent an order with too many authorizations");
		goto out;
	}
	if (json_array_size(az) > 0) {
		o->authz = calloc(json_array_size(az), sizeof(*o->authz));
		if (o->authz == NULL) {
			acme_errf(err, "out of memory");
			goto out;
		}
	}
	json_array_foreach(az, i, v) {
		if (!json_is_string(v) || !is_http_url(json_string_value(v)) ||
		    (o->authz[o->nauthz] = strdup(json_string_value(v))) == NULL) {
			acme_errf(err, "the CA sent an order with a bad authorization URL");
			goto out;
		}
		o->nauthz++;
	}
	if (get_url(j, "finalize", &o->finalize) == -1 ||
	    get_url(j, "certificate", &o->certificate) == -1) {
		acme_errf(err, "the CA sent an order with a bad finalize or certificate URL");
		goto out;
	}
	if (json_is_object(json_object_get(j, "error")))
		(void)problem_from(json_object_get(j, "error"), &o->error);
	o->profile = get_str(j, "profile");
	rc = 0;
out:
	json_decref(j);
	if (rc != 0)
		acme_order_free(o);
	return rc;
}

/* Free an order. */
void
acme_order_free(struct acme_order *o)
{
	size_t i;

	if (o == NULL)
		return;
	free(o->status);
	for (i = 0; i < o->nauthz; i++)
		free(o->authz[i]);
	free(o->authz);
	free(o->finalize);
	free(o->certificate);
	free(o->profile);
	acme_problem_free(&o->error);
	memset(o, 0, sizeof(*o));
}

/*
 * dns-persist-01 issuerDomainNames (draft-ietf-acme-dns-persist §3.1): 1 to
 * ACME_MAX_ISSUERS names of at most ACME_MAX_NAME octets; else malformed.
 */
static int
chall_issuers(const json_t *c, struct acme_chall *ch)
{
	const json_t *arr = json_object_get(c, "issuerDomainNames"), *v;
	size_t i;
	char *n;

	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > ACME_MAX_ISSUERS)
		return -1;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || (n = acme_domain_normalize(json_string_value(v))) == NULL)
			return -1;
		ch->issuers[ch->nissuers++] = n;
	}
	return 0;
}

/* Free one challenge's members and mark it "not offered". */
static void
chall_clear(struct acme_chall *ch)
{
	size_t i;

	free(ch->url);
	free(ch->token);
	free(ch->status);
	for (i = 0; i < ch->nissuers; i++)
		free(ch->issuers[i]);
	memset(ch, 0, sizeof(*ch));
}

/*
 * One challenge object into ch (the first of its type wins). A dns-01
 * challenge without a URL is an error, as before; a malformed dns-account-01
 * or dns-persist-01 challenge is rejected (draft-ietf-acme-dns-persist §3.1)
 * and treated as not offered, so the others still work.
 */
static int
chall_from(const json_t *c, enum acme_chall_type t, struct acme_chall *ch, struct acme_err *err)
{
	if (get_url(c, "url", &ch->url) == -1 || ch->url == NULL) {
		chall_clear(ch);
		if (t != ACME_CHALL_DNS01)
			return 0;
		acme_errf(err, "the CA sent a dns-01 challenge without a URL");
		return -1;
	}
	ch->status = get_str(c, "status");
	if (t != ACME_CHALL_DNS_PERSIST01)
		ch->token = get_str(c, "token");
	else if (chall_issuers(c, ch) == -1)
		chall_clear(ch);
	return 0;
}

/* RFC 8555 §7.1.4 authorization object; the DNS challenges dns01 knows are kept. */
int
json_authz_parse(const char *body, size_t len, struct acme_authz *a, struct acme_err *err)
{
	json_t *j, *id, *chs, *c;
	size_t i;
	int rc = -1;
	enum acme_chall_type t;
	char *type;

	memset(a, 0, sizeof(*a));
	j = parse_object(body, len);
	if (j == NULL) {
		acme_errf(err, "the CA sent an authorization that is not a JSON object");
		return -1;
	}
	a->status = get_str(j, "status");
	id = json_object_get(j, "identifier");
	a->identifier = json_is_object(id) ? get_str(id, "value") : NULL;
	if (a->status == NULL || a->identifier == NULL) {
		acme_errf(err, "the CA sent an authorization without status or identifier");
		goto out;
	}
	a->wildcard = json_is_true(json_object_get(j, "wildcard"));
	chs = json_object_get(j, "challenges");
	json_array_foreach(chs, i, c) {
		type = get_str(c, "type");
		if (type != NULL && acme_chall_type_parse(type, &t) == 0 && a->chall[t].url == NULL &&
		    chall_from(c, t, &a->chall[t], err) == -1) {
			free(type);
			goto out;
		}
		free(type);
		if (a->error.type == NULL && json_is_object(json_object_get(c, "error")))
			(void)problem_from(json_object_get(c, "error"), &a->error);
	}
	rc = 0;
out:
	json_decref(j);
	if (rc != 0)
		acme_authz_free(a);
	return rc;
}

/* Free an authorization. */
void
acme_authz_free(struct acme_authz *a)
{
	size_t t;

	if (a == NULL)
		return;
	free(a->status);
	free(a->identifier);
	for (t = 0; t < ACME_CHALL_NTYPES; t++)
		chall_clear(&a->chall[t]);
	acme_problem_free(&a->error);
	memset(a, 0, sizeof(*a));
}

/* RFC 8555 §7.1.2 account object: status and contacts. */
int
json_account_parse(const char *body, size_t len, struct acme_account_info *a)
{
	json_t *j, *c, *v;
	size_t i, n = 0;
	char buf[1024];

	memset(a, 0, sizeof(*a));
	j = parse_object(body, len);
	if (j == NULL)
		return -1;
	a->status = get_str(j, "status");
	c = json_object_get(j, "contact");
	buf[0] = '\0';
	json_array_foreach(c, i, v) {
		if (json_is_string(v) && n < sizeof(buf))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n > 0 ? ", " : "",
			    json_string_value(v));
	}
	if (buf[0] != '\0')
		a->contact = strdup(buf);
	json_decref(j);
	if (a->status == NULL) {
		acme_account_info_free(a);
		return -1;
	}
	return 0;
}

/* Free account info. */
void
acme_account_info_free(struct acme_account_info *a)
{
	if (a == NULL)
		return;
	free(a->status);
	free(a->contact);
	memset(a, 0, sizeof(*a));
}

/* RFC 9773 §4.2: {"suggestedWindow": {"start": ..., "end": ...}}. */
int
json_renewal_info_parse(const char *body, size_t len, time_t *start, time_t *end)
{
	json_t *j, *w;
	int rc = -1;

	j = parse_object(body, len);
	if (j == NULL)
		return -1;
	w = json_object_get(j, "suggestedWindow");
	if (!json_is_object(w) ||
	    acme_rfc3339(json_string_value(json_object_get(w, "start")), start) == -1 ||
	    acme_rfc3339(json_string_value(json_object_get(w, "end")), end) == -1 ||
	    *end < *start)
		goto out;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

/* Dump compactly with sorted keys: RFC 7638 §3.3 canonical form for a JWK. */
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

/* RFC 7638 §3.2: only the required members, lexicographic order, no whitespace. */
char *
json_jwk_canonical(const struct jwk *k)
{
	if (k->kty == NULL)
		return NULL;
	if (strcmp(k->kty, "EC") == 0 && k->crv != NULL && k->x != NULL && k->y != NULL)
		return dump(json_pack("{s:s, s:s, s:s, s:s}", "crv", k->crv, "kty", k->kty,
		    "x", k->x, "y", k->y));
	if (strcmp(k->kty, "RSA") == 0 && k->n != NULL && k->e != NULL)
		return dump(json_pack("{s:s, s:s, s:s}", "e", k->e, "kty", k->kty, "n", k->n));
	return NULL;
}

/* RFC 8555 §6.2 protected header. */
char *
json_protected(const char *alg, const char *nonce, const char *url, const char *kid,
    const char *jwk_json)
{
	json_t *j, *k;
	json_error_t e;

	j = json_pack("{s:s, s:s}", "alg", alg, "url", url);
	if (j == NULL)
		return NULL;
	if (nonce != NULL && json_object_set_new(j, "nonce", json_string(nonce)) != 0)
		goto bad;
	if (kid != NULL && json_object_set_new(j, "kid", json_string(kid)) != 0)
		goto bad;
	if (jwk_json != NULL) {
		k = json_loads(jwk_json, 0, &e);
		if (k == NULL || json_object_set_new(j, "jwk", k) != 0)
			goto bad;
	}
	return dump(j);
bad:
	json_decref(j);
	return NULL;
}

/* RFC 7515 §7.2.2 flattened JWS JSON serialization. */
char *
json_jws(const char *protected_b64, const char *payload_b64, const char *sig_b64)
{
	return dump(json_pack("{s:s, s:s, s:s}", "protected", protected_b64, "payload",
	    payload_b64, "signature", sig_b64));
}

/* RFC 8555 §7.3 newAccount payload. */
char *
json_new_account(const char *email, bool agree_tos, bool only_existing, const char *eab_jws)
{
	json_t *j, *e;
	json_error_t je;
	char *mailto = NULL;

	j = json_object();
	if (j == NULL)
		return NULL;
	if (only_existing) {
		if (json_object_set_new(j, "onlyReturnExisting", json_true()) != 0)
			goto bad;
		return dump(j);
	}
	if (agree_tos && json_object_set_new(j, "termsOfServiceAgreed", json_true()) != 0)
		goto bad;
	if (email != NULL) {
		if (asprintf(&mailto, "mailto:%s", email) == -1)
			goto bad;
		if (json_object_set_new(j, "contact", json_pack("[s]", mailto)) != 0)
			goto bad;
	}
	if (eab_jws != NULL) {
		e = json_loads(eab_jws, 0, &je);
		if (e == NULL || json_object_set_new(j, "externalAccountBinding", e) != 0)
			goto bad;
	}
	free(mailto);
	return dump(j);
bad:
	free(mailto);
	json_decref(j);
	return NULL;
}

/* RFC 8555 §7.4 newOrder payload; RFC 9773 §5 "replaces". */
char *
json_new_order(const char *const *names, size_t n, const char *replaces, const char *profile)
{
	json_t *j, *ids;
	size_t i;

	j = json_object();
	ids = json_array();
	if (j == NULL || ids == NULL || json_object_set_new(j, "identifiers", ids) != 0) {
		json_decref(j);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (json_array_append_new(ids, json_pack("{s:s, s:s}", "type", "dns", "value",
		    names[i])) != 0)
			goto bad;
	if (replaces != NULL && json_object_set_new(j, "replaces", json_string(replaces)) != 0)
		goto bad;
	if (profile != NULL && json_object_set_new(j, "profile", json_string(profile)) != 0)
		goto bad;
	return dump(j);
bad:
	json_decref(j);
	return NULL;
}

/* RFC 8555 §7.4.1 newAuthz payload. */
char *
json_new_authz(const char *name)
{
	return dump(json_pack("{s:{s:s, s:s}}", "identifier", "type", "dns", "value", name));
}

/* RFC 8555 §7.4 finalize payload. */
char *
json_finalize(const char *csr_b64)
{
	return dump(json_pack("{s:s}", "csr", csr_b64));
}

/* RFC 8555 §7.6 revokeCert payload. */
char *
json_revoke(const char *cert_b64, int reason)
{
	if (reason < 0)
		return dump(json_pack("{s:s}", "certificate", cert_b64));
	return dump(json_pack("{s:s, s:i}", "certificate", cert_b64, "reason", reason));
}

/* RFC 8555 §7.3.5 keyChange inner payload: {"account", "oldKey"}. */
char *
json_key_change(const char *account_url, const char *old_jwk_json)
{
	json_t *k;
	json_error_t e;

	k = json_loads(old_jwk_json, 0, &e);
	if (k == NULL)
		return NULL;
	return dump(json_pack("{s:s, s:o}", "account", account_url, "oldKey", k));
}

/* RFC 8555 §7.3.6. */
char *
json_deactivate(void)
{
	return dump(json_pack("{s:s}", "status", "deactivated"));
}

/* Get a string from a flat map document. */
char *
json_map_get(const char *text, size_t len, const char *key)
{
	json_t *j;
	char *v;

	j = parse_object(text, len);
	if (j == NULL)
		return NULL;
	v = get_str(j, key);
	json_decref(j);
	return v;
}

/* Set (or with value NULL, remove) a string in a flat map document. */
char *
json_map_put(const char *text, size_t len, const char *key, const char *value)
{
	json_t *j = NULL;
	char *out = NULL;

	if (text != NULL && len > 0)
		j = parse_object(text, len);
	if (j == NULL)
		j = json_object();
	if (j == NULL)
		return NULL;
	if (value != NULL) {
		if (json_object_set_new(j, key, json_string(value)) != 0)
			goto out;
	} else {
		json_object_del(j, key);
	}
	out = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
out:
	json_decref(j);
	return out;
}
