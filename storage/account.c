/* storage/account.c -- register accounts and check their keys */
/* SPDX-License-Identifier: ISC */

/*
 * Key hashes. An API key is 40 characters of [A-Za-z0-9_-]: 240 random
 * bits. A slow password hash protects only guessable secrets, so new keys
 * are stored as
 *     $sha256$<salt>$<digest>
 * where salt is STORAGE_SALT_LEN random bytes and digest is
 * SHA-256(salt text || "$" || key), both base64url without padding. The
 * salt makes each hash unique (records.Password is UNIQUE) and defeats
 * precomputation. acme-dns's bcrypt hashes ($2a$, $2b$, $2y$) still verify
 * through libcrypt's crypt_r(), and one that verifies is replaced by the
 * fast hash, in the same row, so the next request is fast.
 */

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/common.h"
#include "internal.h"

#define HASH_PREFIX "$sha256$"
#define HASH_PREFIX_LEN (sizeof(HASH_PREFIX) - 1)
#define SALT_TEXT_LEN 22		/* base64url of 16 bytes, unpadded */
#define DIGEST_TEXT_LEN 43		/* base64url of 32 bytes, unpadded */
#define HASH_LEN (HASH_PREFIX_LEN + SALT_TEXT_LEN + 1 + DIGEST_TEXT_LEN)
#define MAX_USERNAME 255		/* longer names are not looked up (never valid) */
#define REGISTER_TRIES 3		/* fresh ids after a UNIQUE collision */

/* A well-formed hash that no key matches: unknown users are checked against it. */
static const char dummy_hash[] =
    "$sha256$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url (RFC 4648 §5) without padding; out has room for 4*ceil(n/3)+1. */
static void
b64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i;
	unsigned v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		*out++ = b64url[v >> 18 & 63];
		*out++ = b64url[v >> 12 & 63];
		*out++ = b64url[v >> 6 & 63];
		*out++ = b64url[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned)in[i] << 16;
		*out++ = b64url[v >> 18 & 63];
		*out++ = b64url[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		*out++ = b64url[v >> 18 & 63];
		*out++ = b64url[v >> 12 & 63];
		*out++ = b64url[v >> 6 & 63];
	}
	*out = '\0';
}

