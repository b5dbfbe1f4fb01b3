/* common/toml.c -- the TOML subset of acme-dns's config.cfg: lexer and parser */
/* SPDX-License-Identifier: ISC */

/*
 * Supported (TOML v1.0.0 sections named): comments (§Comment), [table]
 * headers (§Table), bare keys (§Keys), basic strings with \" \\ \b \f \n
 * \r \t \uXXXX \UXXXXXXXX and 'literal' strings (§String, one line each),
 * decimal integers (§Integer), booleans (§Boolean), and arrays of strings
 * across lines with comments and a trailing comma (§Array). Everything else
 * (dotted or quoted keys, floats, dates, inline tables, arrays of tables,
 * multi-line strings) is a clear error, never a guess.
 */

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

struct parser {
	const char *name;	/* file name for messages */
	const char *p;		/* cursor */
	const char *end;
	unsigned line;		/* line of the cursor, from 1 */
	const char *table;	/* current table name; "" before any header */
	struct toml_doc *doc;
	size_t nnames;		/* keys plus headers so far, against TOML_MAX_KEYS */
	char *err;
	size_t errlen;
};

static void __attribute__((format(printf, 3, 4)))
perr(struct parser *ps, unsigned line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->err == NULL || ps->errlen == 0)
		return;
	if (line > 0)
		snprintf(ps->err, ps->errlen, "%s:%u: %s", ps->name, line, msg);
	else
		snprintf(ps->err, ps->errlen, "%s: %s", ps->name, msg);
}

/*
 * Return the length (1..4) of the valid UTF-8 sequence at s, reading at most
 * n bytes, or 0 if s does not start one. Used by the config lexer and by
 * log.c to keep JSON lines valid.
 */
size_t
utf8_char_len(const unsigned char *s, size_t n)
{
	unsigned c, cp;
	size_t len, i;

	if (n == 0)
		return 0;
	c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Check the raw bytes line by line before parsing: line length, NUL and
 * other control characters (TOML allows only tab, and CR before LF), and
 * UTF-8 validity (TOML §Spec: a TOML file must be valid UTF-8).
 */
static int
check_bytes(struct parser *ps)
{
	const unsigned char *s = (const unsigned char *)ps->p;
	const unsigned char *e = (const unsigned char *)ps->end;
	const unsigned char *bol = s;
	unsigned line = 1;
	size_t k;

	while (s < e) {
		unsigned char c = *s;

		if (c == '\n') {
			s++;
			bol = s;
			line++;
			continue;
		}
		if ((size_t)(s - bol) >= CONFIG_MAX_LINE) {
			perr(ps, line, "line longer than %d bytes", CONFIG_MAX_LINE);
			return -1;
		}
		if (c == '\r' && s + 1 < e && s[1] == '\n') {
			s++;
			continue;
		}
		if (c == '\0') {
			perr(ps, line, "NUL byte in file");
			return -1;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			perr(ps, line, "control character 0x%02x in file", c);
			return -1;
		}
		if ((k = utf8_char_len(s, (size_t)(e - s))) == 0) {
			perr(ps, line, "invalid UTF-8");
			return -1;
		}
		s += k;
	}
	return 0;
}

static bool
is_bare(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-';
}

static void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

/* True at the end of a line: LF, CRLF or end of input. */
static bool
at_eol(const struct parser *ps)
{
	return ps->p >= ps->end || *ps->p == '\n' ||
	    (*ps->p == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n');
}

/* Step over the line ending at the cursor, if any. */
static void
next_line(struct parser *ps)
{
	if (ps->p < ps->end && *ps->p == '\r')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '\n') {
		ps->p++;
		ps->line++;
	}
}

/* Skip spaces and an optional comment; then require the end of the line. */
static int
expect_eol(struct parser *ps, const char *after)
{
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '#')
		while (!at_eol(ps))
			ps->p++;
	if (!at_eol(ps)) {
		perr(ps, ps->line, "expected end of line after %s", after);
		return -1;
	}
	next_line(ps);
	return 0;
}

