/* storage/admin.c -- account lifecycle: list, show, delete, clear, note, key rotation, expiry */
/* SPDX-License-Identifier: ISC */

/*
 * The verbs of `dns01d admin` and of DELETE /update and DELETE /register.
 * Each public verb tests st->pg once and hands PostgreSQL to pg_admin.c.
 * On SQLite every write runs on the one writer connection under wlock, as
 * /update does, and those that change what DNS serves append a row to
 * dns01d_changes in the same transaction: a daemon in another process
 * (the admin command runs beside the daemon) reads it through watch.c.
 * Rare operations: their statements are prepared per call.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/common.h"
#include "internal.h"

/* True if note can be stored; see storage.h. */
bool
storage_note_valid(const char *note)
{
	const unsigned char *p = (const unsigned char *)note;
	size_t n, len, k;

	if (note == NULL || (n = strlen(note)) > STORAGE_NOTE_MAX)
		return false;
	for (k = 0; k < n; k += len) {
		if (p[k] < 0x20 || p[k] == 0x7f)
			return false;	/* control characters would forge log or table lines */
		if ((len = utf8_char_len(p + k, n - k)) == 0)
			return false;
	}
	return true;
}

/*
 * Run one statement on the writer (wlock held) with up to two text
 * parameters (?1, ?2; NULL binds NULL) and one integer (?3). Returns the
 * rows it changed, or -1.
 */
static int
wexec(struct storage *st, const char *sql, const char *a, const char *b, long long n)
{
	sqlite3_stmt *s = NULL;
	int rc = -1, r;

	if (sqlite3_prepare_v2(st->w, sql, -1, &s, NULL) != SQLITE_OK) {
		log_warnx("storage: prepare: %s", sqlite3_errmsg(st->w));
		return -1;
	}
	/* Bound by name: a statement names only the parameters it uses. */
	if ((r = sqlite3_bind_parameter_index(s, "?1")) > 0)
		sqlite3_bind_text(s, r, a, -1, SQLITE_STATIC);
	if ((r = sqlite3_bind_parameter_index(s, "?2")) > 0)
		sqlite3_bind_text(s, r, b, -1, SQLITE_STATIC);
	if ((r = sqlite3_bind_parameter_index(s, "?3")) > 0)
		sqlite3_bind_int64(s, r, n);
	if ((r = sqlite3_step(s)) != SQLITE_DONE && r != SQLITE_ROW) {
		log_warnx("storage: %s", sqlite3_errmsg(st->w));
		storage_write_failed(st, r);
		goto out;
	}
	rc = sqlite3_changes(st->w);
out:
	sqlite3_finalize(s);
	return rc;
}

/* Append a change for sub (wlock held, in the transaction) and prune old change rows. */
int
storage_log_change(struct storage *st, const char *sub)
{
	long long now = (long long)time(NULL);

	if (wexec(st, "INSERT INTO dns01d_changes(Subdomain, At) VALUES (?1, ?3)", sub, NULL,
	    now) == -1)
		return -1;
	/* Ids only grow (AUTOINCREMENT), so a watcher never re-reads a pruned id. */
	return wexec(st, "DELETE FROM dns01d_changes WHERE At < ?3",
	    NULL, NULL, now - STORAGE_CHANGES_KEEP_S) == -1 ? -1 : 0;
}

/*
 * Read sub's values as DNS serves them (newest first, at most keep, each a
 * well-formed ACME value) on db. Returns 0 or -1.
 */
