/* tests/unit/test_storage.c -- storage/: accounts, keys, rotation, acme-dns databases, locking */
/* SPDX-License-Identifier: ISC */

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "../../common/common.h"
#include "../../storage/storage.h"
#include "testhelp.h"

#define TXT_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define TXT_B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
#define TXT_C "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
#define TXT_D "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD"
#define XSTR(x) STR(x)
#define STR(x) #x
#define PV(n) "ca" #n ".example; accounturi=https://ca.example/acct/" #n	/* a record */
#define REG_THREADS 4
#define REG_EACH 25

static char dir[64];
static char dbpath[128];

/*
 * The backend. With DNS01D_TEST_PG set (a libpq URI of a server's admin
 * database; tests/integration/test_pg.sh starts one), the tests of the
 * shared table run on PostgreSQL, each in a database of its own.
 */
static const char *pg_admin;
static char pg_db[64];		/* this test's database */
static char pg_conn[600];	/* connection string for it */
static unsigned pg_count;

/* Run SQL on the admin database (CREATE/DROP DATABASE). Exits on failure. */
static void
pg_admin_exec(const char *stmt)
{
	PGconn *c = PQconnectdb(pg_admin);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "    postgres: %s", PQerrorMessage(c));
		exit(1);
	}
	r = PQexec(c, stmt);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "    postgres: %s: %s", stmt, PQresultErrorMessage(r));
		exit(1);
	}
	PQclear(r);
	PQfinish(c);
}

/* The admin URI with its database replaced by pg_db, as key=value (later keys win). */
static void
pg_fresh(void)
{
	char q[128];

	snprintf(pg_db, sizeof(pg_db), "t_storage_%d_%u", (int)getpid(), pg_count++);
	snprintf(q, sizeof(q), "CREATE DATABASE %s", pg_db);
	pg_admin_exec(q);
	snprintf(pg_conn, sizeof(pg_conn), "%s%sdbname=%s", pg_admin,
	    strchr(pg_admin, '?') ? "&" : "?", pg_db);
}

/* Open the storage under test on this test's database. */
static struct storage *
open_st(unsigned txt_values, char *err, size_t errlen)
{
	if (pg_admin != NULL)
		return storage_open_engine(STORAGE_POSTGRES, pg_conn, txt_values, err, errlen);
	return storage_open(dbpath, txt_values, err, errlen);
}

/* A fresh temporary directory and database path for each test. */
static void
fresh(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_storage.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(dbpath, sizeof(dbpath), "%s/db.sqlite", dir);
	if (pg_admin != NULL)
		pg_fresh();
}

/* Remove the database, its -wal and -shm, and the directory. */
static void
cleanup(void)
{
	char p[160];

	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	unlink(dbpath);
	rmdir(dir);
	if (pg_admin != NULL && pg_db[0] != '\0') {
		snprintf(p, sizeof(p), "DROP DATABASE %s WITH (FORCE)", pg_db);
		pg_admin_exec(p);
		pg_db[0] = '\0';
	}
}

/* Run SQL through libpq on this test's database. */
static int
pg_sql(const char *stmt, char *out, size_t len)
{
	PGconn *c = PQconnectdb(pg_conn);
	PGresult *r = NULL;
	int rc = -1;

	if (out != NULL)
		out[0] = '\0';
	if (PQstatus(c) != CONNECTION_OK)
		goto done;
	r = PQexec(c, stmt);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && out != NULL && PQntuples(r) > 0) {
		snprintf(out, len, "%s", PQgetisnull(r, 0, 0) ? "(null)" : PQgetvalue(r, 0, 0));
		rc = 0;
	} else if (PQresultStatus(r) == PGRES_COMMAND_OK && out == NULL)
		rc = 0;
	else
		fprintf(stderr, "    sql: %s", PQresultErrorMessage(r));
done:
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* Run SQL on the database through a separate connection (as another tool would). */
static int
sql(const char *stmt)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc;

	if (pg_admin != NULL)
		return pg_sql(stmt, NULL, 0);
	if (sqlite3_open(dbpath, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 2000);
	rc = sqlite3_exec(db, stmt, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fprintf(stderr, "    sql: %s\n", msg ? msg : "?");
	sqlite3_free(msg);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

/* First column of the first row of a query, as text, into out. */
static int
sql_text(const char *q, char *out, size_t len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int rc = -1;

	out[0] = '\0';
	if (pg_admin != NULL)
		return pg_sql(q, out, len);
	if (sqlite3_open(dbpath, &db) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, q, -1, &s, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(out, len, "%s", sqlite3_column_text(s, 0) ?
		    (const char *)sqlite3_column_text(s, 0) : "(null)");
		rc = 0;
	}
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

/* True if needle occurs in the file at path (the raw bytes). */
static bool
file_has(const char *path, const char *needle)
{
	FILE *f;
	char *buf;
	size_t n, nl = strlen(needle);
	bool found = false;

	if ((f = fopen(path, "rb")) == NULL)
		return false;
	buf = malloc(8 << 20);
	n = buf ? fread(buf, 1, 8 << 20, f) : 0;
	fclose(f);
	for (size_t i = 0; i + nl <= n && !found; i++)
		found = memcmp(buf + i, needle, nl) == 0;
	free(buf);
	return found;
}

/* foreach collector: remembers the values of one subdomain, counts all. */
struct collect {
	const char *want;
	struct storage_txt got;
	size_t accounts;
	bool seen;
	size_t stop_after;	/* return non-zero after this many (0: never) */
};

static int
collect_cb(void *arg, const char *sub, const struct storage_txt *t)
{
	struct collect *c = arg;

	c->accounts++;
	if (c->want != NULL && strcmp(sub, c->want) == 0) {
		c->got = *t;
		c->seen = true;
	}
	return c->stop_after != 0 && c->accounts >= c->stop_after;
}

static int
test_register_auth(void)
{
	struct storage *st;
	struct storage_account a, b, got;
	const char *cidrs[] = { "192.0.2.0/24", "2001:db8::/32" };
	char key[STORAGE_KEY_LEN + 1], key2[STORAGE_KEY_LEN + 1], err[256];

	fresh();
	st = open_st(2, err, sizeof(err));
	CHECK(st != NULL);
	CHECK(storage_register(st, NULL, 0, &a, key) == 0);
	CHECK(is_uuid(a.username) && is_uuid(a.subdomain));
	CHECK(strlen(key) == STORAGE_KEY_LEN);
	CHECK(a.nallowfrom == 0);
	CHECK(storage_register(st, cidrs, 2, &b, key2) == 0);
	CHECK(b.nallowfrom == 2);
	CHECK_STR(b.allowfrom[1], "2001:db8::/32");

	CHECK(storage_auth(st, a.username, key, &got) == STORAGE_AUTH_OK);
	CHECK_STR(got.username, a.username);
	CHECK_STR(got.subdomain, a.subdomain);
	CHECK(got.nallowfrom == 0);
	CHECK(storage_auth(st, b.username, key2, &got) == STORAGE_AUTH_OK);
	CHECK(got.nallowfrom == 2);
	CHECK_STR(got.allowfrom[0], "192.0.2.0/24");
	CHECK_STR(got.allowfrom[1], "2001:db8::/32");

	CHECK(storage_auth(st, a.username, key2, &got) == STORAGE_AUTH_DENIED);
	CHECK(got.username[0] == '\0');
	key[0] ^= 1;
	CHECK(storage_auth(st, a.username, key, &got) == STORAGE_AUTH_DENIED);
	CHECK(storage_auth(st, a.username, "", &got) == STORAGE_AUTH_DENIED);
	CHECK(storage_auth(st, a.username, NULL, &got) == STORAGE_AUTH_DENIED);
	CHECK(storage_auth(st, "00000000-0000-4000-8000-000000000000", key2, &got) ==
	    STORAGE_AUTH_DENIED);
	CHECK(storage_auth(st, NULL, key2, &got) == STORAGE_AUTH_DENIED);
	CHECK(storage_auth(st, "' OR 1=1 --", key2, &got) == STORAGE_AUTH_DENIED);
	CHECK(storage_healthy(st));
	storage_close(st);
	cleanup();
	return 0;
}

static int
test_key_not_stored(void)
{
	struct storage *st;
	struct storage_account a;
	char key[STORAGE_KEY_LEN + 1], err[256], q[256], pw[256], p[160];

	fresh();
	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &a, key) == 0);
	snprintf(q, sizeof(q), "SELECT Password FROM records WHERE Username = '%s'", a.username);
	CHECK(sql_text(q, pw, sizeof(pw)) == 0);
	CHECK(strncmp(pw, "$sha256$", 8) == 0);
	CHECK(strstr(pw, key) == NULL);
	if (pg_admin != NULL) {	/* the server's files are its own business */
		storage_close(st);
		cleanup();
		return 0;
	}
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	CHECK(!file_has(dbpath, key) && !file_has(p, key));
	CHECK(file_has(dbpath, a.username) || file_has(p, a.username));	/* the reader works */
	storage_close(st);
	CHECK(!file_has(dbpath, key));
	/* The database holds hashes: not readable by others. */
	struct stat sb;
	CHECK(stat(dbpath, &sb) == 0 && (sb.st_mode & 077) == 0);
	cleanup();
	return 0;
}

static int
test_rotation_2(void)
{
	struct storage *st;
	struct storage_account a;
	struct storage_txt now;
	struct collect c = { 0 };
	char key[STORAGE_KEY_LEN + 1], err[256];
	time_t t0 = time(NULL);

	fresh();
	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &a, key) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_A, &now) == 0);
	CHECK(now.n == 1);
	CHECK_STR(now.values[0], TXT_A);
	CHECK(storage_txt_set(st, a.subdomain, TXT_B, &now) == 0);
	CHECK(now.n == 2);
	CHECK_STR(now.values[0], TXT_B);
	CHECK_STR(now.values[1], TXT_A);
	CHECK(storage_txt_set(st, a.subdomain, TXT_C, &now) == 0);
	CHECK(now.n == 2);
	CHECK_STR(now.values[0], TXT_C);
	CHECK_STR(now.values[1], TXT_B);
	/* Same second for every row, even a clock stepped back: order does not use LastUpdate. */
	char q0[160];
	snprintf(q0, sizeof(q0), "UPDATE txt SET LastUpdate = 1700000000 - Seq"
	    " WHERE Subdomain = '%s'", a.subdomain);
	CHECK(sql(q0) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_D, &now) == 0);
	CHECK_STR(now.values[0], TXT_D);
	CHECK_STR(now.values[1], TXT_C);
	/* The same value again moves to the front without dropping the other. */
	CHECK(storage_txt_set(st, a.subdomain, TXT_C, &now) == 0);
	CHECK(now.n == 2);
	CHECK_STR(now.values[0], TXT_C);
	CHECK_STR(now.values[1], TXT_D);
	c.want = a.subdomain;
	CHECK(storage_foreach(st, collect_cb, &c) == 0);
	CHECK(c.seen && c.got.n == 2);
	CHECK_STR(c.got.values[0], TXT_C);
	CHECK_STR(c.got.values[1], TXT_D);
	/* Still two rows, as acme-dns keeps. */
	char n[32], q[160];
	snprintf(q, sizeof(q), "SELECT count(*) FROM txt WHERE Subdomain = '%s'", a.subdomain);
	CHECK(sql_text(q, n, sizeof(n)) == 0);
	CHECK_STR(n, "2");
	/* All of this ran within about one second: order did not rely on LastUpdate. */
	if (time(NULL) - t0 > 1)
		fprintf(stderr, "    note: test spanned %lld s\n", (long long)(time(NULL) - t0));
	CHECK(storage_txt_set(st, a.subdomain, "", &now) == -1);
	CHECK(storage_txt_set(st, a.subdomain, TXT_A "x", &now) == -1);
	storage_close(st);
	cleanup();
	return 0;
}

