/* tests/unit/test_json.c -- the API's JSON: request parsing, reply bytes, labels, error replies */
/* SPDX-License-Identifier: ISC */

#include <stdlib.h>
#include <string.h>

#include "../../api/api.h"
#include "testhelp.h"

#define SUB "0f3c9a2e-7a61-4c58-9d0b-3f1d2a6b8c41"
#define TXT "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_Q"	/* 43 base64url chars */

static enum api_err
reg(const char *body, struct api_register_req *r)
{
	return api_json_register_parse(body, strlen(body), r);
}

static enum api_err
upd(const char *body, char txt[STORAGE_TXT_LEN + 1])
{
	return api_json_update_parse(body, strlen(body), SUB, txt);
}

static int
test_register_empty_forms(void)
{
	struct api_register_req r;

	CHECK(api_json_register_parse(NULL, 0, &r) == API_ERR_NONE && r.n == 0);
	CHECK(reg("", &r) == API_ERR_NONE && r.n == 0);
	CHECK(reg("null", &r) == API_ERR_NONE && r.n == 0);
	CHECK(reg("{}", &r) == API_ERR_NONE && r.n == 0);
	CHECK(reg(" { } \n", &r) == API_ERR_NONE && r.n == 0);
	CHECK(reg("{\"allowfrom\":[]}", &r) == API_ERR_NONE && r.n == 0);
	CHECK(reg("{\"allowfrom\":null}", &r) == API_ERR_NONE && r.n == 0);
	/* Go's Unmarshal: whitespace alone is "unexpected end of JSON input". */
	CHECK(reg("  ", &r) == API_ERR_MALFORMED);
	return 0;
}

static int
test_register_allowfrom(void)
{
	struct api_register_req r;

	CHECK(reg("{\"allowfrom\":[\"192.0.2.0/24\",\"2001:db8::/32\"]}", &r) == API_ERR_NONE);
	CHECK(r.n == 2);
	CHECK_STR(r.allowfrom[0], "192.0.2.0/24");
	CHECK_STR(r.allowfrom[1], "2001:db8::/32");
	/* acme-dns strips brackets (sanitizeIPv6addr) and stores the stripped form. */
	CHECK(reg("{\"allowfrom\":[\"[2001:db8::]/48\"]}", &r) == API_ERR_NONE && r.n == 1);
	CHECK_STR(r.allowfrom[0], "2001:db8::/48");
	/* Host bits set are fine, as with Go's net.ParseCIDR. */
	CHECK(reg("{\"allowfrom\":[\"192.0.2.7/24\"]}", &r) == API_ERR_NONE && r.n == 1);
	CHECK_STR(r.allowfrom[0], "192.0.2.7/24");
	return 0;
}

static int
test_register_keys_case_insensitive(void)
{
	struct api_register_req r;

	CHECK(reg("{\"AllowFrom\":[\"10.0.0.0/8\"]}", &r) == API_ERR_NONE && r.n == 1);
	CHECK(reg("{\"ALLOWFROM\":[\"10.0.0.0/8\"]}", &r) == API_ERR_NONE && r.n == 1);
	CHECK(reg("{\"allowFROM\":[\"10.0.0.0/8\"]}", &r) == API_ERR_NONE && r.n == 1);
	/* Not the same name: ignored like any unknown key. */
	CHECK(reg("{\"allow_from\":[\"10.0.0.0/8\"]}", &r) == API_ERR_NONE && r.n == 0);
	/* Unknown keys of any type are ignored. */
	CHECK(reg("{\"x\":{\"y\":[1,2,{}]},\"allowfrom\":[\"10.0.0.0/8\"],\"z\":7}", &r) ==
	    API_ERR_NONE && r.n == 1);
	/* The last matching key wins, as Go assigns each in turn. */
	CHECK(reg("{\"allowfrom\":[\"10.0.0.0/8\"],\"AllowFrom\":[\"192.0.2.0/24\",\"::1/128\"]}",
	    &r) == API_ERR_NONE && r.n == 2);
	CHECK_STR(r.allowfrom[0], "192.0.2.0/24");
	CHECK(reg("{\"allowfrom\":[\"10.0.0.0/8\"],\"AllowFrom\":null}", &r) == API_ERR_NONE);
	CHECK(r.n == 0);
	return 0;
}

