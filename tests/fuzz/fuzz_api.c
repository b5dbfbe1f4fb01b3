/* tests/fuzz/fuzz_api.c -- libFuzzer target: one HTTP request through the API's decision layer */
/* SPDX-License-Identifier: ISC */

/*
 * The input is one request as libmicrohttpd hands it to api/server.c:
 *   method NUL path NUL X-Api-User NUL X-Api-Key NUL Origin NUL
 *   Access-Control-Request-Method NUL Authorization NUL peer address NUL
 *   X-Forwarded-For NUL body
 * It goes the way server.c's answer() takes it: the client address from the
 * peer and the forwarded header (trusted proxies), then api_route() on real
 * storage (SQLite in a temporary directory) and a real, unstarted dnsd,
 * with the rate limiters on (generous rates, so the authenticated paths stay
 * reachable) and a registration token (the seeds know it).
 * Two accounts exist, one open and one with an allowfrom list; the tokens
 * @U1 @K1 @S1 (@U2 @K2 @S2) in the user, key and body stand for their
 * username, key and subdomain, so seeds can reach the authenticated paths.
 * MHD's own parsing is not fuzzed here (it is libmicrohttpd's).
 */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../api/api.h"
#include "../../api/internal.h"
#include "fuzz.h"

#define FUZZ_API_MAX_REGISTER 2000	/* /register calls that reach storage per process; later
					 * ones stop after the body parser, so the database stays small */
#define FUZZ_API_ACCOUNTS 2
#define FUZZ_API_FIELDS 9		/* NUL-separated fields before the body */
#define FUZZ_API_TOKEN "fuzz-register-token-0123456789"	/* register_token of the config */

static const char config_text[] =
    "[general]\nlisten = \"127.0.0.1:0\"\nprotocol = \"both4\"\n"
    "domain = \"auth.example.org\"\nnsname = \"ns1.auth.example.org\"\n"
    "nsadmin = \"admin.example.org\"\nrecords = []\n"
    "[database]\nengine = \"sqlite3\"\nconnection = \"%s\"\n"
    "[api]\nip = \"127.0.0.1\"\nport = 0\ntls = \"none\"\n"
    "corsorigins = [\"https://*.example.com\", \"https://exact.example.org\"]\n"
    "use_header = true\nheader_name = \"X-Forwarded-For\"\n"
    "trusted_proxies = [\"127.0.0.0/8\", \"::1\"]\n"
    "auth_fail_rate = \"1000/second\"\nregister_rate = \"1000/second\"\n"
    "register_token = \"" FUZZ_API_TOKEN "\"\n"
    "[logconfig]\nloglevel = \"error\"\n";

struct fx {
	struct config cfg;
	struct storage *st;
	struct dnsd *d;
	struct api_ctx ctx;
	struct cidr trusted[2];
	struct storage_account acct[FUZZ_API_ACCOUNTS];
	char key[FUZZ_API_ACCOUNTS][STORAGE_KEY_LEN + 1];
	char dir[64];
	unsigned registered;
};

static struct fx fx;

/* Remove the temporary database when libFuzzer exits (storage stays open until then). */
static void
fx_cleanup(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[160];
	size_t i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s/db.sqlite%s", fx.dir, suffix[i]);
		unlink(p);
	}
	rmdir(fx.dir);
}

/* Set up config, storage, dnsd and the two accounts once; failure aborts the harness. */
static void
fx_once(void)
{
	static const char *const allow[] = { "192.0.2.0/24", "2001:db8::/32" };
	struct dnsd_params p;
	char text[2048], db[128], err[512];
	const char *tmp = getenv("TMPDIR");

	log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT, NULL);
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 32)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fx.dir, sizeof(fx.dir), "%s/dns01d-fuzz-api.XXXXXX", tmp);
	if (mkdtemp(fx.dir) == NULL)
		abort();
	atexit(fx_cleanup);
	snprintf(db, sizeof(db), "%s/db.sqlite", fx.dir);
	snprintf(text, sizeof(text), config_text, db);
	if (config_parse("fuzz.cfg", text, strlen(text), &fx.cfg, err, sizeof(err)) == -1 ||
	    (fx.st = storage_open(db, 2, err, sizeof(err))) == NULL)
		goto fail;
	memset(&p, 0, sizeof(p));
	p.config_path = "fuzz.cfg";
	(void)config_listen_parse("127.0.0.1:0", &p.listen);
	p.protocol = DNSD_PROTO_UDP | DNSD_PROTO_V4;
	p.domain = fx.cfg.domain;
	p.nsname = fx.cfg.nsname;
	p.nsadmin = fx.cfg.nsadmin;
	p.threads = 1;
	p.txt_ttl = 1;
	p.negative_ttl = 60;
	if ((fx.d = dnsd_new(&p, err, sizeof(err))) == NULL)
		goto fail;
	if (cidr_parse("127.0.0.0/8", &fx.trusted[0]) == -1 || cidr_parse("::1", &fx.trusted[1]) == -1)
		abort();
	memset(&fx.ctx, 0, sizeof(fx.ctx));
	fx.ctx.cfg = &fx.cfg;
	fx.ctx.st = fx.st;
	fx.ctx.d = fx.d;
	fx.ctx.trusted = fx.trusted;
	fx.ctx.ntrusted = 2;
	if (api_limits_start(&fx.ctx, err, sizeof(err)) == -1)
		goto fail;
	if (storage_register(fx.st, NULL, 0, &fx.acct[0], fx.key[0]) == -1 ||
	    storage_register(fx.st, allow, 2, &fx.acct[1], fx.key[1]) == -1)
		abort();
	return;
