/* storage/pg_data.c -- the PostgreSQL backend's verbs: register, look up, publish, load */
/* SPDX-License-Identifier: ISC */

/*
 * Each write is one transaction on a pooled connection, with the same
 * meaning as on SQLite (txt.c, account.c). Rotation with several instances:
 * txt_set locks the account's records row (SELECT ... FOR UPDATE) before
 * reading its txt rows, so two instances updating one account take turns;
 * under READ COMMITTED each later statement sees the other's commit, so
 * the newest txt_values values win, none is lost and none is duplicated.
 *
 * Every write also appends to the change log and NOTIFYs, inside the
 * transaction: PostgreSQL delivers the notification only on commit, and
 * the change id is taken under an advisory lock held to the commit, so the
 * ids other instances read (pg_watch.c) appear in increasing order.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/common.h"
#include "internal.h"

/*
 * Append a change of kind (PG_CHANGE_*) for sub and notify the other
 * instances. In the open transaction.
 */
int
pg_log_change(PGconn *c, int64_t deadline, bool *broken, const char *sub, int kind)
{
	char lock[80], at[24], k[8];
	const char *p[3] = { sub, at, k };

	snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%lld)", STORAGE_PG_LOCK_CHANGES);
	snprintf(at, sizeof(at), "%lld", (long long)time(NULL));
	snprintf(k, sizeof(k), "%d", kind);
	if (pg_exec(c, deadline, broken, "change lock", lock, 0, NULL) == -1 ||
	    pg_exec(c, deadline, broken, "change log", "INSERT INTO dns01d_changes(Subdomain, At,"
	    " Kind) VALUES ($1, $2, $3)", 3, p) == -1 ||
	    pg_exec(c, deadline, broken, "notify", "NOTIFY " STORAGE_PG_CHANNEL, 0, NULL) == -1)
		return -1;
	return 0;
}

/* Roll back after a failure unless the connection is gone anyway. */
static void
rollback(PGconn *c, int64_t deadline, bool *broken)
{
	if (!*broken)
		(void)pg_exec(c, deadline, broken, "rollback", "ROLLBACK", 0, NULL);
}

/*
 * Insert one account and its txt_values empty rows. Returns 0, 1 on a
 * UNIQUE clash (fresh ids are tried), or -1.
 */
int
storage_pg_insert_account(struct storage *st, const char *user, const char *hash,
    const char *sub, const char *json, const char *note)
{
	struct storage_pg *pg = st->pg;
	int64_t deadline = pg_now_ms() + STORAGE_PG_OP_MS;
	char now[24];
	const char *p[4] = { user, hash, sub, json };
	const char *m[3] = { sub, now, note != NULL && *note != '\0' ? note : NULL };
	struct pg_slot *s;
	PGresult *res = NULL;
	const char *state;
	bool broken = false;
	unsigned i;
	int rc = -1;

	if ((s = pg_acquire(pg, deadline)) == NULL)
		return -1;
	if (pg_exec(s->conn, deadline, &broken, "register: begin", "BEGIN", 0, NULL) == -1)
		goto out;
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	if ((res = pg_query(s->conn, deadline, &broken, "INSERT INTO records(Username, Password,"
	    " Subdomain, AllowFrom) VALUES ($1, $2, $3, $4)", 4, p)) == NULL)
		goto fail;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state != NULL && strcmp(state, "23505") == 0) {	/* unique_violation */
		rc = 1;
		goto fail;
	}
	if (!pg_ok(res, "register: insert"))
		goto fail;
	if (pg_exec(s->conn, deadline, &broken, "register: insert meta", "INSERT INTO"
	    " dns01d_accounts(Subdomain, Created, Note) VALUES ($1, $2, $3) ON CONFLICT (Subdomain)"
	    " DO UPDATE SET Created = EXCLUDED.Created, Note = EXCLUDED.Note", 3, m) == -1)
		goto fail;
	/* acme-dns keeps one row per value, '' until published; so do we. */
	for (i = 0; i < st->txt_values; i++)
		if (pg_exec(s->conn, deadline, &broken, "register: insert txt",
		    "INSERT INTO txt(Subdomain, Value, LastUpdate, Seq) VALUES ($1, '', 0, 0)",
		    1, &p[2]) == -1)
			goto fail;
	if (pg_log_change(s->conn, deadline, &broken, sub, PG_CHANGE_TXT) == -1 ||
	    pg_exec(s->conn, deadline, &broken, "register: commit", "COMMIT", 0, NULL) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	rollback(s->conn, deadline, &broken);
out:
	PQclear(res);
	pg_release(pg, s, broken);
	return rc;
}