static int
test_register_bad(void)
{
	struct api_register_req r;
	static const char *malformed[] = {
		"{",
		"{\"allowfrom\":[\"10.0.0.0/8\"]",
		"[]",
		"\"x\"",
		"42",
		"true",
		"{} x",				/* Unmarshal refuses trailing data */
		"{\"allowfrom\":\"10.0.0.0/8\"}",	/* wrong types */
		"{\"allowfrom\":[1]}",
		"{\"allowfrom\":[[\"10.0.0.0/8\"]]}",
		"{\"allowfrom\":{}}",
		"{\"allowfrom\":[\"bad\"],\"allowfrom\":7}",	/* a type error beats a bad CIDR */
		"{'allowfrom':[]}",
		"{\"a\":\"\xff\xfe\"}",		/* invalid UTF-8 */
		"{\"a\":\"\xc0\xaf\"}",		/* overlong encoding */
		"{\"a\":\"\xed\xa0\x80\"}",	/* a UTF-16 surrogate */
	};
	size_t i;

	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		if (reg(malformed[i], &r) != API_ERR_MALFORMED) {
			fprintf(stderr, "    not malformed: %s\n", malformed[i]);
			return 1;
		}
	}
	CHECK(reg("{\"allowfrom\":[\"10.0.0.0/33\"]}", &r) == API_ERR_BAD_CIDR);
	CHECK(reg("{\"allowfrom\":[\"10.0.0.0\"]}", &r) == API_ERR_BAD_CIDR);	/* no prefix */
	CHECK(reg("{\"allowfrom\":[\"example.com/24\"]}", &r) == API_ERR_BAD_CIDR);
	CHECK(reg("{\"allowfrom\":[\"\"]}", &r) == API_ERR_BAD_CIDR);
	CHECK(reg("{\"allowfrom\":[null]}", &r) == API_ERR_BAD_CIDR);	/* Go: "" */
	CHECK(reg("{\"allowfrom\":[\"10.0.0.0/8\\u0000\"]}", &r) == API_ERR_BAD_CIDR);
	CHECK(reg("{\"allowfrom\":[\"10.0.0.0/8\",\"2001:db8::/129\"]}", &r) == API_ERR_BAD_CIDR);
	CHECK(r.n == 0);
	return 0;
}

static int
test_register_limits(void)
{
	struct api_register_req r;
	char body[8192], *p;
	size_t i;

	/* Exactly STORAGE_MAX_ALLOWFROM entries pass; one more is refused. */
	p = body + sprintf(body, "{\"allowfrom\":[");
	for (i = 0; i < STORAGE_MAX_ALLOWFROM; i++)
		p += sprintf(p, "%s\"10.%zu.0.0/16\"", i ? "," : "", i);
	strcpy(p, "]}");
	CHECK(reg(body, &r) == API_ERR_NONE && r.n == STORAGE_MAX_ALLOWFROM);
	CHECK_STR(r.allowfrom[63], "10.63.0.0/16");
	strcpy(p, ",\"10.99.0.0/16\"]}");
	CHECK(reg(body, &r) == API_ERR_BAD_CIDR);

	/* An entry longer than STORAGE_CIDR_LEN - 1 is refused, not cut. */
	p = body + sprintf(body, "{\"allowfrom\":[\"10.0.0.0/8");
	for (i = 0; i < STORAGE_CIDR_LEN; i++)
		*p++ = ' ';
	strcpy(p, "\"]}");
	CHECK(reg(body, &r) == API_ERR_BAD_CIDR);
	return 0;
}