fail:
	fprintf(stderr, "fuzz_api: set-up: %s\n", err);
	abort();
}

/* Replace a whole-field token (@U1, @K2 ...) by the account's value; takes ownership of s. */
static char *
subst_field(char *s)
{
	unsigned i;

	if (strlen(s) != 3 || s[0] != '@' || (s[2] != '1' && s[2] != '2'))
		return s;
	i = (unsigned)(s[2] - '1');
	if (s[1] == 'U' || s[1] == 'K') {
		const char *v = s[1] == 'U' ? fx.acct[i].username : fx.key[i];
		free(s);
		if ((s = strdup(v)) == NULL)
			abort();
	}
	return s;
}

/* Replace each "@S1"/"@S2" in the body by that subdomain (same length or longer: new buffer). */
static char *
subst_body(char *b, size_t *len)
{
	char *out, *p;
	size_t i, o = 0, cap = *len * (STORAGE_ID_LEN / 3 + 1) + 1;

	if (memmem(b, *len, "@S", 2) == NULL)
		return b;
	if ((out = malloc(cap)) == NULL)
		abort();
	for (i = 0; i < *len;) {
		if (i + 3 <= *len && b[i] == '@' && b[i + 1] == 'S' && (b[i + 2] == '1' || b[i + 2] == '2')) {
			p = fx.acct[b[i + 2] - '1'].subdomain;
			memcpy(out + o, p, strlen(p));
			o += strlen(p);
			i += 3;
		} else {
			out[o++] = b[i++];
		}
	}
	out[o] = '\0';
	free(b);
	*len = o;
	return out;
}

/* What every reply must be: a status of the contract, the CORS rules kept. */
static void
check_response(const struct api_request *req, const struct api_response *resp)
{
	switch (resp->status) {
	case 200: case 201: case 301: case 307: case 400: case 401: case 404: case 405: case 413:
	case 429: case 500: case 503:
		break;
	default:
		abort();
	}
	if (resp->body_len > 0 && resp->body == NULL)
		abort();
	if (resp->cors_origin != NULL && strcmp(resp->cors_origin, "*") != 0 &&
	    (req->origin == NULL || strcmp(resp->cors_origin, req->origin) != 0))
		abort();
	if (resp->status == 200 && req->path != NULL && strcmp(req->path, "/update") == 0 &&
	    req->method != NULL && strcmp(req->method, "POST") == 0 && req->client == NULL &&
	    strcmp(resp->user, fx.acct[1].username) == 0)
		abort();	/* an allowfrom account updated from an unknown address */
}

/* Route one request, or only parse a /register body once the quota is used. */
static void
route(struct api_request *req, const struct sockaddr *peer, const char *fwd)
{
	struct sockaddr_storage client;
	struct api_response resp;
	struct api_register_req rr;
	int crc;

	if (cidr_match_any(fx.ctx.trusted, fx.ctx.ntrusted, peer))
		crc = api_client_addr(peer, true, fwd, fx.ctx.trusted, fx.ctx.ntrusted, &client);
	else
		crc = api_client_addr(peer, false, NULL, NULL, 0, &client);
	req->client = crc == 0 ? (const struct sockaddr *)&client : NULL;
	if (strcmp(req->path, "/register") == 0 && strcmp(req->method, "POST") == 0 &&
	    fx.registered >= FUZZ_API_MAX_REGISTER) {
		api_json_register_parse(req->body, req->body_len, &rr);
		return;
	}
	fx.registered += strcmp(req->path, "/register") == 0 && strcmp(req->method, "POST") == 0;
	api_route(&fx.ctx, req, &resp);
	check_response(req, &resp);
	api_response_clear(&resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct api_request req;
	struct sockaddr_storage peer;
	char *f[FUZZ_API_FIELDS], *body;
	size_t i, blen;

	if (fx.st == NULL)
		fx_once();
	if (size > FUZZ_MAX_INPUT)
		return 0;
	for (i = 0; i < FUZZ_API_FIELDS; i++)
		f[i] = subst_field(fuzz_field(&in));
	body = subst_body(fuzz_rest(&in, &blen), &blen);
	if (cidr_addr_parse(f[7], &peer) == -1 && cidr_addr_parse("127.0.0.1", &peer) == -1)
		abort();
	memset(&req, 0, sizeof(req));
	req.method = f[0];
	req.path = f[1];
	req.api_user = f[2][0] != '\0' ? f[2] : NULL;
	req.api_key = f[3][0] != '\0' ? f[3] : NULL;
	req.origin = f[4][0] != '\0' ? f[4] : NULL;
	req.acr_method = f[5][0] != '\0' ? f[5] : NULL;
	req.authorization = f[6][0] != '\0' ? f[6] : NULL;
	req.body = body;
	req.body_len = blen;
	route(&req, (const struct sockaddr *)&peer, f[8][0] != '\0' ? f[8] : NULL);
	for (i = 0; i < FUZZ_API_FIELDS; i++)
		free(f[i]);
	free(body);
	return 0;
}
