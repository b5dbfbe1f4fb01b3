/* acme/crypto.c -- keys, JWS signatures, CSRs and certificates on OpenSSL */
/* SPDX-License-Identifier: ISC */

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "internal.h"

struct crypto_key {
	EVP_PKEY *pkey;
	enum crypto_key_type type;
};

static const struct {
	const char *name;
	enum crypto_key_type type;
} key_types[] = {
	{ "ec256", CRYPTO_KEY_EC256 },
	{ "ec384", CRYPTO_KEY_EC384 },
	{ "rsa2048", CRYPTO_KEY_RSA2048 },
	{ "rsa3072", CRYPTO_KEY_RSA3072 },
	{ "rsa4096", CRYPTO_KEY_RSA4096 },
};

/* Put OpenSSL's most recent error into err after our own words. */
static void
ossl_err(struct acme_err *err, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		acme_errf(err, "%s: %s", what, buf);
	} else {
		acme_errf(err, "%s", what);
	}
	ERR_clear_error();
}

/* Parse a --key-type name. */
int
crypto_key_type_parse(const char *s, enum crypto_key_type *t)
{
	size_t i;

	for (i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++) {
		if (strcmp(s, key_types[i].name) == 0) {
			*t = key_types[i].type;
			return 0;
		}
	}
	return -1;
}

/* The --key-type name of t. */
const char *
crypto_key_type_name(enum crypto_key_type t)
{
	size_t i;

	for (i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (key_types[i].type == t)
			return key_types[i].name;
	return "?";
}

/* Classify an EVP_PKEY; -1 if it is not a kind dns01 signs with. */
static int
classify(EVP_PKEY *pk, enum crypto_key_type *t)
{
	char group[32];
	int bits;

	if (EVP_PKEY_is_a(pk, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
		    sizeof(group), NULL) != 1)
			return -1;
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
			*t = CRYPTO_KEY_EC256;
		else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
			*t = CRYPTO_KEY_EC384;
		else
			return -1;
		return 0;
	}
	if (EVP_PKEY_is_a(pk, "RSA")) {
		bits = EVP_PKEY_get_bits(pk);
		if (bits < 2048 || bits > 8192)
			return -1;
		*t = bits >= 4096 ? CRYPTO_KEY_RSA4096 : bits >= 3072 ? CRYPTO_KEY_RSA3072 :
		    CRYPTO_KEY_RSA2048;
		return 0;
	}
	return -1;
}

/* A fresh private key of type t. */
struct crypto_key *
crypto_key_generate(enum crypto_key_type t, struct acme_err *err)
{
	struct crypto_key *k;
	EVP_PKEY *pk = NULL;

	switch (t) {
	case CRYPTO_KEY_EC256:
		pk = EVP_EC_gen("P-256");
		break;
	case CRYPTO_KEY_EC384:
		pk = EVP_EC_gen("P-384");
		break;
	case CRYPTO_KEY_RSA2048:
		pk = EVP_RSA_gen(2048);
		break;
	case CRYPTO_KEY_RSA3072:
		pk = EVP_RSA_gen(3072);
		break;
	case CRYPTO_KEY_RSA4096:
		pk = EVP_RSA_gen(4096);
		break;
	}
	if (pk == NULL) {
		ossl_err(err, "cannot generate a key");
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		EVP_PKEY_free(pk);
		acme_errf(err, "out of memory");
		return NULL;
	}
	k->pkey = pk;
	k->type = t;
	return k;
}