/*
 * Read a bare key or table name (TOML §Keys: A-Za-z0-9_-) into a new
 * string. Quoted and dotted names are outside the subset.
 */
static char *
bare_name(struct parser *ps, const char *what)
{
	const char *start = ps->p;
	size_t n;
	char *s;

	while (ps->p < ps->end && is_bare(*ps->p))
		ps->p++;
	n = (size_t)(ps->p - start);
	if (n == 0) {
		if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\''))
			perr(ps, ps->line, "quoted %ss are not supported", what);
		else
			perr(ps, ps->line, "expected a %s", what);
		return NULL;
	}
	if (n > TOML_MAX_KEY) {
		perr(ps, ps->line, "%s longer than %d bytes", what, TOML_MAX_KEY);
		return NULL;
	}
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '.') {
		perr(ps, ps->line, "dotted %ss are not supported", what);
		return NULL;
	}
	if ((s = strndup(start, n)) == NULL)
		perr(ps, ps->line, "out of memory");
	return s;
}

/* Append code point cp as UTF-8 to out; false for surrogates or > U+10FFFF. */
static bool
put_utf8(char **out, unsigned long cp)
{
	unsigned char *o = (unsigned char *)*out;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	if (cp < 0x80)
		*o++ = (unsigned char)cp;
	else if (cp < 0x800) {
		*o++ = (unsigned char)(0xc0 | cp >> 6);
		*o++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (unsigned char)(0xe0 | cp >> 12);
		*o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (unsigned char)(0xf0 | cp >> 18);
		*o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (unsigned char)(0x80 | (cp & 0x3f));
	}
	*out = (char *)o;
	return true;
}

/*
 * One escape sequence of a basic string (TOML §String), the cursor just
 * after its backslash and e the end of the line: its text appended at *o.
 * Returns 0, or -1 with the error reported.
 */
