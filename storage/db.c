/* storage/db.c -- open, migrate and close the SQLite database; the connection pool */
/* SPDX-License-Identifier: ISC */

/*
 * Connections. One writer connection does every write, serialised by a
 * mutex, so threads of this process never spin in SQLite's busy handler
 * against each other (its sleeps would ruin /update's p99); the busy
 * timeout only matters against other processes. STORAGE_READERS read
 * connections serve storage_auth, storage_healthy and storage_foreach; in
 * WAL mode they never wait for a writer, ours or another process's. A third
 * kind, the checkpoint connection, belongs to sync.c.
 *
 * Schema. acme-dns's three tables stay the live schema, so an acme-dns
 * database opens in place and a dns01d database has the same shape.
 * acmedns keeps Name='db_version', Value='1' (acme-dns's own version);
 * dns01d's version is PRAGMA user_version, which acme-dns never touches.
 * Migrations run one per transaction, each bumping user_version in the
 * same transaction, so a crash leaves the database at a whole version.
 */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/common.h"
#include "internal.h"

/* acme-dns's own CREATE TABLE statements, so a new database has its shape. */
static const char schema_acme[] =
    "CREATE TABLE IF NOT EXISTS acmedns(Name TEXT, Value TEXT);"
    "CREATE TABLE IF NOT EXISTS records("
    " Username TEXT UNIQUE NOT NULL PRIMARY KEY,"
    " Password TEXT UNIQUE NOT NULL,"
    " Subdomain TEXT UNIQUE NOT NULL,"
    " AllowFrom TEXT);"
    "CREATE TABLE IF NOT EXISTS txt("
    " Subdomain TEXT NOT NULL,"
    " Value TEXT NOT NULL DEFAULT '',"
    " LastUpdate INT);"
    "INSERT INTO acmedns(Name, Value) SELECT 'db_version', '1'"
    " WHERE NOT EXISTS (SELECT 1 FROM acmedns WHERE Name = 'db_version');";

/*
 * Version 1: an ordering column and an index on txt. Seq orders one
 * subdomain's values (newest has the largest), because LastUpdate has only
 * one-second resolution. Existing rows start from LastUpdate, which is the
 * order acme-dns used, so the oldest value is still the one dropped next.
 */
static const char migrate_1[] =
    "ALTER TABLE txt ADD COLUMN Seq INTEGER NOT NULL DEFAULT 0;"
    "UPDATE txt SET Seq = CAST(COALESCE(LastUpdate, 0) AS INTEGER);"
    "CREATE INDEX IF NOT EXISTS txt_subdomain ON txt(Subdomain);";

/*
 * Version 2: persistent validation records (dns-persist-01), one row per
 * account and issuer, in a table of dns01d's own (acme-dns never reads it).
 */
static const char migrate_2[] =
    "CREATE TABLE IF NOT EXISTS dns01d_persist("
    " Subdomain TEXT NOT NULL,"
    " Issuer TEXT NOT NULL,"
    " Value TEXT NOT NULL,"
    " LastUpdate INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (Subdomain, Issuer));";

/*
 * Version 3: account lifecycle (admin.c). Our own table dns01d_accounts
 * holds each account's creation time and note: acme-dns's records keeps
 * its exact shape, so acme-dns's INSERT works on it whatever its form. A
 * change log, which a daemon in another process reads (watch.c), carries
 * an operator's delete or clear to DNS. The index that value expiry reads
 * is not here: every /update would maintain it (a fifth of /update's
 * throughput), so storage_expiry_index() makes it only when txt_expiry is on.
 */
static const char migrate_3[] =
    "CREATE TABLE IF NOT EXISTS dns01d_accounts("
    " Subdomain TEXT NOT NULL PRIMARY KEY,"
    " Created INT,"
    " Note TEXT);"
    "CREATE TABLE IF NOT EXISTS dns01d_changes("
    " Id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " Subdomain TEXT NOT NULL,"
    " At INT NOT NULL);";

static const char *const migrations[STORAGE_SCHEMA_VERSION] = { migrate_1, migrate_2,
    migrate_3 };

