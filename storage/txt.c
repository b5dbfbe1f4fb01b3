/* storage/txt.c -- publish TXT values with rotation; load them all at start-up */
/* SPDX-License-Identifier: ISC */

/*
 * An account's values are its txt rows (acme-dns's table), ordered by Seq,
 * newest largest, then rowid. LastUpdate has one-second resolution, so two
 * updates in one second would tie; Seq is the subdomain's largest Seq plus
 * one, taken inside the write transaction, so it strictly increases. Rows
 * with Value '' are placeholders (acme-dns creates two per account) and are
 * reused before any value is dropped.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/common.h"
#include "internal.h"

/* One txt row as txt_set and foreach see it. */
struct row {
	sqlite3_int64 rowid;
	sqlite3_int64 seq;
	char value[STORAGE_TXT_LEN + 1];	/* "" for a placeholder or an unusable value */
};

/* Read one row of (rowid, Value, Seq) at columns c, c+1, c+2. */
static void
read_row(sqlite3_stmt *s, int c, struct row *r)
{
	const char *v = (const char *)sqlite3_column_text(s, c + 1);

	r->rowid = sqlite3_column_int64(s, c);
	r->seq = sqlite3_column_int64(s, c + 2);
	r->value[0] = '\0';
	if (v != NULL && strlen(v) <= STORAGE_TXT_LEN)
		memcpy(r->value, v, strlen(v) + 1);
}

/*
 * The rotation, inside the write transaction. rows[] holds the newest
 * txt_values rows (of c in all), newest first; oldest is the oldest row.
 */
static int
rotate(struct storage *st, const char *sub, const char *txt, const struct row *rows,
    size_t kept, size_t c, sqlite3_int64 oldest, struct storage_txt *now)
{
	sqlite3_int64 seq = c > 0 ? rows[0].seq + 1 : 1, target = 0;
	size_t i, dup = kept;

	/* The same value again becomes newest without pushing another out (RFC 2181 §5: no duplicate RRs). */
	for (i = 0; i < kept; i++)
		if (strcmp(rows[i].value, txt) == 0) {
			dup = i;
			break;
		}
	if (dup < kept)
		target = rows[dup].rowid;
	else if (c >= st->txt_values)
		target = oldest;
	if (target != 0) {
		sqlite3_bind_text(st->upd_txt, 1, txt, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st->upd_txt, 2, (sqlite3_int64)time(NULL));
		sqlite3_bind_int64(st->upd_txt, 3, seq);
		sqlite3_bind_int64(st->upd_txt, 4, target);
		if (storage_step_done(st, st->w, st->upd_txt, "txt update") == -1)
			return -1;
	} else {
		sqlite3_bind_text(st->ins_txt, 1, sub, -1, SQLITE_STATIC);
		sqlite3_bind_text(st->ins_txt, 2, txt, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st->ins_txt, 3, (sqlite3_int64)time(NULL));
		sqlite3_bind_int64(st->ins_txt, 4, seq);
		if (storage_step_done(st, st->w, st->ins_txt, "txt insert") == -1)
			return -1;
	}
	/* More rows than txt_values (it was lowered, or a foreign database): keep the newest. */
	if (c > st->txt_values) {
		sqlite3_bind_text(st->prune_txt, 1, sub, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st->prune_txt, 2, st->txt_values);
		if (storage_step_done(st, st->w, st->prune_txt, "txt prune") == -1)
			return -1;
	}

	now->n = 0;
	memcpy(now->values[now->n++], txt, strlen(txt) + 1);
	for (i = 0; i < kept && now->n < st->txt_values; i++) {
		if (i == dup || rows[i].value[0] == '\0' || rows[i].rowid == target)
			continue;
		memcpy(now->values[now->n++], rows[i].value, sizeof(rows[i].value));
	}
	return 0;
}

/*
 * Publish txt for subdomain; see storage.h. One IMMEDIATE transaction on
 * the writer: read the subdomain's rows, overwrite the oldest (or insert
 * while there are fewer than txt_values), commit. Returns 0 or -1.
 */
static int
txt_set(struct storage *st, const char *subdomain, const char *txt,
    struct storage_txt *now)
{
	struct row rows[STORAGE_MAX_TXT];
	sqlite3_int64 oldest = 0;
	size_t kept = 0, c = 0;
	int rc = -1, r;

