/* storage/pg_admin.c -- the PostgreSQL backend's account lifecycle verbs (see admin.c) */
/* SPDX-License-Identifier: ISC */

/*
 * The same meaning as on SQLite. Each write is one transaction on a pooled
 * connection; those that change what DNS serves append to the change log
 * and NOTIFY (pg_log_change), so every instance applies them within about
 * a second (pg_watch.c).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/common.h"
#include "internal.h"

#define PG_LIST_SQL "SELECT r.Username, r.Subdomain, r.AllowFrom, a.Created, a.Note," \
	" (SELECT max(LastUpdate) FROM txt AS t WHERE t.Subdomain = r.Subdomain)" \
	" FROM records AS r LEFT JOIN dns01d_accounts AS a ON a.Subdomain = r.Subdomain"

/* Fill info from row i of a PG_LIST_SQL result. */
static void
info_from(const PGresult *res, int i, struct storage_info *info)
{
	struct storage_account acct;
	size_t k;

	memset(info, 0, sizeof(*info));
	snprintf(info->username, sizeof(info->username), "%s", PQgetvalue(res, i, 0));
	snprintf(info->subdomain, sizeof(info->subdomain), "%s", PQgetvalue(res, i, 1));
	memset(&acct, 0, sizeof(acct));
	if (!PQgetisnull(res, i, 2) &&
	    storage_allowfrom_decode(PQgetvalue(res, i, 2), &acct) == 0) {
		for (k = 0; k < acct.nallowfrom; k++)
			memcpy(info->allowfrom[k], acct.allowfrom[k], STORAGE_CIDR_LEN);
		info->nallowfrom = acct.nallowfrom;
	}
	info->created = strtoll(PQgetvalue(res, i, 3), NULL, 10);
	snprintf(info->note, sizeof(info->note), "%s", PQgetvalue(res, i, 4));
	info->last_update = strtoll(PQgetvalue(res, i, 5), NULL, 10);
}

/* Run PG_LIST_SQL + tail (sub as $1 when not NULL), cb per row; *found counts rows. */
static int
list_query(struct storage *st, const char *tail, const char *sub,
    int (*cb)(void *, const struct storage_info *), void *arg, int *found)
{
	struct storage_pg *pg = st->pg;
	int64_t deadline = pg_now_ms() + STORAGE_PG_LOAD_MS;
	struct storage_info *info = NULL;
	char sql[512];
	struct pg_slot *s;
	PGresult *res = NULL;
	bool broken = false;
	int i, rc = -1;

	*found = 0;
	if ((s = pg_acquire(pg, deadline)) == NULL)
		return -1;
	snprintf(sql, sizeof(sql), "%s %s", PG_LIST_SQL, tail);
	if ((info = malloc(sizeof(*info))) == NULL ||
	    (res = pg_query(s->conn, deadline, &broken, sql, sub ? 1 : 0, sub ? &sub : NULL)) ==
	    NULL || !pg_ok(res, "list"))
		goto out;
	for (i = 0; i < PQntuples(res); i++) {
		info_from(res, i, info);
		(*found)++;
		if (cb(arg, info) != 0)
			goto out;
	}
	rc = 0;
out:
	free(info);
	PQclear(res);
	pg_release(pg, s, broken);
	return rc;
}

/* Every account, oldest first. */
int
storage_pg_list(struct storage *st, int (*cb)(void *, const struct storage_info *), void *arg)
{
	int found;

	return list_query(st, "ORDER BY a.Created NULLS FIRST, r.Subdomain", NULL, cb, arg,
	    &found);
}

static int
copy_info(void *arg, const struct storage_info *info)
{
	memcpy(arg, info, sizeof(*info));
	return 0;
}

/* One account with its values: 0, 1 if none, -1. */
int
storage_pg_info_get(struct storage *st, const char *sub, struct storage_info *out)
{
	struct storage_pg *pg = st->pg;
	int64_t deadline = pg_now_ms() + STORAGE_PG_OP_MS;
	struct pg_slot *s;
	bool broken = false;
	int found, rc;

	if (list_query(st, "WHERE r.Subdomain = $1", sub, copy_info, out, &found) == -1)
		return -1;
	if (found == 0)
		return 1;
	if ((s = pg_acquire(pg, deadline)) == NULL)
		return -1;
	rc = pg_values(pg, s->conn, deadline, &broken, sub, &out->txt);
	pg_release(pg, s, broken);
	return rc;
}

/*
 * One account write in a transaction: the statements of sql (NUL-separated,
 * ending with an empty one; $1 is sub, $2 is arg when not NULL). The first
 * must change a row, or there is no such account. Returns 0, 1 or -1.
 */
