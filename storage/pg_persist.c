/* storage/pg_persist.c -- persistent validation records on PostgreSQL, through the change feed */
/* SPDX-License-Identifier: ISC */

/*
 * The same meaning as persist.c. A write locks the account's records row
 * (SELECT ... FOR UPDATE) before counting its records, so two instances
 * adding issuers to one account take turns and the STORAGE_PERSIST_MAX
 * limit holds. Each write appends a change of kind PG_CHANGE_PERSIST, so
 * every instance's watcher re-reads that account's records (pg_watch.c).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/common.h"
#include "internal.h"

/* Append row i of res (Issuer, Value, LastUpdate at column c) to set; false if unusable. */
static bool
row_add(const PGresult *res, int i, int c, struct storage_persist_set *set)
{
	const char *issuer = PQgetvalue(res, i, c), *value = PQgetvalue(res, i, c + 1);
	size_t il = (size_t)PQgetlength(res, i, c), vl = (size_t)PQgetlength(res, i, c + 1);
	struct storage_persist *r;

	if (set->n >= STORAGE_PERSIST_MAX || PQgetisnull(res, i, c) || il == 0 ||
	    il > STORAGE_ISSUER_LEN || vl == 0 || vl > STORAGE_PERSIST_LEN)
		return false;
	r = &set->rec[set->n++];
	memcpy(r->issuer, issuer, il + 1);
	memcpy(r->value, value, vl + 1);
	r->updated = strtoll(PQgetvalue(res, i, c + 2), NULL, 10);
	return true;
}

/* Read sub's records on c into *out, ordered by issuer. Returns 0 or -1. */
int
pg_persist_read(PGconn *c, int64_t deadline, bool *broken, const char *sub,
    struct storage_persist_set *out)
{
	const char *p[1] = { sub };
	PGresult *res;
	int i, rc = -1;