/* Columns each table must have for our statements to work. */
static const struct {
	const char *table;
	const char *cols[5];
} required[] = {
	{ "acmedns", { "Name", "Value", NULL } },
	{ "records", { "Username", "Password", "Subdomain", "AllowFrom", NULL } },
	{ "txt", { "Subdomain", "Value", "LastUpdate", NULL } },
};

static void
deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * Take the writer, waiting at most busy_ms so a stuck write (another
 * process holding the lock) cannot queue every API thread for ever.
 * Returns 0 with wlock held, or -1.
 */
int
storage_wlock(struct storage *st)
{
	struct timespec ts;
	int e;

	deadline(&ts, st->busy_ms);
	if ((e = pthread_mutex_timedlock(&st->wlock, &ts)) != 0) {
		log_warnx("storage: writer busy for %u ms", st->busy_ms);
		return -1;
	}
	return 0;
}

/* Release the writer taken by storage_wlock(). */
void
storage_wunlock(struct storage *st)
{
	pthread_mutex_unlock(&st->wlock);
}

/*
 * Borrow a read connection, waiting at most busy_ms for one to be free.
 * Returns it (give it back with storage_rput) or NULL.
 */
struct storage_reader *
storage_rget(struct storage *st)
{
	struct storage_reader *r = NULL;
	struct timespec ts;

	deadline(&ts, st->busy_ms);
	pthread_mutex_lock(&st->rlock);
	while (st->rfree == NULL)
		if (pthread_cond_timedwait(&st->rcond, &st->rlock, &ts) == ETIMEDOUT)
			break;
	if ((r = st->rfree) != NULL)
		st->rfree = r->next;
	pthread_mutex_unlock(&st->rlock);
	if (r == NULL)
		log_warnx("storage: no read connection free for %u ms", st->busy_ms);
	return r;
}

/* Give back a read connection borrowed with storage_rget(). */
void
storage_rput(struct storage *st, struct storage_reader *r)
{
	pthread_mutex_lock(&st->rlock);
	r->next = st->rfree;
	st->rfree = r;
	pthread_cond_signal(&st->rcond);
	pthread_mutex_unlock(&st->rlock);
}

/*
 * Run a statement that returns no rows, and reset it. Returns 0, or -1
 * after logging what failed.
 */
int
storage_step_done(struct storage *st, sqlite3 *db, sqlite3_stmt *s, const char *what)
{
	int rc;

	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		log_warnx("storage: %s: %s", what, sqlite3_errmsg(db));
		if (db == st->w)
			storage_write_failed(st, rc);
		return -1;
	}
	return 0;
}

/* Roll back the writer's open transaction, if any. Call with wlock held. */
void
storage_abort(struct storage *st)
{
	if (!sqlite3_get_autocommit(st->w))
		(void)storage_step_done(st, st->w, st->rollback, "rollback");
}

/* Execute a batch of SQL on db; on failure write a message to err. */
static int
exec(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Read one integer from a query (e.g. a PRAGMA). Returns 0 or -1. */
int
storage_query_int(sqlite3 *db, const char *sql, long long *out, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		goto out;
	}
	*out = sqlite3_column_int64(s, 0);
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/*
 * Run a one-row probe query with up to two text parameters (b may be NULL):
 * does it return a row (1), none (0), or did it fail (-1)?
 */
static int
probe(sqlite3 *db, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	if (b != NULL)
		sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		rc = 1;
		break;
	case SQLITE_DONE:
		rc = 0;
		break;
	default:
		break;
	}
out:
	sqlite3_finalize(s);
	return rc;
}

/* Does table exist (1), not (0), or did the query fail (-1)? */
static int
has_table(sqlite3 *db, const char *table)
{
	return probe(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table'"
	    " AND name = ?1 COLLATE NOCASE", table, NULL);
}

/* Does table have column col (case-insensitive, as SQL names are)? */
static int
has_column(sqlite3 *db, const char *table, const char *col)
{
	return probe(db, "SELECT 1 FROM pragma_table_info(?1)"
	    " WHERE name = ?2 COLLATE NOCASE", table, col);
}