/* Copy a column into dst[n]; false if NULL or too long. */
static bool
col_copy(const PGresult *res, int row, int col, char *dst, size_t n)
{
	size_t len;

	if (PQgetisnull(res, row, col) || (len = (size_t)PQgetlength(res, row, col)) >= n)
		return false;
	memcpy(dst, PQgetvalue(res, row, col), len + 1);
	return true;
}

/*
 * Look username up: its hash, subdomain, username and AllowFrom text
 * (*allow, malloc'd). Returns 1 found, 0 not found (or unusable), -1 on a
 * database error.
 */
int
storage_pg_lookup(struct storage *st, const char *username, char hash[STORAGE_HASH_MAX],
    struct storage_account *out, char **allow)
{
	struct storage_pg *pg = st->pg;
	int64_t deadline = pg_now_ms() + STORAGE_PG_OP_MS;
	const char *p[1] = { username };
	struct pg_slot *s;
	PGresult *res = NULL;
	bool broken = false, found = false;
	int rc = -1;

	if ((s = pg_acquire(pg, deadline)) == NULL)
		return -1;
	if ((res = pg_query(s->conn, deadline, &broken, "SELECT Password, Subdomain, AllowFrom,"
	    " Username FROM records WHERE Username = $1", 1, p)) == NULL ||
	    !pg_ok(res, "auth"))
		goto out;
	if (PQntuples(res) > 0) {
		found = col_copy(res, 0, 0, hash, STORAGE_HASH_MAX) &&
		    col_copy(res, 0, 1, out->subdomain, sizeof(out->subdomain)) &&
		    col_copy(res, 0, 3, out->username, sizeof(out->username));
		if (found && !PQgetisnull(res, 0, 2) &&
		    (PQgetlength(res, 0, 2) >= STORAGE_ALLOWFROM_JSON_MAX ||
		    (*allow = strdup(PQgetvalue(res, 0, 2))) == NULL))
			found = false;
		if (!found)
			log_warnx("%s: account row unusable (field too long); access denied",
			    username);
	}
	rc = found ? 1 : 0;
out:
	PQclear(res);
	pg_release(pg, s, broken);
	return rc;
}

/* Replace old by hash in user's row if it still holds old. Returns 1 changed, 0 not, -1. */
int
storage_pg_rehash(struct storage *st, const char *user, const char *old, const char *hash)
{
	struct storage_pg *pg = st->pg;
	int64_t deadline = pg_now_ms() + STORAGE_PG_OP_MS;
	const char *p[3] = { hash, user, old };
	struct pg_slot *s;
	PGresult *res;
	bool broken = false;
	int rc = -1;

	if ((s = pg_acquire(pg, deadline)) == NULL)
		return -1;
	if ((res = pg_query(s->conn, deadline, &broken, "UPDATE records SET Password = $1"
	    " WHERE Username = $2 AND Password = $3", 3, p)) != NULL && pg_ok(res, "rehash"))
		rc = strcmp(PQcmdTuples(res), "1") == 0 ? 1 : 0;
	PQclear(res);
	pg_release(pg, s, broken);
	return rc;
}

/* Count legacy bcrypt hashes and their highest cost, for the dummy bcrypt. Returns 0 or -1. */
int
storage_pg_legacy_count(struct storage *st, long long *count, long long *cost)
{
	struct storage_pg *pg = st->pg;
	int64_t deadline = pg_now_ms() + STORAGE_PG_OP_MS;
	struct pg_slot *s;
	PGresult *res;
	bool broken = false;
	int rc = -1;

	*count = 0;
	*cost = -1;
	if ((s = pg_acquire(pg, deadline)) == NULL)
		return -1;
	if ((res = pg_query(s->conn, deadline, &broken, "SELECT count(*),"
	    " max(CASE WHEN substr(Password, 5, 2) ~ '^[0-9][0-9]$'"
	    " THEN substr(Password, 5, 2)::int END) FROM records"
	    " WHERE substr(Password, 1, 4) IN ('$2a$', '$2b$', '$2y$')", 0, NULL)) != NULL &&
	    pg_ok(res, "count legacy hashes") && PQntuples(res) == 1) {
		*count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		if (!PQgetisnull(res, 0, 1))
			*cost = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		rc = 0;
	}
	PQclear(res);
	pg_release(pg, s, broken);
	return rc;
}