/* Load a PEM private key, accepting only the kinds we can sign with. */
struct crypto_key *
crypto_key_load(const char *pem, size_t len, struct acme_err *err)
{
	struct crypto_key *k = NULL;
	EVP_PKEY *pk = NULL;
	BIO *b = NULL;
	enum crypto_key_type t;

	if (len > INT_MAX || (b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	if (pk == NULL) {
		ossl_err(err, "not a PEM private key");
		goto out;
	}
	if (classify(pk, &t) == -1) {
		acme_errf(err, "unsupported key (use EC P-256, P-384 or RSA 2048-8192)");
		goto out;
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	k->pkey = pk;
	k->type = t;
	pk = NULL;
out:
	EVP_PKEY_free(pk);
	BIO_free(b);
	return k;
}

/* PKCS#8 PEM of the private key (a secret: free with acme_free_secret). */
int
crypto_key_pem(const struct crypto_key *k, char **pem, size_t *len, struct acme_err *err)
{
	BIO *b = NULL;
	char *data;
	long n;
	int rc = -1;

	*pem = NULL;
	b = BIO_new(BIO_s_secmem());
	if (b == NULL)
		b = BIO_new(BIO_s_mem());
	if (b == NULL || PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		ossl_err(err, "cannot encode the private key");
		goto out;
	}
	n = BIO_get_mem_data(b, &data);
	if (n <= 0 || (*pem = malloc((size_t)n + 1)) == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	memcpy(*pem, data, (size_t)n);
	(*pem)[n] = '\0';
	*len = (size_t)n;
	rc = 0;
out:
	BIO_free(b);
	return rc;
}

/* Decode base64url into a BIGNUM-ready buffer. */
static BIGNUM *
b64_bn(const char *s)
{
	unsigned char *raw = NULL;
	size_t n;
	BIGNUM *bn = NULL;

	if (s == NULL || b64url_decode(s, &raw, &n) == -1 || n == 0 || n > 1024)
		goto out;
	bn = BN_bin2bn(raw, (int)n, NULL);
out:
	free(raw);
	return bn;
}

/* A public key from JWK members: EC (RFC 7518 §6.2.1) or RSA (§6.3.1). */
struct crypto_key *
crypto_key_from_jwk(const struct jwk *j, struct acme_err *err)
{
	struct crypto_key *k = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *n = NULL, *e = NULL;
	unsigned char *x = NULL, *y = NULL, point[1 + 2 * 66];
	size_t xl = 0, yl = 0, clen;
	const char *group;
	enum crypto_key_type t;

	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL || j->kty == NULL)
		goto bad;
	if (strcmp(j->kty, "EC") == 0) {
		if (j->crv == NULL || j->x == NULL || j->y == NULL)
			goto bad;
		if (strcmp(j->crv, "P-256") == 0) {
			group = "P-256";
			clen = 32;
		} else if (strcmp(j->crv, "P-384") == 0) {
			group = "P-384";
			clen = 48;
		} else {
			goto bad;
		}
		if (b64url_decode(j->x, &x, &xl) == -1 || b64url_decode(j->y, &y, &yl) == -1 ||
		    xl != clen || yl != clen)
			goto bad;
		/* SEC 1 §2.3.3 uncompressed point: 0x04 || X || Y. */
		point[0] = 0x04;
		memcpy(point + 1, x, clen);
		memcpy(point + 1 + clen, y, clen);
		if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
		    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
		    1 + 2 * clen) != 1)
			goto bad;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	} else if (strcmp(j->kty, "RSA") == 0) {
		n = b64_bn(j->n);
		e = b64_bn(j->e);
		if (n == NULL || e == NULL ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
			goto bad;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		goto bad;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	if (ctx == NULL || params == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
	    classify(pk, &t) == -1)
		goto bad;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		goto bad;
	k->pkey = pk;
	k->type = t;
	pk = NULL;
	goto out;
bad:
	ossl_err(err, "not a usable JWK");
out:
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(x);
	free(y);
	return k;
}

/* Free a key. Accepts NULL. */
void
crypto_key_free(struct crypto_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

/* RFC 7518 §3.1 alg names; ES384 pairs with P-384 (§3.4). */
const char *
crypto_key_alg(const struct crypto_key *k)
{
	switch (k->type) {
	case CRYPTO_KEY_EC256:
		return "ES256";
	case CRYPTO_KEY_EC384:
		return "ES384";
	default:
		return "RS256";
	}
}

/* The kind of key, for a rollover to a new key of the same kind. */
enum crypto_key_type
crypto_key_kind(const struct crypto_key *k)
{
	return k->type;
}

/* Base64url of a BIGNUM padded to width bytes (0 = minimal, RFC 7518 §6.3.1.1). */
static char *
bn_b64(const BIGNUM *bn, int width)
{
	unsigned char buf[1024];
	int n;

	n = width > 0 ? width : BN_num_bytes(bn);
	if (n <= 0 || n > (int)sizeof(buf))
		return NULL;
	if (BN_bn2binpad(bn, buf, n) != n)
		return NULL;
	return b64url_encode(buf, (size_t)n);
}

/* The public JWK members of k. */
int
crypto_key_jwk(const struct crypto_key *k, struct jwk *j, struct acme_err *err)
{
	BIGNUM *a = NULL, *b = NULL;
	int rc = -1, width;

	memset(j, 0, sizeof(*j));
	if (k->type == CRYPTO_KEY_EC256 || k->type == CRYPTO_KEY_EC384) {
		/* RFC 7518 §6.2.1.2: x and y are the full coordinate size. */
		width = k->type == CRYPTO_KEY_EC256 ? 32 : 48;
		if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a) != 1 ||
		    EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b) != 1)
			goto out;
		j->kty = strdup("EC");
		j->crv = strdup(width == 32 ? "P-256" : "P-384");
		j->x = bn_b64(a, width);
		j->y = bn_b64(b, width);
		if (j->kty == NULL || j->crv == NULL || j->x == NULL || j->y == NULL)
			goto out;
	} else {
		if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &a) != 1 ||
		    EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &b) != 1)
			goto out;
		j->kty = strdup("RSA");
		j->n = bn_b64(a, 0);
		j->e = bn_b64(b, 0);
		if (j->kty == NULL || j->n == NULL || j->e == NULL)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		ossl_err(err, "cannot read the public key");
		jwk_free(j);
	}
	BN_free(a);
	BN_free(b);
	return rc;
}