/*
 * Refuse a database that is SQLite but not ours: it has tables, yet not
 * acme-dns's records and txt, or theirs lack a column we use. An empty
 * database is fine (we create the tables).
 */
static int
check_foreign(sqlite3 *db, char *err, size_t errlen)
{
	long long ntables;
	int r, t;
	size_t i, j;

	if (storage_query_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
	    " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", &ntables, err, errlen) == -1)
		return -1;
	if (ntables == 0)
		return 0;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if ((t = has_table(db, required[i].table)) == -1) {
			snprintf(err, errlen, "%s", sqlite3_errmsg(db));
			return -1;
		}
		if (t == 0 && strcmp(required[i].table, "acmedns") == 0)
			continue;	/* created by migration; holds no data we need */
		if (t == 0) {
			snprintf(err, errlen, "not an acme-dns or dns01d database: "
			    "it has tables, but no table %s", required[i].table);
			return -1;
		}
		for (j = 0; required[i].cols[j] != NULL; j++) {
			if ((r = has_column(db, required[i].table, required[i].cols[j])) == 1)
				continue;
			snprintf(err, errlen, "not an acme-dns or dns01d database: "
			    "table %s has no column %s", required[i].table, required[i].cols[j]);
			return -1;
		}
	}
	return 0;
}

/*
 * Bring the schema to STORAGE_SCHEMA_VERSION. Each step is one transaction
 * that also sets user_version, so running this twice is harmless.
 */