static int
test_rotation_3(void)
{
	struct storage *st;
	struct storage_account a;
	struct storage_txt now;
	struct collect c = { 0 };
	char key[STORAGE_KEY_LEN + 1], err[256];

	fresh();
	CHECK((st = open_st(3, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &a, key) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_A, &now) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_B, &now) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_C, &now) == 0);
	CHECK(now.n == 3);
	CHECK_STR(now.values[0], TXT_C);
	CHECK_STR(now.values[2], TXT_A);
	CHECK(storage_txt_set(st, a.subdomain, TXT_D, &now) == 0);
	CHECK(now.n == 3);
	CHECK_STR(now.values[0], TXT_D);
	CHECK_STR(now.values[1], TXT_C);
	CHECK_STR(now.values[2], TXT_B);
	storage_close(st);

	/* Lowered to 2 on restart: the newest two are served and kept. */
	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	c.want = a.subdomain;
	CHECK(storage_foreach(st, collect_cb, &c) == 0);
	CHECK(c.seen && c.got.n == 2);
	CHECK_STR(c.got.values[0], TXT_D);
	CHECK_STR(c.got.values[1], TXT_C);
	CHECK(storage_txt_set(st, a.subdomain, TXT_A, &now) == 0);
	CHECK(now.n == 2);
	CHECK_STR(now.values[0], TXT_A);
	CHECK_STR(now.values[1], TXT_D);
	char n[32];
	CHECK(sql_text("SELECT count(*) FROM txt", n, sizeof(n)) == 0);
	CHECK_STR(n, "2");
	storage_close(st);
	cleanup();
	return 0;
}

static int
test_foreach(void)
{
	struct storage *st;
	struct storage_account a[3];
	struct storage_txt now;
	struct collect c = { 0 };
	char key[STORAGE_KEY_LEN + 1], err[256];

	fresh();
	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	c.want = "nothing";
	CHECK(storage_foreach(st, collect_cb, &c) == 0);
	CHECK(c.accounts == 0);
	for (int i = 0; i < 3; i++)
		CHECK(storage_register(st, NULL, 0, &a[i], key) == 0);
	CHECK(storage_txt_set(st, a[1].subdomain, TXT_A, &now) == 0);
	memset(&c, 0, sizeof(c));
	c.want = a[0].subdomain;
	CHECK(storage_foreach(st, collect_cb, &c) == 0);
	CHECK(c.accounts == 3 && c.seen && c.got.n == 0);
	memset(&c, 0, sizeof(c));
	c.want = a[1].subdomain;
	CHECK(storage_foreach(st, collect_cb, &c) == 0);
	CHECK(c.seen && c.got.n == 1);
	CHECK_STR(c.got.values[0], TXT_A);
	/* A callback error stops the walk. */
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	CHECK(storage_foreach(st, collect_cb, &c) == -1);
	CHECK(c.accounts == 2);
	/* A row DNS cannot serve is skipped, not fatal. */
	CHECK(sql("INSERT INTO records VALUES ('u', 'p', 'not-a-uuid', '[]');"
	    "INSERT INTO txt(Subdomain, Value, LastUpdate, Seq) VALUES ('not-a-uuid', 'x', 1, 1);")
	    == 0);
	char q[200];
	snprintf(q, sizeof(q), "INSERT INTO txt(Subdomain, Value, LastUpdate, Seq)"
	    " VALUES ('%s', 'bad value', 1, 99)", a[2].subdomain);
	CHECK(sql(q) == 0);
	memset(&c, 0, sizeof(c));
	c.want = a[2].subdomain;
	CHECK(storage_foreach(st, collect_cb, &c) == 0);
	CHECK(c.accounts == 3 && c.seen && c.got.n == 0);
	storage_close(st);
	cleanup();
	return 0;
}

static int
test_reopen(void)
{
	struct storage *st;
	struct storage_account a, got;
	struct storage_txt now;
	struct collect c = { 0 };
	char key[STORAGE_KEY_LEN + 1], err[256];

	fresh();
	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &a, key) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_A, &now) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_B, &now) == 0);
	storage_close(st);
	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	CHECK(storage_auth(st, a.username, key, &got) == STORAGE_AUTH_OK);
	c.want = a.subdomain;
	CHECK(storage_foreach(st, collect_cb, &c) == 0);
	CHECK(c.seen && c.got.n == 2);
	CHECK_STR(c.got.values[0], TXT_B);
	CHECK_STR(c.got.values[1], TXT_A);
	/* Order survives the restart: the next value drops A, the oldest. */
	CHECK(storage_txt_set(st, a.subdomain, TXT_C, &now) == 0);
	CHECK_STR(now.values[0], TXT_C);
	CHECK_STR(now.values[1], TXT_B);
	storage_close(st);
	cleanup();
	return 0;
}

/* acme-dns's schema, exactly as its db.go creates it. */
static const char acme_schema[] =
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
    "INSERT INTO acmedns VALUES ('db_version', '1');";

#define ACME_USER "c36f50e8-4632-44f0-83fe-e070fef28a10"
#define ACME_SUB "8e5700ea-a4bf-41c7-8a77-e990661dcc6a"
#define ACME_KEY "htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7Z"

/* A "$2a$10$" bcrypt hash of key, as acme-dns (Go's bcrypt) writes it, into out[64]. */
static int
bcrypt_hash(const char *key, char out[64])
{
	struct crypt_data *cd;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *h;
	int rc = -1;

	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return -1;
	if (crypt_gensalt_rn("$2a$", 10, NULL, 0, salt, sizeof(salt)) != NULL &&
	    (h = crypt_r(key, salt, cd)) != NULL && strncmp(h, "$2a$10$", 7) == 0 &&
	    strlen(h) < 64) {
		memcpy(out, h, strlen(h) + 1);
		rc = 0;
	}
	free(cd);
	return rc;
}

/*
 * Add an account to the database with a bcrypt hash of key, stored as a
 * BLOB (as acme-dns's Go code binds a []byte) or as TEXT.
 */
static int
add_legacy(const char *user, const char *key, const char *sub, const char *allowfrom,
    bool blob)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char h[64];
	int rc = -1;

	if (bcrypt_hash(key, h) == -1 || sqlite3_open(dbpath, &db) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO records VALUES (?1, ?2, ?3, ?4)", -1, &s,
	    NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 2000);
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	if (blob)
		sqlite3_bind_blob(s, 2, h, (int)strlen(h), SQLITE_STATIC);
	else
		sqlite3_bind_text(s, 2, h, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, sub, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, allowfrom, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_DONE)
		rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

/* Write an acme-dns database with one account whose key has a $2a$10$ bcrypt hash. */
static int
make_acme_db_as(const char *allowfrom, bool blob)
{
	char *q;
	int rc;

	q = sqlite3_mprintf("%s INSERT INTO txt VALUES ('%q', '%s', 1700000000);"
	    "INSERT INTO txt VALUES ('%q', '', 0);", acme_schema, ACME_SUB, TXT_A, ACME_SUB);
	rc = q ? sql(q) : -1;
	sqlite3_free(q);
	if (rc == 0)
		rc = add_legacy(ACME_USER, ACME_KEY, ACME_SUB, allowfrom, blob);
	return rc;
}

