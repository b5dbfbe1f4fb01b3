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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* The cost field of "$2a$NN$...", or -1 if it is not two digits. */
static int
bcrypt_cost(const char *h)
{
	if (strlen(h) < 7 || h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' || h[6] != '$')
		return -1;
	return (h[4] - '0') * 10 + (h[5] - '0');
}

/*
 * Check key against an acme-dns bcrypt hash with libcrypt. A hash with an
 * unusable cost is checked as the dummy instead (always false), so that a
 * denial still costs one bcrypt. Call between bcrypt_enter and bcrypt_leave.
 */
static bool
verify_bcrypt(struct storage *st, const char *h, const char *key)
{
	struct crypt_data *cd;
	const char *r;
	size_t n = strlen(h);
	bool ok = false;
	int cost = bcrypt_cost(h);

	/* Refuse a cost that would hold an API thread for minutes. */
	if (cost < 4 || cost > STORAGE_BCRYPT_MAX_COST) {
		log_warnx("storage: bcrypt hash with an unusable cost; access denied");
		h = st->dummy_bcrypt;
		n = 0;
	}
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return false;
	pthread_mutex_lock(&st->block);
	st->bcalls++;
	pthread_mutex_unlock(&st->block);
	log_debug("storage: bcrypt check");
	r = crypt_r(key, h, cd);
	/* crypt_r returns "*0"-style failure tokens on bad settings: lengths differ. */
	if (n > 0 && r != NULL && strlen(r) == n)
		ok = ct_equal(r, h, n);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

/*
 * Take one of STORAGE_BCRYPT_SLOTS, waiting behind at most
 * STORAGE_BCRYPT_QUEUE others (and at most busy_ms). Returns 0 with a slot
 * (give it back with bcrypt_leave), or -1: too busy, answer later.
 */
static int
bcrypt_enter(struct storage *st)
{
	static const unsigned queue_max = STORAGE_BCRYPT_QUEUE;
	struct timespec ts;
	int rc = -1;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += st->busy_ms / 1000 + 1;
	pthread_mutex_lock(&st->block);
	if (st->brunning >= STORAGE_BCRYPT_SLOTS) {
		if (st->bwaiting >= queue_max)
			goto out;
		st->bwaiting++;
		while (st->brunning >= STORAGE_BCRYPT_SLOTS)
			if (pthread_cond_timedwait(&st->bcond, &st->block, &ts) == ETIMEDOUT)
				break;
		st->bwaiting--;
		if (st->brunning >= STORAGE_BCRYPT_SLOTS)
			goto out;
	}
	st->brunning++;
	if (st->brunning > st->bpeak)
		st->bpeak = st->brunning;
	rc = 0;
out:
	if (rc == -1)
		st->bbusy++;
	pthread_mutex_unlock(&st->block);
	return rc;
}

/* Give back a slot taken by bcrypt_enter(). */
static void
bcrypt_leave(struct storage *st)
{
	pthread_mutex_lock(&st->block);
	st->brunning--;
	pthread_cond_signal(&st->bcond);
	pthread_mutex_unlock(&st->block);
}

/*
 * Count the legacy bcrypt hashes (as TEXT or as BLOB: acme-dns writes
 * BLOBs) and build the dummy setting that denials run while any is left,
 * at the highest usable cost found, so a dummy costs what a real check
 * costs. Runs at open, on the writer. Returns 0 or -1 with err.
 */
int
storage_legacy_init(struct storage *st, char *err, size_t errlen)
{
	/* A fixed, canonical bcrypt salt: the dummy only has to cost the same. */
	static const char salt[] = "ABCDEFGHIJKLMNOPQRSTUu";
	static const char sql[] =
	    "SELECT count(*), max(CAST(substr(CAST(Password AS TEXT), 5, 2) AS INTEGER))"
	    " FROM records WHERE substr(CAST(Password AS TEXT), 1, 4) IN ('$2a$', '$2b$', '$2y$')";
	sqlite3_stmt *s = NULL;
	long long cost = 10, count = 0, max = -1;	/* 10: acme-dns's (Go bcrypt.DefaultCost) */
	int rc = -1;

	if (st->pg != NULL) {
		if (storage_pg_legacy_count(st, &count, &max) == -1) {
			snprintf(err, errlen, "count legacy hashes: see the log");
			goto out;
		}
	} else if (sqlite3_prepare_v2(st->w, sql, -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		snprintf(err, errlen, "count legacy hashes: %s", sqlite3_errmsg(st->w));
		goto out;
	} else {
		count = sqlite3_column_int64(s, 0);
		if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			max = sqlite3_column_int64(s, 1);
	}
	st->legacy_left = (uint64_t)count;
	if (max != -1) {
		cost = max;
		if (cost < 4)
			cost = 4;
		if (cost > STORAGE_BCRYPT_MAX_COST)
			cost = STORAGE_BCRYPT_MAX_COST;
	}
	snprintf(st->dummy_bcrypt, sizeof(st->dummy_bcrypt), "$2b$%02lld$%s", cost, salt);
	if (st->legacy_left > 0)
		log_info("storage: %llu accounts still have a bcrypt key hash (cost up to %lld);"
		    " each is upgraded on its first authorised update",
		    (unsigned long long)st->legacy_left, cost);
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
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
    const char *json, const char *note)
{
	unsigned i;
	int rc;

	if (storage_begin(st, "register: begin") == -1)
		return -1;
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
	sqlite3_bind_text(st->ins_meta, 1, sub, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st->ins_meta, 2, (sqlite3_int64)time(NULL));
	if (note != NULL && *note != '\0')
		sqlite3_bind_text(st->ins_meta, 3, note, -1, SQLITE_STATIC);
	if (storage_step_done(st, st->w, st->ins_meta, "register: insert meta") == -1)
		goto fail;
	/* acme-dns keeps one row per value, '' until published; so do we. */
	for (i = 0; i < st->txt_values; i++) {
		sqlite3_bind_text(st->ins_txt, 1, sub, -1, SQLITE_STATIC);
		sqlite3_bind_text(st->ins_txt, 2, "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st->ins_txt, 3, 0);
		sqlite3_bind_int64(st->ins_txt, 4, 0);
		if (storage_step_done(st, st->w, st->ins_txt, "register: insert txt") == -1)
			goto fail;
	}
	if (storage_commit(st, "register: commit") == -1)
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
static int
register_account(struct storage *st, const char *const *allowfrom, size_t n,
    const char *note, struct storage_account *out, char key[STORAGE_KEY_LEN + 1])
{
	char user[RAND_UUID_LEN + 1], sub[RAND_UUID_LEN + 1], hash[STORAGE_HASH_MAX];
	char *json = NULL;
	size_t i;
	int r = -1, rc = -1, tries;

	if (st == NULL || out == NULL || key == NULL || n > STORAGE_MAX_ALLOWFROM ||
	    (n > 0 && allowfrom == NULL) || (note != NULL && !storage_note_valid(note)))
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
		if (st->pg != NULL)
			r = storage_pg_insert_account(st, user, hash, sub, json, note);
		else {
			if (storage_wlock(st) == -1)
				goto out;
			r = insert_account(st, user, hash, sub, json, note);
			storage_wunlock(st);
		}
		if (r != 1)
			break;
		log_warnx("storage: register: identifier collision, retrying");
	}
	if (r != 0)
		goto out;
	/* Power-loss safety: wait for the shared fsync (group commit, sync.c). */
	if (st->pg == NULL && storage_sync_wait(st) == -1)
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

/* storage_register with a note, timed for the write latency histogram (/metrics). */
int
storage_register_note(struct storage *st, const char *const *allowfrom, size_t n,
    const char *note, struct storage_account *out, char key[STORAGE_KEY_LEN + 1])
{
	uint64_t t0 = storage_now_ns();
	int rc = register_account(st, allowfrom, n, note, out, key);

	if (st != NULL)
		storage_write_done(st, t0, rc);
	return rc;
}

/* See storage.h. */
int
storage_register(struct storage *st, const char *const *allowfrom, size_t n,
    struct storage_account *out, char key[STORAGE_KEY_LEN + 1])
{
	return storage_register_note(st, allowfrom, n, NULL, out, key);
}

/*
 * Replace the legacy hash storage_auth() verified; see storage.h. The new
 * hash is written as TEXT, the column's declared type, which acme-dns reads
 * back as it reads its own. The row changes only if its Password still
 * holds the very bytes that were verified, compared as a BLOB so that a
 * hash stored as TEXT or as BLOB both match.
 */
int
storage_key_upgrade(struct storage *st, const struct storage_account *acct, const char *key)
{
	char hash[STORAGE_HASH_MAX];
	size_t n;
	int rc = -1;

	if (st == NULL || acct == NULL || key == NULL || !acct->legacy)
		return st != NULL && acct != NULL && key != NULL ? 0 : -1;
	n = strnlen(acct->legacy_hash, sizeof(acct->legacy_hash));
	if (n == 0 || n >= sizeof(acct->legacy_hash) || storage_hash_key(st, key, hash) == -1)
		return -1;
	if (st->pg != NULL) {
		if ((rc = storage_pg_rehash(st, acct->username, acct->legacy_hash, hash)) == 1) {
			log_info("%s: bcrypt key hash upgraded to salted SHA-256", acct->username);
			if (st->legacy_left > 0)
				st->legacy_left--;
		}
		goto out;
	}
	if (storage_wlock(st) == -1)
		goto out;
	if (st->broken) {
		storage_wunlock(st);
		goto out;
	}
	sqlite3_bind_text(st->rehash, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st->rehash, 2, acct->username, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st->rehash, 3, acct->legacy_hash, (int)n, SQLITE_STATIC);
	if (storage_step_done(st, st->w, st->rehash, "rehash") == 0 && storage_files_ok(st) == 0) {
		rc = sqlite3_changes(st->w) == 1 ? 1 : 0;
		if (rc == 1) {
			log_info("%s: bcrypt key hash upgraded to salted SHA-256", acct->username);
			if (st->legacy_left > 0)
				st->legacy_left--;
		}
	}
	storage_wunlock(st);
out:
	explicit_bzero(hash, sizeof(hash));
	return rc;
}

/*
 * Copy a Password column into hash[STORAGE_HASH_MAX] as C text, whatever
 * its storage class (acme-dns binds a []byte, so SQLite keeps a BLOB).
 * False if it is NULL, too long or holds a NUL byte.
 */
static bool
read_hash(sqlite3_stmt *s, int col, char hash[STORAGE_HASH_MAX])
{
	const void *b = sqlite3_column_blob(s, col);
	int n = sqlite3_column_bytes(s, col);

	if (b == NULL || n <= 0 || n >= STORAGE_HASH_MAX || memchr(b, '\0', (size_t)n) != NULL)
		return false;
	memcpy(hash, b, (size_t)n);
	hash[n] = '\0';
	return true;
}

/*
 * Look username up on a pooled reader: its hash, subdomain, username and
 * AllowFrom text (*allow, malloc'd). Returns 1 found, 0 not found (or an
 * unusable row), -1 on a database error.
 */
static int
lookup(struct storage *st, const char *username, char hash[STORAGE_HASH_MAX],
    struct storage_account *out, char **allow)
{
	struct storage_reader *r;
	const char *s;
	bool found = false;
	int rc;

	if (st->pg != NULL)
		return storage_pg_lookup(st, username, hash, out, allow);
	if ((r = storage_rget(st)) == NULL)
		return -1;
	sqlite3_bind_text(r->get_account, 1, username, -1, SQLITE_STATIC);
	rc = sqlite3_step(r->get_account);
	if (rc == SQLITE_ROW) {
		found = read_hash(r->get_account, 0, hash) &&
		    copy_str(out->subdomain, sizeof(out->subdomain),
		    (const char *)sqlite3_column_text(r->get_account, 1)) &&
		    copy_str(out->username, sizeof(out->username),
		    (const char *)sqlite3_column_text(r->get_account, 3));
		s = (const char *)sqlite3_column_text(r->get_account, 2);
		if (found && s != NULL && (strlen(s) >= STORAGE_ALLOWFROM_JSON_MAX ||
		    (*allow = strdup(s)) == NULL))
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
		return -1;
	return found ? 1 : 0;
}

/*
 * Check username and key; see storage.h. Every denial costs one SHA-256
 * (real or against dummy_hash) and, while legacy hashes are left, one
 * bcrypt (real or against the dummy setting). Returns STORAGE_AUTH_OK with
 * *out filled, _DENIED, _BUSY (no bcrypt slot), or _ERROR.
 */
enum storage_auth_result
storage_auth(struct storage *st, const char *username, const char *key,
    struct storage_account *out)
{
	char hash[STORAGE_HASH_MAX] = "";
	char *allow = NULL;
	bool ok = false, bcrypt, legacy = false;
	enum storage_auth_result res = STORAGE_AUTH_ERROR;
	int found = 0;

	if (st == NULL || out == NULL)
		return STORAGE_AUTH_ERROR;
	memset(out, 0, sizeof(*out));
	if (key == NULL)
		key = "";
	if (username != NULL && strlen(username) <= MAX_USERNAME &&
	    (found = lookup(st, username, hash, out, &allow)) == -1)
		goto out;

	if (found && is_fast_hash(hash))
		ok = verify_fast(st, hash, key);
	else {
		legacy = found && is_bcrypt(hash) && strlen(hash) < STORAGE_LEGACY_HASH_MAX;
		if (found && !legacy)
			log_warnx("%s: unknown key hash format; access denied", username);
		(void)verify_fast(st, dummy_hash, key);
	}
	/* A real bcrypt, or a dummy one so that a denial costs the same either way. */
	bcrypt = legacy || (!ok && st->legacy_left > 0);
	if (bcrypt) {
		if (bcrypt_enter(st) == -1) {
			res = STORAGE_AUTH_BUSY;
			goto out;
		}
		ok = verify_bcrypt(st, legacy ? hash : st->dummy_bcrypt, key) && legacy;
		bcrypt_leave(st);
	}
	res = STORAGE_AUTH_DENIED;
	if (!ok || parse_allowfrom(username, allow, out) == -1)
		goto out;
	if (legacy) {
		out->legacy = true;
		memcpy(out->legacy_hash, hash, strlen(hash) + 1);
	}
	res = STORAGE_AUTH_OK;
out:
	if (res != STORAGE_AUTH_OK)
		memset(out, 0, sizeof(*out));
	explicit_bzero(hash, sizeof(hash));
	free(allow);
	return res;
}

/* The AllowFrom column decoder alone, for the fuzz target (see internal.h). */
int
storage_allowfrom_decode(const char *text, struct storage_account *acct)
{
	return parse_allowfrom("fuzz", text, acct);
}