/* Free the members of a JWK. */
void
jwk_free(struct jwk *j)
{
	if (j == NULL)
		return;
	free(j->kty);
	free(j->crv);
	free(j->x);
	free(j->y);
	free(j->n);
	free(j->e);
	memset(j, 0, sizeof(*j));
}

/* SHA-256 for ES256/RS256, SHA-384 for ES384. */
static const EVP_MD *
key_md(const struct crypto_key *k)
{
	return k->type == CRYPTO_KEY_EC384 ? EVP_sha384() : EVP_sha256();
}

/* RFC 7518 §3.4: ECDSA signatures in a JWS are R || S, each padded to the curve size. */
int
crypto_sign(const struct crypto_key *k, const void *data, size_t len, unsigned char **sig,
    size_t *siglen, struct acme_err *err)
{
	EVP_MD_CTX *md = NULL;
	unsigned char *der = NULL, *raw = NULL;
	const unsigned char *p;
	size_t dlen = 0, clen;
	ECDSA_SIG *es = NULL;
	const BIGNUM *r, *s;
	int rc = -1;

	*sig = NULL;
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestSignInit(md, NULL, key_md(k), NULL, k->pkey) != 1 ||
	    EVP_DigestSign(md, NULL, &dlen, data, len) != 1 ||
	    (der = malloc(dlen)) == NULL ||
	    EVP_DigestSign(md, der, &dlen, data, len) != 1) {
		ossl_err(err, "cannot sign");
		goto out;
	}
	if (k->type != CRYPTO_KEY_EC256 && k->type != CRYPTO_KEY_EC384) {
		*sig = der;
		*siglen = dlen;
		der = NULL;
		rc = 0;
		goto out;
	}
	clen = k->type == CRYPTO_KEY_EC256 ? 32 : 48;
	p = der;
	es = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
	if (es == NULL || (raw = malloc(2 * clen)) == NULL) {
		ossl_err(err, "cannot convert the ECDSA signature");
		goto out;
	}
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, raw, (int)clen) != (int)clen ||
	    BN_bn2binpad(s, raw + clen, (int)clen) != (int)clen) {
		ossl_err(err, "cannot convert the ECDSA signature");
		goto out;
	}
	*sig = raw;
	*siglen = 2 * clen;
	raw = NULL;
	rc = 0;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	free(der);
	free(raw);
	return rc;
}