static int
make_acme_db(const char *allowfrom)
{
	return make_acme_db_as(allowfrom, false);
}

static int
test_acme_dns_db(void)
{
	struct storage *st;
	struct storage_account got;
	struct storage_txt now;
	struct collect c = { 0 };
	char err[256], pw[256], v[64];

	fresh();
	CHECK(make_acme_db("[\"192.0.2.0/24\"]") == 0);
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	/* The published value is served at start-up. */
	c.want = ACME_SUB;
	CHECK(storage_foreach(st, collect_cb, &c) == 0);
	CHECK(c.accounts == 1 && c.seen && c.got.n == 1);
	CHECK_STR(c.got.values[0], TXT_A);

	CHECK(storage_auth(st, ACME_USER, "wrong-key-wrong-key-wrong-key-wrong-key-", &got) ==
	    STORAGE_AUTH_DENIED);
	CHECK(sql_text("SELECT Password FROM records", pw, sizeof(pw)) == 0);
	CHECK(strncmp(pw, "$2a$10$", 7) == 0);
	CHECK(storage_auth(st, ACME_USER, ACME_KEY, &got) == STORAGE_AUTH_OK);
	CHECK_STR(got.subdomain, ACME_SUB);
	CHECK(got.nallowfrom == 1);
	CHECK_STR(got.allowfrom[0], "192.0.2.0/24");
	/* storage_auth never rewrites the hash itself: the caller decides (allowfrom). */
	CHECK(got.legacy);
	CHECK(sql_text("SELECT Password FROM records", pw, sizeof(pw)) == 0);
	CHECK(strncmp(pw, "$2a$10$", 7) == 0);
	CHECK(storage_key_upgrade(st, &got, ACME_KEY) == 1);
	/* Upgraded to the fast hash; the key still works, a wrong one still fails. */
	CHECK(sql_text("SELECT Password FROM records", pw, sizeof(pw)) == 0);
	CHECK(strncmp(pw, "$sha256$", 8) == 0);
	CHECK(storage_key_upgrade(st, &got, ACME_KEY) == 0);	/* the row changed: no-op */
	CHECK(storage_auth(st, ACME_USER, ACME_KEY, &got) == STORAGE_AUTH_OK);
	CHECK(!got.legacy);
	CHECK(storage_auth(st, ACME_USER, "wrong", &got) == STORAGE_AUTH_DENIED);

	/* Rotation: the '' placeholder is used first, then the acme-dns value is the oldest. */
	CHECK(storage_txt_set(st, ACME_SUB, TXT_B, &now) == 0);
	CHECK(now.n == 2);
	CHECK_STR(now.values[0], TXT_B);
	CHECK_STR(now.values[1], TXT_A);
	CHECK(storage_txt_set(st, ACME_SUB, TXT_C, &now) == 0);
	CHECK_STR(now.values[0], TXT_C);
	CHECK_STR(now.values[1], TXT_B);

	/* The tables acme-dns reads are intact. */
	CHECK(sql_text("SELECT Value FROM acmedns WHERE Name = 'db_version'", v, sizeof(v)) == 0);
	CHECK_STR(v, "1");
	CHECK(sql_text("PRAGMA user_version", v, sizeof(v)) == 0);
	CHECK_STR(v, XSTR(STORAGE_SCHEMA_VERSION));
	CHECK(sql_text("SELECT count(*) FROM txt WHERE LastUpdate > 0", v, sizeof(v)) == 0);
	CHECK_STR(v, "2");
	storage_close(st);
	cleanup();
	return 0;
}

static int
test_acme_dns_bad_allowfrom(void)
{
	struct storage *st;
	struct storage_account got;
	char err[256];

	fresh();
	CHECK(make_acme_db("[not json") == 0);
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	CHECK(storage_auth(st, ACME_USER, ACME_KEY, &got) == STORAGE_AUTH_DENIED);
	CHECK(sql("UPDATE records SET AllowFrom = '[1, 2]'") == 0);
	CHECK(storage_auth(st, ACME_USER, ACME_KEY, &got) == STORAGE_AUTH_DENIED);
	CHECK(sql("UPDATE records SET AllowFrom = 'null'") == 0);
	CHECK(storage_auth(st, ACME_USER, ACME_KEY, &got) == STORAGE_AUTH_OK);
	CHECK(got.nallowfrom == 0);
	CHECK(sql("UPDATE records SET AllowFrom = NULL") == 0);
	CHECK(storage_auth(st, ACME_USER, ACME_KEY, &got) == STORAGE_AUTH_OK);
	CHECK(sql("UPDATE records SET Password ="
	    " '$2a$31$abcdefghijklmnopqrstuOabcdefghijklmnopqrstuvwxyz01234'") == 0);
	CHECK(storage_auth(st, ACME_USER, ACME_KEY, &got) == STORAGE_AUTH_DENIED);
	CHECK(sql("UPDATE records SET Password = '$2a$'") == 0);
	CHECK(storage_auth(st, ACME_USER, ACME_KEY, &got) == STORAGE_AUTH_DENIED);
	CHECK(sql("UPDATE records SET Password = 'garbage'") == 0);
	CHECK(storage_auth(st, ACME_USER, ACME_KEY, &got) == STORAGE_AUTH_DENIED);
	storage_close(st);
	cleanup();
	return 0;
}

static int
test_migration_idempotent(void)
{
	struct storage *st;
	struct storage_account a, got;
	char key[STORAGE_KEY_LEN + 1], err[256], v[64];

	fresh();
	CHECK(make_acme_db("[]") == 0);
	for (int i = 0; i < 3; i++) {
		CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
		if (i == 0)
			CHECK(storage_register(st, NULL, 0, &a, key) == 0);
		CHECK(storage_auth(st, a.username, key, &got) == STORAGE_AUTH_OK);
		storage_close(st);
	}
	CHECK(sql_text("PRAGMA user_version", v, sizeof(v)) == 0);
	CHECK_STR(v, XSTR(STORAGE_SCHEMA_VERSION));
	CHECK(sql_text("SELECT count(*) FROM acmedns", v, sizeof(v)) == 0);
	CHECK_STR(v, "1");
	CHECK(sql_text("SELECT count(*) FROM pragma_table_info('txt') WHERE name = 'Seq'",
	    v, sizeof(v)) == 0);
	CHECK_STR(v, "1");
	CHECK(sql_text("SELECT count(*) FROM sqlite_schema WHERE type = 'index'"
	    " AND name = 'txt_subdomain'", v, sizeof(v)) == 0);
	CHECK_STR(v, "1");
	/* A database from a newer dns01d is refused, not downgraded. */
	CHECK(sql("PRAGMA user_version = 99") == 0);
	CHECK(storage_open(dbpath, 2, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "schema version 99") != NULL);
	cleanup();
	return 0;
}

static int
test_fresh_schema_is_acme(void)
{
	struct storage *st;
	char err[256], v[512];

	fresh();
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	storage_close(st);
	CHECK(sql_text("SELECT sql FROM sqlite_schema WHERE name = 'records'", v, sizeof(v)) == 0);
	CHECK(strstr(v, "Password TEXT UNIQUE NOT NULL") != NULL);
	CHECK(sql_text("SELECT Value FROM acmedns WHERE Name = 'db_version'", v, sizeof(v)) == 0);
	CHECK_STR(v, "1");
	CHECK(sql_text("PRAGMA journal_mode", v, sizeof(v)) == 0);
	CHECK_STR(v, "wal");
	cleanup();
	return 0;
}

static int
test_bad_files(void)
{
	char err[256] = "";
	int fd;

	fresh();
	CHECK((fd = open(dbpath, O_WRONLY | O_CREAT, 0600)) != -1);
	CHECK(write(fd, "this is not an sqlite database, just some text that is long enough\n",
	    68) == 68);
	close(fd);
	CHECK(storage_open(dbpath, 2, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not an SQLite database") != NULL);
	cleanup();

	fresh();
	CHECK(sql("CREATE TABLE users(id INTEGER, name TEXT)") == 0);
	CHECK(storage_open(dbpath, 2, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not an acme-dns") != NULL);
	cleanup();

	fresh();
	CHECK(sql("CREATE TABLE records(id INTEGER); CREATE TABLE txt(Subdomain TEXT)") == 0);
	CHECK(storage_open(dbpath, 2, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "no column") != NULL);
	cleanup();

	fresh();
	CHECK(storage_open(dbpath, 0, err, sizeof(err)) == NULL);
	CHECK(storage_open(dbpath, STORAGE_MAX_TXT + 1, err, sizeof(err)) == NULL);
	CHECK(storage_open("/nonexistent-dir/x/db", 2, err, sizeof(err)) == NULL);
	CHECK(err[0] != '\0');
	CHECK(storage_open("", 2, err, sizeof(err)) == NULL);
	storage_close(NULL);
	cleanup();
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
test_busy_other_writer(void)
{
	struct storage *st;
	struct storage_account a, got;
	struct storage_txt now;
	struct collect c = { 0 };
	char key[STORAGE_KEY_LEN + 1], err[256];
	sqlite3 *other = NULL;
	double t;

	fresh();
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &a, key) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_A, &now) == 0);
	storage_set_busy_timeout(st, 300);
	CHECK(sqlite3_open(dbpath, &other) == SQLITE_OK);
	CHECK(sqlite3_exec(other, "BEGIN EXCLUSIVE; INSERT INTO acmedns VALUES ('x', 'y')",
	    NULL, NULL, NULL) == SQLITE_OK);

	t = now_s();
	CHECK(storage_txt_set(st, a.subdomain, TXT_B, &now) == -1);
	t = now_s() - t;
	CHECK(t >= 0.2 && t < 3.0);
	/* Reads go on: auth, health and the start-up load do not wait. */
	t = now_s();
	CHECK(storage_healthy(st));
	CHECK(storage_auth(st, a.username, key, &got) == STORAGE_AUTH_OK);
	c.want = a.subdomain;
	CHECK(storage_foreach(st, collect_cb, &c) == 0);
	CHECK(c.seen && c.got.n == 1);
	CHECK(now_s() - t < 0.2);

	CHECK(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(other);
	CHECK(storage_txt_set(st, a.subdomain, TXT_B, &now) == 0);
	CHECK(now.n == 2);
	CHECK_STR(now.values[0], TXT_B);
	storage_close(st);
	cleanup();
	return 0;
}

static int
test_unknown_subdomain(void)
{
	struct storage *st;
	struct storage_account a;
	struct storage_txt now;
	char key[STORAGE_KEY_LEN + 1], err[256], q[200], v[32];

	fresh();
	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &a, key) == 0);
	/* No account: nothing stored, no orphan rows. */
	CHECK(storage_txt_set(st, "00000000-0000-4000-8000-000000000000", TXT_A, &now) == -1);
	CHECK(sql_text("SELECT count(*) FROM txt", v, sizeof(v)) == 0);
	CHECK_STR(v, "2");
	/* An account whose txt rows are missing (a hand-edited database) still publishes. */
	snprintf(q, sizeof(q), "DELETE FROM txt WHERE Subdomain = '%s'", a.subdomain);
	CHECK(sql(q) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_A, &now) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_B, &now) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_C, &now) == 0);
	CHECK(now.n == 2);
	CHECK_STR(now.values[0], TXT_C);
	CHECK_STR(now.values[1], TXT_B);
	storage_close(st);
	cleanup();
	return 0;
}