static int
test_depth(void)
{
	struct api_register_req r;
	char body[256];
	char txt[STORAGE_TXT_LEN + 1];
	size_t i, n = 0;

	CHECK(api_json_depth_ok("", 0, 1));
	CHECK(api_json_depth_ok("[[]]", 4, 2));
	CHECK(!api_json_depth_ok("[[[]]]", 6, 2));
	CHECK(api_json_depth_ok("{\"a\":{\"b\":1}}", 13, 2));
	CHECK(!api_json_depth_ok("{\"a\":{\"b\":[]}}", 14, 2));
	/* Brackets inside strings, and escaped quotes, do not count. */
	CHECK(api_json_depth_ok("[\"[[[[{{{{\"]", 12, 1));
	CHECK(api_json_depth_ok("[\"\\\"[[[[\"]", 10, 1));
	CHECK(!api_json_depth_ok("[\"\\\\\",[[]]]", 11, 2));

	/* API_MAX_JSON_DEPTH levels pass; one more is malformed, before jansson. */
	n += (size_t)sprintf(body, "{\"x\":");
	for (i = 1; i < API_MAX_JSON_DEPTH; i++)
		body[n++] = '[';
	for (i = 1; i < API_MAX_JSON_DEPTH; i++)
		body[n++] = ']';
	body[n++] = '}';
	body[n] = '\0';
	CHECK(reg(body, &r) == API_ERR_NONE);
	n = (size_t)sprintf(body, "{\"x\":");
	for (i = 0; i < API_MAX_JSON_DEPTH; i++)
		body[n++] = '[';
	for (i = 0; i < API_MAX_JSON_DEPTH; i++)
		body[n++] = ']';
	body[n++] = '}';
	body[n] = '\0';
	CHECK(reg(body, &r) == API_ERR_MALFORMED);
	CHECK(upd(body, txt) == API_ERR_FORBIDDEN);
	return 0;
}

static int
test_update_parse(void)
{
	char txt[STORAGE_TXT_LEN + 1];

	CHECK(upd("{\"subdomain\":\"" SUB "\",\"txt\":\"" TXT "\"}", txt) == API_ERR_NONE);
	CHECK_STR(txt, TXT);
	/* goacmedns, old lego, cert-manager: {"SubDomain":...,"Txt":...} */
	CHECK(upd("{\"SubDomain\":\"" SUB "\",\"Txt\":\"" TXT "\"}", txt) == API_ERR_NONE);
	CHECK_STR(txt, TXT);
	CHECK(upd("{\"TXT\":\"" TXT "\",\"SUBDOMAIN\":\"" SUB "\"}", txt) == API_ERR_NONE);
	/* Go folds U+017F (long s) to 's' when it matches keys. */
	CHECK(upd("{\"\xc5\xbf" "ubdomain\":\"" SUB "\",\"txt\":\"" TXT "\"}", txt) == API_ERR_NONE);
	/* Unknown keys ignored; trailing bytes after the value ignored (json.Decoder). */
	CHECK(upd("{\"a\":[1,{\"b\":null}],\"subdomain\":\"" SUB "\",\"txt\":\"" TXT "\",\"c\":1}",
	    txt) == API_ERR_NONE);
	CHECK(upd("{\"subdomain\":\"" SUB "\",\"txt\":\"" TXT "\"} trailing", txt) == API_ERR_NONE);
	/* null leaves a field as it was; the last value wins. */
	CHECK(upd("{\"subdomain\":\"" SUB "\",\"txt\":\"" TXT "\",\"Txt\":null}", txt) ==
	    API_ERR_NONE);
	CHECK(upd("{\"subdomain\":\"" SUB "\",\"txt\":\"x\",\"Txt\":\"" TXT "\"}", txt) ==
	    API_ERR_NONE);
	return 0;
}