static int
pg_account_write(struct storage *st, const char *sql, const char *sub, const char *arg,
    bool logged)
{
	struct storage_pg *pg = st->pg;
	int64_t deadline = pg_now_ms() + STORAGE_PG_OP_MS;
	const char *p[2] = { sub, arg };
	struct pg_slot *s;
	PGresult *res = NULL;
	const char *q;
	bool broken = false;
	int rc = -1;

	if ((s = pg_acquire(pg, deadline)) == NULL)
		return -1;
	if (pg_exec(s->conn, deadline, &broken, "admin: begin", "BEGIN", 0, NULL) == -1)
		goto out;
	for (q = sql; *q != '\0'; q += strlen(q) + 1) {
		/* A statement takes $2 only when it names it (PostgreSQL counts them). */
		if ((res = pg_query(s->conn, deadline, &broken, q, arg && strstr(q, "$2") ? 2 : 1,
		    p)) == NULL ||
		    !pg_ok(res, "admin"))
			goto fail;
		if (q == sql && strcmp(PQcmdTuples(res), "0") == 0) {
			rc = 1;
			goto fail;
		}
		PQclear(res);
		res = NULL;
	}
	if ((logged && pg_log_change(s->conn, deadline, &broken, sub, PG_CHANGE_TXT) == -1) ||
	    pg_exec(s->conn, deadline, &broken, "admin: commit", "COMMIT", 0, NULL) == -1) {
		rc = -1;
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	if (!broken)
		(void)pg_exec(s->conn, deadline, &broken, "rollback", "ROLLBACK", 0, NULL);
out:
	PQclear(res);
	pg_release(pg, s, broken);
	return rc;
}

int
storage_pg_delete(struct storage *st, const char *sub)
{
	return pg_account_write(st, "DELETE FROM records WHERE Subdomain = $1\0"
	    "DELETE FROM txt WHERE Subdomain = $1\0"
	    "DELETE FROM dns01d_accounts WHERE Subdomain = $1\0"
	    "DELETE FROM dns01d_persist WHERE Subdomain = $1\0", sub, NULL, true);
}

int
storage_pg_clear(struct storage *st, const char *sub)
{
	return pg_account_write(st, "SELECT 1 FROM records WHERE Subdomain = $1 FOR UPDATE\0"
	    "UPDATE txt SET Value = '' WHERE Subdomain = $1 AND Value <> ''\0", sub, NULL, true);
}

int
storage_pg_note_set(struct storage *st, const char *sub, const char *note)
{
	return pg_account_write(st, "SELECT 1 FROM records WHERE Subdomain = $1 FOR UPDATE\0"
	    "INSERT INTO dns01d_accounts(Subdomain, Note) VALUES ($1, NULLIF($2, ''))"
	    " ON CONFLICT (Subdomain) DO UPDATE SET Note = EXCLUDED.Note\0", sub, note, false);
}

int
storage_pg_password_set(struct storage *st, const char *sub, const char *hash)
{
	return pg_account_write(st, "UPDATE records SET Password = $2 WHERE Subdomain = $1\0",
	    sub, hash, false);
}

/*
 * Drop the values older than before, for at most STORAGE_EXPIRE_BATCH
 * subdomains, in one transaction: every instance may run this at once;
 * the UPDATE's row locks make the later one find nothing left to drop.
 */
int
storage_pg_expire(struct storage *st, long long before,
    int (*cb)(void *, const char *, const struct storage_txt *), void *arg)
{
	struct storage_pg *pg = st->pg;
	int64_t deadline = pg_now_ms() + STORAGE_PG_OP_MS;
	char cut[24], lim[16];
	const char *p[2] = { cut, lim };
	struct storage_txt t;
	struct pg_slot *s;
	PGresult *res = NULL;
	bool broken = false;
	int i, n = -1;

	snprintf(cut, sizeof(cut), "%lld", before);
	snprintf(lim, sizeof(lim), "%d", STORAGE_EXPIRE_BATCH);
	if ((s = pg_acquire(pg, deadline)) == NULL)
		return -1;
	if (pg_exec(s->conn, deadline, &broken, "expire: begin", "BEGIN", 0, NULL) == -1)
		goto out;
	if ((res = pg_query(s->conn, deadline, &broken, "WITH u AS (UPDATE txt SET Value = ''"
	    " WHERE Value <> '' AND LastUpdate < $1 AND Subdomain IN (SELECT DISTINCT Subdomain"
	    " FROM txt WHERE Value <> '' AND LastUpdate < $1 LIMIT $2) RETURNING Subdomain)"
	    " SELECT DISTINCT Subdomain FROM u", 2, p)) == NULL)
		goto fail;
	if (!pg_ok(res, "expire"))
		goto fail;
	for (i = 0; i < PQntuples(res); i++)
		if (pg_log_change(s->conn, deadline, &broken, PQgetvalue(res, i, 0),
		    PG_CHANGE_TXT) == -1)
			goto fail;
	if (pg_exec(s->conn, deadline, &broken, "expire: commit", "COMMIT", 0, NULL) == -1)
		goto fail;
	n = PQntuples(res);
	for (i = 0; i < n && cb != NULL; i++)
		if (pg_values(pg, s->conn, deadline, &broken, PQgetvalue(res, i, 0), &t) == 0)
			(void)cb(arg, PQgetvalue(res, i, 0), &t);
	goto out;
fail:
	if (!broken)
		(void)pg_exec(s->conn, deadline, &broken, "rollback", "ROLLBACK", 0, NULL);
out:
	PQclear(res);
	pg_release(pg, s, broken);
	return n;
}
