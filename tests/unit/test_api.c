/* tests/unit/test_api.c -- api_route on real storage and dnsd; auth helpers; the HTTP server */
/* SPDX-License-Identifier: ISC */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "../../api/internal.h"
#include "testhelp.h"

#define DOMAIN "auth.example.org"
#define TXT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaA"
#define TXT_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbB"
#define TXT_C "ccccccccccccccccccccccccccccccccccccccccccC"
#define IO_TIMEOUT_MS 5000	/* the most a server test waits for a reply */

/* A test fixture: config, storage in a temp dir, dnsd (not started), api_ctx. */
struct fx {
	struct config cfg;
	struct storage *st;
	struct dnsd *d;
	struct api_ctx ctx;
	struct cidr trusted[2];
	char dir[64];
	char db[128];
};

/* An account as /register returned it. */
struct acct {
	char user[64], key[64], sub[64], full[128];
};

static void
fx_close(struct fx *f)
{
	char p[160];

	dnsd_free(f->d);
	storage_close(f->st);
	config_free(&f->cfg);
	snprintf(p, sizeof(p), "%s-wal", f->db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->db);
	unlink(p);
	unlink(f->db);
	rmdir(f->dir);
	memset(f, 0, sizeof(*f));
}

/* Open the fixture; api_extra is appended to the [api] table. */
static int
fx_open(struct fx *f, const char *api_extra)
{
	struct dnsd_params p;
	char text[2048], err[512];
	int n;

	memset(f, 0, sizeof(*f));
	log_init(LOG_LEVEL_WARN, LOG_FORMAT_TEXT, NULL);	/* no info noise in test output */
	strcpy(f->dir, "/tmp/dns01d-test-api.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/db.sqlite", f->dir);
	n = snprintf(text, sizeof(text),
	    "[general]\nlisten = \"127.0.0.1:5353\"\nprotocol = \"both4\"\n"
	    "domain = \"" DOMAIN "\"\nnsname = \"ns1." DOMAIN "\"\n"
	    "nsadmin = \"admin.example.org\"\nrecords = []\n"
	    "[database]\nengine = \"sqlite3\"\nconnection = \"%s\"\n"
	    "[api]\nip = \"127.0.0.1\"\nport = 0\n%s\n"
	    "[logconfig]\nloglevel = \"error\"\n", f->db, api_extra);
	if (config_parse("test.cfg", text, (size_t)n, &f->cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "    config: %s\n", err);
		return -1;
	}
	if ((f->st = storage_open(f->db, f->cfg.txt_values, err, sizeof(err))) == NULL) {
		fprintf(stderr, "    storage: %s\n", err);
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.config_path = "test.cfg";
	(void)config_listen_parse("127.0.0.1:0", &p.listen);
	p.protocol = DNSD_PROTO_UDP | DNSD_PROTO_TCP | DNSD_PROTO_V4;
	p.domain = f->cfg.domain;
	p.nsname = f->cfg.nsname;
	p.nsadmin = f->cfg.nsadmin;
	p.threads = 1;
	p.txt_ttl = 1;
	p.negative_ttl = 60;
	p.tcp_idle_timeout = 10;
	p.tcp_max_clients = 16;
	if ((f->d = dnsd_new(&p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "    dnsd: %s\n", err);
		return -1;
	}
	f->ctx.cfg = &f->cfg;
	f->ctx.st = f->st;
	f->ctx.d = f->d;
	return 0;
}

/* Route one request; client is a textual address or NULL (unknown). */
static void
route(struct fx *f, const char *method, const char *path, const char *user, const char *key,
    const char *client, const char *body, struct api_response *resp)
{
	struct api_request req;
	struct sockaddr_storage ss;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.api_user = user;
	req.api_key = key;
	if (client != NULL && cidr_addr_parse(client, &ss) == 0)
		req.client = (const struct sockaddr *)&ss;
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	api_route(&f->ctx, &req, resp);
}

static bool
body_is(const struct api_response *r, const char *s)
{
	return r->body != NULL && r->body_len == strlen(s) && memcmp(r->body, s, r->body_len) == 0;
}

/* A string member of a JSON object, or "" when it is missing. */
static const char *
jstr(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s != NULL ? s : "";
}

/* POST /register and keep the credentials. Returns 0 if it answered 201. */
static int
do_register(struct fx *f, const char *body, struct acct *a, char *reply, size_t replylen)
{
	struct api_response resp;
	json_t *j = NULL;
	int rc = -1;

	memset(a, 0, sizeof(*a));
	route(f, "POST", "/register", NULL, NULL, "127.0.0.1", body, &resp);
	if (resp.status != 201 || !resp.json)
		goto out;
	if (reply != NULL)
		snprintf(reply, replylen, "%.*s", (int)resp.body_len, resp.body);
	if ((j = json_loadb(resp.body, resp.body_len, 0, NULL)) == NULL)
		goto out;
	snprintf(a->user, sizeof(a->user), "%s", jstr(j, "username"));
	snprintf(a->key, sizeof(a->key), "%s", jstr(j, "password"));
	snprintf(a->sub, sizeof(a->sub), "%s", jstr(j, "subdomain"));
	snprintf(a->full, sizeof(a->full), "%s",
	    jstr(j, "fulldomain"));
	if (strcmp(resp.user, a->user) == 0)
		rc = 0;
out:
	json_decref(j);
	api_response_clear(&resp);
	return rc;
}

static char *
update_body(const char *sub, const char *txt, char *buf, size_t len)
{
	snprintf(buf, len, "{\"subdomain\":\"%s\",\"txt\":\"%s\"}", sub, txt);
	return buf;
}

/* POST /update as a; returns the status. */
static unsigned
do_update(struct fx *f, const struct acct *a, const char *client, const char *txt)
{
	struct api_response resp;
	char body[256];
	unsigned st;

	route(f, "POST", "/update", a->user, a->key, client,
	    update_body(a->sub, txt, body, sizeof(body)), &resp);
	st = resp.status;
	api_response_clear(&resp);
	return st;
}

/* Ask dnsd (in memory, no socket) for TXT at name; returns the rcode, or -1. */
static int
dns_txt(struct fx *f, const char *name, uint8_t *out, size_t outcap, size_t *outlen,
    unsigned *ancount)
{
	uint8_t q[512];
	size_t n = 12;
	const char *l = name;
	int len;

	memset(q, 0, 12);
	q[0] = 0x12;
	q[1] = 0x34;
	q[5] = 1;	/* QDCOUNT */
	while (*l != '\0') {
		const char *dot = strchr(l, '.');
		size_t ll = dot != NULL ? (size_t)(dot - l) : strlen(l);

		q[n++] = (uint8_t)ll;
		memcpy(q + n, l, ll);
		n += ll;
		l += ll;
		if (*l == '.')
			l++;
	}
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = 16;	/* TXT */
	q[n++] = 0;
	q[n++] = 1;	/* IN */
	len = dnsd_answer(f->d, q, n, out, outcap, false);
	if (len < 12)
		return -1;
	*outlen = (size_t)len;
	*ancount = (unsigned)(out[6] << 8 | out[7]);
	return out[3] & 0x0f;
}

static bool
has_bytes(const uint8_t *buf, size_t n, const char *s)
{
	return memmem(buf, n, s, strlen(s)) != NULL;
}

static int
test_register_update_dns(void)
{
	struct fx f;
	struct acct a;
	struct api_response resp;
	char reply[512], expect[512], body[256];
	uint8_t out[1232];
	size_t n;
	unsigned an;

	CHECK(fx_open(&f, "") == 0);
	CHECK(do_register(&f, NULL, &a, reply, sizeof(reply)) == 0);
	CHECK(is_uuid(a.user) && is_uuid(a.sub) && strlen(a.key) == 40 && api_key_valid(a.key));
	snprintf(expect, sizeof(expect), "{\"username\":\"%s\",\"password\":\"%s\","
	    "\"fulldomain\":\"%s." DOMAIN "\",\"subdomain\":\"%s\",\"allowfrom\":[]}",
	    a.user, a.key, a.sub, a.sub);
	CHECK_STR(reply, expect);

	/* Registered: the name exists at once (NODATA), an unknown one does not. */
	CHECK(dns_txt(&f, a.full, out, sizeof(out), &n, &an) == 0 && an == 0);
	CHECK(dns_txt(&f, "0f3c9a2e-7a61-4c58-9d0b-3f1d2a6b8c41." DOMAIN, out, sizeof(out), &n,
	    &an) == 3);

	route(&f, "POST", "/update", a.user, a.key, "127.0.0.1",
	    update_body(a.sub, TXT_A, body, sizeof(body)), &resp);
	CHECK(resp.status == 200 && resp.json);
	CHECK(body_is(&resp, "{\"txt\":\"" TXT_A "\"}"));
	CHECK_STR(resp.user, a.user);
	api_response_clear(&resp);
	/* Served by the time the 200 exists. */
	CHECK(dns_txt(&f, a.full, out, sizeof(out), &n, &an) == 0 && an == 1);
	CHECK(has_bytes(out, n, TXT_A));

	/* Two values kept; a third drops the oldest. */
	CHECK(do_update(&f, &a, "127.0.0.1", TXT_B) == 200);
	CHECK(dns_txt(&f, a.full, out, sizeof(out), &n, &an) == 0 && an == 2);
	CHECK(has_bytes(out, n, TXT_A) && has_bytes(out, n, TXT_B));
	CHECK(do_update(&f, &a, "127.0.0.1", TXT_C) == 200);
	CHECK(dns_txt(&f, a.full, out, sizeof(out), &n, &an) == 0 && an == 2);
	CHECK(!has_bytes(out, n, TXT_A) && has_bytes(out, n, TXT_B) && has_bytes(out, n, TXT_C));

	/* Other X-Api-User spellings Go's uuid.Parse accepts. */
	{
		struct acct b = a;
		size_t i;

		for (i = 0; b.user[i] != '\0'; i++)
			b.user[i] = (char)(b.user[i] >= 'a' && b.user[i] <= 'f' ? b.user[i] - 32 :
			    b.user[i]);
		CHECK(do_update(&f, &b, "127.0.0.1", TXT_A) == 200);
		snprintf(b.user, sizeof(b.user), "{%.36s}", a.user);
		CHECK(do_update(&f, &b, "127.0.0.1", TXT_B) == 200);
		snprintf(b.user, sizeof(b.user), "urn:uuid:%.36s", a.user);
		CHECK(do_update(&f, &b, "127.0.0.1", TXT_C) == 200);
	}
	fx_close(&f);
	return 0;
}

static int
test_update_forbidden(void)
{
	struct fx f;
	struct acct a, b, x;
	struct api_response resp;
	char body[256];

	CHECK(fx_open(&f, "") == 0);
	CHECK(do_register(&f, "{}", &a, NULL, 0) == 0);
	CHECK(do_register(&f, "", &b, NULL, 0) == 0);

	x = a;	/* wrong key of the right shape */
	x.key[0] = x.key[0] == 'A' ? 'B' : 'A';
	CHECK(do_update(&f, &x, "127.0.0.1", TXT_A) == 401);
	x = a;	/* b's key for a */
	memcpy(x.key, b.key, sizeof(x.key));
	CHECK(do_update(&f, &x, "127.0.0.1", TXT_A) == 401);
	x = a;	/* unknown user */
	strcpy(x.user, "0f3c9a2e-7a61-4c58-9d0b-3f1d2a6b8c41");
	CHECK(do_update(&f, &x, "127.0.0.1", TXT_A) == 401);
	x = a;	/* bad header formats */
	strcpy(x.user, "not-a-uuid");
	CHECK(do_update(&f, &x, "127.0.0.1", TXT_A) == 401);
	x = a;
	x.key[39] = '\0';
	CHECK(do_update(&f, &x, "127.0.0.1", TXT_A) == 401);
	x = a;
	x.key[5] = '+';
	CHECK(do_update(&f, &x, "127.0.0.1", TXT_A) == 401);
	x = a;	/* a's credentials, b's subdomain */
	memcpy(x.sub, b.sub, sizeof(x.sub));
	CHECK(do_update(&f, &x, "127.0.0.1", TXT_A) == 401);

	route(&f, "POST", "/update", NULL, NULL, "127.0.0.1",
	    update_body(a.sub, TXT_A, body, sizeof(body)), &resp);
	CHECK(resp.status == 401 && body_is(&resp, "{\"error\":\"forbidden\"}") && resp.json);
	CHECK_STR(resp.user, "-");	/* no X-Api-User: nothing to name */
	api_response_clear(&resp);

	/* Authenticated, then the body: undecodable is 401, bad txt is 400. */
	route(&f, "POST", "/update", a.user, a.key, "127.0.0.1", "{\"subdomain\":", &resp);
	CHECK(resp.status == 401 && body_is(&resp, "{\"error\":\"forbidden\"}"));
	CHECK_STR(resp.user, a.user);
	api_response_clear(&resp);
	route(&f, "POST", "/update", a.user, a.key, "127.0.0.1", "{\"subdomain\":\"\xff\"}", &resp);
	CHECK(resp.status == 401);
	api_response_clear(&resp);
	route(&f, "POST", "/update", a.user, a.key, "127.0.0.1",
	    update_body(a.sub, "short", body, sizeof(body)), &resp);
	CHECK(resp.status == 400 && body_is(&resp, "{\"error\":\"bad_txt\"}"));
	api_response_clear(&resp);
	fx_close(&f);
	return 0;
}

static int
test_allowfrom_enforced(void)
{
	struct fx f;
	struct acct a;
	char reply[512];

	CHECK(fx_open(&f, "") == 0);
	CHECK(do_register(&f, "{\"AllowFrom\":[\"192.0.2.0/24\",\"[2001:db8::]/32\"]}", &a,
	    reply, sizeof(reply)) == 0);
	CHECK(strstr(reply, ",\"allowfrom\":[\"192.0.2.0/24\",\"2001:db8::/32\"]}") != NULL);
	CHECK(do_update(&f, &a, "198.51.100.1", TXT_A) == 401);
	CHECK(do_update(&f, &a, "2001:db9::1", TXT_A) == 401);
	CHECK(do_update(&f, &a, NULL, TXT_A) == 401);	/* unknown client */
	CHECK(do_update(&f, &a, "192.0.2.200", TXT_A) == 200);
	CHECK(do_update(&f, &a, "::ffff:192.0.2.9", TXT_A) == 200);
	CHECK(do_update(&f, &a, "2001:db8:ffff::1", TXT_A) == 200);
	fx_close(&f);
	return 0;
}

static int
test_register_errors(void)
{
	struct fx f;
	struct api_response resp;

	CHECK(fx_open(&f, "") == 0);
	route(&f, "POST", "/register", NULL, NULL, "127.0.0.1", "{\"allowfrom\":", &resp);
	CHECK(resp.status == 400 && body_is(&resp, "{\"error\":\"malformed_json_payload\"}"));
	api_response_clear(&resp);
	route(&f, "POST", "/register", NULL, NULL, "127.0.0.1", "{\"a\":\"\xc3\x28\"}", &resp);
	CHECK(resp.status == 400 && body_is(&resp, "{\"error\":\"malformed_json_payload\"}"));
	api_response_clear(&resp);
	route(&f, "POST", "/register", NULL, NULL, "127.0.0.1",
	    "{\"allowfrom\":[\"192.0.2.0/24\",\"nope\"]}", &resp);
	CHECK(resp.status == 400 && body_is(&resp, "{\"error\":\"invalid_allowfrom_cidr\"}"));
	CHECK(resp.json && resp.user[0] == '\0');
	api_response_clear(&resp);
	fx_close(&f);

	CHECK(fx_open(&f, "disable_registration = true") == 0);
	route(&f, "POST", "/register", NULL, NULL, "127.0.0.1", "{}", &resp);
	CHECK(resp.status == 404 && body_is(&resp, "{\"error\":\"not_found\"}"));
	api_response_clear(&resp);
	route(&f, "GET", "/register", NULL, NULL, "127.0.0.1", NULL, &resp);
	CHECK(resp.status == 404);
	api_response_clear(&resp);
	fx_close(&f);
	return 0;
}

/* DELETE /update clears (NODATA), DELETE /register deregisters (NXDOMAIN, key dead); note. */
static int
test_lifecycle(void)
{
	struct fx f;
	struct acct a, b;
	struct api_response resp;
	struct storage_info info;
	uint8_t out[1024];
	size_t outlen;
	unsigned an;
	char reply[512], want[128];
	const char *v = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

	CHECK(fx_open(&f, "") == 0);
	CHECK(do_register(&f, "{\"note\":\"ci runner 7\"}", &a, reply, sizeof(reply)) == 0);
	CHECK(strstr(reply, "note") == NULL);	/* the acme-dns reply is unchanged */
	CHECK(storage_info_get(f.st, a.sub, &info) == 0 && strcmp(info.note, "ci runner 7") == 0);
	CHECK(info.created > 0);
	CHECK(do_register(&f, "", &b, NULL, 0) == 0);
	CHECK(do_update(&f, &a, "127.0.0.1", v) == 200);
	CHECK(dns_txt(&f, a.full, out, sizeof(out), &outlen, &an) == 0 && an == 1);

	route(&f, "DELETE", "/update", a.user, b.key, "127.0.0.1", NULL, &resp);
	CHECK(resp.status == 401 && body_is(&resp, "{\"error\":\"forbidden\"}"));
	api_response_clear(&resp);
	route(&f, "DELETE", "/update", a.user, a.key, "127.0.0.1", NULL, &resp);
	snprintf(want, sizeof(want), "{\"subdomain\":\"%s\",\"cleared\":true}", a.sub);
	CHECK(resp.status == 200 && body_is(&resp, want) && resp.json);
	api_response_clear(&resp);
	CHECK(dns_txt(&f, a.full, out, sizeof(out), &outlen, &an) == 0 && an == 0);
	CHECK(do_update(&f, &a, "127.0.0.1", v) == 200);

	route(&f, "DELETE", "/register", a.user, a.key, "127.0.0.1", NULL, &resp);
	snprintf(want, sizeof(want), "{\"subdomain\":\"%s\",\"deleted\":true}", a.sub);
	CHECK(resp.status == 200 && body_is(&resp, want));
	api_response_clear(&resp);
	CHECK(dns_txt(&f, a.full, out, sizeof(out), &outlen, &an) == 3);	/* NXDOMAIN */
	CHECK(do_update(&f, &a, "127.0.0.1", v) == 401);
	route(&f, "DELETE", "/register", a.user, a.key, "127.0.0.1", NULL, &resp);
	CHECK(resp.status == 401);
	api_response_clear(&resp);
	CHECK(storage_info_get(f.st, a.sub, &info) == 1);
	/* b is untouched */
	CHECK(do_update(&f, &b, "127.0.0.1", v) == 200);

	route(&f, "POST", "/register", NULL, NULL, "127.0.0.1", "{\"note\":\"a\\u0007b\"}", &resp);
	CHECK(resp.status == 400 && body_is(&resp, "{\"error\":\"bad_note\"}"));
	api_response_clear(&resp);
	route(&f, "POST", "/register", NULL, NULL, "127.0.0.1", "{\"Note\":[1]}", &resp);
	CHECK(resp.status == 400 && body_is(&resp, "{\"error\":\"malformed_json_payload\"}"));
	api_response_clear(&resp);
	fx_close(&f);
	return 0;
}

static int
test_routing(void)
{
	struct fx f;
	struct api_response resp;

	CHECK(fx_open(&f, "") == 0);
	route(&f, "GET", "/nope", NULL, NULL, "127.0.0.1", NULL, &resp);
	CHECK(resp.status == 404 && body_is(&resp, "{\"error\":\"not_found\"}") && resp.json);
	api_response_clear(&resp);
	route(&f, "POST", "/update/", NULL, NULL, "127.0.0.1", NULL, &resp);
	CHECK(resp.status == 307 && strcmp(resp.location, "/update") == 0);
	api_response_clear(&resp);
	route(&f, "GET", "/update", NULL, NULL, "127.0.0.1", NULL, &resp);
	CHECK(resp.status == 405 && body_is(&resp, "{\"error\":\"method_not_allowed\"}"));
	CHECK_STR(resp.allow, "POST, DELETE, OPTIONS");
	api_response_clear(&resp);
	route(&f, "PUT", "/register", NULL, NULL, "127.0.0.1", "{}", &resp);
	CHECK(resp.status == 405 && resp.allow != NULL);
	api_response_clear(&resp);
	route(&f, "POST", "/health", NULL, NULL, "127.0.0.1", NULL, &resp);
	CHECK(resp.status == 405);
	CHECK_STR(resp.allow, "GET, HEAD, OPTIONS");
	api_response_clear(&resp);
	route(&f, "OPTIONS", "/update", NULL, NULL, "127.0.0.1", NULL, &resp);
	CHECK(resp.status == 200 && resp.body_len == 0 && resp.allow != NULL);
	CHECK(resp.cors_origin == NULL);
	api_response_clear(&resp);
	fx_close(&f);
	return 0;
}

/* /health is 503 until dnsd really serves, then 200 with an empty body. */
static int
test_health(void)
{
	struct fx f;
	struct api_response resp;
	char err[256];

	CHECK(fx_open(&f, "") == 0);
	route(&f, "GET", "/health", NULL, NULL, "127.0.0.1", NULL, &resp);
	CHECK(resp.status == 503 && resp.body_len == 0);
	api_response_clear(&resp);
	CHECK(dnsd_start(f.d, err, sizeof(err)) == 0);
	route(&f, "GET", "/health", NULL, NULL, "127.0.0.1", NULL, &resp);
	CHECK(resp.status == 200 && resp.body_len == 0 && !resp.json);
	api_response_clear(&resp);
	route(&f, "HEAD", "/health", NULL, NULL, "127.0.0.1", NULL, &resp);
	CHECK(resp.status == 200);
	api_response_clear(&resp);
	fx_close(&f);
	return 0;
}

/* Another process holds the write lock: /update and /register answer 500 db_error. */
static int
test_db_error(void)
{
	struct fx f;
	struct acct a;
	struct api_response resp;
	sqlite3 *db = NULL;
	char body[256];

	CHECK(fx_open(&f, "") == 0);
	CHECK(do_register(&f, NULL, &a, NULL, 0) == 0);
	storage_set_busy_timeout(f.st, 50);
	CHECK(sqlite3_open(f.db, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK);
	route(&f, "POST", "/update", a.user, a.key, "127.0.0.1",
	    update_body(a.sub, TXT_A, body, sizeof(body)), &resp);
	CHECK(resp.status == 500 && body_is(&resp, "{\"error\":\"db_error\"}"));
	api_response_clear(&resp);
	route(&f, "POST", "/register", NULL, NULL, "127.0.0.1", NULL, &resp);
	CHECK(resp.status == 500 && body_is(&resp, "{\"error\":\"db_error\"}"));
	api_response_clear(&resp);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK(do_update(&f, &a, "127.0.0.1", TXT_A) == 200);
	fx_close(&f);
	return 0;
}

static int
test_cors(void)
{
	struct fx f;
	struct api_request req;
	struct api_response resp;

	CHECK(fx_open(&f, "corsorigins = [\"https://*.example.com\", \"https://app.test\"]") == 0);
	memset(&req, 0, sizeof(req));
	req.method = "OPTIONS";
	req.path = "/update";
	req.origin = "https://a.example.com";
	req.acr_method = "POST";
	api_route(&f.ctx, &req, &resp);
	CHECK(resp.status == 200 && resp.preflight && resp.body_len == 0);
	CHECK_STR(resp.cors_origin, "https://a.example.com");
	req.origin = "https://evil.test";
	api_route(&f.ctx, &req, &resp);
	CHECK(resp.status == 200 && resp.cors_origin == NULL && !resp.preflight);
	req.origin = "https://app.test";
	req.acr_method = "DELETE";
	api_route(&f.ctx, &req, &resp);
	CHECK(resp.status == 200 && resp.cors_origin == NULL);
	/* Preflight is answered for any path, as rs/cors wraps the whole router. */
	req.path = "/whatever";
	req.acr_method = "GET";
	api_route(&f.ctx, &req, &resp);
	CHECK(resp.status == 200 && resp.preflight);
	/* A simple request gets Allow-Origin only. */
	req.method = "GET";
	req.path = "/nope";
	req.acr_method = NULL;
	api_route(&f.ctx, &req, &resp);
	CHECK(resp.status == 404 && !resp.preflight);
	CHECK_STR(resp.cors_origin, "https://app.test");
	api_response_clear(&resp);
	fx_close(&f);
	return 0;
}

static int
test_user_normalize(void)
{
	char out[STORAGE_ID_LEN + 1];
	const char *want = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

	CHECK(api_user_normalize("6ba7b810-9dad-11d1-80b4-00c04fd430c8", out) == 0);
	CHECK_STR(out, want);
	CHECK(api_user_normalize("6BA7B810-9DAD-11D1-80B4-00C04FD430C8", out) == 0);
	CHECK_STR(out, want);
	CHECK(api_user_normalize("{6ba7b810-9dad-11d1-80b4-00c04fd430c8}", out) == 0);
	CHECK_STR(out, want);
	CHECK(api_user_normalize("urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8", out) == 0);
	CHECK_STR(out, want);
	CHECK(api_user_normalize("URN:UUID:6ba7b810-9dad-11d1-80b4-00c04fd430c8", out) == 0);
	CHECK_STR(out, want);
	CHECK(api_user_normalize("6ba7b8109dad11d180b400c04fd430c8", out) == 0);
	CHECK_STR(out, want);
	CHECK(api_user_normalize(NULL, out) == -1);
	CHECK(api_user_normalize("", out) == -1 && out[0] == '\0');
	CHECK(api_user_normalize("6ba7b810-9dad-11d1-80b4-00c04fd430c", out) == -1);
	CHECK(api_user_normalize("6ba7b810-9dad-11d1-80b4-00c04fd430c8 ", out) == -1);
	CHECK(api_user_normalize("6ba7b810x9dad-11d1-80b4-00c04fd430c8", out) == -1);
	CHECK(api_user_normalize("6ba7b810-9dad-11d1-80b4-00c04fd430g8", out) == -1);
	CHECK(api_user_normalize("(6ba7b810-9dad-11d1-80b4-00c04fd430c8)", out) == -1);
	CHECK(api_user_normalize("urn:uuix:6ba7b810-9dad-11d1-80b4-00c04fd430c8", out) == -1);
	CHECK(api_user_normalize("6ba7b810-9dad11d1-80b4-00c04fd430c8a", out) == -1);
	CHECK(api_user_normalize("6ba7b8109dad11d180b400c04fd430c-", out) == -1);
	CHECK(api_user_normalize("6ba7b810\0009dad-11d1-80b4-00c04fd430c8", out) == -1);
	return 0;
}

static int
test_key_valid(void)
{
	CHECK(api_key_valid("htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7Z"));
	CHECK(api_key_valid("----------__________aaaaaaaaaa0000000000"));
	CHECK(!api_key_valid(NULL));
	CHECK(!api_key_valid(""));
	CHECK(!api_key_valid("htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7"));
	CHECK(!api_key_valid("htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7ZZ"));
	CHECK(!api_key_valid("htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7="));
	CHECK(!api_key_valid("htB9mR9DYgcu9bX afHF62erXaH2TS7bg9KW3F7Z"));
	return 0;
}

static const char *
addr_of(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	return cidr_addr_str((const struct sockaddr *)ss, buf, len);
}

static int
test_client_addr(void)
{
	struct cidr tr[2];
	struct sockaddr_storage peer, out;
	const struct sockaddr *p = (const struct sockaddr *)&peer;
	char buf[64], many[2048];
	size_t i, n = 0;

	CHECK(cidr_parse("10.0.0.0/8", &tr[0]) == 0);
	CHECK(cidr_parse("fd00::1", &tr[1]) == 0);

	/* Without use_header, or from an untrusted peer: the peer, header ignored. */
	CHECK(cidr_addr_parse("192.0.2.1", &peer) == 0);
	CHECK(api_client_addr(p, false, "203.0.113.9", tr, 2, &out) == 0);
	CHECK_STR(addr_of(&out, buf, sizeof(buf)), "192.0.2.1");
	CHECK(api_client_addr(p, true, "203.0.113.9", tr, 2, &out) == 0);
	CHECK_STR(addr_of(&out, buf, sizeof(buf)), "192.0.2.1");
	CHECK(api_client_addr(p, true, "203.0.113.9", NULL, 0, &out) == 0);
	CHECK_STR(addr_of(&out, buf, sizeof(buf)), "192.0.2.1");
	/* A v4-mapped peer is unmapped. */
	CHECK(cidr_addr_parse("::ffff:192.0.2.1", &peer) == 0);
	CHECK(api_client_addr(p, false, NULL, NULL, 0, &out) == 0);
	CHECK(out.ss_family == AF_INET);
	CHECK_STR(addr_of(&out, buf, sizeof(buf)), "192.0.2.1");

	/* From a trusted proxy: the right-most entry that is not a proxy. */
	CHECK(cidr_addr_parse("10.1.2.3", &peer) == 0);
	CHECK(api_client_addr(p, true, "203.0.113.9", tr, 2, &out) == 0);
	CHECK_STR(addr_of(&out, buf, sizeof(buf)), "203.0.113.9");
	CHECK(api_client_addr(p, true, "1.1.1.1, 203.0.113.9", tr, 2, &out) == 0);
	CHECK_STR(addr_of(&out, buf, sizeof(buf)), "203.0.113.9");
	CHECK(api_client_addr(p, true, "1.1.1.1,203.0.113.9 , 10.9.9.9,fd00::1", tr, 2, &out) == 0);
	CHECK_STR(addr_of(&out, buf, sizeof(buf)), "203.0.113.9");
	CHECK(api_client_addr(p, true, " 2001:db8::5 ,, [fd00::1]", tr, 2, &out) == 0);
	CHECK_STR(addr_of(&out, buf, sizeof(buf)), "2001:db8::5");
	CHECK(api_client_addr(p, true, "::ffff:198.51.100.7", tr, 2, &out) == 0);
	CHECK(out.ss_family == AF_INET);
	CHECK_STR(addr_of(&out, buf, sizeof(buf)), "198.51.100.7");
	/* Every entry a proxy: the left-most. Missing or empty header: the peer. */
	CHECK(api_client_addr(p, true, "10.0.0.7, 10.0.0.8", tr, 2, &out) == 0);
	CHECK_STR(addr_of(&out, buf, sizeof(buf)), "10.0.0.7");
	CHECK(api_client_addr(p, true, NULL, tr, 2, &out) == 0);
	CHECK_STR(addr_of(&out, buf, sizeof(buf)), "10.1.2.3");
	CHECK(api_client_addr(p, true, " , ", tr, 2, &out) == 0);
	CHECK_STR(addr_of(&out, buf, sizeof(buf)), "10.1.2.3");
	/* Garbage where the client should be: unknown. Left of it does not matter. */
	CHECK(api_client_addr(p, true, "203.0.113.9, unknown", tr, 2, &out) == -1);
	CHECK(api_client_addr(p, true, "203.0.113.9:4711", tr, 2, &out) == -1);
	CHECK(api_client_addr(p, true, "junk, 203.0.113.9", tr, 2, &out) == 0);
	CHECK_STR(addr_of(&out, buf, sizeof(buf)), "203.0.113.9");
	/* More than API_MAX_FORWARDED proxy entries: unknown. */
	for (i = 0; i <= API_MAX_FORWARDED; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s10.0.0.%zu", i ? "," : "", i);
	CHECK(api_client_addr(p, true, many, tr, 2, &out) == -1);
	return 0;
}

static int
test_allowfrom_ok(void)
{
	struct storage_account a;
	struct sockaddr_storage ss;
	const struct sockaddr *sa = (const struct sockaddr *)&ss;

	memset(&a, 0, sizeof(a));
	CHECK(api_allowfrom_ok(&a, NULL));	/* no entries: anyone, even unknown */
	CHECK(cidr_addr_parse("203.0.113.1", &ss) == 0);
	CHECK(api_allowfrom_ok(&a, sa));

	strcpy(a.allowfrom[0], "192.0.2.0/24");
	strcpy(a.allowfrom[1], "[2001:db8::]/32");
	a.nallowfrom = 2;
	CHECK(!api_allowfrom_ok(&a, NULL));
	CHECK(!api_allowfrom_ok(&a, sa));
	CHECK(cidr_addr_parse("192.0.2.255", &ss) == 0 && api_allowfrom_ok(&a, sa));
	CHECK(cidr_addr_parse("192.0.3.0", &ss) == 0 && !api_allowfrom_ok(&a, sa));
	CHECK(cidr_addr_parse("::ffff:192.0.2.1", &ss) == 0 && api_allowfrom_ok(&a, sa));
	CHECK(cidr_addr_parse("2001:db8:1::1", &ss) == 0 && api_allowfrom_ok(&a, sa));
	CHECK(cidr_addr_parse("2001:db9::1", &ss) == 0 && !api_allowfrom_ok(&a, sa));

	/* An entry that does not parse matches nothing (fail closed). */
	strcpy(a.allowfrom[0], "garbage");
	a.nallowfrom = 1;
	CHECK(cidr_addr_parse("192.0.2.1", &ss) == 0 && !api_allowfrom_ok(&a, sa));

	/* api_cidr_parse: acme-dns forms. */
	{
		struct cidr c;

		CHECK(api_cidr_parse("192.0.2.0/24", &c) == 0 && c.family == AF_INET);
		CHECK(api_cidr_parse("[2001:db8::1]/128", &c) == 0 && c.family == AF_INET6);
		CHECK(api_cidr_parse("0.0.0.0/0", &c) == 0 && c.prefix == 0);
		CHECK(api_cidr_parse("192.0.2.1", &c) == -1);
		CHECK(api_cidr_parse("192.0.2.0/", &c) == -1);
		CHECK(api_cidr_parse("192.0.2.0/33", &c) == -1);
		CHECK(api_cidr_parse("", &c) == -1);
		CHECK(api_cidr_parse(NULL, &c) == -1);
	}
	return 0;
}

static int
test_cors_origin(void)
{
	char *any[] = { "*" };
	char *list[] = { "https://app.test", "https://*.example.com", "http://a*" };
	struct config_strv s_any = { any, NULL, 1 };
	struct config_strv s_list = { list, NULL, 3 };
	struct config_strv s_none = { NULL, NULL, 0 };

	CHECK_STR(api_cors_origin(&s_any, "https://x.test"), "*");
	CHECK(api_cors_origin(&s_any, NULL) == NULL);
	CHECK(api_cors_origin(&s_none, "https://x.test") == NULL);
	CHECK_STR(api_cors_origin(&s_list, "https://app.test"), "https://app.test");
	CHECK_STR(api_cors_origin(&s_list, "HTTPS://APP.test"), "HTTPS://APP.test");
	CHECK_STR(api_cors_origin(&s_list, "https://a.b.example.com"), "https://a.b.example.com");
	CHECK(api_cors_origin(&s_list, "https://example.com") == NULL);
	CHECK(api_cors_origin(&s_list, "https://evilexample.com") == NULL);
	CHECK(api_cors_origin(&s_list, "https://app.test.evil") == NULL);
	CHECK_STR(api_cors_origin(&s_list, "http://a"), "http://a");
	return 0;
}

/* ---- the HTTP server over a real loopback socket ---- */

static int
http_connect(unsigned port)
{
	struct sockaddr_in sin;
	struct timeval tv = { IO_TIMEOUT_MS / 1000, 0 };
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Read one HTTP response (headers, then Content-Length bytes) into buf.
 * Returns the status, or -1 on timeout or a closed connection.
 */
static int
read_response(int fd, char *buf, size_t cap, char **bodyp)
{
	size_t n = 0, clen = 0;
	char *hend = NULL, *cl;
	int status;

	for (;;) {
		ssize_t r;

		if (hend != NULL && n >= (size_t)(hend + 4 - buf) + clen)
			break;
		if (n >= cap - 1)
			return -1;
		if ((r = recv(fd, buf + n, cap - 1 - n, 0)) <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
		if (hend == NULL && (hend = strstr(buf, "\r\n\r\n")) != NULL) {
			*hend = '\0';
			if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL)
				clen = strtoul(cl + 17, NULL, 10);
			*hend = '\r';
		}
	}
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		return -1;
	hend[2] = '\0';	/* headers end with their last CRLF */
	*bodyp = hend + 4;
	(*bodyp)[clen] = '\0';
	return status;
}

/* True when the server closed the connection (EOF within the timeout). */
static bool
peer_closed(int fd)
{
	char c;
	struct pollfd pfd = { fd, POLLIN, 0 };

	if (poll(&pfd, 1, IO_TIMEOUT_MS) != 1)
		return false;
	return recv(fd, &c, 1, 0) <= 0;
}

static int
test_server(void)
{
	struct fx f;
	struct api *a, *b;
	char err[256], buf[8192], req[8192], *body;
	unsigned port;
	int fd, st;
	size_t i, n;

	CHECK(fx_open(&f, "max_body = 1024") == 0);
	a = api_start(&f.cfg, f.st, f.d, err, sizeof(err));
	CHECK(a != NULL);
	port = api_port(a);
	CHECK(port != 0);

	/* The port is taken: a second server fails with one line. */
	f.cfg.api_port = port;
	((struct sockaddr_in *)&f.cfg.api_addr)->sin_port = htons((uint16_t)port);
	b = api_start(&f.cfg, f.st, f.d, err, sizeof(err));
	CHECK(b == NULL && strstr(err, "cannot listen") != NULL && strchr(err, '\n') == NULL);

	/* Keep-alive: several requests on one connection; no Content-Type needed. */
	CHECK((fd = http_connect(port)) != -1);
	n = (size_t)snprintf(req, sizeof(req), "POST /register HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 2\r\n\r\n{}");
	CHECK(send_all(fd, req, n) == 0);
	st = read_response(fd, buf, sizeof(buf), &body);
	CHECK(st == 201);
	CHECK(strcasestr(buf, "\r\nContent-Type: application/json") != NULL);
	CHECK(strncmp(body, "{\"username\":\"", 13) == 0 && strstr(body, "\"allowfrom\":[]}"));
	n = (size_t)snprintf(req, sizeof(req), "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(send_all(fd, req, n) == 0);
	st = read_response(fd, buf, sizeof(buf), &body);
	CHECK(st == 404);
	CHECK_STR(body, "{\"error\":\"not_found\"}");
	n = (size_t)snprintf(req, sizeof(req), "PUT /update HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(send_all(fd, req, n) == 0);
	st = read_response(fd, buf, sizeof(buf), &body);
	CHECK(st == 405 && strcasestr(buf, "\r\nAllow: POST, DELETE, OPTIONS") != NULL);
	n = (size_t)snprintf(req, sizeof(req), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(send_all(fd, req, n) == 0);
	st = read_response(fd, buf, sizeof(buf), &body);
	CHECK(st == 503 && body[0] == '\0');	/* dnsd is not started here */
	close(fd);

	/* A body announced over max_body, client waiting for 100 Continue: 413 at once. */
	CHECK((fd = http_connect(port)) != -1);
	n = (size_t)snprintf(req, sizeof(req), "POST /update HTTP/1.1\r\nHost: x\r\n"
	    "X-Api-Key: secret-never-logged\r\nContent-Length: 1025\r\n"
	    "Expect: 100-continue\r\n\r\n");
	CHECK(send_all(fd, req, n) == 0);
	st = read_response(fd, buf, sizeof(buf), &body);
	CHECK(st == 413);
	CHECK_STR(body, "{\"error\":\"payload_too_large\"}");
	CHECK(strcasestr(buf, "\r\nContent-Type: application/json") != NULL);
	close(fd);

	/* Announced and sent without Expect: read, discarded, 413; keep-alive goes on. */
	CHECK((fd = http_connect(port)) != -1);
	n = (size_t)snprintf(req, sizeof(req), "POST /register HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 3000\r\n\r\n");
	memset(req + n, 'x', 3000);
	CHECK(send_all(fd, req, n + 3000) == 0);
	st = read_response(fd, buf, sizeof(buf), &body);
	CHECK(st == 413);
	CHECK_STR(body, "{\"error\":\"payload_too_large\"}");
	n = (size_t)snprintf(req, sizeof(req), "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(send_all(fd, req, n) == 0);
	CHECK(read_response(fd, buf, sizeof(buf), &body) == 404);
	close(fd);

	/* Exactly max_body is fine (it gets to the JSON check). */
	CHECK((fd = http_connect(port)) != -1);
	n = (size_t)snprintf(req, sizeof(req), "POST /register HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 1024\r\n\r\n");
	memset(req + n, ' ', 1024);
	req[n + 1023] = 'x';
	CHECK(send_all(fd, req, n + 1024) == 0);
	st = read_response(fd, buf, sizeof(buf), &body);
	CHECK(st == 400);
	CHECK_STR(body, "{\"error\":\"malformed_json_payload\"}");
	close(fd);

	/* A chunked body that grows past max_body: discarded, then 413. */
	CHECK((fd = http_connect(port)) != -1);
	n = (size_t)snprintf(req, sizeof(req), "POST /register HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	CHECK(send_all(fd, req, n) == 0);
	for (i = 0; i < 8; i++) {
		char chunk[600];

		n = (size_t)snprintf(chunk, sizeof(chunk), "200\r\n");
		memset(chunk + n, ' ', 512);
		memcpy(chunk + n + 512, "\r\n", 2);
		CHECK(send_all(fd, chunk, n + 514) == 0);
	}
	CHECK(send_all(fd, "0\r\n\r\n", 5) == 0);
	st = read_response(fd, buf, sizeof(buf), &body);
	CHECK(st == 413);
	CHECK_STR(body, "{\"error\":\"payload_too_large\"}");
	close(fd);

	/* A chunked stream past API_MAX_DRAIN: 413 and the connection is closed. */
	CHECK((fd = http_connect(port)) != -1);
	n = (size_t)snprintf(req, sizeof(req), "POST /register HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	CHECK(send_all(fd, req, n) == 0);
	for (i = 0; i < API_MAX_DRAIN / 4096 + 2; i++) {
		static char chunk[4200];

		n = (size_t)snprintf(chunk, sizeof(chunk), "1000\r\n");
		memset(chunk + n, ' ', 4096);
		memcpy(chunk + n + 4096, "\r\n", 2);
		if (send_all(fd, chunk, n + 4098) == -1)
			break;	/* the server already answered and closed */
	}
	st = read_response(fd, buf, sizeof(buf), &body);
	CHECK(st == 413 || (st == -1 && peer_closed(fd)));
	if (st == 413)
		CHECK(peer_closed(fd));
	close(fd);

	/* A chunked body within the limit works. */
	CHECK((fd = http_connect(port)) != -1);
	n = (size_t)snprintf(req, sizeof(req), "POST /register HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n1\r\n}\r\n0\r\n\r\n");
	CHECK(send_all(fd, req, n) == 0);
	st = read_response(fd, buf, sizeof(buf), &body);
	CHECK(st == 201);
	close(fd);

	api_stop(a);
	fx_close(&f);
	return 0;
}

/* use_header from a trusted proxy reaches allowfrom; from anyone else it is ignored. */
static int
test_server_forwarded(void)
{
	struct fx f;
	struct api *a;
	struct acct ac;
	char err[256], buf[4096], req[2048], body[256], *rb;
	int fd, st;
	size_t n;

	CHECK(fx_open(&f, "use_header = true\nheader_name = \"X-Real-Client\"\n"
	    "trusted_proxies = [\"127.0.0.0/8\"]") == 0);
	CHECK((a = api_start(&f.cfg, f.st, f.d, err, sizeof(err))) != NULL);
	CHECK(do_register(&f, "{\"allowfrom\":[\"192.0.2.0/24\"]}", &ac, NULL, 0) == 0);
	update_body(ac.sub, TXT_A, body, sizeof(body));

	CHECK((fd = http_connect(api_port(a))) != -1);
	/* Two header lines are one list (RFC 9110 §5.3): the right-most non-proxy wins. */
	n = (size_t)snprintf(req, sizeof(req), "POST /update HTTP/1.1\r\nHost: x\r\n"
	    "X-Api-User: %s\r\nX-Api-Key: %s\r\nX-Real-Client: 198.51.100.1\r\n"
	    "X-Real-Client: 192.0.2.77, 127.0.0.1\r\nContent-Length: %zu\r\n\r\n%s",
	    ac.user, ac.key, strlen(body), body);
	CHECK(send_all(fd, req, n) == 0);
	st = read_response(fd, buf, sizeof(buf), &rb);
	CHECK(st == 200);
	CHECK(strcmp(rb, "{\"txt\":\"" TXT_A "\"}") == 0);
	/* Spoofed client left of the real one: refused. */
	n = (size_t)snprintf(req, sizeof(req), "POST /update HTTP/1.1\r\nHost: x\r\n"
	    "X-Api-User: %s\r\nX-Api-Key: %s\r\nX-Real-Client: 192.0.2.77, 198.51.100.1\r\n"
	    "Content-Length: %zu\r\n\r\n%s", ac.user, ac.key, strlen(body), body);
	CHECK(send_all(fd, req, n) == 0);
	st = read_response(fd, buf, sizeof(buf), &rb);
	CHECK(st == 401);
	CHECK_STR(rb, "{\"error\":\"forbidden\"}");
	close(fd);
	api_stop(a);
	fx_close(&f);

	/* The same header from an untrusted peer is ignored: 127.0.0.1 is not allowed. */
	CHECK(fx_open(&f, "use_header = true\nheader_name = \"X-Real-Client\"\n"
	    "trusted_proxies = [\"10.0.0.0/8\"]") == 0);
	CHECK((a = api_start(&f.cfg, f.st, f.d, err, sizeof(err))) != NULL);
	CHECK(do_register(&f, "{\"allowfrom\":[\"192.0.2.0/24\"]}", &ac, NULL, 0) == 0);
	update_body(ac.sub, TXT_A, body, sizeof(body));
	CHECK((fd = http_connect(api_port(a))) != -1);
	n = (size_t)snprintf(req, sizeof(req), "POST /update HTTP/1.1\r\nHost: x\r\n"
	    "X-Api-User: %s\r\nX-Api-Key: %s\r\nX-Real-Client: 192.0.2.77\r\n"
	    "Content-Length: %zu\r\n\r\n%s", ac.user, ac.key, strlen(body), body);
	CHECK(send_all(fd, req, n) == 0);
	st = read_response(fd, buf, sizeof(buf), &rb);
	CHECK(st == 401);
	close(fd);
	api_stop(a);
	fx_close(&f);
	return 0;
}

/* An idle connection is closed after connection_timeout seconds. */
static int
test_server_timeout(void)
{
	struct fx f;
	struct api *a;
	char err[256];
	struct timespec t0, t1;
	int fd;

	CHECK(fx_open(&f, "connection_timeout = 1") == 0);
	CHECK((a = api_start(&f.cfg, f.st, f.d, err, sizeof(err))) != NULL);
	CHECK((fd = http_connect(api_port(a))) != -1);
	CHECK(send_all(fd, "POST /update HTTP/1.1\r\n", 23) == 0);	/* then nothing */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(peer_closed(fd));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec <= 4);
	close(fd);
	api_stop(a);
	fx_close(&f);
	return 0;
}

/* Every request is logged with ip, method, path, status and user; never the key. */
static int
test_access_log(void)
{
	struct fx f;
	struct api *a;
	struct acct ac;
	char err[256], buf[4096], req[2048], body[256], logpath[160], *rb, *logtext;
	FILE *fp;
	size_t n;
	long sz;
	int fd;

	CHECK(fx_open(&f, "") == 0);
	snprintf(logpath, sizeof(logpath), "%s/log", f.dir);
	CHECK(log_init(LOG_LEVEL_INFO, LOG_FORMAT_TEXT, logpath) == 0);
	CHECK((a = api_start(&f.cfg, f.st, f.d, err, sizeof(err))) != NULL);
	CHECK((fd = http_connect(api_port(a))) != -1);
	n = (size_t)snprintf(req, sizeof(req), "POST /register HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(send_all(fd, req, n) == 0);
	CHECK(read_response(fd, buf, sizeof(buf), &rb) == 201);
	/* Keep the credentials from the reply, then use them. */
	{
		json_t *j = json_loads(rb, 0, NULL);

		CHECK(j != NULL);
		snprintf(ac.user, sizeof(ac.user), "%s", jstr(j, "username"));
		snprintf(ac.key, sizeof(ac.key), "%s", jstr(j, "password"));
		snprintf(ac.sub, sizeof(ac.sub), "%s", jstr(j, "subdomain"));
		json_decref(j);
	}
	update_body(ac.sub, TXT_A, body, sizeof(body));
	n = (size_t)snprintf(req, sizeof(req), "POST /update HTTP/1.1\r\nHost: x\r\n"
	    "X-Api-User: %s\r\nX-Api-Key: %s\r\nContent-Length: %zu\r\n\r\n%s",
	    ac.user, ac.key, strlen(body), body);
	CHECK(send_all(fd, req, n) == 0);
	CHECK(read_response(fd, buf, sizeof(buf), &rb) == 200);
	n = (size_t)snprintf(req, sizeof(req), "GET /%%0a\"evil\" HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(send_all(fd, req, n) == 0);
	CHECK(read_response(fd, buf, sizeof(buf), &rb) == 404);
	close(fd);
	api_stop(a);
	log_init(LOG_LEVEL_WARN, LOG_FORMAT_TEXT, NULL);

	CHECK((fp = fopen(logpath, "r")) != NULL);
	fseek(fp, 0, SEEK_END);
	sz = ftell(fp);
	rewind(fp);
	logtext = calloc(1, (size_t)sz + 1);
	CHECK(logtext != NULL && fread(logtext, 1, (size_t)sz, fp) == (size_t)sz);
	fclose(fp);
	unlink(logpath);
	if (strstr(logtext, ac.key) != NULL) {
		free(logtext);
		fprintf(stderr, "    the API key is in the log\n");
		return 1;
	}
	CHECK(strstr(logtext, "path=/update status=200") != NULL);
	CHECK(strstr(logtext, "ip=127.0.0.1") != NULL);
	CHECK(strstr(logtext, ac.user) != NULL);
	CHECK(strstr(logtext, "method=POST path=/register status=201") != NULL);
	/* The decoded newline and quotes of the path are neutralised. */
	CHECK(strstr(logtext, "path=/??evil? status=404") != NULL);
	free(logtext);
	fx_close(&f);
	return 0;
}


#define SEC 1000000000ULL

/* The token bucket: a burst of count, then one per interval; wait takes nothing. */
static int
test_limiter_bucket(void)
{
	struct api_limiter *l;
	uint8_t k1[API_LIMIT_KEY], k2[API_LIMIT_KEY];
	uint64_t t = 1000 * SEC;
	bool oom;
	int i;

	CHECK(api_limiter_new(0, 60, &oom) == NULL && !oom);	/* 0: no limit */
	CHECK(api_limiter_take(NULL, k1, t) == 0 && api_limiter_wait(NULL, k1, t) == 0);
	CHECK((l = api_limiter_new(5, 60, &oom)) != NULL);	/* one per 12 s, bursts of 5 */
	memset(k1, 1, sizeof(k1));
	memset(k2, 2, sizeof(k2));
	for (i = 0; i < 5; i++) {
		CHECK(api_limiter_wait(l, k1, t) == 0);
		CHECK(api_limiter_take(l, k1, t) == 0);
	}
	CHECK(api_limiter_take(l, k1, t) == 12);
	CHECK(api_limiter_wait(l, k1, t) == 12);
	CHECK(api_limiter_take(l, k2, t) == 0);		/* another key is unaffected */
	CHECK(api_limiter_wait(l, k1, t + 11 * SEC) == 1);
	CHECK(api_limiter_take(l, k1, t + 12 * SEC) == 0);	/* one token back */
	CHECK(api_limiter_take(l, k1, t + 12 * SEC) == 12);
	/* Charging an empty bucket builds no debt beyond one burst. */
	for (i = 0; i < 100; i++)
		api_limiter_charge(l, k1, t + 12 * SEC);
	CHECK(api_limiter_wait(l, k1, t + 12 * SEC) == 12);
	CHECK(api_limiter_wait(l, k1, t + 72 * SEC) == 0);
	/* A full minute refills the whole burst. */
	for (i = 0; i < 5; i++)
		CHECK(api_limiter_take(l, k1, t + 72 * SEC) == 0);
	CHECK(api_limiter_take(l, k1, t + 72 * SEC) != 0);
	/* Drain empties at once. */
	CHECK(api_limiter_wait(l, k2, t + 100 * SEC) == 0);
	api_limiter_drain(l, k2, t + 100 * SEC);
	CHECK(api_limiter_wait(l, k2, t + 100 * SEC) == 12);
	api_limiter_free(l);

	/* "2/second": waits round up to whole seconds, never 0 while refused. */
	CHECK((l = api_limiter_new(2, 1, &oom)) != NULL);
	CHECK(api_limiter_take(l, k1, t) == 0 && api_limiter_take(l, k1, t) == 0);
	CHECK(api_limiter_take(l, k1, t) == 1);
	CHECK(api_limiter_take(l, k1, t + SEC / 2) == 0);
	api_limiter_free(l);
	return 0;
}

/* The table never grows: a flood of distinct keys evicts, and the newest state is kept. */
static int
test_limiter_bounded(void)
{
	struct api_limiter *l;
	uint8_t k[API_LIMIT_KEY], last[API_LIMIT_KEY];
	uint64_t t = 1000 * SEC;
	uint32_t i;
	bool oom;

	CHECK((l = api_limiter_new(1, 3600, &oom)) != NULL);
	memset(k, 0, sizeof(k));
	for (i = 0; i < 200000; i++) {
		memcpy(k, &i, sizeof(i));
		api_limiter_drain(l, k, t);
	}
	memcpy(last, k, sizeof(k));
	CHECK(api_limiter_wait(l, last, t) == 3600);	/* the latest is still limited */
	memset(k, 0xee, sizeof(k));
	CHECK(api_limiter_take(l, k, t) == 0);		/* a new key still gets in */
	api_limiter_free(l);
	return 0;
}

/* Bucket keys: IPv4 per address, IPv6 per /64, unknown clients together. */
static int
test_limit_keys(void)
{
	struct sockaddr_storage a, b;
	uint8_t ka[API_LIMIT_KEY], kb[API_LIMIT_KEY];

	CHECK(cidr_addr_parse("192.0.2.1", &a) == 0 && cidr_addr_parse("192.0.2.2", &b) == 0);
	api_limit_addr_key((struct sockaddr *)&a, ka);
	api_limit_addr_key((struct sockaddr *)&b, kb);
	CHECK(memcmp(ka, kb, sizeof(ka)) != 0);
	CHECK(cidr_addr_parse("2001:db8:1:2::1", &a) == 0);
	CHECK(cidr_addr_parse("2001:db8:1:2:ffff:ffff:ffff:fffe", &b) == 0);
	api_limit_addr_key((struct sockaddr *)&a, ka);
	api_limit_addr_key((struct sockaddr *)&b, kb);
	CHECK(memcmp(ka, kb, sizeof(ka)) == 0);		/* the same /64 */
	CHECK(cidr_addr_parse("2001:db8:1:3::1", &b) == 0);
	api_limit_addr_key((struct sockaddr *)&b, kb);
	CHECK(memcmp(ka, kb, sizeof(ka)) != 0);		/* the next /64 */
	api_limit_addr_key(NULL, ka);
	memset(kb, 0xff, sizeof(kb));
	CHECK(memcmp(ka, kb, sizeof(ka)) == 0);
	api_limit_user_key("0f3c9a2e-7a61-4c58-9d0b-3f1d2a6b8c41", ka);
	CHECK(ka[0] == 0x0f && ka[1] == 0x3c && ka[15] == 0x41);
	return 0;
}

/* Route with an Authorization header. */
static void
route_auth(struct fx *f, const char *path, const char *authorization, const char *client,
    struct api_response *resp)
{
	struct api_request req;
	struct sockaddr_storage ss;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = path;
	req.authorization = authorization;
	if (client != NULL && cidr_addr_parse(client, &ss) == 0)
		req.client = (const struct sockaddr *)&ss;
	api_route(&f->ctx, &req, resp);
}

/* RFC 6750 bearer tokens, and the user field of a failed login. */
static int
test_bearer_and_log_user(void)
{
	char out[API_LOG_USER_MAX];

	CHECK(api_bearer_ok("Bearer abcdefghijklmnop", "abcdefghijklmnop"));
	CHECK(api_bearer_ok("bearer   abcdefghijklmnop  ", "abcdefghijklmnop"));
	CHECK(!api_bearer_ok("Bearer abcdefghijklmno", "abcdefghijklmnop"));
	CHECK(!api_bearer_ok("Bearer abcdefghijklmnopq", "abcdefghijklmnop"));
	CHECK(!api_bearer_ok("Bearer Abcdefghijklmnop", "abcdefghijklmnop"));
	CHECK(!api_bearer_ok("Basic abcdefghijklmnop", "abcdefghijklmnop"));
	CHECK(!api_bearer_ok("Bearerabcdefghijklmnop", "abcdefghijklmnop"));
	CHECK(!api_bearer_ok("Bearer ", "abcdefghijklmnop"));
	CHECK(!api_bearer_ok(NULL, "abcdefghijklmnop"));

	api_log_user(NULL, out, sizeof(out));
	CHECK_STR(out, "-");
	api_log_user("{0F3C9A2E-7A61-4C58-9D0B-3F1D2A6B8C41}", out, sizeof(out));
	CHECK_STR(out, "0f3c9a2e-7a61-4c58-9d0b-3f1d2a6b8c41");
	api_log_user("admin\" x=1\n\x1b[31m", out, sizeof(out));
	CHECK_STR(out, "bad:admin??x?1???31m");
	api_log_user("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", out,
	    sizeof(out));
	CHECK(strlen(out) == sizeof(out) - 1 && strncmp(out, "bad:aaaa", 8) == 0);
	return 0;
}

/* Trailing, doubled and dotted slashes and letter case: httprouter's redirects. */
static int
test_redirects(void)
{
	static const struct { const char *method, *path; unsigned status; const char *loc; } c[] = {
		{ "POST", "/update/", 307, "/update" },
		{ "POST", "//update", 307, "/update" },
		{ "POST", "//update//", 307, "/update" },
		{ "POST", "/UPDATE", 307, "/update" },
		{ "POST", "/x/../update", 307, "/update" },
		{ "POST", "/./register/", 307, "/register" },
		{ "GET", "/health/", 301, "/health" },
		{ "GET", "//Health", 301, "/health" },
		{ "HEAD", "/health/", 307, "/health" },
		{ "GET", "/update/", 404, "" },		/* no GET route there: 404, as acme-dns */
		{ "PUT", "/update/", 404, "" },
		{ "OPTIONS", "/update/", 404, "" },
		{ "POST", "/", 404, "" },
		{ "POST", "/updatex", 404, "" },
		{ "POST", "/update/x", 404, "" },
	};
	struct fx f;
	struct api_response resp;
	size_t i;

	CHECK(fx_open(&f, "") == 0);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		route(&f, c[i].method, c[i].path, NULL, NULL, "127.0.0.1", NULL, &resp);
		if (resp.status != c[i].status || strcmp(resp.location, c[i].loc) != 0) {
			fprintf(stderr, "    %s %s: %u [%s]\n", c[i].method, c[i].path, resp.status,
			    resp.location);
			return 1;
		}
		if (c[i].status == 307)
			CHECK(resp.body_len == 0 && !resp.json);
		api_response_clear(&resp);
	}
	route(&f, "GET", "/health/", NULL, NULL, "127.0.0.1", NULL, &resp);
	CHECK(body_is(&resp, "<a href=\"/health\">Moved Permanently</a>.\n\n"));
	CHECK_STR(resp.content_type, "text/html; charset=utf-8");
	api_response_clear(&resp);
	route(&f, "POST", "/update/", NULL, NULL, "127.0.0.1", NULL, &resp);
	CHECK(resp.content_type == NULL);
	api_response_clear(&resp);
	fx_close(&f);
	/* No /register route when registration is disabled: nothing to redirect to. */
	CHECK(fx_open(&f, "disable_registration = true") == 0);
	route(&f, "POST", "/register/", NULL, NULL, "127.0.0.1", NULL, &resp);
	CHECK(resp.status == 404 && resp.location[0] == '\0');
	api_response_clear(&resp);
	fx_close(&f);
	return 0;
}

/*
 * Failed logins: per address, 429 after the count; another address and the
 * right key unaffected; a user under attack costs each failing address its
 * whole bucket, yet the owner with the right key still gets in.
 */
static int
test_auth_rate(void)
{
	struct fx f;
	struct acct a, wrong;
	struct api_response resp;
	char err[128], body[256], ip[32];
	int i;

	CHECK(fx_open(&f, "auth_fail_rate = \"3/minute\"") == 0);
	CHECK(api_limits_start(&f.ctx, err, sizeof(err)) == 0);
	CHECK(do_register(&f, "", &a, NULL, 0) == 0);
	wrong = a;
	wrong.key[0] = wrong.key[0] == 'A' ? 'B' : 'A';
	for (i = 0; i < 3; i++)
		CHECK(do_update(&f, &wrong, "192.0.2.1", TXT_A) == 401);
	route(&f, "POST", "/update", wrong.user, wrong.key, "192.0.2.1",
	    update_body(a.sub, TXT_A, body, sizeof(body)), &resp);
	CHECK(resp.status == 429 && body_is(&resp, "{\"error\":\"too_many_requests\"}"));
	CHECK(resp.retry_after >= 1 && resp.retry_after <= 20);
	CHECK_STR(resp.user, a.user);		/* the log names the account tried */
	api_response_clear(&resp);
	CHECK(do_update(&f, &a, "192.0.2.1", TXT_A) == 429);	/* that address is out */
	CHECK(do_update(&f, &a, "192.0.2.2", TXT_A) == 200);	/* the owner elsewhere is not */
	/* The user is now over its rate: each failure empties its address at once. */
	CHECK(do_update(&f, &wrong, "198.51.100.1", TXT_A) == 401);
	CHECK(do_update(&f, &wrong, "198.51.100.1", TXT_A) == 429);
	CHECK(do_update(&f, &a, "198.51.100.1", TXT_A) == 429);
	for (i = 0; i < 20; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
		CHECK(do_update(&f, &wrong, ip, TXT_A) == 401);
		CHECK(do_update(&f, &wrong, ip, TXT_A) == 429);
	}
	/* ...and the owner, from an address under its own limit, is always checked. */
	CHECK(do_update(&f, &a, "192.0.2.3", TXT_B) == 200);
	CHECK(do_update(&f, &a, "192.0.2.2", TXT_C) == 200);
	/* Malformed credentials count against the address too. */
	strcpy(wrong.user, "not-a-uuid");
	for (i = 0; i < 3; i++)
		CHECK(do_update(&f, &wrong, "192.0.2.9", TXT_A) == 401);
	CHECK(do_update(&f, &wrong, "192.0.2.9", TXT_A) == 429);
	api_limits_free(&f.ctx);
	fx_close(&f);
	return 0;
}

/* /register: the per-address rate, register_allowfrom, register_token. */
static int
test_register_control(void)
{
	struct fx f;
	struct api_response resp;
	char err[128];

	CHECK(fx_open(&f, "register_rate = \"2/hour\"") == 0);
	CHECK(api_limits_start(&f.ctx, err, sizeof(err)) == 0);
	route_auth(&f, "/register", NULL, "192.0.2.1", &resp);
	CHECK(resp.status == 201);
	api_response_clear(&resp);
	route_auth(&f, "/register", NULL, "192.0.2.1", &resp);
	CHECK(resp.status == 201);
	api_response_clear(&resp);
	route_auth(&f, "/register", NULL, "192.0.2.1", &resp);
	CHECK(resp.status == 429 && body_is(&resp, "{\"error\":\"too_many_requests\"}"));
	CHECK(resp.retry_after == 1800);
	api_response_clear(&resp);
	route_auth(&f, "/register", NULL, "192.0.2.2", &resp);
	CHECK(resp.status == 201);
	api_response_clear(&resp);
	api_limits_free(&f.ctx);
	fx_close(&f);

	CHECK(fx_open(&f, "register_token = \"0123456789abcdef-token\"\n"
	    "register_allowfrom = [\"192.0.2.0/24\", \"2001:db8::/32\"]") == 0);
	route_auth(&f, "/register", NULL, "192.0.2.1", &resp);
	CHECK(resp.status == 401 && body_is(&resp, "{\"error\":\"forbidden\"}"));
	api_response_clear(&resp);
	route_auth(&f, "/register", "Bearer 0123456789abcdef-tokex", "192.0.2.1", &resp);
	CHECK(resp.status == 401 && body_is(&resp, "{\"error\":\"forbidden\"}"));
	api_response_clear(&resp);
	route_auth(&f, "/register", "Bearer 0123456789abcdef-token", "192.0.2.1", &resp);
	CHECK(resp.status == 201);
	api_response_clear(&resp);
	route_auth(&f, "/register", "Bearer 0123456789abcdef-token", "2001:db8::5", &resp);
	CHECK(resp.status == 201);
	api_response_clear(&resp);
	route_auth(&f, "/register", "Bearer 0123456789abcdef-token", "198.51.100.1", &resp);
	CHECK(resp.status == 401 && body_is(&resp, "{\"error\":\"forbidden\"}"));
	api_response_clear(&resp);
	route_auth(&f, "/register", "Bearer 0123456789abcdef-token", NULL, &resp);
	CHECK(resp.status == 401);
	api_response_clear(&resp);
	fx_close(&f);

	CHECK(fx_open(&f, "disable_registration = true\n"
	    "register_token = \"0123456789abcdef-token\"") == 0);
	route_auth(&f, "/register", "Bearer 0123456789abcdef-token", "192.0.2.1", &resp);
	CHECK(resp.status == 404 && body_is(&resp, "{\"error\":\"not_found\"}"));
	api_response_clear(&resp);
	fx_close(&f);
	return 0;
}


/* The dns-persist-01 value check: one code per kind of fault, the issuer as the key. */
static int
test_persist_value_check(void)
{
	static const struct { const char *v; enum api_err e; const char *issuer; } cases[] = {
		{ "ca.example; accounturi=https://ca.example/acct/1", API_ERR_NONE, "ca.example" },
		{ " CA.Example ;accounturi = u ; policy=wildcard;persistUntil=1900000000 ",
		    API_ERR_NONE, "ca.example" },
		{ "a-b.c1; AccountURI=x", API_ERR_NONE, "a-b.c1" },
		{ "", API_ERR_PERSIST_VALUE, "" },
		{ "ca.example; accounturi=\x7f", API_ERR_PERSIST_VALUE, "" },
		{ "; accounturi=x", API_ERR_ISSUER, "" },
		{ "ca..example; accounturi=x", API_ERR_ISSUER, "" },
		{ "ca-.example; accounturi=x", API_ERR_ISSUER, "" },
		{ "ca.example.; accounturi=x", API_ERR_ISSUER, "" },
		{ "ca.example x; accounturi=x", API_ERR_ISSUER, "" },
		{ "ca_x.example; accounturi=x", API_ERR_ISSUER, "" },
		{ "ca.example; accounturi", API_ERR_PERSIST_PARAM, "" },
		{ "ca.example; -a=x; accounturi=x", API_ERR_PERSIST_PARAM, "" },
		{ "ca.example; accounturi=x;", API_ERR_PERSIST_PARAM, "" },
		{ "ca.example; accounturi=x y", API_ERR_PERSIST_PARAM, "" },
		{ "ca.example; accounturi=a; accountURI=b", API_ERR_PERSIST_DUP, "" },
		{ "ca.example", API_ERR_ACCOUNTURI, "" },
		{ "ca.example;", API_ERR_ACCOUNTURI, "" },
		{ "ca.example; accounturi=", API_ERR_ACCOUNTURI, "" },
		{ "ca.example; accounturi=x; persistUntil=-1", API_ERR_PERSIST_UNTIL, "" },
		{ "ca.example; accounturi=x; persistuntil=12345678901234567890", API_ERR_PERSIST_UNTIL,
		    "" },
	};
	char issuer[STORAGE_ISSUER_LEN + 1], big[STORAGE_PERSIST_LEN + 2];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum api_err e = api_persist_value_check(cases[i].v, strlen(cases[i].v), issuer);

		if (e != cases[i].e || strcmp(issuer, cases[i].issuer) != 0) {
			fprintf(stderr, "    [%s]: got %d [%s], want %d [%s]\n", cases[i].v, (int)e,
			    issuer, (int)cases[i].e, cases[i].issuer);
			return 1;
		}
	}
	memset(big, 'a', sizeof(big));
	memcpy(big, "ca.example; accounturi=", 23);
	CHECK(api_persist_value_check(big, STORAGE_PERSIST_LEN, issuer) == API_ERR_NONE);
	CHECK(api_persist_value_check(big, STORAGE_PERSIST_LEN + 1, issuer) ==
	    API_ERR_PERSIST_TOO_LONG);
	CHECK(api_persist_issuer_check("CA.example", 10, issuer) == API_ERR_NONE);
	CHECK_STR(issuer, "ca.example");
	CHECK(api_persist_issuer_check("ca.example;", 11, issuer) == API_ERR_ISSUER);
	CHECK(api_persist_issuer_check("", 0, issuer) == API_ERR_ISSUER);
	CHECK_STR(api_err_body(API_ERR_PERSIST_LIMIT), "{\"error\":\"persist_limit_reached\"}");
	CHECK(api_err_status(API_ERR_PERSIST_NONE) == 404);
	return 0;
}

static const struct test_case tests[] = {
	{ "register_update_dns", test_register_update_dns },
	{ "persist_value_check", test_persist_value_check },
	{ "update_forbidden", test_update_forbidden },
	{ "allowfrom_enforced", test_allowfrom_enforced },
	{ "register_errors", test_register_errors },
	{ "routing", test_routing },
	{ "lifecycle", test_lifecycle },
	{ "health", test_health },
	{ "db_error", test_db_error },
	{ "cors", test_cors },
	{ "user_normalize", test_user_normalize },
	{ "key_valid", test_key_valid },
	{ "client_addr", test_client_addr },
	{ "allowfrom_ok", test_allowfrom_ok },
	{ "cors_origin", test_cors_origin },
	{ "server", test_server },
	{ "server_forwarded", test_server_forwarded },
	{ "server_timeout", test_server_timeout },
	{ "access_log", test_access_log },
	{ "limiter_bucket", test_limiter_bucket },
	{ "limiter_bounded", test_limiter_bounded },
	{ "limit_keys", test_limit_keys },
	{ "bearer_and_log_user", test_bearer_and_log_user },
	{ "redirects", test_redirects },
	{ "auth_rate", test_auth_rate },
	{ "register_control", test_register_control },
};

TEST_MAIN(tests)