/* Verify a JWS signature; raw R||S is turned back into DER for ECDSA. */
int
crypto_verify(const struct crypto_key *k, const void *data, size_t len,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	const unsigned char *vs = sig;
	size_t vlen = siglen, clen;
	int dl, rc = -1;

	if (k->type == CRYPTO_KEY_EC256 || k->type == CRYPTO_KEY_EC384) {
		clen = k->type == CRYPTO_KEY_EC256 ? 32 : 48;
		if (siglen != 2 * clen)
			goto out;
		es = ECDSA_SIG_new();
		r = BN_bin2bn(sig, (int)clen, NULL);
		s = BN_bin2bn(sig + clen, (int)clen, NULL);
		if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
			goto out;
		r = s = NULL;
		dl = i2d_ECDSA_SIG(es, &der);
		if (dl <= 0)
			goto out;
		vs = der;
		vlen = (size_t)dl;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestVerifyInit(md, NULL, key_md(k), NULL, k->pkey) != 1 ||
	    EVP_DigestVerify(md, vs, vlen, data, len) != 1)
		goto out;
	rc = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	OPENSSL_free(der);
	return rc;
}

/* HS256 (RFC 7518 §3.2), for External Account Binding. */
int
crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char out[32])
{
	size_t olen = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, data, len, out, 32,
	    &olen) == NULL || olen != 32) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/* SHA-256 of data. */
int
crypto_sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -1;
	return 0;
}

/* RFC 7515 §2 / RFC 4648 §5: base64 with the URL alphabet and no '=' padding. */
char *
b64url_encode(const void *data, size_t len)
{
	char *out;
	size_t i, n;

	if (len > (size_t)INT_MAX / 2)
		return NULL;
	out = malloc(4 * ((len + 2) / 3) + 1);
	if (out == NULL)
		return NULL;
	n = (size_t)EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (i = 0; i < n; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

/* Decode base64url; only the URL alphabet (and trailing '=') is accepted. */
int
b64url_decode(const char *s, unsigned char **out, size_t *len)
{
	char *tmp = NULL;
	unsigned char *o = NULL;
	size_t n, i, pad;
	int r, rc = -1;

	*out = NULL;
	*len = 0;
	n = strlen(s);
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1 || n > (size_t)INT_MAX / 2)
		return -1;
	pad = (4 - n % 4) % 4;
	tmp = malloc(n + pad + 1);
	o = malloc(3 * ((n + pad) / 4) + 1);
	if (tmp == NULL || o == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9')))
			goto out;
		tmp[i] = c;
	}
	memset(tmp + n, '=', pad);
	tmp[n + pad] = '\0';
	if (n + pad == 0) {
		o[0] = '\0';
		*out = o;
		o = NULL;
		rc = 0;
		goto out;
	}
	r = EVP_DecodeBlock(o, (unsigned char *)tmp, (int)(n + pad));
	if (r < 0 || (size_t)r < pad)
		goto out;
	*len = (size_t)r - pad;
	o[*len] = '\0';
	*out = o;
	o = NULL;
	rc = 0;
out:
	free(tmp);
	free(o);
	return rc;
}

/* Add a subjectAltName of dNSNames to the request (RFC 8555 §7.4: names in SAN). */
static int
csr_add_san(X509_REQ *req, const char *const *names, size_t n)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *g;
	ASN1_IA5STRING *ia5;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	size_t i;
	int rc = -1;

	gens = sk_GENERAL_NAME_new_null();
	if (gens == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		g = GENERAL_NAME_new();
		ia5 = ASN1_IA5STRING_new();
		if (g == NULL || ia5 == NULL ||
		    ASN1_STRING_set(ia5, names[i], (int)strlen(names[i])) != 1) {
			GENERAL_NAME_free(g);
			ASN1_IA5STRING_free(ia5);
			goto out;
		}
		GENERAL_NAME_set0_value(g, GEN_DNS, ia5);
		if (sk_GENERAL_NAME_push(gens, g) == 0) {
			GENERAL_NAME_free(g);
			goto out;
		}
	}
	ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
	exts = sk_X509_EXTENSION_new_null();
	if (ext == NULL || exts == NULL || sk_X509_EXTENSION_push(exts, ext) == 0)
		goto out;
	ext = NULL;
	if (X509_REQ_add_extensions(req, exts) != 1)
		goto out;
	rc = 0;
out:
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	return rc;
}