/* A child that publishes, reports, and waits to be killed. */
static void
kill9_child(int wfd)
{
	struct storage *st;
	struct storage_account a;
	struct storage_txt now;
	char key[STORAGE_KEY_LEN + 1], err[256], line[128];

	if ((st = open_st(2, err, sizeof(err))) == NULL ||
	    storage_register(st, NULL, 0, &a, key) == -1 ||
	    storage_txt_set(st, a.subdomain, TXT_A, &now) == -1 ||
	    storage_txt_set(st, a.subdomain, TXT_B, &now) == -1)
		_exit(1);
	snprintf(line, sizeof(line), "%s %s %s\n", a.username, a.subdomain, key);
	if (write(wfd, line, strlen(line)) != (ssize_t)strlen(line))
		_exit(1);
	sleep(10);	/* bounded: the parent kills us long before */
	_exit(2);
}

static int
test_survives_kill9(void)
{
	struct storage *st;
	struct storage_account got;
	struct collect c = { 0 };
	char buf[128] = "", user[40], sub[40], key[48], err[256];
	int p[2], status;
	ssize_t n;
	pid_t pid;

	fresh();
	CHECK(pipe(p) == 0);
	CHECK((pid = fork()) != -1);
	if (pid == 0) {
		close(p[0]);
		kill9_child(p[1]);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK(n > 0 && sscanf(buf, "%39s %39s %47s", user, sub, key) == 3);

	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	CHECK(storage_auth(st, user, key, &got) == STORAGE_AUTH_OK);
	c.want = sub;
	CHECK(storage_foreach(st, collect_cb, &c) == 0);
	CHECK(c.seen && c.got.n == 2);
	CHECK_STR(c.got.values[0], TXT_B);
	CHECK_STR(c.got.values[1], TXT_A);
	storage_close(st);
	cleanup();
	return 0;
}

struct reg_arg {
	struct storage *st;
	struct storage_account acct[REG_EACH];
	char key[REG_EACH][STORAGE_KEY_LEN + 1];
	int failures;
};

static void *
reg_thread(void *p)
{
	struct reg_arg *ra = p;
	struct storage_txt now;
	struct storage_account got;

	for (int i = 0; i < REG_EACH; i++) {
		if (storage_register(ra->st, NULL, 0, &ra->acct[i], ra->key[i]) != 0) {
			ra->failures++;
			continue;
		}
		if (storage_auth(ra->st, ra->acct[i].username, ra->key[i], &got) != STORAGE_AUTH_OK ||
		    storage_txt_set(ra->st, ra->acct[i].subdomain, TXT_A, &now) != 0)
			ra->failures++;
	}
	return NULL;
}

static int
test_concurrent_register(void)
{
	struct storage *st;
	struct reg_arg *ra;
	struct collect c = { 0 };
	pthread_t th[REG_THREADS];
	char err[256], v[32];
	int i;

	fresh();
	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	CHECK((ra = calloc(REG_THREADS, sizeof(*ra))) != NULL);
	for (i = 0; i < REG_THREADS; i++) {
		ra[i].st = st;
		CHECK(pthread_create(&th[i], NULL, reg_thread, &ra[i]) == 0);
	}
	for (i = 0; i < REG_THREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < REG_THREADS; i++)
		CHECK(ra[i].failures == 0);
	CHECK(strcmp(ra[0].acct[0].username, ra[1].acct[0].username) != 0);
	c.want = ra[3].acct[REG_EACH - 1].subdomain;
	CHECK(storage_foreach(st, collect_cb, &c) == 0);
	CHECK(c.accounts == REG_THREADS * REG_EACH);
	CHECK(c.seen && c.got.n == 1);
	free(ra);
	storage_close(st);
	CHECK(sql_text("SELECT count(DISTINCT Username) FROM records", v, sizeof(v)) == 0);
	CHECK(atoi(v) == REG_THREADS * REG_EACH);
	cleanup();
	return 0;
}

/* bcrypt computations run so far. */
static uint64_t
bcalls(struct storage *st)
{
	struct storage_stats ss;

	storage_stats(st, &ss);
	return ss.bcrypt_calls;
}

#define WRONG_KEY "wrong-key-wrong-key-wrong-key-wrong-key-"
#define NOBODY "00000000-0000-4000-8000-000000000000"

/*
 * acme-dns stores bcrypt hashes as BLOBs. The upgrade works on one, only
 * when the caller asks (after allowfrom), changes the row once, and writes
 * TEXT. Every denial costs one bcrypt while a legacy hash is left, none after.
 */
static int
test_legacy_blob(void)
{
	struct storage *st;
	struct storage_account got, fast, stale;
	char err[256], v[256], key[STORAGE_KEY_LEN + 1];
	uint64_t b;

	fresh();
	CHECK(make_acme_db_as("[]", true) == 0);
	CHECK(sql_text("SELECT typeof(Password) FROM records", v, sizeof(v)) == 0);
	CHECK_STR(v, "blob");
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &fast, key) == 0);

	/* Denials: wrong key, unknown user, wrong key on a fast account: one bcrypt each. */
	b = bcalls(st);
	CHECK(storage_auth(st, ACME_USER, WRONG_KEY, &got) == STORAGE_AUTH_DENIED);
	CHECK(bcalls(st) == b + 1);
	CHECK(storage_auth(st, NOBODY, WRONG_KEY, &got) == STORAGE_AUTH_DENIED);
	CHECK(bcalls(st) == b + 2);
	CHECK(storage_auth(st, fast.username, WRONG_KEY, &got) == STORAGE_AUTH_DENIED);
	CHECK(bcalls(st) == b + 3);
	/* A correct key on a fast account never runs bcrypt. */
	CHECK(storage_auth(st, fast.username, key, &got) == STORAGE_AUTH_OK);
	CHECK(!got.legacy && bcalls(st) == b + 3);

	/* The right key verifies against the BLOB; the row is not touched by auth. */
	CHECK(storage_auth(st, ACME_USER, ACME_KEY, &got) == STORAGE_AUTH_OK);
	CHECK(got.legacy && bcalls(st) == b + 4);
	CHECK(sql_text("SELECT typeof(Password) FROM records WHERE Username = '" ACME_USER "'",
	    v, sizeof(v)) == 0);
	CHECK_STR(v, "blob");
	stale = got;
	CHECK(storage_key_upgrade(st, &got, ACME_KEY) == 1);
	CHECK(sql_text("SELECT typeof(Password) || ' ' || Password FROM records"
	    " WHERE Username = '" ACME_USER "'", v, sizeof(v)) == 0);
	CHECK(strncmp(v, "text $sha256$", 13) == 0);
	CHECK(storage_key_upgrade(st, &stale, ACME_KEY) == 0);	/* already changed */

	/* Second update: fast, no bcrypt; and with no legacy hash left, denials run none. */
	b = bcalls(st);
	CHECK(storage_auth(st, ACME_USER, ACME_KEY, &got) == STORAGE_AUTH_OK);
	CHECK(!got.legacy);
	CHECK(storage_auth(st, ACME_USER, WRONG_KEY, &got) == STORAGE_AUTH_DENIED);
	CHECK(storage_auth(st, NOBODY, WRONG_KEY, &got) == STORAGE_AUTH_DENIED);
	CHECK(bcalls(st) == b);
	storage_close(st);

	/* After a restart the count of legacy hashes is 0, and the key still works. */
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	struct storage_stats ss;
	storage_stats(st, &ss);
	CHECK(ss.legacy_left == 0);
	CHECK(storage_auth(st, ACME_USER, ACME_KEY, &got) == STORAGE_AUTH_OK);
	CHECK(bcalls(st) == 0);
	storage_close(st);
	cleanup();
	return 0;
}