	if (st == NULL || subdomain == NULL || txt == NULL || now == NULL ||
	    *txt == '\0' || strlen(txt) > STORAGE_TXT_LEN || strlen(subdomain) > STORAGE_ID_LEN)
		return -1;
	if (st->pg != NULL)
		return storage_pg_txt_set(st, subdomain, txt, now);
	if (storage_wlock(st) == -1)
		return -1;
	if (storage_begin(st, "txt begin") == -1)
		goto out;
	sqlite3_bind_text(st->sel_txt, 1, subdomain, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st->sel_txt)) == SQLITE_ROW) {
		if (kept < st->txt_values)
			read_row(st->sel_txt, 0, &rows[kept++]);
		oldest = sqlite3_column_int64(st->sel_txt, 0);
		c++;
	}
	sqlite3_reset(st->sel_txt);
	sqlite3_clear_bindings(st->sel_txt);
	if (r != SQLITE_DONE) {
		log_warnx("storage: txt select: %s", sqlite3_errstr(r));
		goto out;
	}
	/* No rows at all: only publish for a real account, never create orphans. */
	if (c == 0) {
		sqlite3_bind_text(st->has_sub, 1, subdomain, -1, SQLITE_STATIC);
		r = sqlite3_step(st->has_sub);
		sqlite3_reset(st->has_sub);
		sqlite3_clear_bindings(st->has_sub);
		if (r != SQLITE_ROW) {
			log_warnx("%s: no such account; TXT not stored", subdomain);
			goto out;
		}
	}
	if (rotate(st, subdomain, txt, rows, kept, c, oldest, now) == -1 ||
	    storage_commit(st, "txt commit") == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1) {
		storage_abort(st);
		now->n = 0;
	}
	storage_wunlock(st);
	return rc;
}

/* Keep the k newest usable rows of one account, newest first, in top[]. */
static void
top_insert(struct row *top, size_t *n, size_t k, const struct row *r)
{
	size_t i, j;

	for (i = 0; i < *n; i++)
		if (r->seq > top[i].seq || (r->seq == top[i].seq && r->rowid > top[i].rowid))
			break;
	if (i >= k)
		return;
	j = *n < k ? *n : k - 1;
	for (; j > i; j--)
		top[j] = top[j - 1];
	top[i] = *r;
	if (*n < k)
		(*n)++;
}

/* Hand one account to the callback. Returns its result. */
static int
emit(int (*cb)(void *, const char *, const struct storage_txt *), void *arg,
    const char *sub, const struct row *top, size_t n)
{
	struct storage_txt t;
	size_t i;

	t.n = 0;
	for (i = 0; i < n; i++)
		memcpy(t.values[t.n++], top[i].value, sizeof(top[i].value));
	return cb(arg, sub, &t);
}

/*
 * Call cb for every account; see storage.h. One statement on a pooled
 * reader: records scanned in rowid order (no sort), each joined to its txt
 * rows through the txt(Subdomain) index; the newest txt_values are picked
 * in C. Rows that DNS cannot serve (a subdomain that is not a UUID, a value
 * that is not 43 base64url characters) are skipped with a warning.
 */
int
storage_foreach(struct storage *st,
    int (*cb)(void *arg, const char *subdomain, const struct storage_txt *txt), void *arg)
{
	static const char sql[] =
	    "SELECT r.rowid, r.Subdomain, t.rowid, t.Value, t.Seq"
	    " FROM records AS r LEFT JOIN txt AS t ON t.Subdomain = r.Subdomain"
	    " ORDER BY r.rowid";
	struct storage_reader *rd;
	sqlite3_stmt *s = NULL;
	struct row top[STORAGE_MAX_TXT], one;
	char sub[STORAGE_ID_LEN + 1] = "";
	sqlite3_int64 cur = 0, id;
	const char *v;
	size_t n = 0;
	bool have = false, skip = false;
	int rc = -1, r;

	if (st != NULL && cb != NULL && st->pg != NULL)
		return storage_pg_foreach(st, cb, arg);
	if (st == NULL || cb == NULL || (rd = storage_rget(st)) == NULL)
		return -1;
	if (sqlite3_prepare_v2(rd->db, sql, -1, &s, NULL) != SQLITE_OK) {
		log_warnx("storage: foreach: %s", sqlite3_errmsg(rd->db));
		goto out;
	}
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		if (!have || id != cur) {
			if (have && !skip && emit(cb, arg, sub, top, n) != 0)
				goto out;
			have = true;
			cur = id;
			n = 0;
			v = (const char *)sqlite3_column_text(s, 1);
			skip = v == NULL || !is_uuid(v);
			if (skip)
				log_warnx("storage: account row %lld: subdomain is not a UUID; skipped",
				    (long long)id);
			else
				memcpy(sub, v, STORAGE_ID_LEN + 1);
		}
		if (skip || sqlite3_column_type(s, 2) == SQLITE_NULL)
			continue;
		read_row(s, 2, &one);
		if (one.value[0] == '\0' && sqlite3_column_bytes(s, 3) == 0)
			continue;
		if (!is_acme_txt(one.value)) {
			log_warnx("%s: stored TXT value is not 43 base64url characters; skipped", sub);
			continue;
		}
		top_insert(top, &n, st->txt_values, &one);
	}
	if (r != SQLITE_DONE) {
		log_warnx("storage: foreach: %s", sqlite3_errmsg(rd->db));
		goto out;
	}
	if (have && !skip && emit(cb, arg, sub, top, n) != 0)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(s);
	storage_rput(st, rd);
	return rc;
}

/* storage_txt_set, timed for the write latency histogram (/metrics). */
int
storage_txt_set(struct storage *st, const char *subdomain, const char *txt,
    struct storage_txt *now)
{
	uint64_t t0 = storage_now_ns();
	int rc = txt_set(st, subdomain, txt, now);

	if (st != NULL)
		storage_write_done(st, t0, rc);
	return rc;
}