/*
 * Read sub's values, newest first, into rows (at most want) and count all
 * rows in *c; the newest-first order is Seq, then rowid.
 */
static int
read_rows(PGconn *conn, int64_t deadline, bool *broken, const char *sub,
    struct storage_txt_row *rows, size_t want, size_t *kept, size_t *c, long long *oldest)
{
	const char *p[1] = { sub };
	PGresult *res;
	int i, n, rc = -1;

	*kept = *c = 0;
	if ((res = pg_query(conn, deadline, broken, "SELECT rowid, Value, Seq FROM txt"
	    " WHERE Subdomain = $1 ORDER BY Seq DESC, rowid DESC", 1, p)) == NULL ||
	    !pg_ok(res, "txt select"))
		goto out;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		if (*kept < want) {
			rows[*kept].rowid = strtoll(PQgetvalue(res, i, 0), NULL, 10);
			rows[*kept].seq = strtoll(PQgetvalue(res, i, 2), NULL, 10);
			if (!col_copy(res, i, 1, rows[*kept].value, sizeof(rows[*kept].value)))
				rows[*kept].value[0] = '\0';
			(*kept)++;
		}
		*oldest = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	}
	*c = (size_t)n;
	rc = 0;
out:
	PQclear(res);
	return rc;
}

/* Write the planned rotation (storage_txt_plan) for sub. In the open transaction. */
static int
apply_plan(struct storage_pg *pg, PGconn *c, int64_t deadline, bool *broken, const char *sub,
    const char *txt, const struct storage_txt_plan *plan, size_t count)
{
	char seq[24], now[24], target[24], keep[24];
	const char *upd[4] = { txt, now, seq, target };
	const char *ins[4] = { sub, txt, now, seq };
	const char *prune[2] = { sub, keep };

	snprintf(seq, sizeof(seq), "%lld", plan->seq);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	snprintf(target, sizeof(target), "%lld", plan->target);
	snprintf(keep, sizeof(keep), "%u", pg->txt_values);
	if (plan->target != 0) {
		if (pg_exec(c, deadline, broken, "txt update", "UPDATE txt SET Value = $1,"
		    " LastUpdate = $2, Seq = $3 WHERE rowid = $4", 4, upd) == -1)
			return -1;
	} else if (pg_exec(c, deadline, broken, "txt insert", "INSERT INTO txt(Subdomain,"
	    " Value, LastUpdate, Seq) VALUES ($1, $2, $3, $4)", 4, ins) == -1)
		return -1;
	/* More rows than txt_values (it was lowered, or a foreign database): keep the newest. */
	if (count > pg->txt_values && pg_exec(c, deadline, broken, "txt prune",
	    "DELETE FROM txt WHERE Subdomain = $1 AND rowid NOT IN (SELECT rowid FROM txt"
	    " WHERE Subdomain = $1 ORDER BY Seq DESC, rowid DESC LIMIT $2)", 2, prune) == -1)
		return -1;
	return 0;
}

/*
 * Publish txt for subdomain; see storage.h. The account row is locked
 * first, so concurrent updates of one account from any instance queue.
 */
int
storage_pg_txt_set(struct storage *st, const char *sub, const char *txt,
    struct storage_txt *now)
{
	struct storage_pg *pg = st->pg;
	int64_t deadline = pg_now_ms() + STORAGE_PG_OP_MS;
	struct storage_txt_row rows[STORAGE_MAX_TXT];
	struct storage_txt_plan plan;
	const char *p[1] = { sub };
	struct pg_slot *s;
	PGresult *res = NULL;
	size_t kept, c;
	long long oldest = 0;
	bool broken = false;
	int rc = -1;

