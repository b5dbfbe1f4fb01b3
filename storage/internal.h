/* storage/internal.h -- storage's private state, shared by the storage/ files only (not a contract) */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01D_STORAGE_INTERNAL_H
#define DNS01D_STORAGE_INTERNAL_H

/*
 * Nothing outside storage/ includes this file: it names SQLite and OpenSSL
 * types, which stop at the module's edge (storage.h is the contract).
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "storage.h"

#define STORAGE_HASH_MAX 128		/* longest Password column value we verify, with NUL */
#define STORAGE_ALLOWFROM_JSON_MAX 8192	/* longest AllowFrom column we parse */

/* A read-only connection with its prepared statements, lent out by the pool. */
struct storage_reader {
	sqlite3 *db;
	sqlite3_stmt *get_account;	/* Password, Subdomain, AllowFrom, Username by Username */
	sqlite3_stmt *health;		/* one row of acmedns */
	struct storage_reader *next;	/* free list link */
};

struct storage_pg;

struct storage {
	unsigned txt_values;		/* values kept per account */
	struct storage_pg *pg;		/* non-NULL: the PostgreSQL backend (pg*.c); the
					 * SQLite connections below are then unused */
	_Atomic unsigned busy_ms;	/* how long a write waits for another process's lock */
	EVP_MD *sha256;			/* fetched once: implicit fetches contend on a lock */

	/* The one writer connection: every write is serialised by wlock. */
	pthread_mutex_t wlock;
	sqlite3 *w;
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *ins_record, *ins_txt;
	sqlite3_stmt *ins_meta;		/* dns01d_accounts: creation time and note */
	sqlite3_stmt *sel_txt, *upd_txt, *prune_txt, *rehash, *has_sub;

	/* Reader pool. */
	pthread_mutex_t rlock;
	pthread_cond_t rcond;
	struct storage_reader readers[STORAGE_READERS];
	struct storage_reader *rfree;

	/* Group commit (sync.c). */
	pthread_mutex_t slock;
	pthread_cond_t scond;		/* wakes the syncer: a ticket was issued, or stop */
	pthread_cond_t dcond;		/* wakes waiters: synced advanced */
	uint64_t tickets;		/* commits that asked to be made durable */
	uint64_t synced;		/* tickets <= synced are on stable storage ... */
	uint64_t failed;		/* ... unless <= failed (that fsync failed) */
	bool sync_stop;
	bool sync_running;
	pthread_t syncer;
	char *walpath;			/* the -wal file the syncer fsyncs */
	char *dbpath;			/* the database file, as SQLite resolved it */
	int walfd;

	/* Storage truth (health.c): are the files we write still the ones on disk? */
	dev_t db_dev, wal_dev;		/* identity of the database and -wal files at open */
	ino_t db_ino, wal_ino;
	_Atomic bool broken;		/* deleted or replaced: sticky until reopened */
	_Atomic bool wfailed;		/* the last write failed (not for a lock): re-probe */
	_Atomic bool low_space;		/* below STORAGE_MIN_FREE (logged once per episode) */
	pthread_mutex_t hlock;		/* guards the probe cache below */
	int64_t probe_ms;		/* monotonic time of the last write probe (0: never) */
	bool probe_ok;
	int sync_w, sync_ck;		/* PRAGMA synchronous read back at open */
	long long wal_limit;		/* PRAGMA journal_size_limit read back at open */
	_Atomic uint64_t wal_syncs;	/* fdatasyncs of the group commit that succeeded */
	sqlite3_stmt *probe, *unprobe;	/* the health write: insert a row, delete it */

	/* Legacy bcrypt (account.c): a semaphore with a bounded queue. */
	pthread_mutex_t block;
	pthread_cond_t bcond;
	unsigned brunning, bwaiting, bpeak;
	uint64_t bcalls, bbusy;
	_Atomic uint64_t legacy_left;	/* bcrypt hashes in records, counted at open */
	char dummy_bcrypt[32];		/* "$2b$NN$" + salt: what denials run while legacy_left */

	/* Write latency and errors for /metrics (health.c: storage_write_done). */
	_Atomic uint64_t wr_count, wr_errors, wr_ns;
	_Atomic uint64_t wr_bucket[STORAGE_WRITE_BUCKETS];

	/* Background checkpoints (sync.c), on a connection of their own. */
	pthread_mutex_t clock;
	pthread_cond_t ccond;
	bool ckpt_wanted;
	bool ckpt_stop;
	bool ckpt_running;
	pthread_t ckpter;
	sqlite3 *ck;

