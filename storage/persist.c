/* storage/persist.c -- persistent validation records (dns-persist-01) on SQLite; dispatch to pg */
/* SPDX-License-Identifier: ISC */

/*
 * An account's records are its dns01d_persist rows, one per issuer domain
 * (the primary key), apart from the txt table: /update never touches them.
 * Writes are rare (an account sets its records once per CA), so their
 * statements are prepared per call on the writer, inside the same
 * IMMEDIATE transaction and commit path as storage_txt_set (committed to
 * the real files before the caller publishes).
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../common/common.h"
#include "internal.h"

/* True if a stored row can be served: sizes within our limits, no NUL. */
static bool
row_usable(const char *issuer, int ilen, const char *value, int vlen)
{
	return issuer != NULL && value != NULL && ilen > 0 && ilen <= STORAGE_ISSUER_LEN &&
	    vlen > 0 && vlen <= STORAGE_PERSIST_LEN && strlen(issuer) == (size_t)ilen &&
	    strlen(value) == (size_t)vlen;
}

/* Copy the row at columns c (Issuer), c+1 (Value), c+2 (LastUpdate) into set; false if unusable. */
static bool
row_add(sqlite3_stmt *s, int c, struct storage_persist_set *set)
{
	const char *i = (const char *)sqlite3_column_text(s, c);
	const char *v = (const char *)sqlite3_column_text(s, c + 1);
	struct storage_persist *r;

	if (set->n >= STORAGE_PERSIST_MAX ||
	    !row_usable(i, sqlite3_column_bytes(s, c), v, sqlite3_column_bytes(s, c + 1)))
		return false;
	r = &set->rec[set->n++];
	memcpy(r->issuer, i, strlen(i) + 1);
	memcpy(r->value, v, strlen(v) + 1);
	r->updated = sqlite3_column_int64(s, c + 2);
	return true;
}

/* Read subdomain's records on db into *out, ordered by issuer. Returns 0 or -1. */
static int
read_set(sqlite3 *db, const char *sub, struct storage_persist_set *out)
{
	sqlite3_stmt *s = NULL;
	int r, rc = -1;

	out->n = 0;
	if (sqlite3_prepare_v2(db, "SELECT Issuer, Value, LastUpdate FROM dns01d_persist"
	    " WHERE Subdomain = ?1 ORDER BY Issuer", -1, &s, NULL) != SQLITE_OK) {
		log_warnx("storage: persist select: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(s, 1, sub, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if (!row_add(s, 0, out) && out->n < STORAGE_PERSIST_MAX)
			log_warnx("%s: stored persist record is not usable; skipped", sub);
	if (r != SQLITE_DONE) {
		log_warnx("storage: persist select: %s", sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/* Run one write statement (sql with ?1 sub, ?2 issuer, ?3 value, ?4 time) on the writer. */
static int
write_row(struct storage *st, const char *sql, const char *sub, const char *issuer,
    const char *value, const char *what)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->w, sql, -1, &s, NULL) != SQLITE_OK) {
		log_warnx("storage: %s: %s", what, sqlite3_errmsg(st->w));
		return -1;
	}
	sqlite3_bind_text(s, 1, sub, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, issuer, -1, SQLITE_STATIC);
	if (value != NULL) {
		sqlite3_bind_text(s, 3, value, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)time(NULL));
	}
	rc = storage_step_done(st, st->w, s, what);
	sqlite3_finalize(s);
	return rc;
}

/* True if sub is a registered account (on the writer, in its transaction). */
static bool
account_exists(struct storage *st, const char *sub)
{
	int r;

	sqlite3_bind_text(st->has_sub, 1, sub, -1, SQLITE_STATIC);
	r = sqlite3_step(st->has_sub);
	sqlite3_reset(st->has_sub);
	sqlite3_clear_bindings(st->has_sub);
	return r == SQLITE_ROW;
}

/* True if set holds a record for issuer. */
static bool
has_issuer(const struct storage_persist_set *set, const char *issuer)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->rec[i].issuer, issuer) == 0)
			return true;
	return false;
}

/* The arguments' sizes, checked before any SQL. */
static bool
args_ok(const char *sub, const char *issuer, const char *value)
{
	return sub != NULL && is_uuid(sub) && issuer != NULL && *issuer != '\0' &&
	    strlen(issuer) <= STORAGE_ISSUER_LEN &&
	    (value == NULL || (*value != '\0' && strlen(value) <= STORAGE_PERSIST_LEN));
}

/*
 * Put (value != NULL) or delete one record, in one transaction on the
 * writer: the account must exist; a put of a new issuer must leave room.
 */
static enum storage_persist_result
sqlite_change(struct storage *st, const char *sub, const char *issuer, const char *value,
    struct storage_persist_set *now)
{
	enum storage_persist_result rc = STORAGE_PERSIST_ERROR;
	bool found;