static int
migrate(sqlite3 *db, char *err, size_t errlen)
{
	char sql[64];
	long long v;

	if (storage_query_int(db, "PRAGMA user_version", &v, err, errlen) == -1)
		return -1;
	if (v > STORAGE_SCHEMA_VERSION || v < 0) {
		snprintf(err, errlen, "schema version %lld is not one this dns01d supports (0..%d)",
		    v, STORAGE_SCHEMA_VERSION);
		return -1;
	}
	if (check_foreign(db, err, errlen) == -1)
		return -1;
	if (exec(db, "BEGIN IMMEDIATE", "begin", err, errlen) == -1)
		return -1;
	if (exec(db, schema_acme, "create tables", err, errlen) == -1)
		goto fail;
	if (exec(db, "COMMIT", "commit", err, errlen) == -1)
		goto fail;
	for (; v < STORAGE_SCHEMA_VERSION; v++) {
		if (exec(db, "BEGIN IMMEDIATE", "begin", err, errlen) == -1)
			return -1;
		/* A version 0 database that already has Seq (hand-made) skips the ALTER. */
		if (v == 0 && has_column(db, "txt", "Seq") == 1) {
			if (exec(db, "CREATE INDEX IF NOT EXISTS txt_subdomain ON txt(Subdomain)",
			    "migration 1", err, errlen) == -1)
				goto fail;
		} else if (exec(db, migrations[v], "migration", err, errlen) == -1)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", v + 1);
		if (exec(db, sql, "set version", err, errlen) == -1 ||
		    exec(db, "COMMIT", "commit", err, errlen) == -1)
			goto fail;
		log_info("storage: schema migrated to version %lld", v + 1);
	}
	if (has_column(db, "txt", "Seq") != 1) {
		snprintf(err, errlen, "table txt has no column Seq at schema version %d",
		    STORAGE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Prepare one long-lived statement. */
static int
prep(sqlite3 *db, const char *sql, sqlite3_stmt **s, char *err, size_t errlen)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, s, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/*
 * Open one connection with our settings. WAL with synchronous=NORMAL: a
 * commit is a write(2) into the -wal file, so it survives kill -9 of the
 * process; what must survive power loss is fsync'd by sync.c. An error on
 * the first read (e.g. "file is not a database") is reported here.
 */
static sqlite3 *
db_connect(const char *path, unsigned busy_ms, int cache_kib, bool create, char *err,
    size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char sql[192];
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	int rc;

	if (create)
		flags |= SQLITE_OPEN_CREATE;
	if ((rc = sqlite3_open_v2(path, &db, flags, NULL)) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open: %s",
		    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, (int)busy_ms);
	/* journal_mode=WAL reads the header first: a non-SQLite file fails here. */
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		rc = sqlite3_errcode(db);
		if ((rc & 0xff) == SQLITE_NOTADB)
			snprintf(err, errlen, "not an SQLite database");
		else if ((rc & 0xff) == SQLITE_CORRUPT)
			snprintf(err, errlen, "database is corrupt: %s", sqlite3_errmsg(db));
		else
			snprintf(err, errlen, "cannot enable WAL: %s", sqlite3_errmsg(db));
		goto fail;
	}
	if (strcmp((const char *)sqlite3_column_text(s, 0), "wal") != 0) {
		snprintf(err, errlen, "cannot enable WAL (journal mode stays %s)",
		    (const char *)sqlite3_column_text(s, 0));
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	snprintf(sql, sizeof(sql), "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -%d;"
	    " PRAGMA foreign_keys = OFF; PRAGMA trusted_schema = OFF;"
	    " PRAGMA journal_size_limit = %d", cache_kib, STORAGE_WAL_LIMIT);
	if (exec(db, sql, "pragma", err, errlen) == -1)
		goto fail;
	return db;
fail:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return NULL;
}

/*
 * Create the file ourselves with mode 0600 when it does not exist, so the
 * key hashes are never world-readable (SQLite gives -wal and -shm the
 * database file's mode).
 */
static int
create_private(const char *path, char *err, size_t errlen)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) == -1) {
		if (errno == EEXIST)
			return 0;
		snprintf(err, errlen, "cannot create: %s", strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* fsync the directory holding path, so a new database's entries survive power loss. */
static void
sync_dir(const char *path)
{
	char *copy;
	int fd;

	if ((copy = strdup(path)) == NULL)
		return;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(fd) == -1)
			log_warn("%s: fsync of directory", path);
		close(fd);
	}
	free(copy);
}

static int
open_writer(struct storage *st, const char *path, char *err, size_t errlen)
{
	const char *name, *wal;
	long long v;

	if ((st->w = db_connect(path, st->busy_ms, 4096, true, err, errlen)) == NULL)
		return -1;
	if (migrate(st->w, err, errlen) == -1)
		return -1;
	if (prep(st->w, "BEGIN IMMEDIATE", &st->begin, err, errlen) == -1 ||
	    prep(st->w, "COMMIT", &st->commit, err, errlen) == -1 ||
	    prep(st->w, "ROLLBACK", &st->rollback, err, errlen) == -1 ||
	    prep(st->w, "INSERT INTO records(Username, Password, Subdomain, AllowFrom)"
	    " VALUES (?1, ?2, ?3, ?4)", &st->ins_record, err, errlen) == -1 ||
	    prep(st->w, "INSERT OR REPLACE INTO dns01d_accounts(Subdomain, Created, Note)"
	    " VALUES (?1, ?2, ?3)", &st->ins_meta, err, errlen) == -1 ||
	    prep(st->w, "INSERT INTO txt(Subdomain, Value, LastUpdate, Seq)"
	    " VALUES (?1, ?2, ?3, ?4)", &st->ins_txt, err, errlen) == -1 ||
	    prep(st->w, "SELECT rowid, Value, Seq FROM txt WHERE Subdomain = ?1"
	    " ORDER BY Seq DESC, rowid DESC", &st->sel_txt, err, errlen) == -1 ||
	    prep(st->w, "UPDATE txt SET Value = ?1, LastUpdate = ?2, Seq = ?3"
	    " WHERE rowid = ?4", &st->upd_txt, err, errlen) == -1 ||
	    prep(st->w, "DELETE FROM txt WHERE Subdomain = ?1 AND rowid NOT IN"
	    " (SELECT rowid FROM txt WHERE Subdomain = ?1 ORDER BY Seq DESC, rowid DESC"
	    " LIMIT ?2)", &st->prune_txt, err, errlen) == -1 ||
	    prep(st->w, "UPDATE records SET Password = ?1 WHERE Username = ?2"
	    " AND CAST(Password AS BLOB) = ?3", &st->rehash, err, errlen) == -1 ||
	    prep(st->w, "INSERT INTO acmedns(Name, Value) VALUES ('dns01d_probe', '')",
	    &st->probe, err, errlen) == -1 ||
	    prep(st->w, "DELETE FROM acmedns WHERE Name = 'dns01d_probe'", &st->unprobe, err,
	    errlen) == -1 ||
	    prep(st->w, "SELECT 1 FROM records WHERE Subdomain = ?1", &st->has_sub, err,
	    errlen) == -1)
		return -1;
	/* Our hook replaces SQLite's auto-checkpoint: sync.c checkpoints off the write path. */
	sqlite3_wal_hook(st->w, storage_wal_hook, st);
	if (storage_query_int(st->w, "PRAGMA synchronous", &v, err, errlen) == -1 ||
	    storage_query_int(st->w, "PRAGMA journal_size_limit", &st->wal_limit, err,
	    errlen) == -1 || storage_legacy_init(st, err, errlen) == -1)
		return -1;
	st->sync_w = (int)v;

	name = sqlite3_db_filename(st->w, "main");
	wal = name ? sqlite3_filename_wal(name) : NULL;
	if (name == NULL || wal == NULL || (st->dbpath = strdup(name)) == NULL ||
	    (st->walpath = strdup(wal)) == NULL) {
		snprintf(err, errlen, "cannot resolve the database file name");
		return -1;
	}
	return 0;
}

static int
open_readers(struct storage *st, const char *path, char *err, size_t errlen)
{
	struct storage_reader *r;
	size_t i;

	for (i = 0; i < STORAGE_READERS; i++) {
		r = &st->readers[i];
		if ((r->db = db_connect(path, st->busy_ms, 1024, false, err, errlen)) == NULL)
			return -1;
		if (exec(r->db, "PRAGMA query_only = ON", "pragma", err, errlen) == -1 ||
		    prep(r->db, "SELECT Password, Subdomain, AllowFrom, Username FROM records"
		    " WHERE Username = ?1", &r->get_account, err, errlen) == -1 ||
		    prep(r->db, "SELECT Value FROM acmedns LIMIT 1", &r->health, err,
		    errlen) == -1)
			return -1;
		r->next = st->rfree;
		st->rfree = r;
	}
	return 0;
}

/*
 * Allocate a handle with the state both backends share (locks, SHA-256).
 * Returns it (free with storage_close) or NULL with err.
 */
struct storage *
storage_alloc(unsigned txt_values, char *err, size_t errlen)
{
	struct storage *st;

	if (txt_values < 1 || txt_values > STORAGE_MAX_TXT) {
		snprintf(err, errlen, "txt_values %u is not in 1..%d", txt_values, STORAGE_MAX_TXT);
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->txt_values = txt_values;
	st->busy_ms = STORAGE_BUSY_MS;
	st->walfd = -1;
	pthread_mutex_init(&st->wlock, NULL);
	pthread_mutex_init(&st->rlock, NULL);
	pthread_cond_init(&st->rcond, NULL);
	pthread_mutex_init(&st->slock, NULL);
	pthread_cond_init(&st->scond, NULL);
	pthread_cond_init(&st->dcond, NULL);
	pthread_mutex_init(&st->clock, NULL);
	pthread_cond_init(&st->ccond, NULL);
	pthread_mutex_init(&st->hlock, NULL);
	pthread_mutex_init(&st->block, NULL);
	pthread_cond_init(&st->bcond, NULL);
	pthread_mutex_init(&st->wclock, NULL);
	pthread_cond_init(&st->wccond, NULL);
	st->sync_w = st->sync_ck = -1;
	st->probe_ok = true;
	if ((st->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		snprintf(err, errlen, "OpenSSL has no SHA-256");
		storage_close(st);
		return NULL;
	}
	return st;
}

/*
 * Open (creating if needed) and migrate the database; see storage.h.
 * Returns a handle the caller frees with storage_close(), or NULL with err.
 */
struct storage *
storage_open(const char *path, unsigned txt_values, char *err, size_t errlen)
{
	struct storage *st = NULL;
	char msg[256] = "";

	if (path == NULL || *path == '\0') {
		snprintf(err, errlen, "no database path");
		return NULL;
	}
	if (strncmp(path, "file:", 5) == 0 || strcmp(path, ":memory:") == 0) {
		snprintf(err, errlen, "a database file path is needed, not a URI or :memory:");
		return NULL;
	}
	if ((st = storage_alloc(txt_values, err, errlen)) == NULL)
		return NULL;
	if (create_private(path, msg, sizeof(msg)) == -1 ||
	    open_writer(st, path, msg, sizeof(msg)) == -1 ||
	    open_readers(st, path, msg, sizeof(msg)) == -1)
		goto fail;
	sync_dir(st->dbpath);
	if (storage_files_init(st, msg, sizeof(msg)) == -1 ||
	    storage_sync_start(st, msg, sizeof(msg)) == -1)
		goto fail;
	return st;
fail:
	snprintf(err, errlen, "%s", msg[0] ? msg : "cannot open the database");
	storage_close(st);
	return NULL;
}

/* Finish queued syncs, stop the threads, close every connection. Accepts NULL. */
void
storage_close(struct storage *st)
{
	size_t i;

	if (st == NULL)
		return;
	storage_watch_stop(st);
	storage_pg_close(st);
	storage_sync_stop(st);
	for (i = 0; i < STORAGE_READERS; i++) {
		sqlite3_finalize(st->readers[i].get_account);
		sqlite3_finalize(st->readers[i].health);
		sqlite3_close(st->readers[i].db);
	}
	sqlite3_finalize(st->begin);
	sqlite3_finalize(st->commit);
	sqlite3_finalize(st->rollback);
	sqlite3_finalize(st->ins_record);
	sqlite3_finalize(st->ins_meta);
	sqlite3_finalize(st->ins_txt);
	sqlite3_finalize(st->sel_txt);
	sqlite3_finalize(st->upd_txt);
	sqlite3_finalize(st->prune_txt);
	sqlite3_finalize(st->rehash);
	sqlite3_finalize(st->has_sub);
	sqlite3_finalize(st->probe);
	sqlite3_finalize(st->unprobe);
	/* The last connection to close checkpoints the WAL into the database. */
	sqlite3_close(st->w);
	EVP_MD_free(st->sha256);
	free(st->walpath);
	free(st->dbpath);
	pthread_mutex_destroy(&st->wlock);
	pthread_mutex_destroy(&st->rlock);
	pthread_cond_destroy(&st->rcond);
	pthread_mutex_destroy(&st->slock);
	pthread_cond_destroy(&st->scond);
	pthread_cond_destroy(&st->dcond);
	pthread_mutex_destroy(&st->clock);
	pthread_cond_destroy(&st->ccond);
	pthread_mutex_destroy(&st->hlock);
	pthread_mutex_destroy(&st->block);
	pthread_cond_destroy(&st->bcond);
	pthread_mutex_destroy(&st->wclock);
	pthread_cond_destroy(&st->wccond);
	free(st);
}

/* Set the busy timeout on every connection; waits until each is idle. */
void
storage_set_busy_timeout(struct storage *st, unsigned ms)
{
	struct storage_reader *r;
	size_t i, got = 0;

	if (st == NULL)
		return;
	if (st->pg != NULL) {
		st->busy_ms = ms;
		return;
	}
	pthread_mutex_lock(&st->wlock);
	pthread_mutex_lock(&st->rlock);
	/* Collect every reader, so none is in use while we change it. */
	while (got < STORAGE_READERS) {
		while (st->rfree == NULL)
			pthread_cond_wait(&st->rcond, &st->rlock);
		r = st->rfree;
		st->rfree = r->next;
		got++;
	}
	st->busy_ms = ms;
	sqlite3_busy_timeout(st->w, (int)ms);
	st->rfree = NULL;
	for (i = 0; i < STORAGE_READERS; i++) {
		sqlite3_busy_timeout(st->readers[i].db, (int)ms);
		st->readers[i].next = st->rfree;
		st->rfree = &st->readers[i];
	}
	pthread_mutex_unlock(&st->rlock);
	pthread_mutex_unlock(&st->wlock);
}