/* The upgrade rewrites only the very hash that was verified (TEXT or BLOB). */
static int
test_legacy_upgrade_guarded(void)
{
	struct storage *st;
	struct storage_account got, other;
	char err[256], v[256];

	fresh();
	CHECK(make_acme_db_as("[]", false) == 0);
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	CHECK(storage_auth(st, ACME_USER, ACME_KEY, &got) == STORAGE_AUTH_OK && got.legacy);
	other = got;
	other.legacy_hash[10] ^= 1;	/* the hash changed meanwhile (another tool) */
	CHECK(storage_key_upgrade(st, &other, ACME_KEY) == 0);
	CHECK(sql_text("SELECT Password FROM records", v, sizeof(v)) == 0);
	CHECK(strncmp(v, "$2a$10$", 7) == 0);
	other = got;
	other.legacy = false;
	CHECK(storage_key_upgrade(st, &other, ACME_KEY) == 0);
	CHECK(storage_key_upgrade(st, &got, ACME_KEY) == 1);	/* TEXT hash: upgraded */
	CHECK(sql_text("SELECT Password FROM records", v, sizeof(v)) == 0);
	CHECK(strncmp(v, "$sha256$", 8) == 0);
	storage_close(st);
	cleanup();
	return 0;
}

#define BCRYPT_THREADS 16

struct bc_arg {
	struct storage *st;
	pthread_barrier_t *bar;
	enum storage_auth_result res;
};

static void *
bc_thread(void *p)
{
	struct bc_arg *a = p;
	struct storage_account got;

	pthread_barrier_wait(a->bar);
	a->res = storage_auth(a->st, ACME_USER, WRONG_KEY, &got);
	return NULL;
}

/*
 * Many wrong keys on a legacy account at once: at most one bcrypt runs, a
 * few wait, the rest are refused at once (BUSY, the API's 429); the fast
 * paths (a fast account's key, health) are not held up.
 */
static int
test_bcrypt_bounded(void)
{
	struct storage *st;
	struct storage_account fast, got;
	struct storage_stats ss;
	struct bc_arg a[BCRYPT_THREADS];
	pthread_t th[BCRYPT_THREADS];
	pthread_barrier_t bar;
	char err[256], key[STORAGE_KEY_LEN + 1];
	int i, denied = 0, busy = 0;
	double t, tmax = 0;

	fresh();
	CHECK(make_acme_db_as("[]", true) == 0);
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &fast, key) == 0);
	CHECK(pthread_barrier_init(&bar, NULL, BCRYPT_THREADS + 1) == 0);
	for (i = 0; i < BCRYPT_THREADS; i++) {
		a[i] = (struct bc_arg){ st, &bar, STORAGE_AUTH_ERROR };
		CHECK(pthread_create(&th[i], NULL, bc_thread, &a[i]) == 0);
	}
	pthread_barrier_wait(&bar);
	for (i = 0; i < 20; i++) {
		t = now_s();
		CHECK(storage_auth(st, fast.username, key, &got) == STORAGE_AUTH_OK);
		CHECK(storage_healthy(st));
		t = now_s() - t;
		tmax = t > tmax ? t : tmax;
	}
	for (i = 0; i < BCRYPT_THREADS; i++) {
		pthread_join(th[i], NULL);
		denied += a[i].res == STORAGE_AUTH_DENIED;
		busy += a[i].res == STORAGE_AUTH_BUSY;
	}
	pthread_barrier_destroy(&bar);
	storage_stats(st, &ss);
	fprintf(stderr, "    %d denied, %d busy, slowest fast auth+health %.2f ms\n",
	    denied, busy, tmax * 1000);
	CHECK(denied + busy == BCRYPT_THREADS);
	CHECK(ss.bcrypt_peak == STORAGE_BCRYPT_SLOTS);
	CHECK(ss.bcrypt_busy == (uint64_t)busy);
	CHECK(ss.bcrypt_calls == (uint64_t)denied);
	/* At most SLOTS + QUEUE can be in the system at once: 16 arrivals overflow it. */
	CHECK(busy >= 1 && denied >= 1);
	storage_close(st);
	cleanup();
	return 0;
}

/*
 * Mutation gap "durability settings": the writer and checkpoint connections
 * run synchronous=NORMAL (with WAL: the WAL is fsync'd before a checkpoint),
 * and every registration waits for an fdatasync of the WAL (group commit).
 */
static int
test_durability_settings(void)
{
	struct storage *st;
	struct storage_stats ss;
	struct storage_account a;
	char key[STORAGE_KEY_LEN + 1], err[256];
	uint64_t before;
	int i;

	fresh();
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	storage_stats(st, &ss);
	CHECK(ss.sync_writer == 1);		/* NORMAL */
	CHECK(ss.sync_checkpoint == 1);
	CHECK(ss.wal_limit == STORAGE_WAL_LIMIT);
	for (i = 0; i < 3; i++) {
		storage_stats(st, &ss);
		before = ss.wal_syncs;
		CHECK(storage_register(st, NULL, 0, &a, key) == 0);
		storage_stats(st, &ss);
		CHECK(ss.wal_syncs == before + 1);
	}
	storage_close(st);
	cleanup();
	return 0;
}

/* The change feed between two handles on one PostgreSQL database (two instances). */
struct feed {
	pthread_mutex_t lock;
	char sub[STORAGE_ID_LEN + 1];
	struct storage_txt got;
	unsigned calls;
};