static int
test_update_errors(void)
{
	char txt[STORAGE_TXT_LEN + 1];
	static const char *forbidden[] = {
		"",
		"null",
		"[]",
		"\"" SUB "\"",
		"{",
		"{\"subdomain\":\"" SUB "\",\"txt\":\"" TXT "\"",
		"{\"txt\":\"" TXT "\"}",
		"{\"subdomain\":\"\",\"txt\":\"" TXT "\"}",
		"{\"subdomain\":\"0f3c9a2e-7a61-4c58-9d0b-3f1d2a6b8c42\",\"txt\":\"" TXT "\"}",
		"{\"subdomain\":\"0F3C9A2E-7A61-4C58-9D0B-3F1D2A6B8C41\",\"txt\":\"" TXT "\"}",
		"{\"subdomain\":\"" SUB "x\",\"txt\":\"" TXT "\"}",
		"{\"subdomain\":\"" SUB "\\u0000\",\"txt\":\"" TXT "\"}",
		"{\"subdomain\":7,\"txt\":\"" TXT "\"}",
		"{\"subdomain\":[\"" SUB "\"],\"txt\":\"" TXT "\"}",
		"{\"sub_domain\":\"" SUB "\",\"txt\":\"" TXT "\"}",
		"{\"subdomain\":\"" SUB "\",\"txt\":\"\xff\"}",	/* invalid UTF-8 */
	};
	size_t i;

	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		if (upd(forbidden[i], txt) != API_ERR_FORBIDDEN || txt[0] != '\0') {
			fprintf(stderr, "    not forbidden: %s\n", forbidden[i]);
			return 1;
		}
	}
	CHECK(upd("{\"subdomain\":\"" SUB "\"}", txt) == API_ERR_BAD_TXT);
	CHECK(upd("{\"subdomain\":\"" SUB "\",\"txt\":7}", txt) == API_ERR_BAD_TXT);
	CHECK(upd("{\"subdomain\":\"" SUB "\",\"txt\":\"\"}", txt) == API_ERR_BAD_TXT);
	CHECK(upd("{\"subdomain\":\"" SUB "\",\"txt\":\"abc\"}", txt) == API_ERR_BAD_TXT);
	CHECK(upd("{\"subdomain\":\"" SUB "\",\"txt\":\"" TXT "A\"}", txt) == API_ERR_BAD_TXT);
	CHECK(upd("{\"subdomain\":\"" SUB "\",\"txt\":"
	    "\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123+/Q\"}", txt) == API_ERR_BAD_TXT);
	CHECK(upd("{\"subdomain\":\"" SUB "\",\"txt\":"
	    "\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_\\u0000\"}", txt) == API_ERR_BAD_TXT);
	CHECK(txt[0] == '\0');

	/* An account whose own subdomain is not a label (a hand-edited import). */
	{
		const char *b = "{\"subdomain\":\"bad_label\",\"txt\":\"" TXT "\"}";

		CHECK(api_json_update_parse(b, strlen(b), "bad_label", txt) ==
		    API_ERR_BAD_SUBDOMAIN);
	}
	return 0;
}

static int
test_label_valid(void)
{
	char long_label[80];

	CHECK(api_label_valid(SUB));
	CHECK(api_label_valid("a"));
	CHECK(api_label_valid("0abc"));		/* RFC 1123 §2.1: leading digit */
	CHECK(api_label_valid("A-b-C"));
	CHECK(!api_label_valid(NULL));
	CHECK(!api_label_valid(""));
	CHECK(!api_label_valid("-a"));
	CHECK(!api_label_valid("a-"));
	CHECK(!api_label_valid("a_b"));
	CHECK(!api_label_valid("a.b"));
	CHECK(!api_label_valid("a b"));
	CHECK(!api_label_valid("\xc3\xa9t\xc3\xa9"));
	memset(long_label, 'a', 63);
	long_label[63] = '\0';
	CHECK(api_label_valid(long_label));
	long_label[63] = 'a';
	long_label[64] = '\0';
	CHECK(!api_label_valid(long_label));
	return 0;
}