int
storage_values(sqlite3 *db, unsigned keep, const char *sub, struct storage_txt *out)
{
	sqlite3_stmt *s = NULL;
	const char *v;
	int rc = -1, r;

	out->n = 0;
	if (sqlite3_prepare_v2(db, "SELECT Value FROM txt WHERE Subdomain = ?1 AND Value <> ''"
	    " ORDER BY Seq DESC, rowid DESC LIMIT ?2", -1, &s, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(s, 1, sub, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)keep);
	while ((r = sqlite3_step(s)) == SQLITE_ROW && out->n < STORAGE_MAX_TXT) {
		v = (const char *)sqlite3_column_text(s, 0);
		if (v != NULL && is_acme_txt(v))
			memcpy(out->values[out->n++], v, STORAGE_TXT_LEN + 1);
	}
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		log_warnx("storage: %s: values: %s", sub, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return rc;
}

/* Fill info from a row of LIST_SQL's columns. */
static void
info_from_row(sqlite3_stmt *s, struct storage_info *info)
{
	struct storage_account acct;
	const char *v;
	size_t i;

	memset(info, 0, sizeof(*info));
	if ((v = (const char *)sqlite3_column_text(s, 0)) != NULL)
		snprintf(info->username, sizeof(info->username), "%s", v);
	if ((v = (const char *)sqlite3_column_text(s, 1)) != NULL)
		snprintf(info->subdomain, sizeof(info->subdomain), "%s", v);
	memset(&acct, 0, sizeof(acct));
	v = (const char *)sqlite3_column_text(s, 2);
	if (v != NULL && storage_allowfrom_decode(v, &acct) == 0) {
		for (i = 0; i < acct.nallowfrom; i++)
			memcpy(info->allowfrom[i], acct.allowfrom[i], STORAGE_CIDR_LEN);
		info->nallowfrom = acct.nallowfrom;
	}
	info->created = sqlite3_column_int64(s, 3);
	if ((v = (const char *)sqlite3_column_text(s, 4)) != NULL)
		snprintf(info->note, sizeof(info->note), "%s", v);
	info->last_update = sqlite3_column_int64(s, 5);
}

#define LIST_SQL "SELECT r.Username, r.Subdomain, r.AllowFrom, a.Created, a.Note," \
	" (SELECT max(LastUpdate) FROM txt AS t WHERE t.Subdomain = r.Subdomain)" \
	" FROM records AS r LEFT JOIN dns01d_accounts AS a ON a.Subdomain = r.Subdomain"

/* Run LIST_SQL + tail on a reader, calling cb per row (sub binds ?1 when not NULL). */
static int
list_rows(struct storage *st, const char *tail, const char *sub,
    int (*cb)(void *, const struct storage_info *), void *arg, int *found)
{
	struct storage_reader *rd;
	struct storage_info *info = NULL;
	sqlite3_stmt *s = NULL;
	char sql[512];
	int rc = -1, r;

	*found = 0;
	if ((rd = storage_rget(st)) == NULL)
		return -1;
	snprintf(sql, sizeof(sql), "%s %s", LIST_SQL, tail);
	if ((info = malloc(sizeof(*info))) == NULL ||
	    sqlite3_prepare_v2(rd->db, sql, -1, &s, NULL) != SQLITE_OK)
		goto out;
	if (sub != NULL)
		sqlite3_bind_text(s, 1, sub, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		info_from_row(s, info);
		(*found)++;
		if (cb(arg, info) != 0)
			goto out;
	}
	if (r != SQLITE_DONE) {
		log_warnx("storage: list: %s", sqlite3_errmsg(rd->db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	storage_rput(st, rd);
	free(info);
	return rc;
}

/* Call cb per account; see storage.h. */
int
storage_list(struct storage *st, int (*cb)(void *arg, const struct storage_info *info),
    void *arg)
{
	int found;

	if (st == NULL || cb == NULL)
		return -1;
	if (st->pg != NULL)
		return storage_pg_list(st, cb, arg);
	return list_rows(st, "ORDER BY r.rowid", NULL, cb, arg, &found);
}

/* list_rows callback of storage_info_get: copy the one row. */
static int
copy_info(void *arg, const struct storage_info *info)
{
	memcpy(arg, info, sizeof(*info));
	return 0;
}

/* The account of subdomain with its values; see storage.h. */
int
storage_info_get(struct storage *st, const char *subdomain, struct storage_info *out)
{
	struct storage_reader *rd;
	int found, rc;

	if (st == NULL || subdomain == NULL || out == NULL)
		return -1;
	if (st->pg != NULL)
		return storage_pg_info_get(st, subdomain, out);
	if (list_rows(st, "WHERE r.Subdomain = ?1", subdomain, copy_info, out, &found) == -1)
		return -1;
	if (found == 0)
		return 1;
	if ((rd = storage_rget(st)) == NULL)
		return -1;
	rc = storage_values(rd->db, st->txt_values, subdomain, &out->txt);
	storage_rput(st, rd);
	return rc;
}

/*
 * Run one account write: BEGIN, the statements of sql (NUL-separated,
 * ending with an empty one; ?1 is sub, ?2 is arg), each counting changed
 * rows, a change row when logged, COMMIT, and the group fsync. The first
 * statement must change a row, or the account does not exist. Returns 0,
 * 1 (no such account) or -1.
 */
static int
account_write(struct storage *st, const char *sql, const char *sub, const char *arg,
    bool logged)
{
	const char *q;
	int rc = -1, n;

	if (storage_wlock(st) == -1)
		return -1;
	if (storage_begin(st, "admin: begin") == -1)
		goto out;
	for (q = sql; *q != '\0'; q += strlen(q) + 1) {
		if ((n = wexec(st, q, sub, arg, 0)) == -1)
			goto fail;
		if (q == sql && n == 0) {
			rc = 1;
			goto fail;
		}
	}
	if ((logged && storage_log_change(st, sub) == -1) ||
	    storage_commit(st, "admin: commit") == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	storage_abort(st);
out:
	storage_wunlock(st);
	if (rc == 0 && storage_sync_wait(st) == -1)
		rc = -1;
	return rc;
}

/* Deregister subdomain; see storage.h. */
int
storage_account_delete(struct storage *st, const char *subdomain)
{
	if (st == NULL || subdomain == NULL)
		return -1;
	if (st->pg != NULL)
		return storage_pg_delete(st, subdomain);
	return account_write(st, "DELETE FROM records WHERE Subdomain = ?1\0"
	    "DELETE FROM txt WHERE Subdomain = ?1\0"
	    "DELETE FROM dns01d_accounts WHERE Subdomain = ?1\0"
	    "DELETE FROM dns01d_persist WHERE Subdomain = ?1\0", subdomain, NULL, true);
}

/* Drop every value of subdomain; see storage.h. Rows stay, as '' placeholders (acme-dns's). */
int
storage_txt_clear(struct storage *st, const char *subdomain)
{
	if (st == NULL || subdomain == NULL)
		return -1;
	if (st->pg != NULL)
		return storage_pg_clear(st, subdomain);
	return account_write(st, "UPDATE records SET Subdomain = Subdomain WHERE Subdomain = ?1"
	    "\0"
	    "UPDATE txt SET Value = '' WHERE Subdomain = ?1 AND Value <> ''\0",
	    subdomain, NULL, true);
}

/* Replace subdomain's note; see storage.h. */
int
storage_note_set(struct storage *st, const char *subdomain, const char *note)
{
	if (st == NULL || subdomain == NULL || note == NULL || !storage_note_valid(note))
		return -1;
	if (st->pg != NULL)
		return storage_pg_note_set(st, subdomain, note);
	return account_write(st, "UPDATE records SET Subdomain = Subdomain WHERE Subdomain = ?1\0"
	    "INSERT INTO dns01d_accounts(Subdomain, Note) VALUES (?1, NULLIF(?2, ''))"
	    " ON CONFLICT (Subdomain) DO UPDATE SET Note = excluded.Note\0", subdomain, note, false);
}

/* A fresh key for subdomain; see storage.h. Only its hash is stored. */
int
storage_key_rotate(struct storage *st, const char *subdomain, char key[STORAGE_KEY_LEN + 1])
{
	char hash[STORAGE_HASH_MAX];
	int rc = -1;

	if (st == NULL || subdomain == NULL || key == NULL)
		return -1;
	if (rand_password(key) == -1 || storage_hash_key(st, key, hash) == -1)
		goto out;
	if (st->pg != NULL)
		rc = storage_pg_password_set(st, subdomain, hash);
	else
		rc = account_write(st, "UPDATE records SET Password = ?2 WHERE Subdomain = ?1\0",
		    subdomain, hash, false);
out:
	if (rc != 0)
		explicit_bzero(key, STORAGE_KEY_LEN + 1);
	explicit_bzero(hash, sizeof(hash));
	return rc;
}

/* Collect up to STORAGE_EXPIRE_BATCH subdomains with values older than before (wlock held). */
static int
expired_subs(struct storage *st, long long before, char (*subs)[STORAGE_ID_LEN + 1])
{
	sqlite3_stmt *s = NULL;
	const char *v;
	int n = 0, r;

	if (sqlite3_prepare_v2(st->w, "SELECT DISTINCT Subdomain FROM txt WHERE LastUpdate < ?1"
	    " AND Value <> '' LIMIT ?2", -1, &s, NULL) != SQLITE_OK) {
		log_warnx("storage: expire: %s", sqlite3_errmsg(st->w));
		return -1;
	}
	sqlite3_bind_int64(s, 1, before);
	sqlite3_bind_int(s, 2, STORAGE_EXPIRE_BATCH);
	while ((r = sqlite3_step(s)) == SQLITE_ROW && n < STORAGE_EXPIRE_BATCH)
		if ((v = (const char *)sqlite3_column_text(s, 0)) != NULL && is_uuid(v))
			memcpy(subs[n++], v, STORAGE_ID_LEN + 1);
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		n = -1;
	sqlite3_finalize(s);
	return n;
}

/* Drop one batch of expired values in one transaction (wlock held). Returns the count or -1. */
static int
expire_batch(struct storage *st, long long before, char (*subs)[STORAGE_ID_LEN + 1])
{
	int n, i;

	if (storage_begin(st, "expire: begin") == -1)
		return -1;
	if ((n = expired_subs(st, before, subs)) <= 0)
		goto done;
	for (i = 0; i < n; i++)
		if (wexec(st, "UPDATE txt SET Value = '' WHERE Subdomain = ?1"
		    " AND Value <> '' AND LastUpdate < ?3", subs[i], NULL, before) == -1 ||
		    storage_log_change(st, subs[i]) == -1)
			goto fail;
done:
	if (n == -1 || storage_commit(st, "expire: commit") == -1)
		goto fail;
	return n;
fail:
	storage_abort(st);
	return -1;
}

/* Make or drop the expiry index; see storage.h. */
int
storage_expiry_index(struct storage *st, bool on)
{
	char *msg = NULL;
	int rc = 0;

	if (st == NULL || st->pg != NULL)
		return st == NULL ? -1 : 0;
	if (storage_wlock(st) == -1)
		return -1;
	if (sqlite3_exec(st->w, on ? "CREATE INDEX IF NOT EXISTS txt_lastupdate ON txt(LastUpdate)" :
	    "DROP INDEX IF EXISTS txt_lastupdate", NULL, NULL, &msg) != SQLITE_OK) {
		log_warnx("storage: %s the expiry index: %s", on ? "cannot make" : "cannot drop",
		    msg != NULL ? msg : "?");
		rc = -1;
	}
	sqlite3_free(msg);
	storage_wunlock(st);
	return rc;
}

/* Drop values published before before; see storage.h. */
int
storage_txt_expire(struct storage *st, long long before,
    int (*cb)(void *arg, const char *subdomain, const struct storage_txt *txt), void *arg)
{
	char (*subs)[STORAGE_ID_LEN + 1];
	struct storage_txt t;
	int n = -1, i;

	if (st == NULL)
		return -1;
	if (st->pg != NULL)
		return storage_pg_expire(st, before, cb, arg);
	if ((subs = calloc(STORAGE_EXPIRE_BATCH, sizeof(*subs))) == NULL)
		return -1;
	if (storage_wlock(st) == -1)
		goto out;
	n = expire_batch(st, before, subs);
	for (i = 0; i < n && cb != NULL; i++)
		if (storage_values(st->w, st->txt_values, subs[i], &t) == 0)
			(void)cb(arg, subs[i], &t);
	storage_wunlock(st);
	if (n > 0)
		log_info("storage: expired values dropped for %d name%s", n, n == 1 ? "" : "s");
out:
	free(subs);
	return n;
}