static int
feed_cb(void *arg, const char *sub, const struct storage_txt *t)
{
	struct feed *f = arg;

	pthread_mutex_lock(&f->lock);
	if (strcmp(sub, f->sub) == 0) {
		f->got = *t;
		f->calls++;
	}
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* Wait (bounded: 5 s) until the feed has delivered want as the newest value. */
static bool
feed_wait(struct feed *f, const char *want, size_t n)
{
	bool ok = false;

	for (int i = 0; i < 500 && !ok; i++) {
		pthread_mutex_lock(&f->lock);
		ok = f->got.n == n && strcmp(f->got.values[0], want) == 0;
		pthread_mutex_unlock(&f->lock);
		if (!ok)
			usleep(10000);
	}
	return ok;
}

static int
test_pg_watch_two_handles(void)
{
	struct storage *a, *b;
	struct storage_account acct;
	struct storage_txt now;
	struct feed f = { .calls = 0 };
	char key[STORAGE_KEY_LEN + 1], err[256];

	fresh();
	pthread_mutex_init(&f.lock, NULL);
	CHECK((a = open_st(2, err, sizeof(err))) != NULL);
	CHECK((b = open_st(2, err, sizeof(err))) != NULL);
	CHECK(storage_watch(b, feed_cb, &f) == 0);
	CHECK(storage_register(a, NULL, 0, &acct, key) == 0);
	memcpy(f.sub, acct.subdomain, sizeof(f.sub));
	CHECK(storage_txt_set(a, acct.subdomain, TXT_A, &now) == 0);
	CHECK(feed_wait(&f, TXT_A, 1));
	CHECK(storage_txt_set(b, acct.subdomain, TXT_B, &now) == 0);
	CHECK(storage_txt_set(a, acct.subdomain, TXT_C, &now) == 0);
	CHECK(feed_wait(&f, TXT_C, 2));
	CHECK_STR(f.got.values[1], TXT_B);
	CHECK(storage_available(a) && storage_available(b));
	storage_close(b);
	storage_close(a);
	pthread_mutex_destroy(&f.lock);
	cleanup();
	return 0;
}

/* Collects what storage_persist_watch delivers for one subdomain. */
struct pfeed {
	pthread_mutex_t lock;
	char sub[STORAGE_ID_LEN + 1];
	struct storage_persist_set got;
	unsigned calls;
};

static int
pfeed_cb(void *arg, const char *sub, const struct storage_persist_set *set)
{
	struct pfeed *f = arg;

	pthread_mutex_lock(&f->lock);
	if (strcmp(sub, f->sub) == 0) {
		f->got = *set;
		f->calls++;
	}
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* Wait (bounded: 5 s) until the feed has delivered n records. */
static bool
pfeed_wait(struct pfeed *f, size_t n)
{
	bool ok = false;

	for (int i = 0; i < 500 && !ok; i++) {
		pthread_mutex_lock(&f->lock);
		ok = f->calls > 0 && f->got.n == n;
		pthread_mutex_unlock(&f->lock);
		if (!ok)
			usleep(10000);
	}
	return ok;
}

/* A record written through one handle reaches the other's persist watcher (and deletes too). */
static int
test_pg_persist_watch(void)
{
	struct storage *a, *b;
	struct storage_account acct;
	struct storage_persist_set now;
	struct feed f = { .calls = 0 };
	struct pfeed p = { .calls = 0 };
	struct storage_txt txt;
	char key[STORAGE_KEY_LEN + 1], err[256];
	unsigned calls;

	fresh();
	pthread_mutex_init(&f.lock, NULL);
	pthread_mutex_init(&p.lock, NULL);
	CHECK((a = open_st(2, err, sizeof(err))) != NULL);
	CHECK((b = open_st(2, err, sizeof(err))) != NULL);
	CHECK(storage_persist_watch(b, pfeed_cb, &p) == 0);
	CHECK(storage_watch(b, feed_cb, &f) == 0);
	CHECK(storage_register(a, NULL, 0, &acct, key) == 0);
	memcpy(p.sub, acct.subdomain, sizeof(p.sub));
	pthread_mutex_lock(&f.lock);
	memcpy(f.sub, acct.subdomain, sizeof(f.sub));
	pthread_mutex_unlock(&f.lock);
	CHECK(storage_txt_set(a, acct.subdomain, TXT_A, &txt) == 0);
	CHECK(feed_wait(&f, TXT_A, 1));
	pthread_mutex_lock(&f.lock);
	calls = f.calls;
	pthread_mutex_unlock(&f.lock);
	CHECK(storage_persist_put(a, acct.subdomain, "ca1.example", PV(1), &now) ==
	    STORAGE_PERSIST_OK);
	CHECK(pfeed_wait(&p, 1));
	CHECK_STR(p.got.rec[0].value, PV(1));
	CHECK(storage_persist_put(a, acct.subdomain, "ca2.example", PV(2), &now) ==
	    STORAGE_PERSIST_OK);
	CHECK(pfeed_wait(&p, 2));
	CHECK(storage_persist_delete(a, acct.subdomain, "ca1.example", &now) == STORAGE_PERSIST_OK);
	CHECK(pfeed_wait(&p, 1));
	CHECK_STR(p.got.rec[0].issuer, "ca2.example");
	/* A persist change is not a TXT change: the values' callback was not called for it. */
	pthread_mutex_lock(&f.lock);
	CHECK(f.calls == calls);
	pthread_mutex_unlock(&f.lock);
	storage_close(b);
	storage_close(a);
	pthread_mutex_destroy(&f.lock);
	pthread_mutex_destroy(&p.lock);
	cleanup();
	return 0;
}

/* Size of the -wal file, or -1. */
static long long
wal_size(void)
{
	char p[160];
	struct stat sb;

	snprintf(p, sizeof(p), "%s-wal", dbpath);
	return stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
}

#define WAL_GROW_MAX 20000	/* most writes to push the WAL past the limit */
#define WAL_SHRINK_TRIES 300	/* writes, 10 ms apart, for the WAL to be cut back */

/*
 * The WAL grows while a reader pins it, and is cut back to
 * journal_size_limit once a checkpoint lets it start over.
 */
static int
test_wal_shrinks(void)
{
	struct storage *st;
	struct storage_account a;
	struct storage_txt now;
	char key[STORAGE_KEY_LEN + 1], err[256];
	sqlite3 *reader = NULL;
	sqlite3_stmt *s = NULL;
	long long peak = 0, sz = -1;
	int i;

	fresh();
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &a, key) == 0);
	/* A read transaction in another connection keeps every frame in the WAL. */
	CHECK(sqlite3_open(dbpath, &reader) == SQLITE_OK);
	CHECK(sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(reader, "SELECT count(*) FROM records", -1, &s, NULL) ==
	    SQLITE_OK && sqlite3_step(s) == SQLITE_ROW);
	for (i = 0; i < WAL_GROW_MAX && (peak = wal_size()) <= STORAGE_WAL_LIMIT + 65536; i++)
		CHECK(storage_txt_set(st, a.subdomain, i % 2 ? TXT_A : TXT_B, &now) == 0);
	fprintf(stderr, "    WAL grew to %lld bytes after %d writes\n", peak, i);
	CHECK(peak > STORAGE_WAL_LIMIT);
	sqlite3_finalize(s);
	CHECK(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(reader);
	for (i = 0; i < WAL_SHRINK_TRIES && (sz = wal_size()) > STORAGE_WAL_LIMIT; i++) {
		CHECK(storage_txt_set(st, a.subdomain, i % 2 ? TXT_C : TXT_D, &now) == 0);
		usleep(10000);
	}
	fprintf(stderr, "    WAL cut back to %lld bytes after %d more writes\n", sz, i);
	CHECK(sz >= 0 && sz <= STORAGE_WAL_LIMIT);
	storage_close(st);
	cleanup();
	return 0;
}

/* The database files deleted under a running daemon: no write is acknowledged. */
static int
test_db_deleted(void)
{
	struct storage *st;
	struct storage_account a, b, got;
	struct storage_txt now;
	char key[STORAGE_KEY_LEN + 1], key2[STORAGE_KEY_LEN + 1], err[256], p[160];

	fresh();
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &a, key) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_A, &now) == 0);
	CHECK(storage_healthy(st));
	CHECK(unlink(dbpath) == 0);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	CHECK(unlink(p) == 0);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	/* The commit itself notices (no /health call needed first). */
	CHECK(storage_txt_set(st, a.subdomain, TXT_B, &now) == -1);
	CHECK(!storage_healthy(st));
	CHECK(storage_register(st, NULL, 0, &b, key2) == -1);
	/* Sticky: still refused, still unhealthy. Reads from the open handles go on. */
	CHECK(storage_txt_set(st, a.subdomain, TXT_C, &now) == -1);
	CHECK(!storage_healthy(st));
	CHECK(storage_auth(st, a.username, key, &got) == STORAGE_AUTH_OK);
	storage_close(st);
	cleanup();
	return 0;
}

/* Only the -wal file deleted: detected too (the next commits would be lost). */
static int
test_wal_deleted(void)
{
	struct storage *st;
	struct storage_account a;
	struct storage_txt now;
	char key[STORAGE_KEY_LEN + 1], err[256], p[160];

	fresh();
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &a, key) == 0);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	CHECK(unlink(p) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_B, &now) == -1);
	CHECK(!storage_healthy(st));
	storage_close(st);
	cleanup();
	return 0;
}

/* Another database moved over ours (a restore gone wrong): detected. */
static int
test_db_replaced(void)
{
	struct storage *st, *st2;
	struct storage_account a, b;
	struct storage_txt now;
	char key[STORAGE_KEY_LEN + 1], err[256], other[160], p[200];

	fresh();
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &a, key) == 0);
	snprintf(other, sizeof(other), "%s/other.sqlite", dir);
	CHECK((st2 = storage_open(other, 2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st2, NULL, 0, &b, key) == 0);
	storage_close(st2);
	CHECK(rename(other, dbpath) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_B, &now) == -1);
	CHECK(!storage_healthy(st));
	storage_close(st);
	snprintf(p, sizeof(p), "%s-wal", other);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", other);
	unlink(p);
	cleanup();
	return 0;
}

/* Set or clear the immutable flag of path. Returns 0, or -1 (errno set). */
static int
set_immutable(const char *path, bool on)
{
	int fd, flags, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
		rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
	return rc;
}

/*
 * The -wal file unwritable (chattr +i: root ignores modes): the write fails,
 * /health is 503, and both recover once it is writable again.
 */
static int
test_wal_unwritable(void)
{
	struct storage *st;
	struct storage_account a;
	struct storage_txt now;
	char key[STORAGE_KEY_LEN + 1], err[256], p[160];
	int i;

	fresh();
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &a, key) == 0);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	if (set_immutable(p, true) == -1) {
		printf("SKIPPED - wal_unwritable: cannot set the immutable flag here: %s\n",
		    strerror(errno));
		storage_close(st);
		cleanup();
		return 0;
	}
	i = storage_txt_set(st, a.subdomain, TXT_B, &now);
	bool healthy = storage_healthy(st);
	CHECK(set_immutable(p, false) == 0);
	CHECK(i == -1);
	CHECK(!healthy);
	/* Writable again: the next probe heals (not sticky, unlike a deleted file). */
	usleep((STORAGE_PROBE_MS + 100) * 1000);
	CHECK(storage_healthy(st));
	CHECK(storage_txt_set(st, a.subdomain, TXT_C, &now) == 0);
	storage_close(st);
	cleanup();
	return 0;
}

#define FULL_FS_SIZE "size=4m"	/* the small file system the full-disk test fills */
#define FULL_SKIP 77		/* child exit status: the machine forbids the mount */