static int
escape(struct parser *ps, const char *e, char **o)
{
	static const char from[] = "\"\\bfnrt", to[] = "\"\\\b\f\n\r\t";
	const char *k;
	unsigned long cp = 0;
	int nd, i;
	char c;

	if (ps->p >= e) {
		perr(ps, ps->line, "unterminated string");
		return -1;
	}
	c = *ps->p++;
	if (c != '\0' && (k = strchr(from, c)) != NULL) {
		*(*o)++ = to[k - from];
		return 0;
	}
	if (c != 'u' && c != 'U') {
		perr(ps, ps->line, "invalid escape '\\%c' in string",
		    (unsigned char)c >= 0x20 && (unsigned char)c < 0x7f ? c : '?');
		return -1;
	}
	for (nd = c == 'u' ? 4 : 8, i = 0; i < nd; i++) {
		char h = ps->p < e ? *ps->p : '\0';
		int v = (h >= '0' && h <= '9') ? h - '0' :
		    (h >= 'a' && h <= 'f') ? h - 'a' + 10 :
		    (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;

		if (v < 0) {
			perr(ps, ps->line, "\\%c needs %d hex digits", c, nd);
			return -1;
		}
		cp = cp << 4 | (unsigned long)v;
		ps->p++;
	}
	if (!put_utf8(o, cp)) {
		perr(ps, ps->line, "\\%c escape is not a valid, non-NUL Unicode scalar value", c);
		return -1;
	}
	return 0;
}

/*
 * Read a one-line string at the cursor (which is at its opening quote) into
 * a new NUL-terminated string. Basic strings take TOML's escapes; literal
 * strings are taken as written. Escapes never lengthen the text (\uXXXX is
 * 6 bytes for at most 3, \UXXXXXXXX 10 for at most 4), so the raw length
 * bounds the output.
 */
static char *
string_value(struct parser *ps)
{
	char q = *ps->p;
	const char *s, *e;
	char *out, *o;

	if (ps->end - ps->p >= 3 && ps->p[1] == q && ps->p[2] == q) {
		perr(ps, ps->line, "multi-line strings are not supported");
		return NULL;
	}
	s = ++ps->p;
	for (e = s; e < ps->end && *e != '\n'; e++)
		;
	if ((out = malloc((size_t)(e - s) + 1)) == NULL) {
		perr(ps, ps->line, "out of memory");
		return NULL;
	}
	o = out;
	while (ps->p < e && *ps->p != q) {
		char c = *ps->p;

		if (c == '\r' || (q == '"' && (unsigned char)c < 0x20 && c != '\t'))
			break;	/* reported below as unterminated / control */
		if (q == '\'' || c != '\\') {
			*o++ = c;
			ps->p++;
			continue;
		}
		ps->p++;	/* the backslash */
		if (escape(ps, e, &o) == -1)
			goto fail;
	}
	if (ps->p >= e || *ps->p != q) {
		if (ps->p < e && *ps->p != '\r')
			perr(ps, ps->line, "control character in string");
		else
			perr(ps, ps->line, "unterminated string");
		goto fail;
	}
	ps->p++;
	*o = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

/*
 * Read a decimal integer (TOML §Integer): optional sign, no leading zeros,
 * '_' only between digits. Floats and dates are refused by name.
 */
static int
integer_value(struct parser *ps, long long *out)
{
	const char *start = ps->p;
	bool neg = false, digit = false;
	unsigned long long v = 0, lim;

	if (*ps->p == '+' || *ps->p == '-')
		neg = *ps->p++ == '-';
	if (ps->end - ps->p >= 2 && ps->p[0] == '0' && (ps->p[1] == 'x' || ps->p[1] == 'o' ||
	    ps->p[1] == 'b')) {
		perr(ps, ps->line, "hexadecimal, octal and binary integers are not supported");
		return -1;
	}
	if (ps->p < ps->end && *ps->p == '0' && ps->p + 1 < ps->end &&
	    (ps->p[1] >= '0' && ps->p[1] <= '9')) {
		perr(ps, ps->line, "leading zeros are not allowed in integers");
		return -1;
	}
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	while (ps->p < ps->end) {
		char c = *ps->p;

		if (c >= '0' && c <= '9') {
			unsigned d = (unsigned)(c - '0');

			if (v > (lim - d) / 10) {
				perr(ps, ps->line, "integer out of range");
				return -1;
			}
			v = v * 10 + d;
			digit = true;
		} else if (c == '_') {
			if (!digit || ps->p + 1 >= ps->end || ps->p[1] < '0' || ps->p[1] > '9') {
				perr(ps, ps->line, "'_' must sit between digits");
				return -1;
			}
			/* The digit after '_' sets digit again. */
		} else
			break;
		ps->p++;
	}
	if (!digit || ps->p == start) {
		perr(ps, ps->line, "invalid value");
		return -1;
	}
	if (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E' ||
	    *ps->p == ':' || *ps->p == '-' || *ps->p == 'T')) {
		perr(ps, ps->line, "floats and dates are not supported");
		return -1;
	}
	*out = neg ? (v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v) :
	    (long long)v;
	return 0;
}

/* Skip spaces, comments and line breaks inside an array. */
static void
skip_array_space(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == '#')
			while (!at_eol(ps))
				ps->p++;
		if (ps->p < ps->end && at_eol(ps))
			next_line(ps);
		else
			return;
	}
}

/* Read an array of strings (TOML §Array) into a; cursor at '['. */
static int
array_value(struct parser *ps, struct config_strv *a)
{
	unsigned start_line = ps->line;
	size_t cap = 0;

	ps->p++;
	for (;;) {
		char *s;

		skip_array_space(ps);
		if (ps->p >= ps->end) {
			perr(ps, start_line, "unterminated array");
			return -1;
		}
		if (*ps->p == ']')
			break;
		if (*ps->p != '"' && *ps->p != '\'') {
			perr(ps, ps->line, "arrays may hold only strings");
			return -1;
		}
		if (a->n >= CONFIG_MAX_ARRAY) {
			perr(ps, ps->line, "array has more than %d entries", CONFIG_MAX_ARRAY);
			return -1;
		}
		if (a->n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			char **v = realloc(a->v, ncap * sizeof(*v));
			unsigned *l;

			if (v == NULL) {
				perr(ps, ps->line, "out of memory");
				return -1;
			}
			a->v = v;
			if ((l = realloc(a->line, ncap * sizeof(*l))) == NULL) {
				perr(ps, ps->line, "out of memory");
				return -1;
			}
			a->line = l;
			cap = ncap;
		}
		a->line[a->n] = ps->line;
		if ((s = string_value(ps)) == NULL)
			return -1;
		a->v[a->n++] = s;
		skip_array_space(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']')
			break;
		if (ps->p >= ps->end)
			perr(ps, start_line, "unterminated array");
		else
			perr(ps, ps->line, "expected ',' or ']' in array");
		return -1;
	}
	ps->p++;
	return 0;
}