/* A DER CSR for names, signed by key. */
int
crypto_csr(const struct crypto_key *key, const char *const *names, size_t n,
    unsigned char **der, size_t *len, struct acme_err *err)
{
	X509_REQ *req = NULL;
	X509_NAME *subj = NULL;
	unsigned char *buf = NULL;
	int dl, rc = -1;

	*der = NULL;
	if (n == 0) {
		acme_errf(err, "a CSR needs at least one name");
		return -1;
	}
	req = X509_REQ_new();
	subj = X509_NAME_new();
	if (req == NULL || subj == NULL || X509_REQ_set_version(req, 0) != 1)
		goto bad;
	/* RFC 5280 §4.1.2.6 upper bound ub-common-name is 64. */
	if (strlen(names[0]) <= 64 && X509_NAME_add_entry_by_NID(subj, NID_commonName,
	    MBSTRING_ASC, (const unsigned char *)names[0], -1, -1, 0) != 1)
		goto bad;
	if (X509_REQ_set_subject_name(req, subj) != 1 || X509_REQ_set_pubkey(req, key->pkey) != 1 ||
	    csr_add_san(req, names, n) != 0 || X509_REQ_sign(req, key->pkey, key_md(key)) <= 0)
		goto bad;
	dl = i2d_X509_REQ(req, &buf);
	if (dl <= 0)
		goto bad;
	*der = malloc((size_t)dl);
	if (*der == NULL)
		goto bad;
	memcpy(*der, buf, (size_t)dl);
	*len = (size_t)dl;
	rc = 0;
	goto out;
bad:
	ossl_err(err, "cannot build the CSR");
out:
	OPENSSL_free(buf);
	X509_NAME_free(subj);
	X509_REQ_free(req);
	return rc;
}

/* Collect the dNSName SANs of a GENERAL_NAMES stack. */
static int
san_names(const GENERAL_NAMES *gens, char ***names, size_t *n)
{
	int i, cnt;
	char **v;
	const GENERAL_NAME *g;
	const ASN1_IA5STRING *s;

	*names = NULL;
	*n = 0;
	if (gens == NULL)
		return 0;
	cnt = sk_GENERAL_NAME_num(gens);
	if (cnt <= 0)
		return 0;
	v = calloc((size_t)cnt, sizeof(*v));
	if (v == NULL)
		return -1;
	for (i = 0; i < cnt; i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		s = g->d.dNSName;
		v[*n] = strndup((const char *)ASN1_STRING_get0_data(s),
		    (size_t)ASN1_STRING_length(s));
		if (v[*n] == NULL)
			return -1;
		(*n)++;
	}
	*names = v;
	return 0;
}