	/* The SQLite change feed (watch.c): a thread on a connection of its own. */
	pthread_mutex_t wclock;		/* guards wstop, wcb, wcbarg */
	pthread_cond_t wccond;		/* wakes the watcher to stop */
	int (*wcb)(void *, const char *, const struct storage_txt *);
	void *wcbarg;
	long long wlast;		/* the last change id applied (read at open) */
	bool wstop;
	bool wrunning;
	pthread_t wthread;
	sqlite3 *wdb;
};

/* db.c */
struct storage *storage_alloc(unsigned txt_values, char *err, size_t errlen);
/* CLOCK_MONOTONIC now, in ns (the start of a write, for storage_write_done). */
uint64_t storage_now_ns(void);
/* Account one write that started at t0 (storage_now_ns) and returned rc (0 or -1). */
void storage_write_done(struct storage *st, uint64_t t0, int rc);
int storage_wlock(struct storage *st);
void storage_wunlock(struct storage *st);
struct storage_reader *storage_rget(struct storage *st);
void storage_rput(struct storage *st, struct storage_reader *r);
int storage_step_done(struct storage *st, sqlite3 *db, sqlite3_stmt *s, const char *what);
void storage_abort(struct storage *st);
int storage_query_int(sqlite3 *db, const char *sql, long long *out, char *err, size_t errlen);

/* admin.c */
int storage_log_change(struct storage *st, const char *sub);
int storage_values(sqlite3 *db, unsigned keep, const char *sub, struct storage_txt *out);

/* watch.c */
int storage_sqlite_watch(struct storage *st,
    int (*cb)(void *arg, const char *subdomain, const struct storage_txt *txt), void *arg);
void storage_watch_stop(struct storage *st);

/* sync.c */
int storage_sync_start(struct storage *st, char *err, size_t errlen);
void storage_sync_stop(struct storage *st);
int storage_sync_wait(struct storage *st);
int storage_wal_hook(void *arg, sqlite3 *db, const char *name, int nframes);

/* account.c */
int storage_hash_key(const struct storage *st, const char *key, char out[STORAGE_HASH_MAX]);
int storage_legacy_init(struct storage *st, char *err, size_t errlen);
/* Decode an AllowFrom column (JSON array) into acct; 0, or -1 to deny (tests/fuzz). */
int storage_allowfrom_decode(const char *text, struct storage_account *acct);

/* health.c */
int storage_files_init(struct storage *st, char *err, size_t errlen);
int storage_files_ok(struct storage *st);
void storage_write_failed(struct storage *st, int sqlite_rc);
int storage_begin(struct storage *st, const char *what);
int storage_commit(struct storage *st, const char *what);

/* rotate.c: the rotation rule, shared by both backends */
struct storage_txt_row {
	long long rowid;
	long long seq;
	char value[STORAGE_TXT_LEN + 1];	/* "" for a placeholder or an unusable value */
};
struct storage_txt_plan {
	long long seq;		/* Seq of the new value */
	long long target;	/* rowid to overwrite, or 0 to insert a row */
};
void storage_txt_plan(const struct storage_txt_row *rows, size_t kept, size_t count,
    long long oldest, unsigned keep, const char *txt, struct storage_txt_plan *plan,
    struct storage_txt *now);

/* The kinds of change rows (dns01d_changes.Kind): what the watcher re-reads. */
#define PG_CHANGE_TXT 0			/* the subdomain's TXT values */
#define PG_CHANGE_PERSIST 1		/* its persistent validation records */

/* Advisory lock taken before a change row is added, held to the commit: ids commit in order. */
#define STORAGE_PG_LOCK_CHANGES 0x646e7330316368LL	/* "dns01ch" */

/* The PostgreSQL backend's state (pg.c). Slots are the request pool. */
struct pg_slot {
	PGconn *conn;			/* NULL until first used, or after it broke */
	unsigned gen;			/* pg->gen when connected: older ones are dropped */
	bool busy;
};

struct storage_pg {
	char *conninfo;			/* as configured: may hold a password, never logged */
	char name[160];			/* loggable: postgres://user@host:port/db */
	unsigned txt_values;
	_Atomic bool up;		/* the server answered lately (else fail fast) */
	_Atomic unsigned gen;		/* bumped by each reconnect of the watcher */
	pthread_mutex_t lock;		/* guards slots[].busy */
	pthread_cond_t cond;
	struct pg_slot slots[STORAGE_PG_CONNS];

