/* tests/unit/test_client.c -- unit tests of the dns01 ACME client (client/) */
/* SPDX-License-Identifier: ISC */

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/common.h"
#include "../../acme/internal.h"
#include "../../client/client.h"
#include "testhelp.h"

/* RFC 7638 §3.1: the RSA key whose thumbprint is given there. */
static char rfc7638_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
    "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
    "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhA"
    "I4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc7638_tp[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/* A temporary directory for file tests (removed by the test that made it). */
static char tmpdir[64];

static int
mktmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_client.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static void
rmtmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "    cannot remove %s\n", tmpdir);
}

/* The string value of "key":"..." in a compact JSON text (test helper only). */
static char *
json_field(const char *json, const char *key)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(json, pat);
	if (p == NULL)
		return NULL;
	p += strlen(pat);
	e = strchr(p, '"');
	return e != NULL ? strndup(p, (size_t)(e - p)) : NULL;
}

/* base64url-decode into a NUL-terminated string. */
static char *
b64s(const char *s)
{
	unsigned char *out;
	size_t n;

	if (b64url_decode(s, &out, &n) == -1)
		return NULL;
	return (char *)out;
}

static int
test_jwk_thumbprint_rfc7638(void)
{
	struct jwk j = { .kty = (char *)"RSA", .n = (char *)rfc7638_n, .e = (char *)"AQAB" };
	char tp[44], *canon;

	canon = json_jwk_canonical(&j);
	CHECK(canon != NULL);
	/* RFC 7638 §3.3: members sorted, no whitespace. */
	CHECK(strncmp(canon, "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"0vx7", 32) == 0);
	free(canon);
	CHECK(acme_thumbprint(&j, tp) == 0);
	CHECK_STR(tp, rfc7638_tp);
	return 0;
}

static int
test_jws_rfc7515_a3_es256(void)
{
	/* RFC 7515 appendix A.3: an ES256 JWS, verified with the given public key. */
	struct jwk j = {
		.kty = (char *)"EC", .crv = (char *)"P-256",
		.x = (char *)"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
		.y = (char *)"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
	};
	const char *input = "eyJhbGciOiJFUzI1NiJ9."
	    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
	const char *sig64 =
	    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
	struct crypto_key *k;
	struct acme_err err = { .set = false };
	unsigned char *sig;
	size_t siglen;
	int ok, bad;

	k = crypto_key_from_jwk(&j, &err);
	CHECK(k != NULL);
	CHECK_STR(crypto_key_alg(k), "ES256");
	CHECK(b64url_decode(sig64, &sig, &siglen) == 0);
	CHECK(siglen == 64);
	ok = crypto_verify(k, input, strlen(input), sig, siglen);
	sig[10] ^= 1;
	bad = crypto_verify(k, input, strlen(input), sig, siglen);
	free(sig);
	crypto_key_free(k);
	CHECK(ok == 0);
	CHECK(bad == -1);
	return 0;
}

/* Sign with a fresh key, verify through its JWK (as a CA would). */
static int
sign_roundtrip(enum crypto_key_type t, const char *alg, size_t want_len)
{
	struct acme_err err = { .set = false };
	struct crypto_key *k, *pub;
	struct jwk j;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	const char *msg = "eyJhbGciOiJFUzI1NiJ9.e30";
	int rc = 1;

	k = crypto_key_generate(t, &err);
	if (k == NULL || crypto_key_jwk(k, &j, &err) != 0)
		return 1;
	pub = crypto_key_from_jwk(&j, &err);
	if (pub != NULL && strcmp(crypto_key_alg(k), alg) == 0 &&
	    crypto_sign(k, msg, strlen(msg), &sig, &siglen, &err) == 0 &&
	    (want_len == 0 || siglen == want_len) &&
	    crypto_verify(pub, msg, strlen(msg), sig, siglen) == 0 &&
	    crypto_verify(pub, "other", 5, sig, siglen) == -1)
		rc = 0;
	if (rc != 0)
		fprintf(stderr, "    %s: siglen %zu (want %zu) %s\n", alg, siglen, want_len, err.msg);
	free(sig);
	jwk_free(&j);
	crypto_key_free(pub);
	crypto_key_free(k);
	return rc;
}

static int
test_jws_sign_verify_roundtrip(void)
{
	/* RFC 7518 §3.4: raw R||S of 64 (P-256) and 96 (P-384) bytes. */
	CHECK(sign_roundtrip(CRYPTO_KEY_EC256, "ES256", 64) == 0);
	CHECK(sign_roundtrip(CRYPTO_KEY_EC384, "ES384", 96) == 0);
	CHECK(sign_roundtrip(CRYPTO_KEY_RSA2048, "RS256", 256) == 0);
	return 0;
}

static int
test_jws_headers_kid_and_jwk(void)
{
	struct acme_err err = { .set = false };
	struct crypto_key *k;
	struct jwk j;
	char *jwk_json, *jws, *prot64, *pl64, *prot, *sig64, *input, tp[44];
	unsigned char *sig;
	size_t siglen;

	k = crypto_key_generate(CRYPTO_KEY_EC256, &err);
	CHECK(k != NULL && crypto_key_jwk(k, &j, &err) == 0);
	jwk_json = json_jwk_canonical(&j);
	CHECK(jwk_json != NULL && acme_thumbprint(&j, tp) == 0 && strlen(tp) == 43);
	/* newAccount: jwk, no kid (RFC 8555 §6.2). */
	jws = acme_jws(k, "nonce1", "https://ca/new-acct", NULL, jwk_json, "{}", &err);
	CHECK(jws != NULL);
	prot64 = json_field(jws, "protected");
	prot = b64s(prot64);
	CHECK(prot != NULL);
	CHECK(strstr(prot, "\"jwk\":{\"crv\":\"P-256\",\"kty\":\"EC\"") != NULL);
	CHECK(strstr(prot, "\"kid\"") == NULL);
	CHECK(strstr(prot, "\"nonce\":\"nonce1\"") != NULL);
	CHECK(strstr(prot, "\"url\":\"https://ca/new-acct\"") != NULL);
	CHECK(strstr(prot, "\"alg\":\"ES256\"") != NULL);
	/* The signature covers protected "." payload. */
	pl64 = json_field(jws, "payload");
	sig64 = json_field(jws, "signature");
	CHECK(pl64 != NULL && sig64 != NULL);
	CHECK(asprintf(&input, "%s.%s", prot64, pl64) > 0);
	CHECK(b64url_decode(sig64, &sig, &siglen) == 0 && siglen == 64);
	CHECK(crypto_verify(k, input, strlen(input), sig, siglen) == 0);
	free(sig);
	free(input);
	free(prot);
	free(prot64);
	free(pl64);
	free(sig64);
	free(jws);
	/* Everything else: kid, no jwk; POST-as-GET has an empty payload (§6.3). */
	jws = acme_jws(k, "nonce2", "https://ca/order/1", "https://ca/acct/7", NULL, NULL, &err);
	CHECK(jws != NULL);
	prot64 = json_field(jws, "protected");
	prot = b64s(prot64);
	CHECK(prot != NULL && strstr(prot, "\"kid\":\"https://ca/acct/7\"") != NULL);
	CHECK(strstr(prot, "\"jwk\"") == NULL);
	CHECK(strstr(jws, "\"payload\":\"\"") != NULL);
	free(prot);
	free(prot64);
	free(jws);
	free(jwk_json);
	jwk_free(&j);
	crypto_key_free(k);
	return 0;
}

static int
test_eab_jws_hs256(void)
{
	/* RFC 8555 §7.3.4: HS256 over the account JWK, kid = EAB kid, url = newAccount. */
	struct acme_err err = { .set = false };
	const char *key64 = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
	const char *jwk = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"a\",\"y\":\"b\"}";
	char *jws, *p64, *pl64, *s64, *prot, *payload, *input;
	unsigned char *key, *mac, want[32];
	size_t keylen, maclen;

	jws = acme_eab_jws("kid-1", key64, "https://ca/new-acct", jwk, &err);
	CHECK(jws != NULL);
	p64 = json_field(jws, "protected");
	pl64 = json_field(jws, "payload");
	s64 = json_field(jws, "signature");
	CHECK(p64 != NULL && pl64 != NULL && s64 != NULL);
	prot = b64s(p64);
	payload = b64s(pl64);
	CHECK(prot != NULL && payload != NULL);
	CHECK(strstr(prot, "\"alg\":\"HS256\"") != NULL);
	CHECK(strstr(prot, "\"kid\":\"kid-1\"") != NULL);
	CHECK(strstr(prot, "\"url\":\"https://ca/new-acct\"") != NULL);
	CHECK(strstr(prot, "nonce") == NULL);	/* §7.3.4: no nonce in the inner JWS */
	CHECK_STR(payload, jwk);
	CHECK(b64url_decode(key64, &key, &keylen) == 0 && keylen == 48);
	CHECK(asprintf(&input, "%s.%s", p64, pl64) > 0);
	CHECK(crypto_hmac_sha256(key, keylen, input, strlen(input), want) == 0);
	CHECK(b64url_decode(s64, &mac, &maclen) == 0 && maclen == 32);
	CHECK(memcmp(mac, want, 32) == 0);
	/* The key itself never appears in the JWS. */
	CHECK(strstr(jws, key64) == NULL);
	free(mac);
	free(key);
	free(input);
	free(prot);
	free(payload);
	free(p64);
	free(pl64);
	free(s64);
	free(jws);
	/* A key that is not base64url is refused with a message that does not echo it. */
	jws = acme_eab_jws("kid-1", "not base64!", "https://ca/new-acct", jwk, &err);
	CHECK(jws == NULL && err.set && strstr(err.msg, "not base64!") == NULL);
	return 0;
}

static int
test_hmac_sha256_rfc4231(void)
{
	/* RFC 4231 §4.2, test case 1. */
	unsigned char key[20], out[32];
	char *b;

	memset(key, 0x0b, sizeof(key));
	CHECK(crypto_hmac_sha256(key, sizeof(key), "Hi There", 8, out) == 0);
	b = b64url_encode(out, 32);
	/* b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7 */
	CHECK_STR(b, "sDRMYdjbOFNcqK_OrwvxK4gdwgDJgz2nJuk3bC4yz_c");
	free(b);
	return 0;
}

static int
test_key_authorization_txt(void)
{
	/* TXT = base64url(SHA-256(token "." thumbprint)), RFC 8555 §8.1 and §8.4;
	 * the expected value was computed with `openssl dgst -sha256 -binary`. */
	char txt[44];

	CHECK(acme_dns01_txt("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA", rfc7638_tp, txt) == 0);
	CHECK_STR(txt, "ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8");
	CHECK(strlen(txt) == 43);
	return 0;
}

static int
test_b64url(void)
{
	unsigned char *out;
	size_t n;
	char *e;

	e = b64url_encode("\xfb\xff\xfe", 3);
	CHECK_STR(e, "-__-");
	free(e);
	e = b64url_encode("ab", 2);
	CHECK_STR(e, "YWI");
	free(e);
	CHECK(b64url_decode("YWI", &out, &n) == 0 && n == 2 && memcmp(out, "ab", 2) == 0);
	free(out);
	CHECK(b64url_decode("YWI=", &out, &n) == 0 && n == 2);
	free(out);
	CHECK(b64url_decode("", &out, &n) == 0 && n == 0);
	free(out);
	CHECK(b64url_decode("Y", &out, &n) == -1);
	CHECK(b64url_decode("YW+I", &out, &n) == -1);	/* standard alphabet refused */
	CHECK(b64url_decode("YW I", &out, &n) == -1);
	return 0;
}

/* Make a CSR of type t for two names and check what is inside. */
static int
csr_check(enum crypto_key_type t, bool ec, int bits)
{
	struct acme_err err = { .set = false };
	const char *names[] = { "example.test", "*.example.test" };
	struct crypto_csr_info info;
	struct crypto_key *k;
	unsigned char *der;
	size_t len;
	int rc = 1;

	k = crypto_key_generate(t, &err);
	if (k == NULL || crypto_csr(k, names, 2, &der, &len, &err) != 0)
		return 1;
	if (crypto_csr_parse(der, len, &info) == 0) {
		if (info.signature_ok && info.is_ec == ec && info.key_bits == bits &&
		    info.nnames == 2 && strcmp(info.names[0], "example.test") == 0 &&
		    strcmp(info.names[1], "*.example.test") == 0 && info.cn != NULL &&
		    strcmp(info.cn, "example.test") == 0)
			rc = 0;
		else
			fprintf(stderr, "    csr: sig %d ec %d bits %d names %zu\n", info.signature_ok,
			    info.is_ec, info.key_bits, info.nnames);
		crypto_csr_info_free(&info);
	}
	/* A flipped byte in the signature must not verify (or not parse). */
	der[len - 3] ^= 0x55;
	if (rc == 0 && crypto_csr_parse(der, len, &info) == 0) {
		if (info.signature_ok)
			rc = 1;
		crypto_csr_info_free(&info);
	}
	free(der);
	crypto_key_free(k);
	return rc;
}

static int
test_csr_contents(void)
{
	CHECK(csr_check(CRYPTO_KEY_EC256, true, 256) == 0);
	CHECK(csr_check(CRYPTO_KEY_EC384, true, 384) == 0);
	CHECK(csr_check(CRYPTO_KEY_RSA2048, false, 2048) == 0);
	return 0;
}

static int
test_key_pem_roundtrip(void)
{
	struct acme_err err = { .set = false };
	struct crypto_key *k, *k2;
	char *pem;
	size_t len;
	enum crypto_key_type t;

	CHECK(crypto_key_type_parse("ec384", &t) == 0 && t == CRYPTO_KEY_EC384);
	CHECK(crypto_key_type_parse("rsa4096", &t) == 0 && t == CRYPTO_KEY_RSA4096);
	CHECK(crypto_key_type_parse("dsa1024", &t) == -1);
	k = crypto_key_generate(CRYPTO_KEY_EC256, &err);
	CHECK(k != NULL && crypto_key_pem(k, &pem, &len, &err) == 0);
	CHECK(strstr(pem, "BEGIN PRIVATE KEY") != NULL);
	k2 = crypto_key_load(pem, len, &err);
	CHECK(k2 != NULL && crypto_key_kind(k2) == CRYPTO_KEY_EC256);
	acme_free_secret(pem);
	crypto_key_free(k);
	crypto_key_free(k2);
	CHECK(crypto_key_load("garbage", 7, &err) == NULL && err.set);
	return 0;
}

static int
test_storage_file(void)
{
	struct acme_err err = { .set = false };
	struct acmedns_account a = {
		.username = (char *)"2d7bd3f1-6a0b-4f3e-9b5f-0a1b2c3d4e5f",
		.password = (char *)"aaaaaaaaaabbbbbbbbbbccccccccccdddddddd-_",
		.fulldomain = (char *)"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.auth.example.org",
		.subdomain = (char *)"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
		.server_url = (char *)"https://auth.example.org",
	}, got;
	char path[128], *text;
	size_t len;
	struct stat st;
	FILE *f;

	CHECK(mktmp() == 0);
	snprintf(path, sizeof(path), "%s/acmedns.json", tmpdir);
	/* An existing file in goacmedns's capitalised form, with another domain. */
	f = fopen(path, "w");
	CHECK(f != NULL);
	fprintf(f, "{\"other.test\": {\"FullDomain\": \"x.auth.example.org\", \"SubDomain\": \"x\", "
	    "\"Username\": \"u\", \"Password\": \"p\", \"server_url\": \"http://127.0.0.1:1\", "
	    "\"extra\": 1}}");
	fclose(f);
	CHECK(acmedns_storage_lookup(path, "example.test", &got, &err) == 0);
	CHECK(acmedns_storage_lookup(path, "other.test", &got, &err) == 1);
	CHECK_STR(got.fulldomain, "x.auth.example.org");
	acmedns_account_free(&got);
	/* A wildcard is stored under its base domain. */
	CHECK(acmedns_storage_store(path, "*.example.test", &a, &err) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(acmedns_storage_lookup(path, "example.test", &got, &err) == 1);
	CHECK_STR(got.username, a.username);
	CHECK_STR(got.password, a.password);
	CHECK_STR(got.fulldomain, a.fulldomain);
	CHECK_STR(got.subdomain, a.subdomain);
	CHECK_STR(got.server_url, a.server_url);
	acmedns_account_free(&got);
	CHECK(acmedns_storage_lookup(path, "*.example.test", &got, &err) == 1);
	acmedns_account_free(&got);
	/* lego's lower-case member names, and the other entry kept as it was. */
	CHECK(acme_file_read(path, ACME_MAX_FILE, &text, &len, &err) == 0);
	CHECK(strstr(text, "\"example.test\"") != NULL);
	CHECK(strstr(text, "\"*.example.test\"") == NULL);
	CHECK(strstr(text, "\"fulldomain\"") != NULL && strstr(text, "\"server_url\"") != NULL);
	CHECK(strstr(text, "\"FullDomain\"") != NULL && strstr(text, "\"extra\"") != NULL);
	free(text);
	/* Malformed files fail cleanly. */
	f = fopen(path, "w");
	CHECK(f != NULL);
	fprintf(f, "{\"example.test\": {\"fulldomain\": \"a b\"}}");
	fclose(f);
	CHECK(acmedns_storage_lookup(path, "example.test", &got, &err) == -1 && err.set);
	acme_err_clear(&err);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fprintf(f, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
	fclose(f);
	CHECK(acmedns_storage_lookup(path, "example.test", &got, &err) == -1);
	CHECK(acmedns_storage_store(path, "example.test", &a, &err) == -1);
	acme_err_clear(&err);
	/* A file over the cap is refused, not truncated. */
	f = fopen(path, "w");
	CHECK(f != NULL);
	CHECK(fseek(f, ACME_MAX_FILE + 1, SEEK_SET) == 0 && fputc('}', f) != EOF);
	fclose(f);
	CHECK(acmedns_storage_lookup(path, "example.test", &got, &err) == -1);
	rmtmp();
	return 0;
}

static int
test_acmedns_register_response(void)
{
	struct acme_err err = { .set = false };
	struct acmedns_account a;
	const char *ok = "{\"username\":\"eabcdf6b-3b2a-4ad2-9b76-9a4cd8b4ca6c\","
	    "\"password\":\"pbAXVjlIOE01xbut7YnAbkhMQIkcwoHO0ek2j4Q0\","
	    "\"fulldomain\":\"d420c923-bbd7-4056-ab64-c3ca54c9b3cf.auth.example.org\","
	    "\"subdomain\":\"d420c923-bbd7-4056-ab64-c3ca54c9b3cf\",\"allowfrom\":[]}";

	CHECK(json_acmedns_account(ok, strlen(ok), "http://127.0.0.1:8080", &a, &err) == 0);
	CHECK_STR(a.server_url, "http://127.0.0.1:8080");
	CHECK_STR(a.subdomain, "d420c923-bbd7-4056-ab64-c3ca54c9b3cf");
	acmedns_account_free(&a);
	/* A hostile fulldomain (would end up in printed DNS records) is refused. */
	const char *bad = "{\"username\":\"u\",\"password\":\"p\",\"fulldomain\":\"x.\\nevil\","
	    "\"subdomain\":\"s\"}";
	CHECK(json_acmedns_account(bad, strlen(bad), "http://h", &a, &err) == -1);
	/*
	 * Issue 12: an answer that carries its own server_url leaked that string
	 * (caught by LeakSanitizer under make check); the URL asked wins.
	 */
	const char *with_url = "{\"username\":\"eabcdf6b-3b2a-4ad2-9b76-9a4cd8b4ca6c\","
	    "\"password\":\"pbAXVjlIOE01xbut7YnAbkhMQIkcwoHO0ek2j4Q0\","
	    "\"fulldomain\":\"d420c923-bbd7-4056-ab64-c3ca54c9b3cf.auth.example.org\","
	    "\"subdomain\":\"d420c923-bbd7-4056-ab64-c3ca54c9b3cf\","
	    "\"server_url\":\"https://other.example\"}";
	CHECK(json_acmedns_account(with_url, strlen(with_url), "https://asked.example", &a,
	    &err) == 0);
	CHECK_STR(a.server_url, "https://asked.example");
	acmedns_account_free(&a);
	return 0;
}

static int
test_retry_after_both_forms(void)
{
	/* RFC 9110 §10.2.3: delay-seconds or HTTP-date (§5.6.7, all three forms). */
	time_t t = 784111777;	/* Sun, 06 Nov 1994 08:49:37 GMT */
	long s;

	CHECK(acme_retry_after("120", t, &s) == 0 && s == 120);
	CHECK(acme_retry_after(" 0 ", t, &s) == 0 && s == 0);
	CHECK(acme_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t - 30, &s) == 0 && s == 30);
	CHECK(acme_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", t - 5, &s) == 0 && s == 5);
	CHECK(acme_retry_after("Sun Nov  6 08:49:37 1994", t - 7, &s) == 0 && s == 7);
	CHECK(acme_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t + 100, &s) == 0 && s == 0);
	CHECK(acme_retry_after("soon", t, &s) == -1);
	CHECK(acme_retry_after("12abc", t, &s) == -1);
	CHECK(acme_retry_after("-5", t, &s) == -1);
	CHECK(acme_retry_after("", t, &s) == -1);
	CHECK(acme_retry_after("99999999999999999999999", t, &s) == 0 && s > 0);
	/* Polling honours it, clamped; without it, bounded backoff. */
	CHECK(acme_poll_delay_ms("3", 0) == 3000);
	CHECK(acme_poll_delay_ms("100000", 0) == ACME_POLL_MAX_DELAY * 1000);
	CHECK(acme_poll_delay_ms("0", 2) == 2 * ACME_POLL_FIRST_MS);
	CHECK(acme_poll_delay_ms(NULL, 0) == 0);	/* the first poll at once */
	CHECK(acme_poll_delay_ms(NULL, 1) == ACME_POLL_FIRST_MS);
	CHECK(acme_poll_delay_ms(NULL, 3) == 4 * ACME_POLL_FIRST_MS);
	CHECK(acme_poll_delay_ms(NULL, 30) == ACME_POLL_BACKOFF_MAX_MS);
	CHECK(acme_poll_delay_ms(NULL, 4000000000u) == ACME_POLL_BACKOFF_MAX_MS);
	return 0;
}

static int
test_rfc3339(void)
{
	time_t t;

	CHECK(acme_rfc3339("1994-11-06T08:49:37Z", &t) == 0 && t == 784111777);
	CHECK(acme_rfc3339("1994-11-06T08:49:37.123456Z", &t) == 0 && t == 784111777);
	CHECK(acme_rfc3339("1994-11-06T10:49:37+02:00", &t) == 0 && t == 784111777);
	CHECK(acme_rfc3339("1994-11-06", &t) == -1);
	CHECK(acme_rfc3339("1994-13-06T08:49:37Z", &t) == -1);
	CHECK(acme_rfc3339("1994-11-06T08:49:37", &t) == -1);
	return 0;
}

static int
test_problem_format(void)
{
	const char *doc = "{\"type\":\"urn:ietf:params:acme:error:rateLimited\","
	    "\"detail\":\"too many certificates\\nfor this name\",\"status\":429,"
	    "\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\","
	    "\"detail\":\"not allowed\",\"identifier\":{\"type\":\"dns\",\"value\":\"x.test\"}}]}";
	struct acme_problem p;
	struct acme_err err = { .set = false };
	char line[512];

	CHECK(json_problem_parse(doc, strlen(doc), &p) == 0);
	CHECK(p.status == 429 && p.nsub == 1);
	acme_problem_format(&p, NULL, line, sizeof(line));
	CHECK_STR(line, "rateLimited: too many certificates\nfor this name (x.test: not allowed)");
	acme_problem_format(&p, "3600", line, sizeof(line));
	CHECK(strstr(line, "(retry after ") != NULL);
	/* The error line is one line, whatever the CA sent. */
	acme_errf(&err, "the CA refused the order: %s", line);
	CHECK(strchr(err.msg, '\n') == NULL);
	CHECK(strstr(err.msg, "rateLimited: too many certificates for this name") != NULL);
	acme_problem_free(&p);
	CHECK(json_problem_parse("{\"detail\":\"no type\"}", 20, &p) == -1);
	CHECK(json_problem_parse("<html>", 6, &p) == -1);
	/* The first error wins; replace overrides on purpose. */
	acme_errf(&err, "second");
	CHECK(strstr(err.msg, "second") == NULL);
	acme_err_replace(&err, "outer: %s", "x");
	CHECK_STR(err.msg, "outer: x");
	return 0;
}

static int
test_directory_parse(void)
{
	struct acme_err err = { .set = false };
	struct acme_directory d;
	const char *ok = "{\"newNonce\":\"https://ca/nonce\",\"newAccount\":\"https://ca/acct\","
	    "\"newOrder\":\"https://ca/order\",\"revokeCert\":\"https://ca/revoke\","
	    "\"keyChange\":\"https://ca/kc\",\"renewalInfo\":\"https://ca/ari\","
	    "\"meta\":{\"termsOfService\":\"https://ca/tos\",\"externalAccountRequired\":true,"
	    "\"caaIdentities\":[\"CA.Example\",\"other.example\"]}}";
	const char *badcaa = "{\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\","
	    "\"newOrder\":\"https://ca/o\",\"meta\":{\"caaIdentities\":[\"not a name\"]}}";

	CHECK(json_directory_parse(ok, strlen(ok), &d, &err) == 0);
	CHECK_STR(d.caa_identity, "ca.example");	/* the first, lower-cased */
	CHECK_STR(d.new_nonce, "https://ca/nonce");
	CHECK_STR(d.renewal_info, "https://ca/ari");
	CHECK(d.new_authz == NULL && d.eab_required);
	acme_directory_free(&d);
	CHECK(json_directory_parse(badcaa, strlen(badcaa), &d, &err) == 0);
	CHECK(d.caa_identity == NULL);
	acme_directory_free(&d);
	CHECK(json_directory_parse("{}", 2, &d, &err) == -1);
	CHECK(json_directory_parse("[1]", 3, &d, &err) == -1);
	CHECK(json_directory_parse("{\"newNonce\":", 12, &d, &err) == -1);
	const char *notes = "{\"newNonce\":\"file:///etc/passwd\",\"newAccount\":\"https://a\","
	    "\"newOrder\":\"https://b\"}";
	CHECK(json_directory_parse(notes, strlen(notes), &d, &err) == -1);
	return 0;
}

static int
test_authz_and_order_parse(void)
{
	struct acme_err err = { .set = false };
	struct acme_authz a;
	struct acme_order o;
	const char *az = "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"ex.test\"},"
	    "\"wildcard\":true,\"challenges\":[{\"type\":\"http-01\",\"url\":\"https://ca/c/1\","
	    "\"token\":\"t1\"},{\"type\":\"dns-01\",\"url\":\"https://ca/c/2\",\"token\":\"tok\","
	    "\"status\":\"pending\"}]}";
	const char *ord = "{\"status\":\"ready\",\"authorizations\":[\"https://ca/a/1\",\"https://ca/a/2\"],"
	    "\"finalize\":\"https://ca/fin\"}";

	CHECK(json_authz_parse(az, strlen(az), &a, &err) == 0);
	CHECK(a.wildcard);
	CHECK_STR(a.identifier, "ex.test");
	CHECK_STR(a.chall[ACME_CHALL_DNS01].url, "https://ca/c/2");
	CHECK_STR(a.chall[ACME_CHALL_DNS01].token, "tok");
	acme_authz_free(&a);
	CHECK(json_order_parse(ord, strlen(ord), &o, &err) == 0);
	CHECK(o.nauthz == 2 && o.certificate == NULL);
	CHECK_STR(o.finalize, "https://ca/fin");
	acme_order_free(&o);
	CHECK(json_order_parse("{\"status\":\"x\",\"authorizations\":[1]}", 34, &o, &err) == -1);
	return 0;
}

/* draft-ietf-acme-dns-account-label: the example account of the draft's users. */
static int
test_acme_account_label(void)
{
	char label[ACME_ACCOUNT_LABEL_LEN + 1], name[300];

	CHECK(acme_account_label("https://example.com/acme/acct/ExampleAccount", label) == 0);
	CHECK_STR(label, "ujmmovf2vn55tgye");
	CHECK(acme_chall_record(ACME_CHALL_DNS_ACCOUNT01, "example.org",
	    "https://example.com/acme/acct/ExampleAccount", name, sizeof(name)) == 0);
	CHECK_STR(name, "_ujmmovf2vn55tgye._acme-challenge.example.org.");
	CHECK(acme_chall_record(ACME_CHALL_DNS01, "ex.test", NULL, name, sizeof(name)) == 0);
	CHECK_STR(name, "_acme-challenge.ex.test.");
	CHECK(acme_chall_record(ACME_CHALL_DNS_PERSIST01, "ex.test", NULL, name, sizeof(name)) == 0);
	CHECK_STR(name, "_validation-persist.ex.test.");
	CHECK(acme_chall_record(ACME_CHALL_DNS01, "ex.test", NULL, name, 10) == -1);
	return 0;
}

/* draft-ietf-acme-dns-persist §4.1: issuer, accounturi, policy, persistUntil. */
static int
test_persist_match(void)
{
	const char *issuers[] = { "authority.example", "ca.example.net" };
	struct acme_persist_want w = { .issuers = issuers, .nissuers = 2,
		.account_url = "https://ca.example/acct/1", .domain = "example.com",
		.thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
		.hash_prefix = "https://ca.example/account-hash/", .now = 1700000000 };
	const char *why;
	char hashed[200];
	unsigned char in[300], h[32];
	char *b64;
	size_t n = 0;

	CHECK(acme_persist_match("authority.example; accounturi=https://ca.example/acct/1", &w, NULL));
	CHECK(acme_persist_match("  CA.example.net. ;accounturi = https://ca.example/acct/1 ; "
	    "x-unknown=1", &w, NULL));
	CHECK(!acme_persist_match("other.example; accounturi=https://ca.example/acct/1", &w, &why));
	CHECK(strstr(why, "issuer") != NULL);
	CHECK(!acme_persist_match("authority.example; accounturi=https://ca.example/acct/2", &w, &why));
	CHECK(!acme_persist_match("authority.example", &w, &why));
	CHECK(!acme_persist_match("authority.example; accounturi=https://ca.example/acct/1; junk",
	    &w, &why));
	CHECK(acme_persist_match("authority.example; accounturi=https://ca.example/acct/1; "
	    "persistUntil=1700000001", &w, NULL));
	CHECK(!acme_persist_match("authority.example; accounturi=https://ca.example/acct/1; "
	    "persistUntil=1699999999", &w, &why));
	CHECK(strstr(why, "persistUntil") != NULL);
	CHECK(!acme_persist_match("authority.example; accounturi=https://ca.example/acct/1; "
	    "persistUntil=soon", &w, &why));
	w.wildcard = true;
	CHECK(!acme_persist_match("authority.example; accounturi=https://ca.example/acct/1", &w, &why));
	CHECK(strstr(why, "wildcard") != NULL);
	CHECK(acme_persist_match("authority.example; accounturi=https://ca.example/acct/1; "
	    "policy=WILDCARD", &w, NULL));
	w.wildcard = false;
	/* -02 §4.1: sha-256 over len(domain) || domain || thumbprint || account URL. */
	in[n++] = (unsigned char)strlen(w.domain);
	memcpy(in + n, w.domain, strlen(w.domain));
	n += strlen(w.domain);
	memcpy(in + n, w.thumbprint, 43);
	n += 43;
	memcpy(in + n, w.account_url, strlen(w.account_url));
	n += strlen(w.account_url);
	CHECK(crypto_sha256(in, n, h) == 0 && (b64 = b64url_encode(h, 32)) != NULL);
	snprintf(hashed, sizeof(hashed), "authority.example; accounturi=%ssha-256/%s",
	    w.hash_prefix, b64);
	free(b64);
	CHECK(acme_persist_match(hashed, &w, NULL));
	hashed[strlen(hashed) - 1] ^= 1;
	CHECK(!acme_persist_match(hashed, &w, NULL));
	return 0;
}

/* meta.profiles, the order's profile echo, three DNS challenge types, newOrder's profile. */
static int
test_profiles_and_challenges(void)
{
	struct acme_err err = { .set = false };
	struct acme_directory d;
	struct acme_authz a;
	struct acme_order o;
	const char *dir = "{\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\","
	    "\"newOrder\":\"https://ca/o\",\"meta\":{\"profiles\":{\"classic\":\"x\","
	    "\"shortlived\":\"y\",\"bad name\":\"z\"},\"accountHashPrefix\":\"https://ca/h/\"}}";
	const char *az = "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"ex.test\"},"
	    "\"challenges\":[{\"type\":\"dns-persist-01\",\"url\":\"https://ca/c/3\",\"status\":"
	    "\"pending\",\"issuerDomainNames\":[\"CA.Test\"]},{\"type\":\"dns-account-01\",\"url\":"
	    "\"https://ca/c/2\",\"token\":\"t2\"},{\"type\":\"dns-01\",\"url\":\"https://ca/c/1\","
	    "\"token\":\"t1\",\"error\":{\"type\":\"urn:x\",\"detail\":\"d\"}}]}";
	const char *bad = "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"e.t\"},"
	    "\"challenges\":[{\"type\":\"dns-persist-01\",\"url\":\"https://ca/c/3\","
	    "\"issuerDomainNames\":[]}]}";
	const char *ord = "{\"status\":\"pending\",\"profile\":\"shortlived\"}";
	const char *names[] = { "ex.test" };
	char *p;

	CHECK(json_directory_parse(dir, strlen(dir), &d, &err) == 0);
	CHECK(d.nprofiles == 2);
	CHECK_STR(d.account_hash_prefix, "https://ca/h/");
	acme_directory_free(&d);
	CHECK(json_authz_parse(az, strlen(az), &a, &err) == 0);
	CHECK_STR(a.chall[ACME_CHALL_DNS01].url, "https://ca/c/1");
	CHECK_STR(a.chall[ACME_CHALL_DNS_ACCOUNT01].token, "t2");
	CHECK(a.chall[ACME_CHALL_DNS_PERSIST01].nissuers == 1);
	CHECK_STR(a.chall[ACME_CHALL_DNS_PERSIST01].issuers[0], "ca.test");
	CHECK(a.chall[ACME_CHALL_DNS_PERSIST01].token == NULL && a.error.type != NULL);
	acme_authz_free(&a);
	/* An empty issuerDomainNames makes the challenge malformed: not offered (§3.1). */
	CHECK(json_authz_parse(bad, strlen(bad), &a, &err) == 0);
	CHECK(a.chall[ACME_CHALL_DNS_PERSIST01].url == NULL);
	acme_authz_free(&a);
	CHECK(json_order_parse(ord, strlen(ord), &o, &err) == 0);
	CHECK_STR(o.profile, "shortlived");
	acme_order_free(&o);
	p = json_new_order(names, 1, NULL, "shortlived");
	CHECK(p != NULL && strstr(p, "\"profile\":\"shortlived\"") != NULL);
	free(p);
	p = json_new_order(names, 1, NULL, NULL);
	CHECK(p != NULL && strstr(p, "profile") == NULL);
	free(p);
	return 0;
}

static int
test_link_alternate(void)
{
	struct http_response r;

	memset(&r, 0, sizeof(r));
	http_parse_link("https://ca/cert/1", "<https://ca/cert/1/1>;rel=\"alternate\", "
	    "<https://ca/issuer>;rel=\"up\", </cert/1/2>; rel=alternate", &r);
	CHECK(r.nalternate == 2);
	CHECK_STR(r.alternate[0], "https://ca/cert/1/1");
	CHECK_STR(r.alternate[1], "https://ca/cert/1/2");
	http_response_free(&r);
	http_parse_link("https://ca/x", "<javascript:alert(1)>;rel=alternate", &r);
	CHECK(r.nalternate == 0);
	return 0;
}

static int
test_domain_names(void)
{
	char *d;

	d = acme_domain_normalize("Example.TEST.");
	CHECK_STR(d, "example.test");
	free(d);
	d = acme_domain_normalize("*.example.test");
	CHECK_STR(d, "*.example.test");
	CHECK_STR(acme_base_domain(d), "example.test");
	free(d);
	CHECK(acme_domain_normalize("example") == NULL);
	CHECK(acme_domain_normalize("a.*.example.test") == NULL);
	CHECK(acme_domain_normalize("-a.test") == NULL);
	CHECK(acme_domain_normalize("a..test") == NULL);
	CHECK(acme_domain_normalize("a b.test") == NULL);
	CHECK(is_http_url("https://ca.example/dir"));
	CHECK(!is_http_url("ftp://ca.example/dir"));
	CHECK(!is_http_url("https://"));
	CHECK(!is_http_url("https://a b"));
	return 0;
}

static int
test_renewal_due(void)
{
	struct crypto_cert c;
	time_t now = 1800000000;
	const char *why;

	memset(&c, 0, sizeof(c));
	c.not_before = now - 10 * 86400;
	c.not_after = now + 80 * 86400;	/* 90 days, 80 left */
	CHECK(acme_renewal_due(&c, now, -1, false, 0, 0, &why) == 0);
	CHECK(acme_renewal_due(&c, now, -1, true, 0, 0, &why) == 1);
	CHECK(acme_renewal_due(&c, now, 81, false, 0, 0, &why) == 1);
	CHECK(acme_renewal_due(&c, now, 30, false, 0, 0, &why) == 0);
	c.not_after = now + 29 * 86400;	/* less than a third of 39 days... */
	c.not_before = now - 61 * 86400;	/* ... of 90 days */
	CHECK(acme_renewal_due(&c, now, -1, false, 0, 0, &why) == 1);
	/* RFC 9773 §4.2: the CA's window decides when it is given. */
	CHECK(acme_renewal_due(&c, now, -1, false, now + 86400, now + 2 * 86400, &why) == 0);
	CHECK(acme_renewal_due(&c, now, -1, false, now - 2 * 86400, now - 86400, &why) == 1);
	c.not_after = now - 1;
	CHECK(acme_renewal_due(&c, now, -1, false, now + 86400, now + 2 * 86400, &why) == 1);
	return 0;
}

/*
 * Issue 12 (mutation testing): the line is a third of the lifetime. With 90
 * days, 31 left is not due, 30 (exactly a third) is not due, 29 is; a move of
 * the line to 2/3 (60 days) would make 31 due. --days N: exactly N days left
 * is not due ("fewer than N"), one second less is.
 */
static int
test_renewal_threshold_line(void)
{
	struct crypto_cert c;
	time_t now = 1800000000, day = 86400;
	const char *why;

	memset(&c, 0, sizeof(c));
	c.not_before = now - 59 * day;
	c.not_after = now + 31 * day;
	CHECK(acme_renewal_due(&c, now, -1, false, 0, 0, &why) == 0);
	c.not_before = now - 60 * day;
	c.not_after = now + 30 * day;
	CHECK(acme_renewal_due(&c, now, -1, false, 0, 0, &why) == 0);
	c.not_before = now - 61 * day;
	c.not_after = now + 29 * day;
	CHECK(acme_renewal_due(&c, now, -1, false, 0, 0, &why) == 1);
	CHECK(strstr(why, "third") != NULL);
	/* 59 days left of 90: not due (a 2/3 line would say due). */
	c.not_before = now - 31 * day;
	c.not_after = now + 59 * day;
	CHECK(acme_renewal_due(&c, now, -1, false, 0, 0, &why) == 0);
	/* Exactly --days left. */
	c.not_before = now - 60 * day;
	c.not_after = now + 30 * day;
	CHECK(acme_renewal_due(&c, now, 30, false, 0, 0, &why) == 0);
	CHECK(acme_renewal_due(&c, now + 1, 30, false, 0, 0, &why) == 1);
	CHECK(acme_renewal_due(&c, now, 31, false, 0, 0, &why) == 1);
	CHECK(acme_renewal_due(&c, now, 29, false, 0, 0, &why) == 0);
	return 0;
}

/* Issue 12: the account key that register/issue creates is mode 0600, whatever the umask. */
static int
test_account_key_mode(void)
{
	struct acme_session_params p;
	struct acme_session s;
	struct acme_err e = { .set = false };
	struct stat st;
	char path[128];
	mode_t old;
	int rc;

	CHECK(mktmp() == 0);
	memset(&p, 0, sizeof(p));
	p.state_dir = tmpdir;
	p.directory_url = "https://127.0.0.1:1/dir";	/* refused at once: no CA needed */
	p.create_key = true;
	old = umask(0);
	rc = acme_session_open(&s, &p, &e);
	umask(old);
	snprintf(path, sizeof(path), "%s/account.key", tmpdir);
	int st_rc = stat(path, &st);
	rmtmp();
	CHECK(rc == -1);	/* the directory could not be read */
	CHECK(st_rc == 0);	/* but the key was created first */
	CHECK((st.st_mode & 0777) == 0600);
	return 0;
}

static int parse(struct client_opts *o, struct acme_err *e, char **argv);

/* Issue 12: no X-Api-Key over plain http:// off loopback without --insecure-http. */
static int
test_plain_http_refused(void)
{
	struct client_opts o;
	struct acme_err e = { .set = false };
	char *remote_api[] = { "dns01", "register", "--api", "http://acme-dns.example",
	    "--storage", "s", "a.test", NULL };
	char *remote_ok[] = { "dns01", "register", "--api", "http://acme-dns.example",
	    "--storage", "s", "--insecure-http", "a.test", NULL };
	char *remote_dir[] = { "dns01", "account", "show", "--directory",
	    "http://ca.example:14000/dir", NULL };
	char *loop6[] = { "dns01", "register", "--api", "http://[::1]:8080", "--storage", "s",
	    "a.test", NULL };
	char *https[] = { "dns01", "register", "--api", "https://acme-dns.example",
	    "--storage", "s", "a.test", NULL };

	unsetenv("DNS01_INSECURE_HTTP");
	setenv("DNS01_DIRECTORY", "https://ca.test/dir", 1);
	CHECK(parse(&o, &e, remote_api) == -1);
	CHECK(strstr(e.msg, "--api") != NULL && strstr(e.msg, "--insecure-http") != NULL);
	CHECK(strchr(e.msg, '\n') == NULL);
	CHECK(parse(&o, &e, remote_ok) == 0 && o.insecure_http);
	client_opts_free(&o);
	CHECK(parse(&o, &e, loop6) == 0);
	client_opts_free(&o);
	CHECK(parse(&o, &e, https) == 0);
	client_opts_free(&o);
	CHECK(parse(&o, &e, remote_dir) == -1 && strstr(e.msg, "--directory") != NULL);
	unsetenv("DNS01_DIRECTORY");
	/* Through main: exit 2. */
	CHECK(client_main(7, remote_api) == CLIENT_EXIT_ERROR);

	CHECK(!acme_url_plain_remote("http://127.0.0.1:8080"));
	CHECK(!acme_url_plain_remote("http://127.9.8.7/"));
	CHECK(!acme_url_plain_remote("http://localhost:8080/x"));
	CHECK(!acme_url_plain_remote("http://LOCALHOST./"));
	CHECK(!acme_url_plain_remote("http://[::1]:80"));
	CHECK(!acme_url_plain_remote("http://user@127.0.0.1/"));
	CHECK(!acme_url_plain_remote("https://ca.example/"));
	CHECK(!acme_url_plain_remote(NULL));
	CHECK(acme_url_plain_remote("http://128.0.0.1/"));
	CHECK(acme_url_plain_remote("http://192.0.2.1:8080"));
	CHECK(acme_url_plain_remote("http://[2001:db8::1]/"));
	CHECK(acme_url_plain_remote("http://localhost.example/"));
	CHECK(acme_url_plain_remote("http://127.0.0.1.example/"));
	CHECK(acme_url_plain_remote("http://127.0.0.1@evil.example/"));
	CHECK(acme_url_plain_remote("HTTP://example/"));
	return 0;
}

/* Run client_opts_parse on a NULL-terminated list. */
static int
parse(struct client_opts *o, struct acme_err *e, char **argv)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	acme_err_clear(e);
	return client_opts_parse(argc, argv, o, e);
}

static int
test_options_and_env(void)
{
	struct client_opts o;
	struct acme_err e = { .set = false };
	char secret[] = "c2VjcmV0LWtleS12YWx1ZQ";
	char *a1[] = { "dns01", "issue", "-d", "Example.test", "-d", "*.example.test", "-d",
	    "example.test", "--out", "/tmp/x", "--storage", "s.json", "--key-type", "rsa3072",
	    "--eab-hmac-key", secret, "--eab-kid", "k1", "-v", "--json", NULL };
	char *a2[] = { "dns01", "renew", "--days", "20", "--force", NULL };
	char *a3[] = { "dns01", "register", "--api", "http://127.0.0.1:8080", "--storage", "s",
	    "--allow-from", "192.0.2.0/24", "a.test", "*.b.test", NULL };
	char *bad_reason[] = { "dns01", "revoke", "--cert", "c.pem", "--reason", "7", NULL };
	char *bad_cidr[] = { "dns01", "register", "--api", "http://x", "--storage", "s",
	    "--allow-from", "300.1.1.1/8", "a.test", NULL };
	char *bad_key[] = { "dns01", "issue", "--key-type", "dsa", NULL };
	char *bad_opt[] = { "dns01", "issue", "--nope", NULL };
	char *extra[] = { "dns01", "issue", "stray", NULL };
	char *acct[] = { "dns01", "account", "rollover", NULL };
	char *acct_bad[] = { "dns01", "account", "delete", NULL };

	unsetenv("DNS01_DOMAIN");
	setenv("DNS01_DIRECTORY", "https://ca.test/dir", 1);
	setenv("DNS01_AGREE_TOS", "yes", 1);
	setenv("DNS01_EMAIL", "ops@example.test", 1);
	CHECK(parse(&o, &e, a1) == 0);
	CHECK(o.cmd == CLIENT_CMD_ISSUE);
	CHECK(o.ndomains == 2);	/* normalised and de-duplicated */
	CHECK_STR(o.domains[0], "example.test");
	CHECK_STR(o.domains[1], "*.example.test");
	CHECK_STR(o.directory, "https://ca.test/dir");
	CHECK(o.agree_tos && o.json && o.verbose == 1 && o.key_type == CRYPTO_KEY_RSA3072);
	CHECK_STR(o.email, "ops@example.test");
	CHECK_STR(o.eab_hmac_key, "c2VjcmV0LWtleS12YWx1ZQ");
	/* The secret is gone from argv (process title, /proc/PID/cmdline). */
	CHECK(strstr(secret, "c2Vj") == NULL && secret[0] == 'x');
	client_opts_free(&o);

	/* Everything from the environment, lists separated by commas or spaces. */
	setenv("DNS01_DOMAIN", "a.test, *.a.test", 1);
	setenv("DNS01_OUT", "/tmp/out", 1);
	setenv("DNS01_STORAGE", "/tmp/s.json", 1);
	setenv("DNS01_EAB_HMAC_KEY", "ZW52LWtleQ", 1);
	CHECK(parse(&o, &e, a2) == 0);
	CHECK(o.cmd == CLIENT_CMD_RENEW && o.ndomains == 2 && o.days == 20 && o.force);
	CHECK_STR(o.domains[1], "*.a.test");
	CHECK_STR(o.out, "/tmp/out");
	CHECK_STR(o.eab_hmac_key, "ZW52LWtleQ");
	client_opts_free(&o);
	/* The command line wins over the environment, lists included. */
	CHECK(parse(&o, &e, a1) == 0);
	CHECK_STR(o.out, "/tmp/x");
	CHECK(o.ndomains == 2);
	CHECK_STR(o.domains[0], "example.test");
	client_opts_free(&o);
	unsetenv("DNS01_EAB_HMAC_KEY");

	CHECK(parse(&o, &e, a3) == 0);
	CHECK(o.cmd == CLIENT_CMD_REGISTER && o.nallow == 1 && o.ndomains == 2);
	CHECK_STR(o.domains[1], "*.b.test");
	client_opts_free(&o);

	CHECK(parse(&o, &e, bad_reason) == -1 && strstr(e.msg, "--reason") != NULL);
	CHECK(parse(&o, &e, bad_cidr) == -1 && strstr(e.msg, "CIDR") != NULL);
	CHECK(parse(&o, &e, bad_key) == -1 && strstr(e.msg, "--key-type") != NULL);
	CHECK(parse(&o, &e, bad_opt) == -1 && strstr(e.msg, "--nope") != NULL);
	CHECK(parse(&o, &e, extra) == -1 && strstr(e.msg, "stray") != NULL);
	CHECK(parse(&o, &e, acct) == 0 && o.cmd == CLIENT_CMD_ACCOUNT_ROLLOVER);
	client_opts_free(&o);
	CHECK(parse(&o, &e, acct_bad) == -1);
	/* A bad value from the environment names the variable. */
	setenv("DNS01_REASON", "x", 1);
	CHECK(parse(&o, &e, acct) == -1 && strstr(e.msg, "DNS01_REASON") != NULL);
	unsetenv("DNS01_REASON");
	/* No directory: a usage error that says what to do. */
	unsetenv("DNS01_DIRECTORY");
	CHECK(parse(&o, &e, acct) == -1 && strstr(e.msg, "--directory") != NULL);
	unsetenv("DNS01_DOMAIN");
	unsetenv("DNS01_OUT");
	unsetenv("DNS01_STORAGE");
	unsetenv("DNS01_AGREE_TOS");
	unsetenv("DNS01_EMAIL");
	return 0;
}

static int
test_exit_codes(void)
{
	char *help[] = { "dns01", "--help", NULL };
	char *unknown[] = { "dns01", "frobnicate", NULL };
	char *missing[] = { "dns01", "issue", "-d", "a.test", NULL };
	char *noacct[] = { "dns01", "account", "show", "--directory", "https://127.0.0.1:1/dir",
	    "--state-dir", tmpdir, NULL };
	FILE *saved;
	int rc_help, rc_unknown, rc_missing, rc_noacct;

	CHECK(mktmp() == 0);
	/* Keep the test log readable: the usage goes to /dev/null. */
	saved = stdout;
	stdout = fopen("/dev/null", "w");
	rc_help = client_main(2, help);
	fclose(stdout);
	stdout = saved;
	rc_unknown = client_main(2, unknown);
	rc_missing = client_main(4, missing);
	rc_noacct = client_main(7, noacct);
	rmtmp();
	CHECK(rc_help == CLIENT_EXIT_OK);
	CHECK(rc_unknown == CLIENT_EXIT_ERROR);
	CHECK(rc_missing == CLIENT_EXIT_ERROR);
	CHECK(rc_noacct == CLIENT_EXIT_ERROR);
	return 0;
}

static int
test_atomic_write(void)
{
	struct acme_err err = { .set = false };
	char path[128], *buf;
	size_t len;
	struct stat st;

	CHECK(mktmp() == 0);
	snprintf(path, sizeof(path), "%s/d/e/key.pem", tmpdir);
	CHECK(acme_file_write(path, "x", 1, 0600, &err) == -1);	/* no such directory */
	acme_err_clear(&err);
	snprintf(path, sizeof(path), "%s/d/e", tmpdir);
	CHECK(acme_mkdirs(path, 0700, &err) == 0);
	snprintf(path, sizeof(path), "%s/d/e/key.pem", tmpdir);
	CHECK(acme_file_write(path, "secret1", 7, 0600, &err) == 0);
	CHECK(acme_file_write(path, "secret22", 8, 0600, &err) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(acme_file_read(path, 100, &buf, &len, &err) == 0 && len == 8);
	CHECK_STR(buf, "secret22");
	free(buf);
	CHECK(acme_file_read(path, 4, &buf, &len, &err) == -1);	/* over the cap */
	acme_err_clear(&err);
	snprintf(path, sizeof(path), "%s/none", tmpdir);
	CHECK(acme_file_read(path, 4, &buf, &len, &err) == 1 && !err.set);
	rmtmp();
	return 0;
}

/*
 * Self-signed, serial 0x87654321 and (subject and authority) key identifier
 * 69:88:5B:...:D4: the values of RFC 9773 appendix A. Made with
 * `openssl req -x509 -set_serial 0x87654321 -addext subjectKeyIdentifier=...`.
 */
static const char ari_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBjTCCATOgAwIBAgIFAIdlQyEwCgYIKoZIzj0EAwIwEzERMA8GA1UEAwwIYXJp\n"
    "LnRlc3QwHhcNMjYxMTI0MTMxOTUzWhcNMzYxMTIxMTMxOTUzWjATMREwDwYDVQQD\n"
    "DAhhcmkudGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLiUopqWvHVbuUlz\n"
    "10KArOMRps8tcXvl8yhTSVJC0rqXEb7nuUlAPW1cHffCTBOlVYamKfdI2CPa0mUL\n"
    "45mKU0qjdDByMA8GA1UdEwEB/wQFMAMBAf8wHQYDVR0OBBYEFGmIW2uHRkBB4bN7\n"
    "hHugrizeAcjUMB8GA1UdIwQYMBaAFGmIW2uHRkBB4bN7hHugrizeAcjUMB8GA1Ud\n"
    "EQQYMBaCCGFyaS50ZXN0ggoqLmFyaS50ZXN0MAoGCCqGSM49BAMCA0gAMEUCIQDt\n"
    "aCOIEzdbqVCSdAU2XL06yYnB3M3xCbs0PSieUe55JgIgY6efB5IpB1KYBkQ9I0Sc\n"
    "XR/Q0JHGVU1hYThuHt55k4E=\n"
    "-----END CERTIFICATE-----\n";

static int
test_cert_parse_and_ari_cert_id(void)
{
	struct acme_err err = { .set = false };
	struct crypto_cert c;
	struct crypto_chain ch;
	struct crypto_key *k;
	char two[2 * sizeof(ari_pem) + 8], *junk;

	CHECK(crypto_cert_parse(ari_pem, strlen(ari_pem), &c, &err) == 0);
	/* RFC 9773 §4.1 / appendix A: the serial keeps its leading zero octet. */
	CHECK_STR(c.ari_id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	CHECK_STR(c.serial_hex, "87654321");
	CHECK_STR(c.issuer_cn, "ari.test");
	CHECK(c.nnames == 2);
	CHECK_STR(c.names[0], "ari.test");
	CHECK_STR(c.names[1], "*.ari.test");
	CHECK(c.not_after - c.not_before == 3650L * 86400);
	crypto_cert_free(&c);
	/* Chains: split, issuer match, and garbage refused. */
	snprintf(two, sizeof(two), "%s\n%s\n", ari_pem, ari_pem);
	CHECK(crypto_chain_split(two, strlen(two), &ch, &err) == 0);
	CHECK(ch.ncerts == 2);
	CHECK(strlen(ch.full_pem) == strlen(ch.leaf_pem) + strlen(ch.chain_pem));
	crypto_chain_free(&ch);
	CHECK(crypto_chain_issuer_match(two, strlen(two), "ari.test") == 2);
	CHECK(crypto_chain_issuer_match(two, strlen(two), "Other Root") == 0);
	CHECK(crypto_chain_split("<html>", 6, &ch, &err) == -1);
	junk = strdup(ari_pem);
	CHECK(junk != NULL);
	junk[100] = '*';	/* corrupt base64 inside the PEM */
	CHECK(crypto_cert_parse(junk, strlen(junk), &c, &err) == -1);
	free(junk);
	/* The certificate is not for a fresh key. */
	k = crypto_key_generate(CRYPTO_KEY_EC256, &err);
	CHECK(k != NULL && !crypto_cert_matches_key(ari_pem, strlen(ari_pem), k));
	crypto_key_free(k);
	return 0;
}

static int
test_every_option_has_env(void)
{
	/* Each DNS01_<OPTION> variable sets its option (issue 3: CI secrets via env). */
	static const struct { const char *var, *val; } env[] = {
		{ "DNS01_STORAGE", "/s.json" }, { "DNS01_DOMAIN", "a.test" },
		{ "DNS01_OUT", "/out" }, { "DNS01_DAYS", "9" }, { "DNS01_FORCE", "1" },
		{ "DNS01_CERT", "/c.pem" }, { "DNS01_REASON", "4" },
		{ "DNS01_DIRECTORY", "https://ca/dir" }, { "DNS01_STATE_DIR", "/st" },
		{ "DNS01_CA_FILE", "/ca.pem" }, { "DNS01_RESOLVER", "127.0.0.1:5353" },
		{ "DNS01_EMAIL", "a@b.test" }, { "DNS01_AGREE_TOS", "true" },
		{ "DNS01_KEY_TYPE", "ec384" }, { "DNS01_EAB_KID", "kid" },
		{ "DNS01_EAB_HMAC_KEY", "a2V5" }, { "DNS01_DEPLOY_HOOK", "true" },
		{ "DNS01_PREFERRED_CHAIN", "Root X" }, { "DNS01_JSON", "yes" },
		{ "DNS01_VERBOSE", "1" }, { "DNS01_API", "http://api.test" },
		{ "DNS01_ALLOW_FROM", "192.0.2.0/24 2001:db8::/32" },
		{ "DNS01_INSECURE_HTTP", "1" }, { "DNS01_CSR", "/r.csr" },
		{ "DNS01_REUSE_KEY", "1" }, { "DNS01_CERT_KEY", "/k.pem" },
		{ "DNS01_DNS_TIMEOUT", "120" }, { "DNS01_NS_PORT", "5353" }, { "DNS01_QUIET", "1" },
	};
	char *argv[] = { "dns01", "renew", NULL };
	struct client_opts o;
	struct acme_err e = { .set = false };
	size_t i;

	for (i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		setenv(env[i].var, env[i].val, 1);
	CHECK(parse(&o, &e, argv) == 0);
	for (i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		unsetenv(env[i].var);
	CHECK_STR(o.storage, "/s.json");
	CHECK(o.ndomains == 1);
	CHECK_STR(o.domains[0], "a.test");
	CHECK_STR(o.out, "/out");
	CHECK(o.days == 9 && o.force && o.reason == 4);
	CHECK_STR(o.cert, "/c.pem");
	CHECK_STR(o.directory, "https://ca/dir");
	CHECK_STR(o.state_dir, "/st");
	CHECK_STR(o.ca_file, "/ca.pem");
	CHECK_STR(o.resolver, "127.0.0.1:5353");
	CHECK_STR(o.email, "a@b.test");
	CHECK(o.agree_tos && o.key_type == CRYPTO_KEY_EC384);
	CHECK_STR(o.eab_kid, "kid");
	CHECK_STR(o.eab_hmac_key, "a2V5");
	CHECK_STR(o.deploy_hook, "true");
	CHECK_STR(o.preferred_chain, "Root X");
	CHECK(o.json && o.verbose == 1);
	CHECK_STR(o.api, "http://api.test");
	CHECK(o.nallow == 2 && o.insecure_http);
	CHECK_STR(o.csr, "/r.csr");
	CHECK_STR(o.cert_key, "/k.pem");
	CHECK(o.reuse_key && o.dns_timeout == 120 && o.ns_port == 5353 && o.quiet);
	client_opts_free(&o);
	return 0;
}

static int
test_numeric_identifiers(void)
{
	static const char *const bad[] = { "127.0.0.1", "::1", "[::1]", "2001:db8::1", "123",
		"example.123", "123.", "0" };
	static const char *const good[] = { "example.com", "1.example.com", "123.example.com",
		"x1", "a.b1" };
	char *argv[] = { "dns01", "issue", "-d", "127.0.0.1", "--out", "/o", "--storage", "/s",
		"--directory", "https://ca/dir", NULL };
	struct client_opts o;
	struct acme_err e = { .set = false };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(acme_name_numeric(bad[i]));
		CHECK(acme_domain_normalize(bad[i]) == NULL);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(!acme_name_numeric(good[i]));
	CHECK(parse(&o, &e, argv) == -1);
	CHECK(strstr(e.msg, "IP address or an all-numeric name") != NULL);
	argv[3] = (char *)"123";
	CHECK(parse(&o, &e, argv) == -1);
	CHECK(strstr(e.msg, "all-numeric") != NULL);
	return 0;
}

static int
test_storage_without_server_url(void)
{
	struct acme_err err = { .set = false };
	struct acmedns_account got;
	char path[128], *text = NULL;
	size_t len;
	FILE *f;

	CHECK(mktmp() == 0);
	snprintf(path, sizeof(path), "%s/legacy.json", tmpdir);
	/* acme-dns-auth.py's form: no server_url. */
	f = fopen(path, "w");
	CHECK(f != NULL);
	fprintf(f, "{\"example.test\": {\"username\": \"u-1\", \"password\": \"p\", "
	    "\"fulldomain\": \"x.auth.example.org\", \"subdomain\": \"x\", \"allowfrom\": []}}");
	fclose(f);
	CHECK(acmedns_storage_lookup(path, "*.example.test", &got, &err) == 1);
	CHECK(got.server_url == NULL);
	CHECK_STR(got.fulldomain, "x.auth.example.org");
	/* Stored back (another domain added), the entry stays without one. */
	CHECK(acmedns_storage_store(path, "other.test", &got, &err) == 0);
	acmedns_account_free(&got);
	CHECK(acme_file_read(path, ACME_MAX_FILE, &text, &len, &err) == 0);
	CHECK(strstr(text, "server_url") == NULL);
	free(text);
	/* A present but bad server_url is still an error. */
	f = fopen(path, "w");
	CHECK(f != NULL);
	fprintf(f, "{\"example.test\": {\"username\": \"u\", \"password\": \"p\", "
	    "\"fulldomain\": \"x.auth.example.org\", \"subdomain\": \"x\", \"server_url\": \"ftp:x\"}}");
	fclose(f);
	CHECK(acmedns_storage_lookup(path, "example.test", &got, &err) == -1);
	rmtmp();
	return 0;
}

static int
test_cert_entry_roundtrip(void)
{
	char *names[] = { (char *)"example.test", (char *)"*.example.test" };
	struct cert_entry e = { .out = (char *)"/etc/dns01/example.test", .domains = names,
		.ndomains = 2, .directory = (char *)"https://ca/dir", .storage = (char *)"/s.json",
		.key_type = (char *)"ec384", .reuse_key = true }, got;
	struct acme_err err = { .set = false };
	char *js;

	js = json_cert_entry(&e);
	CHECK(js != NULL);
	CHECK(json_cert_entry_parse(js, strlen(js), &got, &err) == 0);
	free(js);
	CHECK_STR(got.out, e.out);
	CHECK(got.ndomains == 2 && got.reuse_key && got.csr == NULL);
	CHECK_STR(got.domains[1], "*.example.test");
	CHECK_STR(got.key_type, "ec384");
	cert_entry_free(&got);
	/* Untrusted file: a relative out, a bad name, a wrong type are refused. */
	js = "{\"out\":\"rel\",\"domains\":[\"a.test\"]}";
	CHECK(json_cert_entry_parse(js, strlen(js), &got, &err) == -1);
	js = "{\"out\":\"/o\",\"domains\":[\"127.0.0.1\"]}";
	CHECK(json_cert_entry_parse(js, strlen(js), &got, &err) == -1);
	js = "{\"out\":\"/o\",\"domains\":[\"a.test\"],\"csr\":5}";
	CHECK(json_cert_entry_parse(js, strlen(js), &got, &err) == -1);
	return 0;
}

/*
 * The set in --out is replaced as a whole: a reader process that resolves
 * live/ once per round never sees cert.pem and privkey.pem of two different
 * releases while 60 sets are installed (bounded in rounds and time).
 */
static int
test_output_atomic_set(void)
{
	struct acme_err err = { .set = false };
	struct crypto_chain ch;
	char out[128], cert[64], key[64], chain[8] = "chain\n", link[256], *a, *b;
	int pfd[2], status = 0, i, nrel = 0;
	size_t la, lb;
	pid_t pid;
	DIR *d;
	struct dirent *de;

	CHECK(mktmp() == 0);
	snprintf(out, sizeof(out), "%s/out", tmpdir);
	memset(&ch, 0, sizeof(ch));
	ch.chain_pem = chain;
	snprintf(cert, sizeof(cert), "set 0\n");
	ch.leaf_pem = ch.full_pem = cert;
	CHECK(client_output_install(out, &ch, "set 0\n", 6, &err) == 0);
	CHECK(pipe(pfd) == 0);
	pid = fork();
	CHECK(pid != -1);
	if (pid == 0) {
		struct acme_err e2 = { .set = false };
		char live[512], p[700];
		long rounds, bad = 0;
		ssize_t n;

		close(pfd[1]);
		(void)fcntl(pfd[0], F_SETFL, O_NONBLOCK);
		for (rounds = 0; rounds < 2000000; rounds++) {
			if (read(pfd[0], live, 1) == 0)
				break;	/* the parent is done */
			snprintf(p, sizeof(p), "%s/live", out);
			n = readlink(p, live, sizeof(live) - 1);
			if (n <= 0) {
				bad++;
				continue;
			}
			live[n] = '\0';
			snprintf(p, sizeof(p), "%s/%s/cert.pem", out, live);
			if (acme_file_read(p, 4096, &a, &la, &e2) != 0) {
				bad++;
				continue;
			}
			snprintf(p, sizeof(p), "%s/%s/privkey.pem", out, live);
			if (acme_file_read(p, 4096, &b, &lb, &e2) != 0) {
				free(a);
				continue;	/* pruned meanwhile (an old release): not a mix */
			}
			bad += strcmp(a, b) != 0;
			free(a);
			free(b);
		}
		_exit(bad == 0 && rounds > 0 ? 0 : 1);
	}
	close(pfd[0]);
	for (i = 1; i <= 60; i++) {
		snprintf(cert, sizeof(cert), "set %d\n", i);
		snprintf(key, sizeof(key), "set %d\n", i);
		CHECK(client_output_install(out, &ch, key, strlen(key), &err) == 0);
	}
	close(pfd[1]);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Stable paths are symlinks into live/; only the newest releases are kept. */
	snprintf(link, sizeof(link), "%s/cert.pem", out);
	CHECK(acme_file_read(link, 4096, &a, &la, &err) == 0);
	CHECK_STR(a, "set 60\n");
	free(a);
	snprintf(link, sizeof(link), "%s/releases", out);
	d = opendir(link);
	CHECK(d != NULL);
	while ((de = readdir(d)) != NULL)
		nrel += de->d_name[0] != '.';
	closedir(d);
	CHECK(nrel == CLIENT_KEEP_RELEASES);
	rmtmp();
	return 0;
}

/* dns-account-01's label (draft-ietf-acme-dns-account-label; the example account URL's). */
static int
test_account_label(void)
{
	char l[CLIENT_ACCOUNT_LABEL_LEN + 1];
	char *lines[2] = { NULL, NULL };
	size_t n = 0;

	CHECK(client_account_label("https://example.com/acme/acct/ExampleAccount", l) == 0);
	CHECK_STR(l, "_ujmmovf2vn55tgye");
	CHECK(client_account_label(NULL, l) == -1);
	CHECK(client_register_extra("example.org", "x.auth.example.org",
	    "https://example.com/acme/acct/ExampleAccount", lines, &n) == 0);
	CHECK(n == 2);
	CHECK_STR(lines[0], "_validation-persist.example.org. CNAME _validation-persist.x.auth.example.org.");
	CHECK_STR(lines[1], "_ujmmovf2vn55tgye._acme-challenge.example.org. CNAME x.auth.example.org.");
	free(lines[0]);
	free(lines[1]);
	n = 0;
	CHECK(client_register_extra("example.org", "x.auth.example.org", NULL, lines, &n) == 0);
	CHECK(n == 1);
	free(lines[0]);
	return 0;
}

/* The dns-persist-01 record dns01 persist publishes, and its size limit. */
static int
test_persist_value(void)
{
	char *v, big[1100];

	v = client_persist_value("ca.example", "https://ca.example/acct/1", false, -1);
	CHECK_STR(v, "ca.example; accounturi=https://ca.example/acct/1");
	free(v);
	v = client_persist_value("ca.example", "https://ca.example/acct/1", true, 1900000000);
	CHECK_STR(v, "ca.example; accounturi=https://ca.example/acct/1; policy=wildcard;"
	    " persistUntil=1900000000");
	free(v);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(client_persist_value("ca.example", big, false, -1) == NULL);
	return 0;
}

/* dns01 persist's options. */
static int
test_persist_options(void)
{
	char *ok[] = { "dns01", "persist", "-d", "a.test", "--storage", "/s.json", "--directory",
	    "https://ca/dir", "--issuer", "CA.Test", "--wildcard", "--persist-until", "1900000000",
	    NULL };
	char *noissuer[] = { "dns01", "persist", "-d", "a.test", "--storage", "/s.json",
	    "--directory", "https://ca/dir", "--issuer", "not a name", NULL };
	char *nostorage[] = { "dns01", "persist", "-d", "a.test", "--directory", "https://ca/dir",
	    NULL };
	struct client_opts o;
	struct acme_err e = { .set = false };

	CHECK(parse(&o, &e, ok) == 0);
	CHECK(o.cmd == CLIENT_CMD_PERSIST);
	CHECK_STR(o.issuer, "ca.test");
	CHECK(o.wildcard && o.persist_until == 1900000000LL);
	client_opts_free(&o);
	CHECK(parse(&o, &e, noissuer) == -1);
	CHECK(parse(&o, &e, nostorage) == -1);
	return 0;
}

static const struct test_case tests[] = {
	{ "jwk_thumbprint_rfc7638", test_jwk_thumbprint_rfc7638 },
	{ "jws_rfc7515_a3_es256", test_jws_rfc7515_a3_es256 },
	{ "jws_sign_verify_roundtrip", test_jws_sign_verify_roundtrip },
	{ "jws_headers_kid_and_jwk", test_jws_headers_kid_and_jwk },
	{ "eab_jws_hs256", test_eab_jws_hs256 },
	{ "hmac_sha256_rfc4231", test_hmac_sha256_rfc4231 },
	{ "key_authorization_txt", test_key_authorization_txt },
	{ "b64url", test_b64url },
	{ "csr_contents", test_csr_contents },
	{ "key_pem_roundtrip", test_key_pem_roundtrip },
	{ "storage_file", test_storage_file },
	{ "acmedns_register_response", test_acmedns_register_response },
	{ "retry_after_both_forms", test_retry_after_both_forms },
	{ "rfc3339", test_rfc3339 },
	{ "problem_format", test_problem_format },
	{ "directory_parse", test_directory_parse },
	{ "authz_and_order_parse", test_authz_and_order_parse },
	{ "acme_account_label", test_acme_account_label },
	{ "persist_match", test_persist_match },
	{ "profiles_and_challenges", test_profiles_and_challenges },
	{ "link_alternate", test_link_alternate },
	{ "domain_names", test_domain_names },
	{ "renewal_due", test_renewal_due },
	{ "renewal_threshold_line", test_renewal_threshold_line },
	{ "account_key_mode", test_account_key_mode },
	{ "plain_http_refused", test_plain_http_refused },
	{ "options_and_env", test_options_and_env },
	{ "exit_codes", test_exit_codes },
	{ "atomic_write", test_atomic_write },
	{ "cert_parse_and_ari_cert_id", test_cert_parse_and_ari_cert_id },
	{ "every_option_has_env", test_every_option_has_env },
	{ "numeric_identifiers", test_numeric_identifiers },
	{ "storage_without_server_url", test_storage_without_server_url },
	{ "cert_entry_roundtrip", test_cert_entry_roundtrip },
	{ "output_atomic_set", test_output_atomic_set },
	{ "account_label", test_account_label },
	{ "persist_value", test_persist_value },
	{ "persist_options", test_persist_options },
};

TEST_MAIN(tests)