	if (storage_wlock(st) == -1)
		return STORAGE_PERSIST_ERROR;
	if (storage_begin(st, "persist begin") == -1)
		goto out;
	if (!account_exists(st, sub)) {
		log_warnx("%s: no such account; persist record not stored", sub);
		goto out;
	}
	if (read_set(st->w, sub, now) == -1)
		goto out;
	found = has_issuer(now, issuer);
	if (value != NULL && !found && now->n >= STORAGE_PERSIST_MAX) {
		rc = STORAGE_PERSIST_FULL;
		goto out;
	}
	if (value == NULL && !found) {
		rc = STORAGE_PERSIST_NONE;
		goto out;
	}
	if (value != NULL ? write_row(st, "INSERT INTO dns01d_persist(Subdomain, Issuer, Value,"
	    " LastUpdate) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(Subdomain, Issuer) DO UPDATE"
	    " SET Value = excluded.Value, LastUpdate = excluded.LastUpdate", sub, issuer, value,
	    "persist insert") == -1 : write_row(st, "DELETE FROM dns01d_persist"
	    " WHERE Subdomain = ?1 AND Issuer = ?2", sub, issuer, NULL, "persist delete") == -1)
		goto out;
	if (read_set(st->w, sub, now) == -1 || storage_commit(st, "persist commit") == -1)
		goto out;
	rc = STORAGE_PERSIST_OK;
out:
	if (rc != STORAGE_PERSIST_OK)
		storage_abort(st);
	storage_wunlock(st);
	return rc;
}

/* Store one record; see storage.h. */
enum storage_persist_result
storage_persist_put(struct storage *st, const char *subdomain, const char *issuer,
    const char *value, struct storage_persist_set *now)
{
	if (now != NULL)
		now->n = 0;
	if (st == NULL || now == NULL || value == NULL || !args_ok(subdomain, issuer, value))
		return STORAGE_PERSIST_ERROR;
	if (st->pg != NULL)
		return storage_pg_persist_change(st, subdomain, issuer, value, now);
	return sqlite_change(st, subdomain, issuer, value, now);
}

/* Remove one record; see storage.h. */
enum storage_persist_result
storage_persist_delete(struct storage *st, const char *subdomain, const char *issuer,
    struct storage_persist_set *now)
{
	if (now != NULL)
		now->n = 0;
	if (st == NULL || now == NULL || !args_ok(subdomain, issuer, NULL))
		return STORAGE_PERSIST_ERROR;
	if (st->pg != NULL)
		return storage_pg_persist_change(st, subdomain, issuer, NULL, now);
	return sqlite_change(st, subdomain, issuer, NULL, now);
}

/* One account's records; see storage.h. On a pooled reader. */
int
storage_persist_get(struct storage *st, const char *subdomain, struct storage_persist_set *out)
{
	struct storage_reader *rd;
	int rc;

	if (out != NULL)
		out->n = 0;
	if (st == NULL || out == NULL || subdomain == NULL || !is_uuid(subdomain))
		return -1;
	if (st->pg != NULL)
		return storage_pg_persist_get(st, subdomain, out);
	if ((rd = storage_rget(st)) == NULL)
		return -1;
	rc = read_set(rd->db, subdomain, out);
	storage_rput(st, rd);
	return rc;
}

/*
 * Every account's records; see storage.h. One statement on a pooled reader,
 * sorted by subdomain (the primary key's index), grouped in C. Rows of a
 * subdomain that is not an account's UUID, or too long to serve, are skipped.
 */
int
storage_persist_foreach(struct storage *st, storage_persist_cb cb, void *arg)
{
	struct storage_reader *rd;
	struct storage_persist_set set = { .n = 0 };
	char sub[STORAGE_ID_LEN + 1] = "";
	sqlite3_stmt *s = NULL;
	const char *v;
	int rc = -1, r;

	if (st == NULL || cb == NULL)
		return -1;
	if (st->pg != NULL)
		return storage_pg_persist_foreach(st, cb, arg);
	if ((rd = storage_rget(st)) == NULL)
		return -1;
	if (sqlite3_prepare_v2(rd->db, "SELECT Subdomain, Issuer, Value, LastUpdate"
	    " FROM dns01d_persist ORDER BY Subdomain, Issuer", -1, &s, NULL) != SQLITE_OK) {
		log_warnx("storage: persist foreach: %s", sqlite3_errmsg(rd->db));
		goto out;
	}
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		v = (const char *)sqlite3_column_text(s, 0);
		if (v == NULL || !is_uuid(v))
			continue;
		if (strcmp(v, sub) != 0) {
			if (set.n > 0 && cb(arg, sub, &set) != 0)
				goto out;
			memcpy(sub, v, STORAGE_ID_LEN + 1);
			set.n = 0;
		}
		if (!row_add(s, 1, &set) && set.n < STORAGE_PERSIST_MAX)
			log_warnx("%s: stored persist record is not usable; skipped", sub);
	}
	if (r != SQLITE_DONE) {
		log_warnx("storage: persist foreach: %s", sqlite3_errmsg(rd->db));
		goto out;
	}
	if (set.n > 0 && cb(arg, sub, &set) != 0)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(s);
	storage_rput(st, rd);
	return rc;
}

/* Watch other instances' record changes; see storage.h. */
int
storage_persist_watch(struct storage *st, storage_persist_cb cb, void *arg)
{
	if (st == NULL)
		return -1;
	if (st->pg == NULL)
		return 0;
	return storage_pg_persist_watch(st, cb, arg);
}
