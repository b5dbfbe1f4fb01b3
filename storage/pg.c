/* storage/pg.c -- the PostgreSQL backend: connections with deadlines, the pool, open, migrate, close */
/* SPDX-License-Identifier: ISC */

/*
 * Connections. Every PostgreSQL call here is non-blocking with a deadline
 * (PQconnectStartParams/PQconnectPoll, PQsendQueryParams/PQconsumeInput
 * under poll(2)), so an unreachable or stopped server costs a request at
 * most STORAGE_PG_OP_MS, never a TCP timeout. A pool of STORAGE_PG_CONNS
 * connections serves the API threads; the watcher (pg_watch.c) has one of
 * its own for LISTEN.
 *
 * Health. pg->up says whether the server answered lately. A request that
 * finds its connection broken (or runs past its deadline) closes it and
 * clears up; while up is false, requests fail at once (the API answers 503
 * db_unavailable) and only the watcher tries to reconnect, with backoff.
 * When it succeeds it bumps pg->gen, so every pooled connection from before
 * the outage is dropped on its next use rather than failing one request.
 *
 * Schema. acme-dns's tables stay the live schema (records, txt with its
 * explicit rowid SERIAL, acmedns), so acme-dns can still read the data.
 * dns01d's own version is the acmedns row Name = 'dns01d_version' (acme-dns
 * reads only 'db_version'). Migrations run in one transaction under an
 * advisory lock, so N instances starting at once migrate exactly once.
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/common.h"
#include "internal.h"

/* Advisory lock keys (any constants, distinct from each other). */
#define PG_LOCK_MIGRATE 0x646e7330316d67LL	/* "dns01mg": one migration at a time */

static const char pg_schema_acme[] =
    "CREATE TABLE IF NOT EXISTS acmedns(Name TEXT, Value TEXT);"
    "CREATE TABLE IF NOT EXISTS records("
    " Username TEXT UNIQUE NOT NULL PRIMARY KEY,"
    " Password TEXT UNIQUE NOT NULL,"
    " Subdomain TEXT UNIQUE NOT NULL,"
    " AllowFrom TEXT);"
    "CREATE TABLE IF NOT EXISTS txt("
    " rowid SERIAL,"
    " Subdomain TEXT NOT NULL,"
    " Value TEXT NOT NULL DEFAULT '',"
    " LastUpdate INT);"
    "INSERT INTO acmedns(Name, Value) SELECT 'db_version', '1'"
    " WHERE NOT EXISTS (SELECT 1 FROM acmedns WHERE Name = 'db_version');";

/*
 * Version 1: Seq orders one subdomain's values (as on SQLite); the change
 * log feeds the other instances (pg_watch.c): one row per committed write,
 * its id taken under an advisory lock held to the commit, so ids become
 * visible in increasing order.
 */
static const char pg_migrate_1[] =
    "ALTER TABLE txt ADD COLUMN IF NOT EXISTS Seq BIGINT NOT NULL DEFAULT 0;"
    "UPDATE txt SET Seq = COALESCE(LastUpdate, 0);"
    "CREATE INDEX IF NOT EXISTS txt_subdomain ON txt(Subdomain);"
    "CREATE TABLE IF NOT EXISTS dns01d_changes("
    " id BIGSERIAL PRIMARY KEY,"
    " Subdomain TEXT NOT NULL,"
    " At BIGINT NOT NULL);";

/*
 * Version 2: persistent validation records (dns-persist-01), and the kind
 * of each change (0: TXT values, 1: persist records), so the watcher reads
 * only what changed. Instances of version 1 ignore Kind: for them a persist
 * change re-reads the TXT values, which is harmless.
 */
static const char pg_migrate_2[] =
    "CREATE TABLE IF NOT EXISTS dns01d_persist("
    " Subdomain TEXT NOT NULL,"
    " Issuer TEXT NOT NULL,"
    " Value TEXT NOT NULL,"
    " LastUpdate BIGINT NOT NULL DEFAULT 0,"
    " PRIMARY KEY (Subdomain, Issuer));"
    "ALTER TABLE dns01d_changes ADD COLUMN IF NOT EXISTS Kind SMALLINT NOT NULL DEFAULT 0;";