	out->n = 0;
	if ((res = pg_query(c, deadline, broken, "SELECT Issuer, Value, LastUpdate"
	    " FROM dns01d_persist WHERE Subdomain = $1 ORDER BY Issuer", 1, p)) == NULL ||
	    !pg_ok(res, "persist select"))
		goto out;
	for (i = 0; i < PQntuples(res); i++)
		if (!row_add(res, i, 0, out) && out->n < STORAGE_PERSIST_MAX)
			log_warnx("%s: stored persist record is not usable; skipped", sub);
	rc = 0;
out:
	PQclear(res);
	return rc;
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

/* Insert or replace (value != NULL), or delete, inside the open transaction. */
static int
write_row(PGconn *c, int64_t deadline, bool *broken, const char *sub, const char *issuer,
    const char *value)
{
	char now[24];
	const char *p[4] = { sub, issuer, value, now };

	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	if (value == NULL)
		return pg_exec(c, deadline, broken, "persist delete", "DELETE FROM dns01d_persist"
		    " WHERE Subdomain = $1 AND Issuer = $2", 2, p);
	return pg_exec(c, deadline, broken, "persist insert", "INSERT INTO dns01d_persist"
	    "(Subdomain, Issuer, Value, LastUpdate) VALUES ($1, $2, $3, $4)"
	    " ON CONFLICT (Subdomain, Issuer) DO UPDATE SET Value = EXCLUDED.Value,"
	    " LastUpdate = EXCLUDED.LastUpdate", 4, p);
}

/* Put (value != NULL) or delete one record; see storage_persist_put/_delete. */
enum storage_persist_result
storage_pg_persist_change(struct storage *st, const char *sub, const char *issuer,
    const char *value, struct storage_persist_set *now)
{
	struct storage_pg *pg = st->pg;
	int64_t deadline = pg_now_ms() + STORAGE_PG_OP_MS;
	enum storage_persist_result rc = STORAGE_PERSIST_ERROR;
	const char *p[1] = { sub };
	struct pg_slot *s;
	PGresult *res = NULL;
	bool broken = false, found;

	if ((s = pg_acquire(pg, deadline)) == NULL)
		return STORAGE_PERSIST_ERROR;
	if (pg_exec(s->conn, deadline, &broken, "persist begin", "BEGIN", 0, NULL) == -1)
		goto out;
	if ((res = pg_query(s->conn, deadline, &broken, "SELECT 1 FROM records"
	    " WHERE Subdomain = $1 FOR UPDATE", 1, p)) == NULL || !pg_ok(res, "persist lock"))
		goto fail;
	if (PQntuples(res) == 0) {
		log_warnx("%s: no such account; persist record not stored", sub);
		goto fail;
	}
	if (pg_persist_read(s->conn, deadline, &broken, sub, now) == -1)
		goto fail;
	found = has_issuer(now, issuer);
	if (value != NULL && !found && now->n >= STORAGE_PERSIST_MAX) {
		rc = STORAGE_PERSIST_FULL;
		goto fail;
	}
	if (value == NULL && !found) {
		rc = STORAGE_PERSIST_NONE;
		goto fail;
	}
	if (write_row(s->conn, deadline, &broken, sub, issuer, value) == -1 ||
	    pg_persist_read(s->conn, deadline, &broken, sub, now) == -1 ||
	    pg_log_change(s->conn, deadline, &broken, sub, PG_CHANGE_PERSIST) == -1 ||
	    pg_exec(s->conn, deadline, &broken, "persist commit", "COMMIT", 0, NULL) == -1)
		goto fail;
	rc = STORAGE_PERSIST_OK;
	goto out;
fail:
	if (!broken)
		(void)pg_exec(s->conn, deadline, &broken, "rollback", "ROLLBACK", 0, NULL);
out:
	PQclear(res);
	pg_release(pg, s, broken);
	return rc;
}

/* One account's records; see storage_persist_get. */
int
storage_pg_persist_get(struct storage *st, const char *sub, struct storage_persist_set *out)
{
	struct storage_pg *pg = st->pg;
	int64_t deadline = pg_now_ms() + STORAGE_PG_OP_MS;
	struct pg_slot *s;
	bool broken = false;
	int rc;

	if ((s = pg_acquire(pg, deadline)) == NULL)
		return -1;
	rc = pg_persist_read(s->conn, deadline, &broken, sub, out);
	pg_release(pg, s, broken);
	return rc;
}

/*
 * Hand every account of res (Subdomain, Issuer, Value, LastUpdate, sorted
 * by subdomain) to cb; with empty_too, accounts without records (NULL
 * Issuer from a LEFT JOIN) get an empty set. Returns 0, or -1 if cb failed.
 */
static int
emit_all(const PGresult *res, bool empty_too, storage_persist_cb cb, void *arg)
{
	struct storage_persist_set set = { .n = 0 };
	const char *sub;
	int i, n = PQntuples(res);

	for (i = 0; i < n; i++) {
		sub = PQgetvalue(res, i, 0);
		if (i == 0 || strcmp(sub, PQgetvalue(res, i - 1, 0)) != 0)
			set.n = 0;
		if (!is_uuid(sub))
			continue;
		if (!PQgetisnull(res, i, 1) && !row_add(res, i, 1, &set) &&
		    set.n < STORAGE_PERSIST_MAX)
			log_warnx("%s: stored persist record is not usable; skipped", sub);
		if ((i + 1 == n || strcmp(sub, PQgetvalue(res, i + 1, 0)) != 0) &&
		    (set.n > 0 || empty_too) && cb(arg, sub, &set) != 0)
			return -1;
	}
	return 0;
}

/* Every account's records; see storage_persist_foreach. One query. */
int
storage_pg_persist_foreach(struct storage *st, storage_persist_cb cb, void *arg)
{
	struct storage_pg *pg = st->pg;
	int64_t deadline = pg_now_ms() + STORAGE_PG_LOAD_MS;
	struct pg_slot *s;
	PGresult *res;
	bool broken = false;
	int rc = -1;

	if ((s = pg_acquire(pg, deadline)) == NULL)
		return -1;
	if ((res = pg_query(s->conn, deadline, &broken, "SELECT Subdomain, Issuer, Value,"
	    " LastUpdate FROM dns01d_persist ORDER BY Subdomain, Issuer", 0, NULL)) != NULL &&
	    pg_ok(res, "persist foreach"))
		rc = emit_all(res, false, cb, arg);
	PQclear(res);
	pg_release(pg, s, broken);
	return rc;
}

/*
 * The watcher's full reload (a gap in the change ids): every account, with
 * or without records, so records deleted meanwhile disappear. 0 or -1.
 */
int
pg_persist_reload(PGconn *c, int64_t deadline, bool *broken, storage_persist_cb cb, void *arg)
{
	PGresult *res;
	int rc = -1;

	if ((res = pg_query(c, deadline, broken, "SELECT r.Subdomain, p.Issuer, p.Value,"
	    " p.LastUpdate FROM records AS r LEFT JOIN dns01d_persist AS p"
	    " ON p.Subdomain = r.Subdomain ORDER BY r.Subdomain, p.Issuer", 0, NULL)) != NULL &&
	    pg_ok(res, "persist reload"))
		rc = emit_all(res, true, cb, arg);
	PQclear(res);
	return rc;
}

/* Set the records callback of the watcher; see storage_persist_watch. */
int
storage_pg_persist_watch(struct storage *st, storage_persist_cb cb, void *arg)
{
	struct storage_pg *pg = st->pg;

	pthread_mutex_lock(&pg->wlock);
	pg->pcb = cb;
	pg->pcbarg = arg;
	pthread_mutex_unlock(&pg->wlock);
	pg_watch_wake(pg);
	return 0;
}