/* Parse a DER CSR; signature_ok tells if its self-signature verifies. */
int
crypto_csr_parse(const unsigned char *der, size_t len, struct crypto_csr_info *info)
{
	X509_REQ *req = NULL;
	const unsigned char *p = der;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	EVP_PKEY *pk;
	char cn[256];
	int rc = -1;

	memset(info, 0, sizeof(*info));
	req = d2i_X509_REQ(NULL, &p, (long)len);
	if (req == NULL)
		goto out;
	pk = X509_REQ_get0_pubkey(req);
	if (pk == NULL)
		goto out;
	info->signature_ok = X509_REQ_verify(req, pk) == 1;
	info->is_ec = EVP_PKEY_is_a(pk, "EC");
	info->key_bits = EVP_PKEY_get_bits(pk);
	if (X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn,
	    sizeof(cn)) > 0)
		info->cn = strdup(cn);
	exts = X509_REQ_get_extensions(req);
	if (exts != NULL)
		gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	if (san_names(gens, &info->names, &info->nnames) == -1)
		goto out;
	rc = 0;
out:
	ERR_clear_error();
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	if (rc != 0)
		crypto_csr_info_free(info);
	return rc;
}

/* See acme.h: PEM (either BEGIN line) or DER in, checked DER out. */
int
crypto_csr_load(const char *buf, size_t len, unsigned char **der, size_t *derlen,
    struct acme_err *err)
{
	X509_REQ *req = NULL;
	const unsigned char *p = (const unsigned char *)buf;
	unsigned char *d = NULL;
	BIO *b = NULL;
	int n, rc = -1;

	*der = NULL;
	if (len > INT_MAX) {
		acme_errf(err, "the CSR is too large");
		return -1;
	}
	if (memmem(buf, len, "-----BEGIN", 10) != NULL) {
		if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL)
			goto bad;
		req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	} else {
		req = d2i_X509_REQ(NULL, &p, (long)len);
		if (req != NULL && p != (const unsigned char *)buf + len) {
			X509_REQ_free(req);
			req = NULL;	/* trailing bytes after the DER */
		}
	}
	if (req == NULL)
		goto bad;
	n = i2d_X509_REQ(req, &d);
	if (n <= 0)
		goto bad;
	*der = d;
	*derlen = (size_t)n;
	rc = 0;
	goto out;
bad:
	acme_errf(err, "not a PEM or DER certificate signing request (PKCS #10)");
out:
	ERR_clear_error();
	X509_REQ_free(req);
	BIO_free(b);
	return rc;
}

/* See acme.h: the public key a CSR carries, to check the certificate against. */
struct crypto_key *
crypto_csr_key(const unsigned char *der, size_t len, struct acme_err *err)
{
	X509_REQ *req;
	const unsigned char *p = der;
	struct crypto_key *k = NULL;
	EVP_PKEY *pk;

	req = d2i_X509_REQ(NULL, &p, (long)len);
	pk = req != NULL ? X509_REQ_get_pubkey(req) : NULL;
	if (pk == NULL) {
		acme_errf(err, "the CSR has no readable public key");
		goto out;
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		EVP_PKEY_free(pk);
		acme_errf(err, "out of memory");
		goto out;
	}
	k->pkey = pk;
	if (classify(pk, &k->type) == -1)
		k->type = CRYPTO_KEY_EC256;	/* only compared, never used to sign */
out:
	ERR_clear_error();
	X509_REQ_free(req);
	return k;
}

/* Free a CSR description. */
void
crypto_csr_info_free(struct crypto_csr_info *info)
{
	size_t i;

	if (info == NULL)
		return;
	for (i = 0; i < info->nnames; i++)
		free(info->names[i]);
	free(info->names);
	free(info->cn);
	memset(info, 0, sizeof(*info));
}