static int
test_register_reply_bytes(void)
{
	struct storage_account a;
	char *s;

	memset(&a, 0, sizeof(a));
	strcpy(a.username, "c36f50e8-4632-44f0-83fe-e070fef28a10");
	strcpy(a.subdomain, SUB);
	s = api_json_register_reply(&a, "htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7Z", "auth.example.org");
	CHECK_STR(s, "{\"username\":\"c36f50e8-4632-44f0-83fe-e070fef28a10\","
	    "\"password\":\"htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7Z\","
	    "\"fulldomain\":\"" SUB ".auth.example.org\",\"subdomain\":\"" SUB "\","
	    "\"allowfrom\":[]}");
	CHECK(strchr(s, '\n') == NULL);
	free(s);

	strcpy(a.allowfrom[0], "192.0.2.0/24");
	strcpy(a.allowfrom[1], "2001:db8::/32");
	a.nallowfrom = 2;
	s = api_json_register_reply(&a, "k", "d");
	CHECK_STR(s, "{\"username\":\"c36f50e8-4632-44f0-83fe-e070fef28a10\",\"password\":\"k\","
	    "\"fulldomain\":\"" SUB ".d\",\"subdomain\":\"" SUB "\","
	    "\"allowfrom\":[\"192.0.2.0/24\",\"2001:db8::/32\"]}");
	free(s);

	/* Escaping as Go's json.Marshal (HTML-safe), should odd text ever get here. */
	a.nallowfrom = 1;
	strcpy(a.allowfrom[0], "a\"b\\c<d>&\n\x01");
	s = api_json_register_reply(&a, "k", "d");
	CHECK(strstr(s, "\"allowfrom\":[\"a\\\"b\\\\c\\u003cd\\u003e\\u0026\\n\\u0001\"]}") != NULL);
	free(s);
	return 0;
}

static int
test_update_reply_bytes(void)
{
	char *s = api_json_update_reply(TXT);

	CHECK_STR(s, "{\"txt\":\"" TXT "\"}");
	free(s);
	return 0;
}

static int
test_error_replies(void)
{
	static const struct {
		enum api_err e;
		unsigned status;
		const char *body;
	} t[] = {
		{ API_ERR_MALFORMED, 400, "{\"error\":\"malformed_json_payload\"}" },
		{ API_ERR_BAD_CIDR, 400, "{\"error\":\"invalid_allowfrom_cidr\"}" },
		{ API_ERR_FORBIDDEN, 401, "{\"error\":\"forbidden\"}" },
		{ API_ERR_BAD_SUBDOMAIN, 400, "{\"error\":\"bad_subdomain\"}" },
		{ API_ERR_BAD_TXT, 400, "{\"error\":\"bad_txt\"}" },
		{ API_ERR_DB, 500, "{\"error\":\"db_error\"}" },
		{ API_ERR_NOT_FOUND, 404, "{\"error\":\"not_found\"}" },
		{ API_ERR_METHOD, 405, "{\"error\":\"method_not_allowed\"}" },
		{ API_ERR_TOO_LARGE, 413, "{\"error\":\"payload_too_large\"}" },
		{ API_ERR_INTERNAL, 500, "{\"error\":\"internal_error\"}" },
	};
	struct api_response resp;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK(api_err_status(t[i].e) == t[i].status);
		CHECK_STR(api_err_body(t[i].e), t[i].body);
		memset(&resp, 0, sizeof(resp));
		api_response_error(&resp, t[i].e);
		CHECK(resp.status == t[i].status && resp.json && resp.owned == NULL);
		CHECK(resp.body_len == strlen(t[i].body));
		CHECK(memcmp(resp.body, t[i].body, resp.body_len) == 0);
		api_response_clear(&resp);
	}
	CHECK(api_err_status((enum api_err)999) == 500);
	return 0;
}

static const struct test_case tests[] = {
	{ "register_empty_forms", test_register_empty_forms },
	{ "register_allowfrom", test_register_allowfrom },
	{ "register_keys_case_insensitive", test_register_keys_case_insensitive },
	{ "register_bad", test_register_bad },
	{ "register_limits", test_register_limits },
	{ "json_depth", test_depth },
	{ "update_parse", test_update_parse },
	{ "update_errors", test_update_errors },
	{ "label_valid", test_label_valid },
	{ "register_reply_bytes", test_register_reply_bytes },
	{ "update_reply_bytes", test_update_reply_bytes },
	{ "error_replies", test_error_replies },
};

TEST_MAIN(tests)
