/* api/json.c -- request parsing and reply formatting of the acme-dns wire contract */
/* SPDX-License-Identifier: ISC */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"

/* Error replies: status and one-line body, in enum api_err order. */
static const struct {
	unsigned status;
	const char *body;
} api_errs[] = {
	[API_ERR_NONE] = { 200, "" },
	[API_ERR_MALFORMED] = { 400, "{\"error\":\"malformed_json_payload\"}" },
	[API_ERR_BAD_CIDR] = { 400, "{\"error\":\"invalid_allowfrom_cidr\"}" },
	[API_ERR_FORBIDDEN] = { 401, "{\"error\":\"forbidden\"}" },
	[API_ERR_BAD_SUBDOMAIN] = { 400, "{\"error\":\"bad_subdomain\"}" },
	[API_ERR_BAD_TXT] = { 400, "{\"error\":\"bad_txt\"}" },
	[API_ERR_DB] = { 500, "{\"error\":\"db_error\"}" },
	[API_ERR_DB_UNAVAILABLE] = { 503, "{\"error\":\"db_unavailable\"}" },
	[API_ERR_NOT_FOUND] = { 404, "{\"error\":\"not_found\"}" },
	[API_ERR_METHOD] = { 405, "{\"error\":\"method_not_allowed\"}" },
	[API_ERR_TOO_LARGE] = { 413, "{\"error\":\"payload_too_large\"}" },
	[API_ERR_INTERNAL] = { 500, "{\"error\":\"internal_error\"}" },
	[API_ERR_TOO_MANY] = { 429, "{\"error\":\"too_many_requests\"}" },
	[API_ERR_PERSIST_VALUE] = { 400, "{\"error\":\"bad_persist_value\"}" },
	[API_ERR_PERSIST_TOO_LONG] = { 400, "{\"error\":\"persist_value_too_long\"}" },
	[API_ERR_ISSUER] = { 400, "{\"error\":\"bad_issuer\"}" },
	[API_ERR_PERSIST_PARAM] = { 400, "{\"error\":\"bad_persist_parameter\"}" },
	[API_ERR_PERSIST_DUP] = { 400, "{\"error\":\"duplicate_persist_parameter\"}" },
	[API_ERR_ACCOUNTURI] = { 400, "{\"error\":\"missing_accounturi\"}" },
	[API_ERR_PERSIST_UNTIL] = { 400, "{\"error\":\"bad_persist_until\"}" },
	[API_ERR_PERSIST_LIMIT] = { 400, "{\"error\":\"persist_limit_reached\"}" },
	[API_ERR_PERSIST_NONE] = { 404, "{\"error\":\"persist_not_found\"}" },
	[API_ERR_BAD_NOTE] = { 400, "{\"error\":\"bad_note\"}" },
};

/* The HTTP status of e (500 for a value outside the enum). */
unsigned
api_err_status(enum api_err e)
{
	if ((unsigned)e >= sizeof(api_errs) / sizeof(api_errs[0]))
		return 500;
	return api_errs[e].status;
}

/* The static one-line JSON body of e. */
const char *
api_err_body(enum api_err e)
{
	if ((unsigned)e >= sizeof(api_errs) / sizeof(api_errs[0]))
		return api_errs[API_ERR_INTERNAL].body;
	return api_errs[e].body;
}

/*
 * True if s is one DNS label: 1..63 octets of letters, digits and hyphens,
 * not starting or ending with a hyphen (RFC 1035 §2.3.1, with RFC 1123 §2.1
 * allowing a leading digit, which UUID subdomains need).
 */