/* Read up to ACME_MAX_CHAIN certificates; -1 if there are none or garbage. */
static STACK_OF(X509) *
pem_certs(const char *pem, size_t len)
{
	STACK_OF(X509) *sk = NULL;
	BIO *b = NULL;
	X509 *x;

	if (len > INT_MAX || (b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NULL;
	sk = sk_X509_new_null();
	if (sk == NULL)
		goto bad;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_num(sk) >= ACME_MAX_CHAIN || sk_X509_push(sk, x) == 0) {
			X509_free(x);
			goto bad;
		}
	}
	/* The loop ends with "no start line" at EOF; anything else is corruption. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE || sk_X509_num(sk) == 0)
		goto bad;
	ERR_clear_error();
	BIO_free(b);
	return sk;
bad:
	ERR_clear_error();
	sk_X509_pop_free(sk, X509_free);
	BIO_free(b);
	return NULL;
}

/* ASN1_TIME to time_t. */
static int
asn1_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

/*
 * RFC 9773 §4.1: certID = base64url(AKI keyIdentifier) "." base64url(serial),
 * the serial being the DER INTEGER's content octets (with any leading zero).
 */
static char *
ari_cert_id(X509 *x)
{
	const ASN1_OCTET_STRING *aki;
	const ASN1_INTEGER *serial;
	unsigned char *der = NULL;
	const unsigned char *p;
	char *a = NULL, *s = NULL, *out = NULL;
	long clen;
	int dl, tag, cls;

	aki = X509_get0_authority_key_id(x);
	serial = X509_get0_serialNumber(x);
	if (aki == NULL || serial == NULL)
		goto out;
	dl = i2d_ASN1_INTEGER(serial, &der);
	if (dl <= 0)
		goto out;
	p = der;
	if (ASN1_get_object(&p, &clen, &tag, &cls, dl) & 0x80 || tag != V_ASN1_INTEGER ||
	    clen <= 0 || p + clen != der + dl)
		goto out;
	a = b64url_encode(ASN1_STRING_get0_data(aki), (size_t)ASN1_STRING_length(aki));
	s = b64url_encode(p, (size_t)clen);
	if (a == NULL || s == NULL)
		goto out;
	if (asprintf(&out, "%s.%s", a, s) == -1)
		out = NULL;
out:
	OPENSSL_free(der);
	free(a);
	free(s);
	return out;
}

/* The parts of the first certificate dns01 decides on. */
int
crypto_cert_parse(const char *pem, size_t len, struct crypto_cert *c, struct acme_err *err)
{
	STACK_OF(X509) *sk;
	X509 *x;
	GENERAL_NAMES *gens = NULL;
	BIGNUM *bn = NULL;
	char cn[256], *hex = NULL;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	sk = pem_certs(pem, len);
	if (sk == NULL) {
		acme_errf(err, "not a PEM certificate");
		return -1;
	}
	x = sk_X509_value(sk, 0);
	if (asn1_time(X509_get0_notBefore(x), &c->not_before) == -1 ||
	    asn1_time(X509_get0_notAfter(x), &c->not_after) == -1) {
		acme_errf(err, "certificate has unreadable validity dates");
		goto out;
	}
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	if (bn == NULL || (hex = BN_bn2hex(bn)) == NULL || (c->serial_hex = strdup(hex)) == NULL) {
		acme_errf(err, "certificate has an unreadable serial");
		goto out;
	}
	c->ari_id = ari_cert_id(x);
	if (X509_NAME_get_text_by_NID(X509_get_issuer_name(x), NID_commonName, cn,
	    sizeof(cn)) > 0)
		c->issuer_cn = strdup(cn);
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	if (san_names(gens, &c->names, &c->nnames) == -1) {
		acme_errf(err, "out of memory");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	GENERAL_NAMES_free(gens);
	OPENSSL_free(hex);
	BN_free(bn);
	sk_X509_pop_free(sk, X509_free);
	if (rc != 0)
		crypto_cert_free(c);
	return rc;
}

/* Free a parsed certificate. */
void
crypto_cert_free(struct crypto_cert *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nnames; i++)
		free(c->names[i]);
	free(c->names);
	free(c->serial_hex);
	free(c->ari_id);
	free(c->issuer_cn);
	memset(c, 0, sizeof(*c));
}

/* The DER of the first certificate. */
int
crypto_cert_der(const char *pem, size_t len, unsigned char **der, size_t *derlen,
    struct acme_err *err)
{
	STACK_OF(X509) *sk;
	unsigned char *buf = NULL;
	int dl, rc = -1;

	*der = NULL;
	sk = pem_certs(pem, len);
	if (sk == NULL) {
		acme_errf(err, "not a PEM certificate");
		return -1;
	}
	dl = i2d_X509(sk_X509_value(sk, 0), &buf);
	if (dl <= 0 || (*der = malloc((size_t)dl)) == NULL) {
		acme_errf(err, "cannot encode the certificate");
		goto out;
	}
	memcpy(*der, buf, (size_t)dl);
	*derlen = (size_t)dl;
	rc = 0;
out:
	OPENSSL_free(buf);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* PEM-encode certificates [from, to) of sk into a new string. */
static char *
certs_pem(STACK_OF(X509) *sk, int from, int to)
{
	BIO *b;
	char *data, *out = NULL;
	long n;
	int i;

	b = BIO_new(BIO_s_mem());
	if (b == NULL)
		return NULL;
	for (i = from; i < to; i++)
		if (PEM_write_bio_X509(b, sk_X509_value(sk, i)) != 1)
			goto out;
	n = BIO_get_mem_data(b, &data);
	if (n < 0 || (out = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
out:
	BIO_free(b);
	return out;
}

/* Split a chain into leaf, the rest, and all; re-encoded, so no stray text survives. */
int
crypto_chain_split(const char *pem, size_t len, struct crypto_chain *ch, struct acme_err *err)
{
	STACK_OF(X509) *sk;
	int n, rc = -1;

	memset(ch, 0, sizeof(*ch));
	sk = pem_certs(pem, len);
	if (sk == NULL) {
		acme_errf(err, "the CA sent no valid PEM certificate chain (1 to %d certificates)",
		    ACME_MAX_CHAIN);
		return -1;
	}
	n = sk_X509_num(sk);
	ch->leaf_pem = certs_pem(sk, 0, 1);
	ch->chain_pem = certs_pem(sk, 1, n);
	ch->full_pem = certs_pem(sk, 0, n);
	ch->ncerts = (size_t)n;
	if (ch->leaf_pem == NULL || ch->chain_pem == NULL || ch->full_pem == NULL) {
		acme_errf(err, "out of memory");
		crypto_chain_free(ch);
		goto out;
	}
	rc = 0;
out:
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* Free a split chain. */
void
crypto_chain_free(struct crypto_chain *ch)
{
	if (ch == NULL)
		return;
	free(ch->leaf_pem);
	free(ch->chain_pem);
	free(ch->full_pem);
	memset(ch, 0, sizeof(*ch));
}

/* --preferred-chain: the topmost issuer CN counts most, as certbot and lego do. */
int
crypto_chain_issuer_match(const char *pem, size_t len, const char *cn)
{
	STACK_OF(X509) *sk;
	char buf[256];
	int i, n, best = 0;

	sk = pem_certs(pem, len);
	if (sk == NULL)
		return 0;
	n = sk_X509_num(sk);
	for (i = n - 1; i >= 0; i--) {
		if (X509_NAME_get_text_by_NID(X509_get_issuer_name(sk_X509_value(sk, i)),
		    NID_commonName, buf, sizeof(buf)) > 0 && strcmp(buf, cn) == 0) {
			best = i == n - 1 ? 2 : 1;
			break;
		}
	}
	sk_X509_pop_free(sk, X509_free);
	ERR_clear_error();
	return best;
}

/* The CA must have certified our key, not another one. */
bool
crypto_cert_matches_key(const char *pem, size_t len, const struct crypto_key *key)
{
	STACK_OF(X509) *sk;
	bool ok = false;

	sk = pem_certs(pem, len);
	if (sk == NULL)
		return false;
	ok = EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(sk, 0)), key->pkey) == 1;
	sk_X509_pop_free(sk, X509_free);
	ERR_clear_error();
	return ok;
}