	/* The watcher (pg_watch.c). */
	pthread_mutex_t wlock;		/* guards cb, cbarg, mark, sweep, markarg */
	pthread_cond_t wcond;
	int (*cb)(void *, const char *, const struct storage_txt *);
	void *cbarg;
	storage_persist_cb pcb;		/* guarded by wlock too (storage_persist_watch) */
	void *pcbarg;
	void (*mark)(void *);		/* storage_watch_reload: around a full reload */
	void (*sweep)(void *);
	void *markarg;
	PGconn *listen;			/* the watcher's own connection */
	long long last;			/* the last change id applied */
	int wake[2];			/* a pipe: wakes the watcher's poll */
	pthread_t wthread;
	bool wrunning;
	_Atomic bool wstop;
};

/* pg.c */
int64_t pg_now_ms(void);
PGconn *pg_connect(const char *conninfo, int timeout_ms, char *err, size_t errlen);
PGresult *pg_query(PGconn *c, int64_t deadline, bool *broken, const char *sql, int n,
    const char *const *params);
bool pg_ok(const PGresult *res, const char *what);
int pg_exec(PGconn *c, int64_t deadline, bool *broken, const char *what, const char *sql,
    int n, const char *const *params);
int pg_query_int(PGconn *c, int64_t deadline, bool *broken, const char *sql, int n,
    const char *const *params, long long *out);
void pg_down(struct storage_pg *pg);
struct pg_slot *pg_acquire(struct storage_pg *pg, int64_t deadline);
void pg_release(struct storage_pg *pg, struct pg_slot *s, bool broken);
int storage_pg_open(struct storage *st, const char *conninfo, char *err, size_t errlen);
void storage_pg_close(struct storage *st);
bool storage_pg_healthy(struct storage *st);
void storage_pg_redact(const char *conninfo, char *out, size_t outlen);

/* pg_data.c */
int pg_log_change(PGconn *c, int64_t deadline, bool *broken, const char *sub, int kind);
int storage_pg_insert_account(struct storage *st, const char *user, const char *hash,
    const char *sub, const char *json, const char *note);
int storage_pg_lookup(struct storage *st, const char *username, char hash[STORAGE_HASH_MAX],
    struct storage_account *out, char **allow);
int storage_pg_rehash(struct storage *st, const char *user, const char *old, const char *hash);
int storage_pg_legacy_count(struct storage *st, long long *count, long long *cost);
int storage_pg_txt_set(struct storage *st, const char *sub, const char *txt,
    struct storage_txt *now);
int pg_values(struct storage_pg *pg, PGconn *c, int64_t deadline, bool *broken,
    const char *sub, struct storage_txt *out);
int pg_emit_all(struct storage_pg *pg, const PGresult *res,
    int (*cb)(void *, const char *, const struct storage_txt *), void *arg);
int storage_pg_foreach(struct storage *st,
    int (*cb)(void *arg, const char *subdomain, const struct storage_txt *txt), void *arg);

/* pg_persist.c */
enum storage_persist_result storage_pg_persist_change(struct storage *st, const char *sub,
    const char *issuer, const char *value, struct storage_persist_set *now);
int storage_pg_persist_get(struct storage *st, const char *sub, struct storage_persist_set *out);
int storage_pg_persist_foreach(struct storage *st, storage_persist_cb cb, void *arg);
int pg_persist_read(PGconn *c, int64_t deadline, bool *broken, const char *sub,
    struct storage_persist_set *out);
int pg_persist_reload(PGconn *c, int64_t deadline, bool *broken, storage_persist_cb cb,
    void *arg);
int storage_pg_persist_watch(struct storage *st, storage_persist_cb cb, void *arg);
/* pg_admin.c */
int storage_pg_list(struct storage *st, int (*cb)(void *, const struct storage_info *),
    void *arg);
int storage_pg_info_get(struct storage *st, const char *sub, struct storage_info *out);
int storage_pg_delete(struct storage *st, const char *sub);
int storage_pg_clear(struct storage *st, const char *sub);
int storage_pg_note_set(struct storage *st, const char *sub, const char *note);
int storage_pg_password_set(struct storage *st, const char *sub, const char *hash);
int storage_pg_expire(struct storage *st, long long before,
    int (*cb)(void *, const char *, const struct storage_txt *), void *arg);

/* pg_watch.c */
void pg_watch_wake(struct storage_pg *pg);
int pg_watch_start(struct storage_pg *pg, char *err, size_t errlen);
void pg_watch_stop(struct storage_pg *pg);
int storage_pg_watch(struct storage *st,
    int (*cb)(void *arg, const char *subdomain, const struct storage_txt *txt), void *arg);

#endif