/* digest text of salt and key into out[DIGEST_TEXT_LEN + 1]. Returns 0 or -1. */
static int
digest(const struct storage *st, const char *salt, size_t saltlen, const char *key,
    char out[DIGEST_TEXT_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestInit_ex2(ctx, st->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, salt, saltlen) != 1 ||
	    EVP_DigestUpdate(ctx, "$", 1) != 1 ||
	    EVP_DigestUpdate(ctx, key, strlen(key)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
		goto out;
	b64url_encode(md, mdlen, out);
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(md, sizeof(md));
	return rc;
}

/*
 * Hash key under a fresh random salt into out ("$sha256$salt$digest").
 * Returns 0 or -1.
 */
int
storage_hash_key(const struct storage *st, const char *key, char out[STORAGE_HASH_MAX])
{
	unsigned char salt[STORAGE_SALT_LEN];
	char salttext[SALT_TEXT_LEN + 1], dig[DIGEST_TEXT_LEN + 1];

	if (rand_bytes(salt, sizeof(salt)) == -1) {
		log_warn("storage: random salt");
		return -1;
	}
	b64url_encode(salt, sizeof(salt), salttext);
	if (digest(st, salttext, SALT_TEXT_LEN, key, dig) == -1) {
		log_warnx("storage: SHA-256 failed");
		return -1;
	}
	snprintf(out, STORAGE_HASH_MAX, "%s%s$%s", HASH_PREFIX, salttext, dig);
	return 0;
}

static bool
is_fast_hash(const char *h)
{
	return strlen(h) == HASH_LEN && strncmp(h, HASH_PREFIX, HASH_PREFIX_LEN) == 0 &&
	    h[HASH_PREFIX_LEN + SALT_TEXT_LEN] == '$';
}

static bool
is_bcrypt(const char *h)
{
	return strncmp(h, "$2a$", 4) == 0 || strncmp(h, "$2b$", 4) == 0 ||
	    strncmp(h, "$2y$", 4) == 0;
}

/* Constant-time check of key against a fast hash h (is_fast_hash(h) holds). */
static bool
verify_fast(const struct storage *st, const char *h, const char *key)
{
	char dig[DIGEST_TEXT_LEN + 1];
	bool ok;

	if (digest(st, h + HASH_PREFIX_LEN, SALT_TEXT_LEN, key, dig) == -1)
		return false;
	ok = ct_equal(dig, h + HASH_PREFIX_LEN + SALT_TEXT_LEN + 1, DIGEST_TEXT_LEN);
	explicit_bzero(dig, sizeof(dig));
	return ok;
}

/* Check key against an acme-dns bcrypt hash with libcrypt. */
static bool
verify_bcrypt(const char *h, const char *key)
{
	struct crypt_data *cd;
	const char *r;
	size_t n = strlen(h);
	bool ok = false;

	/* "$2a$NN$": refuse a cost that would hold an API thread for minutes. */
	if (n < 7 || h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' || h[6] != '$' ||
	    (h[4] - '0') * 10 + (h[5] - '0') > STORAGE_BCRYPT_MAX_COST) {
		log_warnx("storage: bcrypt hash with an unusable cost; access denied");
		return false;
	}
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return false;
	r = crypt_r(key, h, cd);
	/* crypt_r returns "*0"-style failure tokens on bad settings: lengths differ. */
	if (r != NULL && strlen(r) == n)
		ok = ct_equal(r, h, n);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

/*
 * Parse an AllowFrom column (a JSON array of strings) into acct. NULL, ""
 * and "null" are the empty list. Returns 0, or -1 if it is not such an
 * array or an entry cannot be kept whole: the caller then denies, since
 * dropping an entry could turn a restricted account into an open one. Past
 * STORAGE_MAX_ALLOWFROM entries the rest are ignored, which only narrows.
 */
static int
parse_allowfrom(const char *user, const char *text, struct storage_account *acct)
{
	json_error_t jerr;
	json_t *a = NULL, *v;
	const char *s;
	size_t i;
	int rc = -1;

	acct->nallowfrom = 0;
	if (text == NULL || *text == '\0' || strcmp(text, "null") == 0)
		return 0;
	if ((a = json_loads(text, JSON_DECODE_ANY, &jerr)) == NULL || !json_is_array(a)) {
		log_warnx("%s: AllowFrom is not a JSON array; access denied", user);
		goto out;
	}
	json_array_foreach(a, i, v) {
		if (i >= STORAGE_MAX_ALLOWFROM) {
			log_warnx("%s: AllowFrom has more than %d entries; the rest are ignored",
			    user, STORAGE_MAX_ALLOWFROM);
			break;
		}
		if ((s = json_string_value(v)) == NULL || strlen(s) >= STORAGE_CIDR_LEN) {
			log_warnx("%s: AllowFrom entry %zu is not a short string; access denied",
			    user, i);
			goto out;
		}
		memcpy(acct->allowfrom[i], s, strlen(s) + 1);
		acct->nallowfrom = i + 1;
	}
	rc = 0;
out:
	json_decref(a);
	return rc;
}

/* Copy s into a fixed buffer of size n; false if it does not fit or is NULL. */
static bool
copy_str(char *dst, size_t n, const char *s)
{
	size_t len;

	if (s == NULL || (len = strlen(s)) >= n)
		return false;
	memcpy(dst, s, len + 1);
	return true;
}

/* Build the AllowFrom column (a compact JSON array) for n strings. Caller frees. */
static char *
allowfrom_json(const char *const *allowfrom, size_t n)
{
	json_t *a;
	char *s = NULL;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (json_array_append_new(a, json_string(allowfrom[i])) == -1)
			goto out;
	s = json_dumps(a, JSON_COMPACT);
out:
	json_decref(a);
	return s;
}

/* Insert one account and its txt_values empty txt rows. wlock held. Returns 0, 1 on a UNIQUE clash, -1. */
static int
insert_account(struct storage *st, const char *user, const char *hash, const char *sub,
    const char *json)
{
	unsigned i;
	int rc;

	if (sqlite3_step(st->begin) != SQLITE_DONE) {
		log_warnx("storage: register: begin: %s", sqlite3_errmsg(st->w));
		sqlite3_reset(st->begin);
		return -1;
	}
	sqlite3_reset(st->begin);
	sqlite3_bind_text(st->ins_record, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st->ins_record, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st->ins_record, 3, sub, -1, SQLITE_STATIC);
	sqlite3_bind_text(st->ins_record, 4, json, -1, SQLITE_STATIC);
	rc = sqlite3_step(st->ins_record);
	sqlite3_reset(st->ins_record);
	sqlite3_clear_bindings(st->ins_record);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		storage_abort(st);
		return 1;
	}
	if (rc != SQLITE_DONE) {
		log_warnx("storage: register: insert: %s", sqlite3_errstr(rc));
		goto fail;
	}
	/* acme-dns keeps one row per value, '' until published; so do we. */
	for (i = 0; i < st->txt_values; i++) {
		sqlite3_bind_text(st->ins_txt, 1, sub, -1, SQLITE_STATIC);
		sqlite3_bind_text(st->ins_txt, 2, "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st->ins_txt, 3, 0);
		sqlite3_bind_int64(st->ins_txt, 4, 0);
		if (storage_step_done(st, st->w, st->ins_txt, "register: insert txt") == -1)
			goto fail;
	}
	if (storage_step_done(st, st->w, st->commit, "register: commit") == -1)
		goto fail;
	return 0;
fail:
	storage_abort(st);
	return -1;
}

/*
 * Create an account; see storage.h. The key is generated here, hashed, and
 * only the hash is stored. Returns 0 once the account is fsync'd, or -1.
 */
int
storage_register(struct storage *st, const char *const *allowfrom, size_t n,
    struct storage_account *out, char key[STORAGE_KEY_LEN + 1])
{
	char user[RAND_UUID_LEN + 1], sub[RAND_UUID_LEN + 1], hash[STORAGE_HASH_MAX];
	char *json = NULL;
	size_t i;
	int r = -1, rc = -1, tries;

	if (st == NULL || out == NULL || key == NULL || n > STORAGE_MAX_ALLOWFROM ||
	    (n > 0 && allowfrom == NULL))
		return -1;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		if (!copy_str(out->allowfrom[i], STORAGE_CIDR_LEN, allowfrom[i]))
			goto out;
	out->nallowfrom = n;
	if ((json = allowfrom_json(allowfrom, n)) == NULL)
		goto out;

	for (tries = 0; tries < REGISTER_TRIES; tries++) {
		if (rand_uuid(user) == -1 || rand_uuid(sub) == -1 ||
		    rand_password(key) == -1) {
			log_warn("storage: register: random");
			goto out;
		}
		if (storage_hash_key(st, key, hash) == -1)
			goto out;
		if (storage_wlock(st) == -1)
			goto out;
		r = insert_account(st, user, hash, sub, json);
		storage_wunlock(st);
		if (r != 1)
			break;
		log_warnx("storage: register: identifier collision, retrying");
	}
	if (r != 0)
		goto out;
	/* Power-loss safety: wait for the shared fsync (group commit, sync.c). */
	if (storage_sync_wait(st) == -1)
		goto out;
	memcpy(out->username, user, sizeof(user));
	memcpy(out->subdomain, sub, sizeof(sub));
	rc = 0;
out:
	if (rc == -1) {
		explicit_bzero(key, STORAGE_KEY_LEN + 1);
		memset(out, 0, sizeof(*out));
	}
	free(json);
	return rc;
}

/* Replace a verified legacy hash by a fast one. Best effort: failure only costs speed. */
static void
upgrade_hash(struct storage *st, const char *user, const char *old, const char *key)
{
	char hash[STORAGE_HASH_MAX];

	if (storage_hash_key(st, key, hash) == -1 || storage_wlock(st) == -1)
		return;
	sqlite3_bind_text(st->rehash, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st->rehash, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st->rehash, 3, old, -1, SQLITE_STATIC);
	if (storage_step_done(st, st->w, st->rehash, "rehash") == 0)
		log_info("%s: bcrypt key hash upgraded to salted SHA-256", user);
	storage_wunlock(st);
}

/*
 * Check username and key; see storage.h. An unknown user, or a row we
 * cannot use, is checked against dummy_hash so it costs one SHA-256 like a
 * wrong key does. Returns STORAGE_AUTH_OK with *out filled, _DENIED, or
 * _ERROR when the database failed.
 */
enum storage_auth_result
storage_auth(struct storage *st, const char *username, const char *key,
    struct storage_account *out)
{
	struct storage_reader *r;
	char hash[STORAGE_HASH_MAX] = "";
	char *allow = NULL;
	const char *s;
	bool found = false, ok, legacy = false;
	enum storage_auth_result res = STORAGE_AUTH_ERROR;
	int rc;

	if (st == NULL || out == NULL)
		return STORAGE_AUTH_ERROR;
	memset(out, 0, sizeof(*out));
	if (key == NULL)
		key = "";
	if (username != NULL && strlen(username) <= MAX_USERNAME) {
		if ((r = storage_rget(st)) == NULL)
			return STORAGE_AUTH_ERROR;
		sqlite3_bind_text(r->get_account, 1, username, -1, SQLITE_STATIC);
		rc = sqlite3_step(r->get_account);
		if (rc == SQLITE_ROW) {
			found = copy_str(hash, sizeof(hash),
			    (const char *)sqlite3_column_text(r->get_account, 0)) &&
			    copy_str(out->subdomain, sizeof(out->subdomain),
			    (const char *)sqlite3_column_text(r->get_account, 1)) &&
			    copy_str(out->username, sizeof(out->username),
			    (const char *)sqlite3_column_text(r->get_account, 3));
			s = (const char *)sqlite3_column_text(r->get_account, 2);
			if (found && s != NULL && (strlen(s) >= STORAGE_ALLOWFROM_JSON_MAX ||
			    (allow = strdup(s)) == NULL))
				found = false;
			if (!found)
				log_warnx("%s: account row unusable (field too long); access denied",
				    username);
		} else if (rc != SQLITE_DONE)
			log_warnx("storage: auth: %s", sqlite3_errmsg(r->db));
		sqlite3_reset(r->get_account);
		sqlite3_clear_bindings(r->get_account);
		storage_rput(st, r);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			goto out;
	}

	if (found && is_fast_hash(hash))
		ok = verify_fast(st, hash, key);
	else if (found && is_bcrypt(hash)) {
		ok = verify_bcrypt(hash, key);
		legacy = true;
	} else {
		if (found)
			log_warnx("%s: unknown key hash format; access denied", username);
		(void)verify_fast(st, dummy_hash, key);
		ok = false;
	}
	res = STORAGE_AUTH_DENIED;
	if (!ok || parse_allowfrom(username, allow, out) == -1)
		goto out;
	if (legacy)
		upgrade_hash(st, out->username, hash, key);
	res = STORAGE_AUTH_OK;
out:
	if (res != STORAGE_AUTH_OK)
		memset(out, 0, sizeof(*out));
	explicit_bzero(hash, sizeof(hash));
	free(allow);
	return res;
}
