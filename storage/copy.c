/* storage/copy.c -- copy an SQLite database's accounts and values into PostgreSQL */
/* SPDX-License-Identifier: ISC */

/*
 * For users moving up from one SQLite instance to several on PostgreSQL.
 * Rows are copied as stored: the key hash (fast or bcrypt) keeps working,
 * each value keeps its Seq and LastUpdate, so the rotation order survives.
 * One transaction on the target: a failed copy leaves nothing behind, and
 * running it again skips the accounts already there. One change row per
 * copied account lets running instances pick the accounts up at once (and a
 * second, of kind PG_CHANGE_PERSIST, when it has persistent validation records).
 * An account's creation time and note (dns01d_accounts) come along, so
 * `dns01d admin list` reads the same on both sides.
 */

#include <stdio.h>
#include <string.h>

#include "../common/common.h"
#include "internal.h"

/* The prepared reads of one account's rows on the SQLite side. */
struct copy_reads {
	sqlite3_stmt *txt;	/* Value, LastUpdate, Seq */
	sqlite3_stmt *pst;	/* Issuer, Value, LastUpdate */
	sqlite3_stmt *meta;	/* Created, Note */
};

/* Copy sub's dns01d_accounts row (statement meta), if it has one. 0 or -1. */
static int
copy_meta(struct storage_reader *rd, sqlite3_stmt *meta, PGconn *c, int64_t deadline,
    bool *broken, const char *sub)
{
	const char *p[3] = { sub, NULL, NULL };
	char created[24];
	int r, rc = 0;

	sqlite3_bind_text(meta, 1, sub, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(meta)) == SQLITE_ROW) {
		if (sqlite3_column_type(meta, 0) != SQLITE_NULL) {
			snprintf(created, sizeof(created), "%lld",
			    (long long)sqlite3_column_int64(meta, 0));
			p[1] = created;
		}
		p[2] = (const char *)sqlite3_column_text(meta, 1);
		rc = pg_exec(c, deadline, broken, "copy: account note", "INSERT INTO"
		    " dns01d_accounts(Subdomain, Created, Note) VALUES ($1, $2, $3)"
		    " ON CONFLICT (Subdomain) DO NOTHING", 3, p);
	} else if (r != SQLITE_DONE) {
		log_warnx("storage: copy: %s", sqlite3_errmsg(rd->db));
		rc = -1;
	}
	sqlite3_reset(meta);
	return rc;
}

/* Copy sub's dns01d_persist rows (statement pst); add a persist change if any. 0 or -1. */
static int
copy_persist(struct storage_reader *rd, sqlite3_stmt *pst, PGconn *c, int64_t deadline,
    bool *broken, const char *sub)
{
	const char *p[4];
	char lu[24];
	int r, n = 0;

	sqlite3_bind_text(pst, 1, sub, -1, SQLITE_STATIC);
	p[0] = sub;
	while ((r = sqlite3_step(pst)) == SQLITE_ROW) {
		p[1] = (const char *)sqlite3_column_text(pst, 0);
		p[2] = (const char *)sqlite3_column_text(pst, 1);
		snprintf(lu, sizeof(lu), "%lld", (long long)sqlite3_column_int64(pst, 2));
		p[3] = lu;
		if (p[1] == NULL || p[2] == NULL)
			continue;
		if (pg_exec(c, deadline, broken, "copy: persist", "INSERT INTO dns01d_persist"
		    "(Subdomain, Issuer, Value, LastUpdate) VALUES ($1, $2, $3, $4)"
		    " ON CONFLICT DO NOTHING", 4, p) == -1)
			break;
		n++;
	}
	sqlite3_reset(pst);
	if (r != SQLITE_DONE) {
		if (r != SQLITE_ROW)
			log_warnx("storage: copy: %s", sqlite3_errmsg(rd->db));
		return -1;
	}
	if (n > 0 && pg_exec(c, deadline, broken, "copy: change", "INSERT INTO"
	    " dns01d_changes(Subdomain, At, Kind) VALUES ($1, extract(epoch FROM now())::bigint,"
	    " 1)", 1, p) == -1)
		return -1;
	return 0;
}