bool
api_label_valid(const char *s)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > API_MAX_LABEL)
		return false;
	if (s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

/*
 * True if the nesting of [ and { in body stays within max levels. Strings
 * (with their escapes) are skipped so brackets inside them do not count.
 * Unbalanced text is left for the parser to refuse.
 */
bool
api_json_depth_ok(const char *body, size_t len, unsigned max)
{
	unsigned depth = 0;
	bool in_str = false;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = body[i];

		if (in_str) {
			if (c == '\\')
				i++;	/* the escaped character cannot end the string */
			else if (c == '"')
				in_str = false;
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			break;
		case '[':
		case '{':
			if (++depth > max)
				return false;
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
	}
	return true;
}

/*
 * Compare a JSON object key with one of our lower-case ASCII field names the
 * way Go's encoding/json does: ASCII case is ignored, and the Unicode
 * characters that fold to ASCII letters (U+017F long s, U+212A Kelvin sign)
 * match 's' and 'k' too.
 */
static bool
key_matches(const char *key, size_t keylen, const char *name)
{
	const unsigned char *k = (const unsigned char *)key;
	size_t i = 0;

	for (; *name != '\0'; name++) {
		unsigned char c;

		if (i >= keylen)
			return false;
		c = k[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c == (unsigned char)*name) {
			i++;
			continue;
		}
		if (*name == 's' && keylen - i >= 2 && k[i] == 0xc5 && k[i + 1] == 0xbf) {
			i += 2;
			continue;
		}
		if (*name == 'k' && keylen - i >= 3 && k[i] == 0xe2 && k[i + 1] == 0x84 &&
		    k[i + 2] == 0xaa) {
			i += 3;
			continue;
		}
		return false;
	}
	return i == keylen;
}

/* Parse text with jansson after the depth check; NULL if it is not JSON. */
static json_t *
json_parse(const char *body, size_t len, size_t flags)
{
	json_error_t jerr;

	if (!api_json_depth_ok(body, len, API_MAX_JSON_DEPTH))
		return NULL;
	/* JSON_ALLOW_NUL: a "\u0000" is valid JSON; we refuse it where it matters. */
	return json_loadb(body, len, flags | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
}

/*
 * Copy a CIDR entry without its brackets (acme-dns's sanitizeIPv6addr), as
 * acme-dns stores and echoes it. Returns 0, or -1 if it is too long or holds
 * a NUL.
 */
static int
cidr_copy(const char *s, size_t len, char out[STORAGE_CIDR_LEN])
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\0')
			return -1;
		if (s[i] == '[' || s[i] == ']')
			continue;
		if (o >= STORAGE_CIDR_LEN - 1)
			return -1;
		out[o++] = s[i];
	}
	out[o] = '\0';
	return 0;
}

/*
 * Parse a /register body. Like acme-dns (Go's json.Unmarshal into a struct):
 * an empty body is no body; "null" is an empty request; any other non-object
 * or a wrongly typed "allowfrom" is malformed; the last "allowfrom" key wins;
 * a null element is an empty string, which then fails as a CIDR. Entries are
 * kept with their brackets removed, as acme-dns stores them.
 */
enum api_err
api_json_register_parse(const char *body, size_t len, struct api_register_req *out)
{
	enum api_err rc = API_ERR_MALFORMED;
	json_t *root = NULL, *last = NULL, *note = NULL;
	void *it;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return API_ERR_NONE;
	if ((root = json_parse(body, len, 0)) == NULL)
		goto out;
	if (json_is_null(root)) {
		rc = API_ERR_NONE;
		goto out;
	}
	if (!json_is_object(root))
		goto out;

	/* Type-check every matching key first: a type error wins over a bad CIDR. */
	for (it = json_object_iter(root); it != NULL; it = json_object_iter_next(root, it)) {
		json_t *v = json_object_iter_value(it);
		json_t *e;

		if (key_matches(json_object_iter_key(it), json_object_iter_key_len(it), "note")) {
			if (!json_is_string(v) && !json_is_null(v))
				goto out;
			note = json_is_string(v) ? v : NULL;
			continue;
		}
		if (!key_matches(json_object_iter_key(it), json_object_iter_key_len(it),
		    "allowfrom"))
			continue;
		if (json_is_null(v)) {
			last = NULL;
			continue;
		}
		if (!json_is_array(v))
			goto out;
		json_array_foreach(v, i, e) {
			if (!json_is_string(e) && !json_is_null(e))
				goto out;
		}
		last = v;
	}

	rc = API_ERR_BAD_CIDR;
	if (last != NULL) {
		json_t *e;

		if (json_array_size(last) > STORAGE_MAX_ALLOWFROM)
			goto out;
		json_array_foreach(last, i, e) {
			struct cidr c;

			if (json_is_null(e))
				goto out;	/* Go decodes null as "": not a CIDR */
			if (cidr_copy(json_string_value(e), json_string_length(e),
			    out->allowfrom[i]) == -1)
				goto out;
			if (api_cidr_parse(out->allowfrom[i], &c) == -1)
				goto out;
		}
		out->n = json_array_size(last);
	}
	/* dns01d's note: bounded, printable UTF-8 (no NUL hidden by \u0000). */
	rc = API_ERR_BAD_NOTE;
	if (note != NULL) {
		if (json_string_length(note) > STORAGE_NOTE_MAX ||
		    strlen(json_string_value(note)) != json_string_length(note) ||
		    !storage_note_valid(json_string_value(note)))
			goto out;
		memcpy(out->note, json_string_value(note), json_string_length(note) + 1);
	}
	rc = API_ERR_NONE;
out:
	if (rc != API_ERR_NONE)
		memset(out, 0, sizeof(*out));
	json_decref(root);
	return rc;
}