/* In a private mount namespace, on a tiny tmpfs: fill it, health goes 503, then heals. */
static int
full_disk_child(void)
{
	struct storage *st;
	struct storage_account a;
	struct storage_txt now;
	char key[STORAGE_KEY_LEN + 1], err[256], fill[200], buf[65536];
	int fd;

	if (unshare(CLONE_NEWNS) == -1 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", dir, "tmpfs", 0, FULL_FS_SIZE) == -1) {
		printf("SKIPPED - full_disk: no private tmpfs here: %s\n", strerror(errno));
		return FULL_SKIP;
	}
	CHECK((st = storage_open(dbpath, 2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &a, key) == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_A, &now) == 0);
	CHECK(storage_healthy(st));
	snprintf(fill, sizeof(fill), "%s/fill", dir);
	CHECK((fd = open(fill, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1);
	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < 1024 && write(fd, buf, sizeof(buf)) > 0; i++)
		;
	close(fd);
	CHECK(!storage_healthy(st));
	CHECK(unlink(fill) == 0);
	usleep((STORAGE_PROBE_MS + 100) * 1000);
	CHECK(storage_healthy(st));
	CHECK(storage_txt_set(st, a.subdomain, TXT_B, &now) == 0);
	storage_close(st);
	cleanup();
	umount2(dir, MNT_DETACH);
	return 0;
}

/* A full disk makes /health 503 (audit: it said 200), and it recovers once space is back. */
static int
test_full_disk(void)
{
	pid_t pid;
	int status;

	fresh();
	fflush(stdout);
	fflush(stderr);
	CHECK((pid = fork()) != -1);
	if (pid == 0)
		_exit(full_disk_child());
	CHECK(waitpid(pid, &status, 0) == pid);
	rmdir(dir);
	if (WIFEXITED(status) && WEXITSTATUS(status) == FULL_SKIP)
		return 0;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return 0;
}

/* PostgreSQL schema: migrated once, versioned, a foreign table refused. */
static int
test_pg_schema(void)
{
	struct storage *st;
	char err[256] = "", v[64];

	fresh();
	for (int i = 0; i < 2; i++) {
		CHECK((st = open_st(2, err, sizeof(err))) != NULL);
		storage_close(st);
	}
	CHECK(sql_text("SELECT Value FROM acmedns WHERE Name = 'dns01d_version'", v, sizeof(v)) == 0);
	CHECK_STR(v, XSTR(STORAGE_PG_SCHEMA_VERSION));
	CHECK(sql_text("SELECT count(*) FROM acmedns", v, sizeof(v)) == 0);
	CHECK_STR(v, "2");
	CHECK(sql("UPDATE acmedns SET Value = '99' WHERE Name = 'dns01d_version'") == 0);
	CHECK(open_st(2, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "schema version 99") != NULL);
	cleanup();

	fresh();
	CHECK(sql("CREATE TABLE records(id INTEGER)") == 0);
	CHECK(open_st(2, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not an acme-dns") != NULL);
	cleanup();
	return 0;
}

/* A server that is not there: open fails at once with a reason, never the password. */
static int
test_pg_unreachable(void)
{
	char err[256] = "", name[STORAGE_DESCRIBE_LEN];
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(storage_open_engine(STORAGE_POSTGRES, "postgres://u:s3cret@127.0.0.1:1/db"
	    "?sslmode=disable", 2, err, sizeof(err)) == NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < STORAGE_PG_CONNECT_MS / 1000 + 2);
	CHECK(err[0] != '\0' && strstr(err, "s3cret") == NULL);
	storage_describe(STORAGE_POSTGRES, "postgres://u:s3cret@db.example:5433/acme", name,
	    sizeof(name));
	CHECK_STR(name, "postgres://u@db.example:5433/acme");
	storage_describe(STORAGE_POSTGRES, "host=h user=v password=s3cret dbname=d", name,
	    sizeof(name));
	CHECK_STR(name, "postgres://v@h/d");
	CHECK(storage_open_engine(STORAGE_POSTGRES, "", 2, err, sizeof(err)) == NULL);
	return 0;
}

/* Tests of the contract: run on both backends. */


/* Records: put, replace the same issuer, get, apart from the TXT values both ways. */
static int
test_persist_put_get(void)
{
	struct storage *st;
	struct storage_account acct;
	struct storage_persist_set now, got;
	struct storage_txt txt;
	char key[STORAGE_KEY_LEN + 1], err[256] = "";

	fresh();
	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &acct, key) == 0);
	CHECK(storage_persist_put(st, acct.subdomain, "cb.example", "cb.example; accounturi=x",
	    &now) == STORAGE_PERSIST_OK);
	CHECK(now.n == 1);
	CHECK(storage_persist_put(st, acct.subdomain, "ca.example", "ca.example; accounturi=1",
	    &now) == STORAGE_PERSIST_OK);
	CHECK(now.n == 2);
	CHECK_STR(now.rec[0].issuer, "ca.example");	/* ordered by issuer */
	CHECK_STR(now.rec[1].value, "cb.example; accounturi=x");
	CHECK(now.rec[0].updated > 0);
	/* The same issuer again replaces its record. */
	CHECK(storage_persist_put(st, acct.subdomain, "ca.example",
	    "CA.example; accounturi=2; policy=wildcard", &now) == STORAGE_PERSIST_OK);
	CHECK(now.n == 2);
	CHECK_STR(now.rec[0].value, "CA.example; accounturi=2; policy=wildcard");
	CHECK(storage_persist_get(st, acct.subdomain, &got) == 0);
	CHECK(got.n == 2);
	CHECK_STR(got.rec[0].value, now.rec[0].value);
	CHECK_STR(got.rec[1].issuer, "cb.example");
	/* /update's rotation never touches them, and they never count as TXT values. */
	CHECK(storage_txt_set(st, acct.subdomain, TXT_A, &txt) == 0);
	CHECK(storage_txt_set(st, acct.subdomain, TXT_B, &txt) == 0);
	CHECK(storage_txt_set(st, acct.subdomain, TXT_C, &txt) == 0);
	CHECK(txt.n == 2);
	CHECK(storage_persist_get(st, acct.subdomain, &got) == 0);
	CHECK(got.n == 2);
	/* Arguments out of bounds are refused before any SQL. */
	CHECK(storage_persist_put(st, "not-a-uuid", "ca.example", "x", &now) ==
	    STORAGE_PERSIST_ERROR);
	CHECK(storage_persist_put(st, acct.subdomain, "", "x", &now) == STORAGE_PERSIST_ERROR);
	CHECK(storage_persist_get(st, "nope", &got) == -1);
	storage_close(st);
	cleanup();
	return 0;
}

/* At most STORAGE_PERSIST_MAX issuers; a replacement still works when full; delete. */
static int
test_persist_limit_delete(void)
{
	struct storage *st;
	struct storage_account acct;
	struct storage_persist_set now;
	char key[STORAGE_KEY_LEN + 1], err[256] = "", iss[32], val[64];

	fresh();
	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &acct, key) == 0);
	for (int i = 0; i < STORAGE_PERSIST_MAX; i++) {
		snprintf(iss, sizeof(iss), "ca%d.example", i);
		snprintf(val, sizeof(val), "%s; accounturi=%d", iss, i);
		CHECK(storage_persist_put(st, acct.subdomain, iss, val, &now) == STORAGE_PERSIST_OK);
		CHECK(now.n == (size_t)i + 1);
	}
	CHECK(storage_persist_put(st, acct.subdomain, "ca9.example", "ca9.example; accounturi=9",
	    &now) == STORAGE_PERSIST_FULL);
	CHECK(storage_persist_put(st, acct.subdomain, "ca3.example", "ca3.example; accounturi=new",
	    &now) == STORAGE_PERSIST_OK);
	CHECK(now.n == STORAGE_PERSIST_MAX);
	CHECK_STR(now.rec[3].value, "ca3.example; accounturi=new");
	CHECK(storage_persist_delete(st, acct.subdomain, "nothere.example", &now) ==
	    STORAGE_PERSIST_NONE);
	CHECK(storage_persist_delete(st, acct.subdomain, "ca0.example", &now) ==
	    STORAGE_PERSIST_OK);
	CHECK(now.n == STORAGE_PERSIST_MAX - 1);
	CHECK_STR(now.rec[0].issuer, "ca1.example");
	CHECK(storage_persist_put(st, acct.subdomain, "ca9.example", "ca9.example; accounturi=9",
	    &now) == STORAGE_PERSIST_OK);
	CHECK(now.n == STORAGE_PERSIST_MAX);
	/* An unregistered subdomain gets nothing stored. */
	CHECK(storage_persist_put(st, "00000000-0000-4000-8000-000000000000", "ca.example",
	    "ca.example; accounturi=1", &now) == STORAGE_PERSIST_ERROR);
	storage_close(st);
	cleanup();
	return 0;
}

/* foreach collector for records. */
struct pcollect {
	const char *want;
	struct storage_persist_set got;
	size_t accounts;
};

static int
pcollect_cb(void *arg, const char *sub, const struct storage_persist_set *set)
{
	struct pcollect *c = arg;

	c->accounts++;
	if (strcmp(sub, c->want) == 0)
		c->got = *set;
	return 0;
}

/* Records survive close and reopen, and storage_persist_foreach hands them out. */
static int
test_persist_reopen(void)
{
	struct storage *st;
	struct storage_account a, b;
	struct storage_persist_set now;
	struct pcollect c = { .accounts = 0 };
	char key[STORAGE_KEY_LEN + 1], err[256] = "";

	fresh();
	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	CHECK(storage_register(st, NULL, 0, &a, key) == 0);
	CHECK(storage_register(st, NULL, 0, &b, key) == 0);
	CHECK(storage_persist_put(st, a.subdomain, "ca1.example", PV(1), &now) ==
	    STORAGE_PERSIST_OK);
	CHECK(storage_persist_put(st, a.subdomain, "ca2.example", PV(2), &now) ==
	    STORAGE_PERSIST_OK);
	storage_close(st);
	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	c.want = a.subdomain;
	CHECK(storage_persist_foreach(st, pcollect_cb, &c) == 0);
	CHECK(c.accounts == 1);	/* b has none */
	CHECK(c.got.n == 2);
	CHECK_STR(c.got.rec[0].value, PV(1));
	CHECK_STR(c.got.rec[1].value, PV(2));
	storage_close(st);
	cleanup();
	return 0;
}

/* storage_watch callback of test_lifecycle_verbs: remember the last event per kind. */
struct watch_seen {
	pthread_mutex_t lock;
	char gone[STORAGE_ID_LEN + 1];		/* last subdomain reported deleted */
	char changed[STORAGE_ID_LEN + 1];	/* last subdomain reported with values */
	size_t nvalues;
};

static int
watch_cb(void *arg, const char *sub, const struct storage_txt *txt)
{
	struct watch_seen *w = arg;

	pthread_mutex_lock(&w->lock);
	if (txt == NULL)
		snprintf(w->gone, sizeof(w->gone), "%s", sub);
	else {
		snprintf(w->changed, sizeof(w->changed), "%s", sub);
		w->nvalues = txt->n;
	}
	pthread_mutex_unlock(&w->lock);
	return 0;
}

/* Wait up to 3 s for the watcher to report sub (gone or changed). */
static bool
watch_wait(struct watch_seen *w, const char *sub, bool gone)
{
	struct timespec ts = { 0, 20 * 1000000L };
	bool seen = false;
	int i;

	for (i = 0; i < 150 && !seen; i++) {
		pthread_mutex_lock(&w->lock);
		seen = strcmp(gone ? w->gone : w->changed, sub) == 0;
		pthread_mutex_unlock(&w->lock);
		if (!seen)
			nanosleep(&ts, NULL);
	}
	return seen;
}