	if ((s = pg_acquire(pg, deadline)) == NULL)
		return -1;
	if (pg_exec(s->conn, deadline, &broken, "txt begin", "BEGIN", 0, NULL) == -1)
		goto out;
	if ((res = pg_query(s->conn, deadline, &broken, "SELECT 1 FROM records"
	    " WHERE Subdomain = $1 FOR UPDATE", 1, p)) == NULL || !pg_ok(res, "txt lock"))
		goto fail;
	if (PQntuples(res) == 0) {
		log_warnx("%s: no such account; TXT not stored", sub);
		goto fail;
	}
	if (read_rows(s->conn, deadline, &broken, sub, rows, pg->txt_values, &kept, &c,
	    &oldest) == -1)
		goto fail;
	storage_txt_plan(rows, kept, c, oldest, pg->txt_values, txt, &plan, now);
	if (apply_plan(pg, s->conn, deadline, &broken, sub, txt, &plan, c) == -1 ||
	    pg_log_change(s->conn, deadline, &broken, sub, PG_CHANGE_TXT) == -1 ||
	    pg_exec(s->conn, deadline, &broken, "txt commit", "COMMIT", 0, NULL) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	rollback(s->conn, deadline, &broken);
out:
	if (rc == -1)
		now->n = 0;
	PQclear(res);
	pg_release(pg, s, broken);
	return rc;
}

/*
 * The current values of one subdomain as DNS serves them: the newest
 * txt_values usable values. Used by the watcher. Returns 0 or -1.
 */
int
pg_values(struct storage_pg *pg, PGconn *c, int64_t deadline, bool *broken, const char *sub,
    struct storage_txt *out)
{
	char lim[16];
	const char *p[2] = { sub, lim };
	PGresult *res;
	int i, n, rc = -1;

	out->n = 0;
	snprintf(lim, sizeof(lim), "%u", pg->txt_values);
	if ((res = pg_query(c, deadline, broken, "SELECT Value FROM txt WHERE Subdomain = $1"
	    " AND Value <> '' ORDER BY Seq DESC, rowid DESC LIMIT $2", 2, p)) == NULL ||
	    !pg_ok(res, "txt values"))
		goto out;
	n = PQntuples(res);
	for (i = 0; i < n && out->n < STORAGE_MAX_TXT; i++) {
		if (!is_acme_txt(PQgetvalue(res, i, 0))) {
			log_warnx("%s: stored TXT value is not 43 base64url characters; skipped", sub);
			continue;
		}
		memcpy(out->values[out->n++], PQgetvalue(res, i, 0), STORAGE_TXT_LEN + 1);
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

/* Hand the accounts of res (sorted by subdomain, newest value first) to cb. */
int
pg_emit_all(struct storage_pg *pg, const PGresult *res,
    int (*cb)(void *, const char *, const struct storage_txt *), void *arg)
{
	struct storage_txt t = { .n = 0 };
	const char *sub, *v;
	int i, n = PQntuples(res);
	bool skip = false;

	for (i = 0; i < n; i++) {
		sub = PQgetvalue(res, i, 0);
		if (i == 0 || strcmp(sub, PQgetvalue(res, i - 1, 0)) != 0) {
			t.n = 0;
			if ((skip = !is_uuid(sub)))
				log_warnx("storage: account %s: subdomain is not a UUID; skipped", sub);
		}
		v = PQgetvalue(res, i, 1);
		if (!skip && !PQgetisnull(res, i, 1) && *v != '\0' && t.n < pg->txt_values) {
			if (is_acme_txt(v))
				memcpy(t.values[t.n++], v, STORAGE_TXT_LEN + 1);
			else
				log_warnx("%s: stored TXT value is not 43 base64url characters;"
				    " skipped", sub);
		}
		if (!skip && (i + 1 == n || strcmp(sub, PQgetvalue(res, i + 1, 0)) != 0) &&
		    cb(arg, sub, &t) != 0)
			return -1;
	}
	return 0;
}

/* Call cb for every account; see storage.h. One query; the newest values are picked in C. */
int
storage_pg_foreach(struct storage *st,
    int (*cb)(void *arg, const char *subdomain, const struct storage_txt *txt), void *arg)
{
	struct storage_pg *pg = st->pg;
	int64_t deadline = pg_now_ms() + STORAGE_PG_LOAD_MS;
	struct pg_slot *s;
	PGresult *res;
	bool broken = false;
	int rc = -1;

	if ((s = pg_acquire(pg, deadline)) == NULL)
		return -1;
	if ((res = pg_query(s->conn, deadline, &broken, "SELECT r.Subdomain, t.Value"
	    " FROM records AS r LEFT JOIN txt AS t ON t.Subdomain = r.Subdomain"
	    " ORDER BY r.Subdomain, t.Seq DESC, t.rowid DESC", 0, NULL)) != NULL &&
	    pg_ok(res, "foreach"))
		rc = pg_emit_all(pg, res, cb, arg);
	PQclear(res);
	pg_release(pg, s, broken);
	return rc;
}