/*
 * Parse an /update body. acme-dns decodes the first JSON value of the body
 * (trailing bytes are ignored, as Go's json.Decoder does); a field of the
 * wrong type stays empty. Then: subdomain must equal the account's, be a
 * label, and txt must be 43 base64url characters.
 */
enum api_err
api_json_update_parse(const char *body, size_t len, const char *subdomain,
    char txt[STORAGE_TXT_LEN + 1])
{
	enum api_err rc = API_ERR_FORBIDDEN;
	json_t *root = NULL;
	const char *sub = "", *val = "";
	size_t sublen = 0, vallen = 0;
	void *it;

	txt[0] = '\0';
	if (len == 0 || (root = json_parse(body, len, JSON_DISABLE_EOF_CHECK)) == NULL)
		goto out;
	if (!json_is_object(root))
		goto out;
	for (it = json_object_iter(root); it != NULL; it = json_object_iter_next(root, it)) {
		const char *k = json_object_iter_key(it);
		size_t klen = json_object_iter_key_len(it);
		json_t *v = json_object_iter_value(it);

		if (!json_is_string(v))
			continue;	/* null leaves the field; other types are type errors */
		if (key_matches(k, klen, "subdomain")) {
			sub = json_string_value(v);
			sublen = json_string_length(v);
		} else if (key_matches(k, klen, "txt")) {
			val = json_string_value(v);
			vallen = json_string_length(v);
		}
	}
	if (sublen == 0 || sublen != strlen(subdomain) || memcmp(sub, subdomain, sublen) != 0)
		goto out;
	rc = API_ERR_BAD_SUBDOMAIN;
	if (!api_label_valid(subdomain))
		goto out;
	rc = API_ERR_BAD_TXT;
	if (vallen != STORAGE_TXT_LEN || strlen(val) != vallen || !is_acme_txt(val))
		goto out;
	memcpy(txt, val, STORAGE_TXT_LEN + 1);
	rc = API_ERR_NONE;
out:
	json_decref(root);
	return rc;
}

/* A growing output buffer with a fixed capacity (our replies are bounded). */
struct obuf {
	char *p;
	size_t len, cap;
	bool bad;
};