/* Copy one account row with its txt and persist rows. 1 copied, 0 skipped, -1. */
static int
copy_account(struct storage_reader *rd, const struct copy_reads *q, PGconn *c,
    int64_t deadline, bool *broken, const char *const rec[4])
{
	sqlite3_stmt *txt = q->txt;
	const char *p[4];
	char lu[24], seq[24];
	PGresult *res;
	int r, rc = -1;

	if ((res = pg_query(c, deadline, broken, "INSERT INTO records(Username, Password,"
	    " Subdomain, AllowFrom) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", 4,
	    rec)) == NULL || !pg_ok(res, "copy: account"))
		goto out;
	if (strcmp(PQcmdTuples(res), "1") != 0) {
		log_info("%s: already in the target; skipped", rec[0]);
		rc = 0;
		goto out;
	}
	sqlite3_bind_text(txt, 1, rec[2], -1, SQLITE_STATIC);
	p[0] = rec[2];
	while ((r = sqlite3_step(txt)) == SQLITE_ROW) {
		p[1] = (const char *)sqlite3_column_text(txt, 0);
		snprintf(lu, sizeof(lu), "%lld", (long long)sqlite3_column_int64(txt, 1));
		snprintf(seq, sizeof(seq), "%lld", (long long)sqlite3_column_int64(txt, 2));
		p[2] = lu;
		p[3] = seq;
		if (pg_exec(c, deadline, broken, "copy: txt", "INSERT INTO txt(Subdomain, Value,"
		    " LastUpdate, Seq) VALUES ($1, COALESCE($2, ''), $3, $4)", 4, p) == -1)
			break;
	}
	sqlite3_reset(txt);
	if (r != SQLITE_DONE) {
		if (r != SQLITE_ROW)
			log_warnx("storage: copy: %s", sqlite3_errmsg(rd->db));
		goto out;
	}
	if (pg_exec(c, deadline, broken, "copy: change", "INSERT INTO dns01d_changes(Subdomain,"
	    " At) VALUES ($1, extract(epoch FROM now())::bigint)", 1, &rec[2]) == -1 ||
	    copy_persist(rd, q->pst, c, deadline, broken, rec[2]) == -1 ||
	    copy_meta(rd, q->meta, c, deadline, broken, rec[2]) == -1)
		goto out;
	rc = 1;
out:
	PQclear(res);
	return rc;
}

/* Copy every account of from (SQLite) into to (PostgreSQL); see storage.h. */
int
storage_copy(struct storage *from, struct storage *to, size_t *copied, char *err,
    size_t errlen)
{
	int64_t deadline = pg_now_ms() + STORAGE_PG_LOAD_MS;
	struct storage_reader *rd = NULL;
	struct copy_reads q = { NULL, NULL, NULL };
	sqlite3_stmt *rec = NULL;
	struct pg_slot *s = NULL;
	const char *row[4];
	char lock[96];
	bool broken = false;
	int r, rc = -1;

	*copied = 0;
	if (errlen > 0)
		*err = '\0';
	if (from == NULL || to == NULL || from->pg != NULL || to->pg == NULL) {
		snprintf(err, errlen, "copy goes from an SQLite database to a PostgreSQL one");
		return -1;
	}
	if ((rd = storage_rget(from)) == NULL || (s = pg_acquire(to->pg, deadline)) == NULL) {
		snprintf(err, errlen, "no connection to %s", rd ? "PostgreSQL" : "SQLite");
		goto out;
	}
	if (sqlite3_prepare_v2(rd->db, "SELECT Username, CAST(Password AS TEXT), Subdomain,"
	    " AllowFrom FROM records ORDER BY rowid", -1, &rec, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(rd->db, "SELECT Value, LastUpdate, Seq FROM txt"
	    " WHERE Subdomain = ?1 ORDER BY Seq, rowid", -1, &q.txt, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(rd->db, "SELECT Issuer, Value, LastUpdate FROM dns01d_persist"
	    " WHERE Subdomain = ?1", -1, &q.pst, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(rd->db, "SELECT Created, Note FROM dns01d_accounts"
	    " WHERE Subdomain = ?1", -1, &q.meta, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "read SQLite: %s", sqlite3_errmsg(rd->db));
		goto out;
	}
	snprintf(lock, sizeof(lock), "BEGIN; SELECT pg_advisory_xact_lock(%lld)",
	    STORAGE_PG_LOCK_CHANGES);
	if (pg_exec(s->conn, deadline, &broken, "copy: begin", lock, 0, NULL) == -1)
		goto fail;
	while ((r = sqlite3_step(rec)) == SQLITE_ROW) {
		for (int i = 0; i < 4; i++)
			row[i] = (const char *)sqlite3_column_text(rec, i);
		if (row[0] == NULL || row[1] == NULL || row[2] == NULL) {
			log_warnx("storage: copy: an account row has an empty column; skipped");
			continue;
		}
		if ((r = copy_account(rd, &q, s->conn, deadline, &broken, row)) == -1)
			goto fail;
		*copied += (size_t)r;
	}
	if (r != SQLITE_DONE) {
		snprintf(err, errlen, "read SQLite: %s", sqlite3_errmsg(rd->db));
		goto fail;
	}
	if (pg_exec(s->conn, deadline, &broken, "copy: notify", "NOTIFY " STORAGE_PG_CHANNEL,
	    0, NULL) == -1 ||
	    pg_exec(s->conn, deadline, &broken, "copy: commit", "COMMIT", 0, NULL) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	if (!broken)
		(void)pg_exec(s->conn, deadline, &broken, "rollback", "ROLLBACK", 0, NULL);
	if (*err == '\0')
		snprintf(err, errlen, "copy failed and was rolled back (see the log)");
	*copied = 0;
out:
	sqlite3_finalize(rec);
	sqlite3_finalize(q.txt);
	sqlite3_finalize(q.pst);
	sqlite3_finalize(q.meta);
	if (rd != NULL)
		storage_rput(from, rd);
	if (s != NULL)
		pg_release(to->pg, s, broken);
	return rc;
}