/* Version 3: account lifecycle, as SQLite's version 3 (db.c); the change log exists already. */
static const char pg_migrate_3[] =
    "CREATE TABLE IF NOT EXISTS dns01d_accounts("
    " Subdomain TEXT NOT NULL PRIMARY KEY,"
    " Created BIGINT,"
    " Note TEXT);"
    "CREATE INDEX IF NOT EXISTS txt_lastupdate ON txt(LastUpdate);";

static const char *const pg_migrations[STORAGE_PG_SCHEMA_VERSION] = { pg_migrate_1,
    pg_migrate_2, pg_migrate_3 };

/* Columns acme-dns's tables must have for our statements to work (names are lower case). */
static const char *const pg_required[][2] = {
	{ "records", "username" }, { "records", "password" }, { "records", "subdomain" },
	{ "records", "allowfrom" }, { "txt", "rowid" }, { "txt", "subdomain" },
	{ "txt", "value" }, { "txt", "lastupdate" }, { "acmedns", "name" }, { "acmedns", "value" },
};

/* Milliseconds on the monotonic clock. */
int64_t
pg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is readable (or writable), at most until deadline. 1 ready, 0 timeout, -1 error. */
static int
wait_fd(int fd, bool write, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = write ? POLLOUT : POLLIN };
	int64_t left;
	int r;

	for (;;) {
		if ((left = deadline - pg_now_ms()) <= 0)
			return 0;
		r = poll(&p, 1, (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r > 0 ? 1 : 0;
	}
}

/*
 * Connect to conninfo (a URI or key=value string, as acme-dns takes) within
 * timeout_ms. Our keepalive defaults come first, so the user's string
 * overrides them. Returns the connection or NULL with err (never the
 * connection string: it may hold a password).
 */
PGconn *
pg_connect(const char *conninfo, int timeout_ms, char *err, size_t errlen)
{
	static const char *const keys[] = { "fallback_application_name", "keepalives_idle",
	    "keepalives_interval", "keepalives_count", "dbname", NULL };
	const char *vals[] = { "dns01d", "10", "3", "3", conninfo, NULL };
	int64_t deadline = pg_now_ms() + timeout_ms;
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	PGconn *c;
	int r;

	if ((c = PQconnectStartParams(keys, vals, 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (PQstatus(c) == CONNECTION_BAD)
		goto fail;
	for (;;) {
		if (ps == PGRES_POLLING_OK)
			break;
		if (ps == PGRES_POLLING_FAILED)
			goto fail;
		r = wait_fd(PQsocket(c), ps == PGRES_POLLING_WRITING, deadline);
		if (r == 0) {
			snprintf(err, errlen, "no connection within %d ms", timeout_ms);
			PQfinish(c);
			return NULL;
		}
		if (r == -1)
			goto fail;
		ps = PQconnectPoll(c);
	}
	if (PQsetnonblocking(c, 1) != 0)
		goto fail;
	return c;
fail:
	snprintf(err, errlen, "%s", PQerrorMessage(c));
	err[strcspn(err, "\n")] = '\0';
	PQfinish(c);
	return NULL;
}

/*
 * Run one statement (several when n == 0 and no parameters) and return its
 * last result, or NULL if the connection failed or the deadline passed;
 * then *broken is set and the connection must be closed. The caller
 * checks the result status and PQclear()s it.
 */
PGresult *
pg_query(PGconn *c, int64_t deadline, bool *broken, const char *sql, int n,
    const char *const *params)
{
	PGresult *res = NULL, *r;
	int ok, w;

	ok = n > 0 ? PQsendQueryParams(c, sql, n, NULL, params, NULL, NULL, 0) :
	    PQsendQuery(c, sql);
	if (!ok)
		goto broke;
	while ((w = PQflush(c)) == 1)
		if (wait_fd(PQsocket(c), true, deadline) != 1)
			goto broke;
	if (w == -1)
		goto broke;
	for (;;) {
		while (PQisBusy(c)) {
			if (wait_fd(PQsocket(c), false, deadline) != 1 || !PQconsumeInput(c))
				goto broke;
		}
		if ((r = PQgetResult(c)) == NULL)
			break;
		PQclear(res);
		res = r;
	}
	if (res == NULL)
		goto broke;
	return res;
broke:
	PQclear(res);
	log_warnx("storage: postgres: %s", PQstatus(c) == CONNECTION_BAD ?
	    "connection lost" : "no answer within the deadline");
	*broken = true;
	return NULL;
}

/* True if res is a success (command or rows); otherwise log what failed under what. */
bool
pg_ok(const PGresult *res, const char *what)
{
	ExecStatusType s = PQresultStatus(res);

	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return true;
	log_warnx("storage: %s: %s", what, PQresultErrorMessage(res));
	return false;
}

/* Run a statement whose rows are not wanted. Returns 0 or -1 (*broken as pg_query). */
int
pg_exec(PGconn *c, int64_t deadline, bool *broken, const char *what, const char *sql,
    int n, const char *const *params)
{
	PGresult *res;
	int rc = -1;

	if ((res = pg_query(c, deadline, broken, sql, n, params)) != NULL && pg_ok(res, what))
		rc = 0;
	PQclear(res);
	return rc;
}

/* Mark the server unreachable: requests fail fast until the watcher reconnects. */
void
pg_down(struct storage_pg *pg)
{
	if (pg->up) {
		pg->up = false;
		log_warnx("storage: postgres %s unreachable; DNS answers from memory,"
		    " writes get 503 until it is back", pg->name);
	}
	pg_watch_wake(pg);
}

/*
 * Borrow a pooled connection for one operation, connecting it if needed.
 * Fails at once while the server is down, and waits at most until
 * deadline for a free slot. Returns the slot (give it back with
 * pg_release) or NULL.
 */
struct pg_slot *
pg_acquire(struct storage_pg *pg, int64_t deadline)
{
	struct pg_slot *s = NULL;
	struct timespec ts;
	char err[256];
	size_t i;
	int64_t left;

	if (!pg->up)
		return NULL;
	pthread_mutex_lock(&pg->lock);
	for (;;) {
		for (i = 0; i < STORAGE_PG_CONNS && s == NULL; i++)
			if (!pg->slots[i].busy)
				s = &pg->slots[i];
		if (s != NULL || (left = deadline - pg_now_ms()) <= 0)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&pg->cond, &pg->lock, &ts);
	}
	if (s != NULL)
		s->busy = true;
	pthread_mutex_unlock(&pg->lock);
	if (s == NULL) {
		log_warnx("storage: no postgres connection free in time");
		return NULL;
	}
	if (s->conn != NULL && (s->gen != pg->gen || PQstatus(s->conn) != CONNECTION_OK)) {
		PQfinish(s->conn);
		s->conn = NULL;
	}
	if (s->conn == NULL) {
		s->gen = pg->gen;
		if ((left = deadline - pg_now_ms()) <= 0 ||
		    (s->conn = pg_connect(pg->conninfo, (int)left, err, sizeof(err))) == NULL) {
			log_warnx("storage: postgres %s: %s", pg->name, left > 0 ? err : "timeout");
			pg_release(pg, s, true);
			return NULL;
		}
	}
	return s;
}

/* Give back a slot; broken closes its connection and marks the server down. */
void
pg_release(struct storage_pg *pg, struct pg_slot *s, bool broken)
{
	if (broken) {
		PQfinish(s->conn);
		s->conn = NULL;
		pg_down(pg);
	}
	pthread_mutex_lock(&pg->lock);
	s->busy = false;
	pthread_cond_signal(&pg->cond);
	pthread_mutex_unlock(&pg->lock);
}

/* Read one integer (first column of the first row) into *out; 0 if no row. Returns 0 or -1. */
int
pg_query_int(PGconn *c, int64_t deadline, bool *broken, const char *sql, int n,
    const char *const *params, long long *out)
{
	PGresult *res;
	int rc = -1;

	*out = 0;
	if ((res = pg_query(c, deadline, broken, sql, n, params)) == NULL ||
	    !pg_ok(res, "query"))
		goto out;
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		*out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	rc = 0;
out:
	PQclear(res);
	return rc;
}

/*
 * Refuse tables that are not acme-dns's (say, another application's
 * "records" in the same database). Returns 0, or -1 with err.
 */
static int
pg_check_foreign(PGconn *c, int64_t deadline, bool *broken, char *err, size_t errlen)
{
	const char *p[2];
	long long n;
	size_t i;

	for (i = 0; i < sizeof(pg_required) / sizeof(pg_required[0]); i++) {
		p[0] = pg_required[i][0];
		p[1] = pg_required[i][1];
		if (pg_query_int(c, deadline, broken, "SELECT count(*) FROM information_schema.columns"
		    " WHERE table_schema = current_schema() AND table_name = $1"
		    " AND column_name = $2", 2, p, &n) == -1) {
			snprintf(err, errlen, "cannot read the schema");
			return -1;
		}
		if (n == 0) {
			snprintf(err, errlen, "not an acme-dns or dns01d database: table %s has no"
			    " column %s", p[0], p[1]);
			return -1;
		}
	}
	return 0;
}

/*
 * Create acme-dns's tables if missing and bring dns01d's version up, in one
 * transaction under an advisory lock. Returns 0 or -1 with err.
 */
static int
pg_migrate(PGconn *c, char *err, size_t errlen)
{
	static const char ver_sql[] = "SELECT Value FROM acmedns WHERE Name = 'dns01d_version'";
	char lock[96], vbuf[24];
	const char *p[1] = { vbuf };
	int64_t deadline = pg_now_ms() + STORAGE_PG_MIGRATE_MS;
	long long v;
	bool broken = false;

	snprintf(lock, sizeof(lock), "BEGIN; SELECT pg_advisory_xact_lock(%lld)", PG_LOCK_MIGRATE);
	if (pg_exec(c, deadline, &broken, "migrate: begin", lock, 0, NULL) == -1 ||
	    pg_exec(c, deadline, &broken, "migrate: create tables", pg_schema_acme, 0,
	    NULL) == -1)
		goto fail;
	if (pg_check_foreign(c, deadline, &broken, err, errlen) == -1)
		goto fail_quiet;
	if (pg_query_int(c, deadline, &broken, ver_sql, 0, NULL, &v) == -1)
		goto fail;
	if (v < 0 || v > STORAGE_PG_SCHEMA_VERSION) {
		snprintf(err, errlen, "schema version %lld is not one this dns01d supports (0..%d)",
		    v, STORAGE_PG_SCHEMA_VERSION);
		goto fail_quiet;
	}
	if (v == STORAGE_PG_SCHEMA_VERSION)
		goto commit;
	for (; v < STORAGE_PG_SCHEMA_VERSION; v++)
		if (pg_exec(c, deadline, &broken, "migrate", pg_migrations[v], 0, NULL) == -1)
			goto fail;
	snprintf(vbuf, sizeof(vbuf), "%lld", v);
	if (pg_exec(c, deadline, &broken, "migrate: version",
	    "DELETE FROM acmedns WHERE Name = 'dns01d_version'", 0, NULL) == -1 ||
	    pg_exec(c, deadline, &broken, "migrate: version",
	    "INSERT INTO acmedns(Name, Value) VALUES ('dns01d_version', $1)", 1, p) == -1)
		goto fail;
	log_info("storage: postgres schema migrated to version %lld", v);
commit:
	if (pg_exec(c, deadline, &broken, "migrate: commit", "COMMIT", 0, NULL) == -1)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot create or migrate the schema (see the log)");
fail_quiet:
	if (!broken)
		(void)pg_exec(c, deadline, &broken, "rollback", "ROLLBACK", 0, NULL);
	return -1;
}

/*
 * A loggable name for a connection string: host, port, database and user,
 * never the password. Unparseable strings become "(postgres)".
 */
void
storage_pg_redact(const char *conninfo, char *out, size_t outlen)
{
	PQconninfoOption *o, *opts;
	const char *host = NULL, *port = NULL, *db = NULL, *user = NULL;
	char *msg = NULL;

	if ((opts = PQconninfoParse(conninfo, &msg)) == NULL) {
		PQfreemem(msg);
		snprintf(out, outlen, "(postgres)");
		return;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || *o->val == '\0')
			continue;
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			db = o->val;
		else if (strcmp(o->keyword, "user") == 0)
			user = o->val;
	}
	snprintf(out, outlen, "postgres://%s%s%s%s%s/%s", user ? user : "", user ? "@" : "",
	    host ? host : "", port ? ":" : "", port ? port : "", db ? db : "");
	PQconninfoFree(opts);
}

/*
 * Open the PostgreSQL backend for st (whose common fields the caller set
 * up): connect, migrate, note the newest change id (the watcher resumes
 * from it, so nothing committed after the caller's initial load is
 * missed). Returns 0 or -1 with err.
 */
int
storage_pg_open(struct storage *st, const char *conninfo, char *err, size_t errlen)
{
	struct storage_pg *pg;
	char msg[256];
	bool broken = false;
	long long last;
	PGconn *c;

	if ((pg = calloc(1, sizeof(*pg))) == NULL || (pg->conninfo = strdup(conninfo)) == NULL) {
		free(pg);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->pg = pg;
	pg->wake[0] = pg->wake[1] = -1;
	pg->txt_values = st->txt_values;
	pthread_mutex_init(&pg->lock, NULL);
	pthread_cond_init(&pg->cond, NULL);
	pthread_mutex_init(&pg->wlock, NULL);
	pthread_cond_init(&pg->wcond, NULL);
	storage_pg_redact(conninfo, pg->name, sizeof(pg->name));
	if ((c = pg_connect(conninfo, STORAGE_PG_CONNECT_MS, msg, sizeof(msg))) == NULL) {
		snprintf(err, errlen, "cannot connect: %s", msg);
		return -1;
	}
	pg->slots[0].conn = c;
	if (pg_migrate(c, err, errlen) == -1)
		return -1;
	if (pg_query_int(c, pg_now_ms() + STORAGE_PG_OP_MS, &broken,
	    "SELECT COALESCE(max(id), 0) FROM dns01d_changes", 0, NULL, &last) == -1) {
		snprintf(err, errlen, "cannot read the change log");
		return -1;
	}
	pg->last = last;
	pg->up = true;
	if (storage_legacy_init(st, err, errlen) == -1)
		return -1;
	if (pg_watch_start(pg, err, errlen) == -1)
		return -1;
	log_info("storage: postgres %s open (change %lld)", pg->name, last);
	return 0;
}

/* Stop the watcher and close every connection. Accepts st->pg == NULL. */
void
storage_pg_close(struct storage *st)
{
	struct storage_pg *pg = st->pg;
	size_t i;

	if (pg == NULL)
		return;
	pg_watch_stop(pg);
	for (i = 0; i < STORAGE_PG_CONNS; i++)
		PQfinish(pg->slots[i].conn);
	pthread_mutex_destroy(&pg->lock);
	pthread_cond_destroy(&pg->cond);
	pthread_mutex_destroy(&pg->wlock);
	pthread_cond_destroy(&pg->wcond);
	free(pg->conninfo);
	free(pg);
	st->pg = NULL;
}

/*
 * /health: the server is up and answers a read of acmedns now, within
 * STORAGE_PG_OP_MS; and a write succeeds (a row inserted into acmedns and
 * deleted again, one implicit transaction: a read-only standby or a full
 * disk fails it) at most every STORAGE_PROBE_MS, its result cached in
 * between, so a monitor polling /health costs the server one small write a
 * second at most, whatever the number of polls.
 */
bool
storage_pg_healthy(struct storage *st)
{
	struct storage_pg *pg = st->pg;
	int64_t deadline = pg_now_ms() + STORAGE_PG_OP_MS, now;
	struct pg_slot *s;
	bool broken = false, write, ok;
	long long n;

	if ((s = pg_acquire(pg, deadline)) == NULL)
		return false;
	ok = pg_query_int(s->conn, deadline, &broken, "SELECT count(*) FROM acmedns", 0, NULL,
	    &n) == 0;
	pthread_mutex_lock(&st->hlock);
	now = pg_now_ms();
	if ((write = ok && (st->probe_ms == 0 || now - st->probe_ms >= STORAGE_PROBE_MS)))
		st->probe_ms = now;
	pthread_mutex_unlock(&st->hlock);
	if (write) {
		write = pg_exec(s->conn, deadline, &broken, "health write", "INSERT INTO"
		    " acmedns(Name, Value) VALUES ('dns01d_probe', ''); DELETE FROM acmedns"
		    " WHERE Name = 'dns01d_probe'", 0, NULL) == 0;
		pthread_mutex_lock(&st->hlock);
		st->probe_ok = write;
		pthread_mutex_unlock(&st->hlock);
	}
	pg_release(pg, s, broken);
	pthread_mutex_lock(&st->hlock);
	ok = ok && st->probe_ok;
	pthread_mutex_unlock(&st->hlock);
	return ok;
}