static void
obuf_put(struct obuf *b, const char *s, size_t n)
{
	if (b->bad)
		return;
	if (n >= b->cap - b->len) {
		b->bad = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
obuf_puts(struct obuf *b, const char *s)
{
	obuf_put(b, s, strlen(s));
}

/*
 * Append s as a JSON string the way Go's json.Marshal writes it: quotes,
 * backslash and control characters escaped, and <, >, & as \u003c and so on
 * (HTML-safe). Our strings are validated ASCII, so this rarely does anything.
 */
static void
obuf_json_str(struct obuf *b, const char *s)
{
	char esc[8];

	obuf_put(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			obuf_put(b, esc, 2);
		} else if (c == '\n') {
			obuf_put(b, "\\n", 2);
		} else if (c == '\r') {
			obuf_put(b, "\\r", 2);
		} else if (c == '\t') {
			obuf_put(b, "\\t", 2);
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			obuf_put(b, esc, 6);
		} else {
			obuf_put(b, s, 1);
		}
	}
	obuf_put(b, "\"", 1);
}

/* Worst case of one escaped byte (\u00XX) and the fixed text around the fields. */
#define JSON_ESC_MAX 6
#define REGISTER_FIXED 128

/*
 * The 201 body of /register, acme-dns's RegResponse marshalled by Go:
 * {"username":...,"password":...,"fulldomain":...,"subdomain":...,"allowfrom":[...]}.
 */
char *
api_json_register_reply(const struct storage_account *acct, const char *key,
    const char *domain)
{
	struct obuf b;
	char *full = NULL;
	size_t i, need;

	need = REGISTER_FIXED + JSON_ESC_MAX * (strlen(acct->username) + strlen(key) +
	    2 * strlen(acct->subdomain) + strlen(domain) + 1);
	for (i = 0; i < acct->nallowfrom && i < STORAGE_MAX_ALLOWFROM; i++)
		need += JSON_ESC_MAX * strnlen(acct->allowfrom[i], STORAGE_CIDR_LEN) + 3;
	if ((b.p = malloc(need)) == NULL)
		return NULL;
	b.len = 0;
	b.cap = need;
	b.bad = false;
	b.p[0] = '\0';
	if (asprintf(&full, "%s.%s", acct->subdomain, domain) == -1) {
		free(b.p);
		return NULL;
	}

	obuf_puts(&b, "{\"username\":");
	obuf_json_str(&b, acct->username);
	obuf_puts(&b, ",\"password\":");
	obuf_json_str(&b, key);
	obuf_puts(&b, ",\"fulldomain\":");
	obuf_json_str(&b, full);
	obuf_puts(&b, ",\"subdomain\":");
	obuf_json_str(&b, acct->subdomain);
	obuf_puts(&b, ",\"allowfrom\":[");
	for (i = 0; i < acct->nallowfrom && i < STORAGE_MAX_ALLOWFROM; i++) {
		char e[STORAGE_CIDR_LEN];

		if (i > 0)
			obuf_puts(&b, ",");
		memcpy(e, acct->allowfrom[i], STORAGE_CIDR_LEN);
		e[STORAGE_CIDR_LEN - 1] = '\0';
		obuf_json_str(&b, e);
	}
	obuf_puts(&b, "]}");
	free(full);
	if (b.bad) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* The 200 body of /update: {"txt":"<value>"}. */
char *
api_json_update_reply(const char *txt)
{
	struct obuf b;
	size_t need = 16 + JSON_ESC_MAX * strlen(txt);

	if ((b.p = malloc(need)) == NULL)
		return NULL;
	b.len = 0;
	b.cap = need;
	b.bad = false;
	obuf_puts(&b, "{\"txt\":");
	obuf_json_str(&b, txt);
	obuf_puts(&b, "}");
	if (b.bad) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* Copy a JSON string field (len bytes) into dst[cap] if it fits; "" otherwise. */
static void
field_copy(json_t *v, char *dst, size_t cap, size_t *len, bool *nul)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	*len = n;
	dst[0] = '\0';
	if (nul != NULL)
		*nul = memchr(s, '\0', n) != NULL;
	if (n < cap) {
		memcpy(dst, s, n);
		dst[n] = '\0';
	}
}

/* Parse a /persist body; see api.h. Strict: one JSON object and nothing after it. */
enum api_err
api_json_persist_parse(const char *body, size_t len, struct api_persist_req *out)
{
	enum api_err rc = API_ERR_MALFORMED;
	json_t *root;
	size_t sublen;
	void *it;

	memset(out, 0, sizeof(*out));
	if (len == 0 || (root = json_parse(body, len, 0)) == NULL)
		return API_ERR_MALFORMED;
	if (!json_is_object(root))
		goto out;
	for (it = json_object_iter(root); it != NULL; it = json_object_iter_next(root, it)) {
		const char *k = json_object_iter_key(it);
		size_t klen = json_object_iter_key_len(it);
		json_t *v = json_object_iter_value(it);
		bool sub = key_matches(k, klen, "subdomain"), val = key_matches(k, klen, "value");
		bool iss = key_matches(k, klen, "issuer");

		if (!sub && !val && !iss)
			continue;	/* unknown keys are ignored, as Go does */
		if (json_is_null(v))
			continue;
		if (!json_is_string(v))
			goto out;
		if (sub)
			field_copy(v, out->subdomain, sizeof(out->subdomain), &sublen, NULL);
		else if (val)
			field_copy(v, out->value, sizeof(out->value), &out->value_len,
			    &out->value_nul);
		else
			field_copy(v, out->issuer, sizeof(out->issuer), &out->issuer_len, NULL);
	}
	rc = API_ERR_NONE;
out:
	json_decref(root);
	return rc;
}

/* One record as a JSON object, or NULL. */
static json_t *
persist_obj(const struct storage_persist *r)
{
	return json_pack("{s:s, s:s, s:I}", "issuer", r->issuer, "value", r->value,
	    "updated", (json_int_t)r->updated);
}

/* The 200 body of /persist; see api.h. */
char *
api_json_persist_reply(const char *subdomain, const char *domain,
    const struct storage_persist *one, const struct storage_persist_set *set)
{
	json_t *root = NULL, *arr = NULL, *o;
	char *fqdn = NULL, *out = NULL;
	size_t i;

	if (asprintf(&fqdn, "_validation-persist.%s.%s", subdomain, domain) == -1)
		return NULL;
	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < set->n && i < STORAGE_PERSIST_MAX; i++)
		if ((o = persist_obj(&set->rec[i])) == NULL || json_array_append_new(arr, o) == -1)
			goto out;
	if ((root = json_pack("{s:s, s:s, s:O}", "subdomain", subdomain, "fqdn", fqdn,
	    "records", arr)) == NULL)
		goto out;
	if (one != NULL && ((o = persist_obj(one)) == NULL ||
	    json_object_set_new(root, "record", o) == -1))
		goto out;
	out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(arr);
	json_decref(root);
	free(fqdn);
	return out;
}
