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

struct storage {
	unsigned txt_values;		/* values kept per account */
	_Atomic unsigned busy_ms;	/* how long a write waits for another process's lock */
	EVP_MD *sha256;			/* fetched once: implicit fetches contend on a lock */

	/* The one writer connection: every write is serialised by wlock. */
	pthread_mutex_t wlock;
	sqlite3 *w;
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *ins_record, *ins_txt;
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

	/* Background checkpoints (sync.c), on a connection of their own. */
	pthread_mutex_t clock;
	pthread_cond_t ccond;
	bool ckpt_wanted;
	bool ckpt_stop;
	bool ckpt_running;
	pthread_t ckpter;
	sqlite3 *ck;
};

/* db.c */
int storage_wlock(struct storage *st);
void storage_wunlock(struct storage *st);
struct storage_reader *storage_rget(struct storage *st);
void storage_rput(struct storage *st, struct storage_reader *r);
int storage_step_done(struct storage *st, sqlite3 *db, sqlite3_stmt *s, const char *what);
void storage_abort(struct storage *st);
int storage_query_int(sqlite3 *db, const char *sql, long long *out, char *err, size_t errlen);

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

#endif