/*
 * Wait up to 3 s for the watcher to report sub changed with n values. On
 * PostgreSQL the feed also carries this handle's own earlier writes, so a
 * report of sub alone may be the update before the change waited for.
 */
static bool
watch_wait_values(struct watch_seen *w, const char *sub, size_t n)
{
	struct timespec ts = { 0, 20 * 1000000L };
	bool seen = false;
	int i;

	for (i = 0; i < 150 && !seen; i++) {
		pthread_mutex_lock(&w->lock);
		seen = strcmp(w->changed, sub) == 0 && w->nvalues == n;
		pthread_mutex_unlock(&w->lock);
		if (!seen)
			nanosleep(&ts, NULL);
	}
	return seen;
}

static int
expire_cb(void *arg, const char *sub, const struct storage_txt *txt)
{
	(void)sub;
	*(size_t *)arg += 1 + txt->n * 100;
	return 0;
}

static int
list_count(void *arg, const struct storage_info *info)
{
	(void)info;
	(*(size_t *)arg)++;
	return 0;
}

/* The lifecycle verbs of admin.c: note, list, show, clear, rotate, delete, expiry, watch. */
static int
test_lifecycle_verbs(void)
{
	struct storage *st;
	struct storage_account a, b, got;
	struct storage_info info;
	struct storage_txt now;
	struct watch_seen w;
	char key[STORAGE_KEY_LEN + 1], key2[STORAGE_KEY_LEN + 1], nkey[STORAGE_KEY_LEN + 1];
	char err[256], big[STORAGE_NOTE_MAX + 2];
	size_t n = 0;

	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&w.lock, NULL);
	fresh();
	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	CHECK(storage_watch(st, watch_cb, &w) == 0);
	CHECK(storage_register_note(st, NULL, 0, "team a", &a, key) == 0);
	CHECK(storage_register(st, NULL, 0, &b, key2) == 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(!storage_note_valid(big) && !storage_note_valid("a\nb") && storage_note_valid("é ok"));
	CHECK(storage_register_note(st, NULL, 0, "bad\x01", &got, nkey) == -1);

	CHECK(storage_list(st, list_count, &n) == 0 && n == 2);
	CHECK(storage_info_get(st, a.subdomain, &info) == 0);
	CHECK_STR(info.note, "team a");
	CHECK_STR(info.username, a.username);
	CHECK(info.created > 0 && info.last_update == 0 && info.txt.n == 0);
	CHECK(storage_info_get(st, "00000000-0000-4000-8000-000000000000", &info) == 1);
	CHECK(storage_note_set(st, a.subdomain, "team b") == 0);
	CHECK(storage_info_get(st, a.subdomain, &info) == 0);
	CHECK_STR(info.note, "team b");
	CHECK(storage_note_set(st, "00000000-0000-4000-8000-000000000000", "x") == 1);

	CHECK(storage_txt_set(st, a.subdomain, TXT_A, &now) == 0);
	CHECK(storage_info_get(st, a.subdomain, &info) == 0 && info.txt.n == 1);
	CHECK(info.last_update > 0);
	CHECK(storage_txt_clear(st, a.subdomain) == 0);
	CHECK(watch_wait_values(&w, a.subdomain, 0));
	CHECK(storage_info_get(st, a.subdomain, &info) == 0 && info.txt.n == 0);
	CHECK(storage_txt_set(st, a.subdomain, TXT_B, &now) == 0 && now.n == 1);

	CHECK(storage_key_rotate(st, a.subdomain, nkey) == 0 && strlen(nkey) == STORAGE_KEY_LEN);
	CHECK(storage_auth(st, a.username, key, &got) == STORAGE_AUTH_DENIED);
	CHECK(storage_auth(st, a.username, nkey, &got) == STORAGE_AUTH_OK);
	CHECK(storage_key_rotate(st, "00000000-0000-4000-8000-000000000000", nkey) == 1);

	/* Expiry: nothing is older than an hour ago; everything is older than the future. */
	n = 0;
	CHECK(storage_txt_set(st, b.subdomain, TXT_C, &now) == 0);
	CHECK(storage_txt_expire(st, (long long)time(NULL) - 3600, expire_cb, &n) == 0 && n == 0);
	CHECK(storage_txt_expire(st, (long long)time(NULL) + 10, expire_cb, &n) == 2 && n == 2);
	CHECK(storage_info_get(st, b.subdomain, &info) == 0 && info.txt.n == 0);
	CHECK(storage_txt_expire(st, (long long)time(NULL) + 10, NULL, NULL) == 0);

	CHECK(storage_account_delete(st, a.subdomain) == 0);
	CHECK(watch_wait(&w, a.subdomain, true));
	CHECK(storage_auth(st, a.username, nkey, &got) == STORAGE_AUTH_DENIED);
	CHECK(storage_account_delete(st, a.subdomain) == 1);
	CHECK(storage_txt_clear(st, a.subdomain) == 1);
	n = 0;
	CHECK(storage_list(st, list_count, &n) == 0 && n == 1);
	storage_close(st);
	pthread_mutex_destroy(&w.lock);
	cleanup();
	return 0;
}

static const struct test_case tests[] = {
	{ "register_auth", test_register_auth },
	{ "lifecycle_verbs", test_lifecycle_verbs },
	{ "key_not_stored", test_key_not_stored },
	{ "rotation_2", test_rotation_2 },
	{ "rotation_3", test_rotation_3 },
	{ "foreach", test_foreach },
	{ "reopen", test_reopen },
	{ "unknown_subdomain", test_unknown_subdomain },
	{ "survives_kill9", test_survives_kill9 },
	{ "concurrent_register", test_concurrent_register },
	{ "persist_put_get", test_persist_put_get },
	{ "persist_limit_delete", test_persist_limit_delete },
	{ "persist_reopen", test_persist_reopen },
};

/* SQLite's files, schema and locking. */

/*
 * The index that value expiry reads exists only while txt_expiry is on:
 * every /update would maintain it (about a fifth of /update's throughput).
 */
static int
test_expiry_index(void)
{
	struct storage *st;
	char err[256], v[32];
	const char *q = "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
	    " AND name = 'txt_lastupdate'";

	fresh();
	CHECK((st = open_st(2, err, sizeof(err))) != NULL);
	CHECK(sql_text(q, v, sizeof(v)) == 0 && strcmp(v, "0") == 0);
	CHECK(storage_expiry_index(st, true) == 0);
	CHECK(sql_text(q, v, sizeof(v)) == 0 && strcmp(v, "1") == 0);
	CHECK(storage_expiry_index(st, true) == 0);
	CHECK(storage_expiry_index(st, false) == 0);
	CHECK(sql_text(q, v, sizeof(v)) == 0 && strcmp(v, "0") == 0);
	storage_close(st);
	cleanup();
	return 0;
}

static const struct test_case sqlite_tests[] = {
	{ "acme_dns_db", test_acme_dns_db },
	{ "acme_dns_bad_allowfrom", test_acme_dns_bad_allowfrom },
	{ "migration_idempotent", test_migration_idempotent },
	{ "fresh_schema_is_acme", test_fresh_schema_is_acme },
	{ "bad_files", test_bad_files },
	{ "busy_other_writer", test_busy_other_writer },
	{ "legacy_blob", test_legacy_blob },
	{ "legacy_upgrade_guarded", test_legacy_upgrade_guarded },
	{ "bcrypt_bounded", test_bcrypt_bounded },
	{ "durability_settings", test_durability_settings },
	{ "expiry_index", test_expiry_index },
	{ "wal_shrinks", test_wal_shrinks },
	{ "db_deleted", test_db_deleted },
	{ "wal_deleted", test_wal_deleted },
	{ "db_replaced", test_db_replaced },
	{ "wal_unwritable", test_wal_unwritable },
	{ "full_disk", test_full_disk },
	{ "pg_unreachable", test_pg_unreachable },
};

/* PostgreSQL only: several instances on one database. */
static const struct test_case pg_tests[] = {
	{ "pg_watch_two_handles", test_pg_watch_two_handles },
	{ "pg_persist_watch", test_pg_persist_watch },
	{ "pg_schema", test_pg_schema },
};

/* Run one table, filtered by argv[1]; returns the failures. */
static int
run(const struct test_case *t, size_t n, const char *filter, const char *tag)
{
	int failed = 0, r;

	for (size_t i = 0; i < n; i++) {
		if (filter != NULL && strstr(t[i].name, filter) == NULL)
			continue;
		r = t[i].fn();
		printf("%s - %s%s\n", r == 0 ? "ok" : "FAIL", t[i].name, tag);
		failed += r != 0;
	}
	return failed;
}

int
main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int failed;

	setvbuf(stdout, NULL, _IOLBF, 0);
	pg_admin = getenv("DNS01D_TEST_PG");
	if (pg_admin != NULL && *pg_admin == '\0')
		pg_admin = NULL;
	failed = run(tests, sizeof(tests) / sizeof(tests[0]), filter,
	    pg_admin ? " (postgres)" : "");
	if (pg_admin != NULL)
		failed += run(pg_tests, sizeof(pg_tests) / sizeof(pg_tests[0]), filter, "");
	else
		failed += run(sqlite_tests, sizeof(sqlite_tests) / sizeof(sqlite_tests[0]), filter,
		    "");
	return failed != 0;
}