/* Read the value after '=' into kv. */
static int
value(struct parser *ps, struct toml_kv *kv)
{
	const char *p = ps->p;
	size_t left = (size_t)(ps->end - p);

	if (at_eol(ps) || *p == '#') {
		perr(ps, ps->line, "expected a value after '='");
		return -1;
	}
	if (*p == '"' || *p == '\'') {
		kv->type = TOML_STRING;
		return (kv->str = string_value(ps)) == NULL ? -1 : 0;
	}
	if (*p == '[') {
		kv->type = TOML_ARRAY;
		return array_value(ps, &kv->array);
	}
	if (left >= 4 && strncmp(p, "true", 4) == 0 && (left == 4 || !is_bare(p[4]))) {
		kv->type = TOML_BOOL;
		kv->boolean = true;
		ps->p += 4;
		return 0;
	}
	if (left >= 5 && strncmp(p, "false", 5) == 0 && (left == 5 || !is_bare(p[5]))) {
		kv->type = TOML_BOOL;
		kv->boolean = false;
		ps->p += 5;
		return 0;
	}
	if (*p == '+' || *p == '-' || (*p >= '0' && *p <= '9')) {
		kv->type = TOML_INTEGER;
		return integer_value(ps, &kv->integer);
	}
	if (*p == '{') {
		perr(ps, ps->line, "inline tables are not supported");
		return -1;
	}
	perr(ps, ps->line, "invalid value (strings must be quoted)");
	return -1;
}

/* Count one more key or header against TOML_MAX_KEYS. */
static int
count_name(struct parser *ps)
{
	if (++ps->nnames > TOML_MAX_KEYS) {
		perr(ps, ps->line, "more than %d keys and tables", TOML_MAX_KEYS);
		return -1;
	}
	return 0;
}

/* Parse "[name]" at the cursor (TOML §Table); duplicates are errors. */
static int
table_header(struct parser *ps)
{
	struct toml_doc *doc = ps->doc;
	struct toml_table *t;
	char *name;
	size_t i;

	if (count_name(ps) == -1)
		return -1;
	ps->p++;
	if (ps->p < ps->end && *ps->p == '[') {
		perr(ps, ps->line, "arrays of tables are not supported");
		return -1;
	}
	skip_ws(ps);
	if ((name = bare_name(ps, "table name")) == NULL)
		return -1;
	if (ps->p >= ps->end || *ps->p != ']') {
		perr(ps, ps->line, "expected ']' after table name");
		free(name);
		return -1;
	}
	ps->p++;
	for (i = 0; i < doc->ntables; i++) {
		if (strcasecmp(doc->tables[i].name, name) == 0) {
			perr(ps, ps->line, "duplicate table [%s] (first at line %u)", name,
			    doc->tables[i].line);
			free(name);
			return -1;
		}
	}
	/* TOML_MAX_KEYS bounds ntables, so the growth below is bounded too. */
	t = realloc(doc->tables, (doc->ntables + 1) * sizeof(*t));
	if (t == NULL) {
		perr(ps, ps->line, "out of memory");
		free(name);
		return -1;
	}
	doc->tables = t;
	t[doc->ntables].name = name;
	t[doc->ntables].line = ps->line;
	doc->ntables++;
	ps->table = name;
	return expect_eol(ps, "table header");
}

static void
kv_clear(struct toml_kv *kv)
{
	free(kv->key);
	free(kv->str);
	config_strv_free(&kv->array);
	memset(kv, 0, sizeof(*kv));
}

/* Parse "key = value" at the cursor; duplicates in one table are errors. */
static int
key_value(struct parser *ps)
{
	struct toml_doc *doc = ps->doc;
	struct toml_kv kv, *nkv;
	size_t i;

	memset(&kv, 0, sizeof(kv));
	if (count_name(ps) == -1)
		return -1;
	kv.line = ps->line;
	kv.table = ps->table;
	if ((kv.key = bare_name(ps, "key")) == NULL)
		goto fail;
	if (ps->p >= ps->end || *ps->p != '=') {
		perr(ps, ps->line, "expected '=' after key");
		goto fail;
	}
	ps->p++;
	skip_ws(ps);
	for (i = 0; i < doc->nkv; i++) {
		if (doc->kv[i].table == kv.table && strcasecmp(doc->kv[i].key, kv.key) == 0) {
			perr(ps, kv.line, "duplicate key '%s'%s%s%s (first at line %u)", kv.key,
			    *kv.table ? " in [" : "", kv.table, *kv.table ? "]" : "",
			    doc->kv[i].line);
			goto fail;
		}
	}
	if (value(ps, &kv) == -1 || expect_eol(ps, "value") == -1)
		goto fail;
	if ((nkv = realloc(doc->kv, (doc->nkv + 1) * sizeof(*nkv))) == NULL) {
		perr(ps, kv.line, "out of memory");
		goto fail;
	}
	doc->kv = nkv;
	doc->kv[doc->nkv++] = kv;
	return 0;
fail:
	kv_clear(&kv);
	return -1;
}

/*
 * Parse len bytes of text (the file named name) into doc: table headers and
 * key/value pairs in file order. Returns 0, or -1 with one line
 * "name:line: message" in err and doc left empty. The caller frees doc with
 * toml_doc_free().
 */
int
toml_parse(const char *name, const char *text, size_t len, struct toml_doc *doc,
    char *err, size_t errlen)
{
	struct parser ps;
	int rc = -1;

	memset(doc, 0, sizeof(*doc));
	memset(&ps, 0, sizeof(ps));
	ps.name = name ? name : "(config)";
	if (text == NULL)
		len = 0;	/* nothing to read; an empty file still gets the checks below */
	ps.p = text;
	ps.end = text != NULL ? text + len : NULL;
	ps.line = 1;
	ps.table = "";
	ps.doc = doc;
	ps.err = err;
	ps.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len > CONFIG_MAX_FILE) {
		perr(&ps, 0, "file larger than %d bytes", CONFIG_MAX_FILE);
		goto out;
	}
	if (check_bytes(&ps) == -1)
		goto out;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3;	/* a UTF-8 byte order mark */

	while (ps.p < ps.end) {
		skip_ws(&ps);
		if (ps.p >= ps.end)
			break;
		if (*ps.p == '#' || at_eol(&ps)) {
			if (expect_eol(&ps, "comment") == -1)
				goto out;
			continue;
		}
		if (*ps.p == '[') {
			if (table_header(&ps) == -1)
				goto out;
		} else if (key_value(&ps) == -1)
			goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		toml_doc_free(doc);
	return rc;
}

/* Free every string and array toml_parse put in doc, and zero it. NULL is fine. */
void
toml_doc_free(struct toml_doc *doc)
{
	size_t i;

	if (doc == NULL)
		return;
	for (i = 0; i < doc->nkv; i++)
		kv_clear(&doc->kv[i]);
	free(doc->kv);
	for (i = 0; i < doc->ntables; i++)
		free(doc->tables[i].name);
	free(doc->tables);
	memset(doc, 0, sizeof(*doc));
}

/* Free the n strings of v, its arrays, and zero it. NULL is fine. */
void
config_strv_free(struct config_strv *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	free(v->line);
	memset(v, 0, sizeof(*v));
}
