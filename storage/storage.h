/* storage/storage.h -- accounts and TXT values in SQLite; the only code that speaks SQL */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01D_STORAGE_H
#define DNS01D_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORAGE_ID_LEN 36		/* username and subdomain: UUID v4 */
#define STORAGE_KEY_LEN 40		/* API key (password) length */
#define STORAGE_TXT_LEN 43		/* base64url SHA-256 */
#define STORAGE_MAX_TXT 16		/* most values kept per account (config api.txt_values) */
#define STORAGE_MAX_ALLOWFROM 64	/* most allowfrom CIDRs per account */
#define STORAGE_CIDR_LEN 64		/* longest CIDR text kept, with NUL */
#define STORAGE_SCHEMA_VERSION 3	/* PRAGMA user_version once migrated (acme-dns's is 0) */
#define STORAGE_PERSIST_MAX 8		/* persistent validation records per account (one per issuer) */
#define STORAGE_PERSIST_LEN 1024	/* bytes of one record's value (an RFC 8659 issue-value) */
#define STORAGE_ISSUER_LEN 253		/* bytes of an issuer domain name (RFC 1035 §2.3.4, text) */
#define STORAGE_READERS 4		/* pooled read connections (auth, health, foreach) */
#define STORAGE_BUSY_MS 3000		/* default wait for another process's lock, then fail */
#define STORAGE_CKPT_FRAMES 64		/* WAL frames that trigger a background checkpoint
					 * (small and often: see sync.c, "Checkpoints") */
#define STORAGE_CKPT_RESTART 16		/* WAL past this many times CKPT_FRAMES: force a restart */
#define STORAGE_SALT_LEN 16		/* random bytes of salt per fast key hash */
#define STORAGE_BCRYPT_MAX_COST 16	/* legacy bcrypt hashes above this cost are refused */
#define STORAGE_BCRYPT_SLOTS 1		/* bcrypt computations running at once (one API thread) */
#define STORAGE_BCRYPT_QUEUE 0		/* checks that may wait for a slot; more get
					 * STORAGE_AUTH_BUSY at once. 0: a waiter would
					 * hold an API worker thread (2 by default) */
#define STORAGE_BCRYPT_RETRY 1		/* seconds a caller refused with STORAGE_AUTH_BUSY should wait */
#define STORAGE_LEGACY_HASH_MAX 64	/* longest legacy (bcrypt, 60 chars) hash kept, with NUL */
#define STORAGE_WAL_LIMIT (8 * 1024 * 1024)	/* journal_size_limit: bytes the -wal file is cut
					 * back to once a checkpoint lets it start over (a
					 * normal WAL peaks near CKPT_FRAMES pages) */
#define STORAGE_PROBE_MS 1000		/* storage_healthy() writes at most this often (both
					 * backends); the last result is cached in between */
#define STORAGE_MIN_FREE (1024 * 1024)	/* bytes free on the database's file system below
					 * which storage is unhealthy (a full disk) */

/* PostgreSQL (storage_open_engine with STORAGE_POSTGRES). */
#define STORAGE_PG_SCHEMA_VERSION 3	/* acmedns row 'dns01d_version' once migrated */
#define STORAGE_PG_CONNS 4		/* pooled connections for API requests */
#define STORAGE_PG_OP_MS 900		/* deadline of one request's work (then 503) */
#define STORAGE_PG_CONNECT_MS 3000	/* deadline of a connection at open or reconnect */
#define STORAGE_PG_MIGRATE_MS 60000	/* deadline of the schema migration at open */
#define STORAGE_PG_LOAD_MS 60000	/* deadline of a full load (storage_foreach, copy) */
#define STORAGE_PG_CATCHUP_MS 1000	/* change-log catch-up period, notifications or not */
#define STORAGE_PG_BATCH 500		/* change rows read per catch-up query */
#define STORAGE_PG_KEEP_S 86400		/* change rows are kept this long (seconds) ... */
#define STORAGE_PG_PRUNE_S 600		/* ... and pruned this often by each instance */
#define STORAGE_PG_BACKOFF_MIN_MS 100	/* first reconnect delay after the server is lost */
#define STORAGE_PG_BACKOFF_MAX_MS 2000	/* reconnect delay cap (doubles up to it) */
#define STORAGE_PG_CHANNEL "dns01d_changes"	/* LISTEN/NOTIFY channel */
#define STORAGE_DESCRIBE_LEN 160	/* room for storage_describe() */

/* Account administration and the SQLite change feed (admin.c, watch.c). */
#define STORAGE_NOTE_MAX 256		/* bytes of an account's note (UTF-8, no control chars) */
#define STORAGE_WATCH_MS 200		/* SQLite: the watcher polls PRAGMA data_version this often */
#define STORAGE_WATCH_BATCH 500		/* change rows read per poll (SQLite) */
#define STORAGE_CHANGES_KEEP_S 86400	/* SQLite change rows older than this are pruned on write */
#define STORAGE_EXPIRE_BATCH 256	/* subdomains storage_txt_expire() handles per call */

/* Which database holds the accounts. */
enum storage_engine {
	STORAGE_SQLITE = 0,	/* a file; one dns01d process */
	STORAGE_POSTGRES = 1,	/* a server; any number of dns01d instances */
};

struct storage;

/* One account as the API sees it. Plain data; no pointers. */
struct storage_account {
	char username[STORAGE_ID_LEN + 1];
	char subdomain[STORAGE_ID_LEN + 1];
	char allowfrom[STORAGE_MAX_ALLOWFROM][STORAGE_CIDR_LEN];	/* as registered */
	size_t nallowfrom;
	/*
	 * Set by storage_auth() when the key matched a legacy (acme-dns bcrypt)
	 * hash, which is copied here (a hash, not a secret). Once the caller has
	 * authorised the request (allowfrom), storage_key_upgrade() replaces it.
	 */
	bool legacy;
	char legacy_hash[STORAGE_LEGACY_HASH_MAX];
};

/* The values published for one subdomain, newest first. */
struct storage_txt {
	char values[STORAGE_MAX_TXT][STORAGE_TXT_LEN + 1];
	size_t n;
};

/* One persistent validation record (dns-persist-01): the issue-value, keyed by issuer. */
struct storage_persist {
	char issuer[STORAGE_ISSUER_LEN + 1];	/* lower case: the record's key */
	char value[STORAGE_PERSIST_LEN + 1];	/* the whole value as published */
	long long updated;			/* Unix time of the last write */
};

/* An account's persistent validation records, ordered by issuer. */
struct storage_persist_set {
	struct storage_persist rec[STORAGE_PERSIST_MAX];
	size_t n;
};

/* Result of storage_persist_put() and storage_persist_delete(). */
enum storage_persist_result {
	STORAGE_PERSIST_OK = 0,
	STORAGE_PERSIST_FULL = 1,	/* a new issuer, but STORAGE_PERSIST_MAX are kept already */
	STORAGE_PERSIST_NONE = 2,	/* delete: the account has no record for that issuer */
	STORAGE_PERSIST_ERROR = -1,	/* the database failed (or no such account) */
};

/* Called with one account's records (storage_persist_foreach, storage_persist_watch). */
typedef int (*storage_persist_cb)(void *arg, const char *subdomain,
    const struct storage_persist_set *set);

/* Result of storage_auth(). */
enum storage_auth_result {
	STORAGE_AUTH_OK = 0,
	STORAGE_AUTH_DENIED = 1,	/* unknown user or wrong key: same cost either way */
	STORAGE_AUTH_BUSY = 2,		/* a bcrypt check was needed but STORAGE_BCRYPT_QUEUE
					 * others already wait: retry after STORAGE_BCRYPT_RETRY s */
	STORAGE_AUTH_ERROR = -1,	/* the database failed */
};

#define STORAGE_WRITE_BUCKETS 10	/* buckets of the write latency histogram (/metrics) */
/* Their upper bounds in seconds (Prometheus "le"); a slower write is only in the count. */
#define STORAGE_WRITE_BOUNDS { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0 }
/* One account as an operator sees it (storage_list, storage_info_get). No secrets. */
struct storage_info {
	char username[STORAGE_ID_LEN + 1];
	char subdomain[STORAGE_ID_LEN + 1];
	char allowfrom[STORAGE_MAX_ALLOWFROM][STORAGE_CIDR_LEN];	/* as registered */
	size_t nallowfrom;
	long long created;		/* Unix time; 0: unknown (an acme-dns account) */
	long long last_update;		/* newest value's Unix time; 0: never updated */
	char note[STORAGE_NOTE_MAX + 1];	/* "" when none */
	struct storage_txt txt;		/* current values (storage_info_get only) */
};

/* Counters and settings read back, for tests and monitoring (storage_stats()). */
struct storage_stats {
	/* Committed writes (storage_register, storage_txt_set), from the call to its
	   return: the commit and its shared fsync included. */
	uint64_t writes;		/* writes that succeeded */
	uint64_t write_errors;		/* writes that returned -1 */
	uint64_t write_ns;		/* total time of the successful writes, ns */
	uint64_t write_bucket[STORAGE_WRITE_BUCKETS];	/* successful writes per bucket (not
						 * cumulative: at most that bound, above the last) */
	uint64_t bcrypt_calls;		/* bcrypt computations run, real or dummy */
	uint64_t bcrypt_busy;		/* checks refused with STORAGE_AUTH_BUSY */
	unsigned bcrypt_peak;		/* most bcrypt computations ever running at once */
	uint64_t legacy_left;		/* legacy hashes not yet upgraded (counted at open) */
	uint64_t wal_syncs;		/* group-commit fdatasyncs that succeeded */
	int sync_writer;		/* commit durability of the writer connection and */
	int sync_checkpoint;		/* of the checkpoint connection, read back at open:
					 * 0 off, 1 normal, 2 full, 3 extra; -1 unknown */
	long long wal_limit;		/* the journal size limit in force on the writer, bytes */
};

/*
 * Open (creating if needed) the SQLite database at path, in WAL mode, and
 * migrate its schema to the current version. An acme-dns database (tables
 * records, txt, acmedns) is opened in place and keeps working: its accounts'
 * bcrypt "$2a$" hashes still verify. txt_values is how many values each
 * account keeps (1..STORAGE_MAX_TXT). Returns NULL with a one-line reason in
 * err. Thread-safe: any thread may call any function below at once.
 */
struct storage *storage_open(const char *path, unsigned txt_values, char *err, size_t errlen);
/*
 * Open the database of engine: for STORAGE_SQLITE, storage_open(connection);
 * for STORAGE_POSTGRES, connection is a libpq URI or key=value string (as
 * acme-dns takes): connect, create acme-dns's tables if missing (an
 * acme-dns database opens in place), migrate dns01d's additions, and start
 * the change-feed thread (storage_watch). Returns NULL with a one-line
 * reason in err, which never holds the connection string.
 */
struct storage *storage_open_engine(enum storage_engine engine, const char *connection,
    unsigned txt_values, char *err, size_t errlen);

/*
 * A loggable name for a connection (for PostgreSQL: user, host, port and
 * database, never the password) in out[STORAGE_DESCRIBE_LEN].
 */
void storage_describe(enum storage_engine engine, const char *connection, char *out,
    size_t outlen);

/* Close the database, finishing queued writes first. Accepts NULL. */
void storage_close(struct storage *st);

/*
 * Create an account with a fresh username, subdomain and key. allowfrom holds
 * n CIDR strings already validated by the caller. The key is written to
 * key[STORAGE_KEY_LEN + 1] and stored only as a salted hash. The account is
 * on disk and fsync'd (power-loss safe) when this returns 0; concurrent
 * registrations share one fsync (group commit). Returns 0 or -1.
 */
int storage_register(struct storage *st, const char *const *allowfrom, size_t n,
    struct storage_account *out, char key[STORAGE_KEY_LEN + 1]);

/*
 * storage_register, with an operator's note stored alongside (NULL or ""
 * for none; it must pass storage_note_valid). Also records the creation
 * time. Returns 0 or -1.
 */
int storage_register_note(struct storage *st, const char *const *allowfrom, size_t n,
    const char *note, struct storage_account *out, char key[STORAGE_KEY_LEN + 1]);

/* True if note can be stored: at most STORAGE_NOTE_MAX bytes of UTF-8, no control characters. */
bool storage_note_valid(const char *note);

/*
 * Call cb once per account, oldest first, with its details (txt left
 * empty). Stops and returns -1 if cb returns non-zero or the database
 * fails; 0 otherwise.
 */
int storage_list(struct storage *st, int (*cb)(void *arg, const struct storage_info *info),
    void *arg);

/* The account of subdomain with its current values. 0, 1 if there is none, -1 on error. */
int storage_info_get(struct storage *st, const char *subdomain, struct storage_info *out);

/*
 * The write verbs below change one account named by its subdomain. Each is
 * one committed transaction that also appends to the change log, so a
 * running daemon (this process or another, on SQLite or PostgreSQL) applies
 * it to DNS through storage_watch within about a second. Each returns 0, 1
 * if there is no such account, or -1 on a database error.
 */
/* Deregister: the account row and its values go; its key stops working. */
int storage_account_delete(struct storage *st, const char *subdomain);
/* Drop every value of the account (the name stays: NODATA). */
int storage_txt_clear(struct storage *st, const char *subdomain);
/* Replace the account's note (validated with storage_note_valid; "" clears it). */
int storage_note_set(struct storage *st, const char *subdomain, const char *note);
/* A fresh key for the account, written to key[STORAGE_KEY_LEN + 1]; the old one stops working. */
int storage_key_rotate(struct storage *st, const char *subdomain, char key[STORAGE_KEY_LEN + 1]);

/*
 * Value expiry ([general] txt_expiry): drop the values published before
 * Unix time before, for at most STORAGE_EXPIRE_BATCH subdomains, logging
 * each change. cb (may be NULL) gets each affected subdomain's values
 * now. Returns how many subdomains changed (call again while it returns
 * STORAGE_EXPIRE_BATCH), or -1 on a database error.
 */
int storage_txt_expire(struct storage *st, long long before,
    int (*cb)(void *arg, const char *subdomain, const struct storage_txt *txt), void *arg);
/*
 * The index on txt(LastUpdate) that storage_txt_expire() reads: made when
 * on (txt_expiry > 0), dropped when off, since every update pays for it.
 * SQLite only; PostgreSQL keeps the one its migration made (other
 * instances may expire). Returns 0 or -1.
 */
int storage_expiry_index(struct storage *st, bool on);

/*
 * Check username and key. The hash comparison is constant-time, and a
 * denial costs the same whatever its cause: while the database still holds
 * legacy bcrypt hashes, every denial (unknown user, wrong key on any
 * account) runs exactly one bcrypt, real or dummy; once none is left, none
 * does. A correct key on a fast-hash account never runs bcrypt. At most
 * STORAGE_BCRYPT_SLOTS bcrypt computations run at once, STORAGE_BCRYPT_QUEUE
 * more wait, and any further one returns STORAGE_AUTH_BUSY at once. On
 * STORAGE_AUTH_OK, *out is filled; out->legacy says the key matched a legacy
 * hash, which this function never rewrites itself.
 */
enum storage_auth_result storage_auth(struct storage *st, const char *username,
    const char *key, struct storage_account *out);

/*
 * Replace the legacy hash that storage_auth() verified for acct (acct->legacy)
 * by the fast hash of key, in the same row, unless the row has changed since.
 * Call only once the request is authorised. Logs "upgraded" only when a row
 * really changed. Returns 1 if upgraded, 0 if there was nothing to do, -1 on
 * a database error (the old hash keeps working: it only costs speed).
 */
int storage_key_upgrade(struct storage *st, const struct storage_account *acct,
    const char *key);

/*
 * Publish txt for subdomain: it becomes the newest value, and the oldest is
 * dropped once the account holds txt_values values (order is kept even within
 * the same second). *now receives the values now current, newest first. The
 * write is committed (it survives kill -9 of the process) when this returns 0,
 * into the database files that are really at the path: if they were deleted or
 * replaced under us, or the write failed, it returns -1 and the value must not
 * be acknowledged or published. Returns 0, or -1 on a database error.
 */
int storage_txt_set(struct storage *st, const char *subdomain, const char *txt,
    struct storage_txt *now);

/*
 * Call cb once for every account's subdomain with its current values (n may be
 * 0 for an account that never published). Used at start-up to fill dnsd's
 * memory. Stops and returns -1 if cb returns non-zero or the database fails;
 * returns 0 otherwise.
 */
int storage_foreach(struct storage *st,
    int (*cb)(void *arg, const char *subdomain, const struct storage_txt *txt), void *arg);

/*
 * Call cb (from a storage thread) for each subdomain whose values another
 * instance or process (or this one) committed since storage_open_engine,
 * with its values now, or txt == NULL when its account no longer exists
 * (deleted): changes arrive within about a second (PostgreSQL
 * LISTEN/NOTIFY, with a catch-up by change id every STORAGE_PG_CATCHUP_MS
 * and after a reconnect; SQLite: PRAGMA data_version polled every
 * STORAGE_WATCH_MS, then the change log read by id). On SQLite only the
 * verbs that log changes (the admin verbs, expiry) are fed; this process's
 * own /register and /update are published by their caller. cb's return
 * value is ignored. Returns 0 or -1.
 */
int storage_watch(struct storage *st,
    int (*cb)(void *arg, const char *subdomain, const struct storage_txt *txt), void *arg);

/*
 * With storage_watch on PostgreSQL: when the change log has a gap (its rows
 * were pruned after STORAGE_PG_KEEP_S while this instance could not read
 * them), the feed hands every account to cb again instead, and an account
 * deleted in the gap has no row left to say so. So mark(arg) is called
 * before such a full reload's first cb, and sweep(arg) after its last one
 * (not when the reload failed part way): a name that cb did not get in
 * between no longer has an account. Never called on SQLite, whose feed
 * has no gap. Returns 0 or -1.
 */
int storage_watch_reload(struct storage *st, void (*mark)(void *arg), void (*sweep)(void *arg),
    void *arg);

/*
 * False while the database server is known to be unreachable: a write
 * that failed then means "unavailable" (HTTP 503), not a database error.
 * Always true for SQLite. Never blocks.
 */
bool storage_available(struct storage *st);

/*
 * Copy every account (its key hash as stored, so keys keep working) and
 * its values from an SQLite database into a PostgreSQL one, in one
 * transaction. Accounts whose username already exists in to are skipped.
 * *copied gets the number of accounts copied. Returns 0 or -1 with err.
 */
int storage_copy(struct storage *from, struct storage *to, size_t *copied, char *err,
    size_t errlen);

/*
 * True if storage can keep its promises right now (for /health): the
 * database and -wal files are still the ones open (not deleted or
 * replaced), the last write did not fail, the file system has
 * STORAGE_MIN_FREE bytes free, and a read and a small write succeed (the
 * write at most every STORAGE_PROBE_MS; a lock held by another process is
 * not a failure). A deleted or replaced database stays unhealthy, and every
 * write fails, until the daemon reopens it (restart). For PostgreSQL: the
 * server answers a read within STORAGE_PG_OP_MS, and a small write (at
 * most every STORAGE_PROBE_MS, cached in between) succeeds.
 */
bool storage_healthy(struct storage *st);

/*
 * Persistent validation records (storage/persist.c, storage/pg_persist.c).
 * They live in a table of their own, apart from the TXT values: /update
 * never rotates them out. Every write is committed (as storage_txt_set) and,
 * on PostgreSQL, goes through the change feed like a TXT value.
 *
 * Store value as subdomain's record for issuer (lower-case domain name),
 * replacing the record of the same issuer. The caller checked the syntax.
 * *now gets the account's records afterwards. Returns STORAGE_PERSIST_OK,
 * STORAGE_PERSIST_FULL (a new issuer beyond STORAGE_PERSIST_MAX; nothing
 * written) or STORAGE_PERSIST_ERROR.
 */
enum storage_persist_result storage_persist_put(struct storage *st, const char *subdomain,
    const char *issuer, const char *value, struct storage_persist_set *now);
/* Remove subdomain's record for issuer: OK, NONE (there was none) or ERROR. *now as above. */
enum storage_persist_result storage_persist_delete(struct storage *st, const char *subdomain,
    const char *issuer, struct storage_persist_set *now);
/* subdomain's records into *out. Returns 0 or -1. */
int storage_persist_get(struct storage *st, const char *subdomain,
    struct storage_persist_set *out);
/*
 * Call cb for every account that has records (at start-up, to fill DNS
 * memory). Stops and returns -1 if cb returns non-zero or the database
 * fails; 0 otherwise.
 */
int storage_persist_foreach(struct storage *st, storage_persist_cb cb, void *arg);
/*
 * Like storage_watch, for records: cb gets a subdomain's records each time
 * any instance changed them (PostgreSQL); a no-op for SQLite. 0 or -1.
 */
int storage_persist_watch(struct storage *st, storage_persist_cb cb, void *arg);

/* Fill *out with the counters and settings above. */
void storage_stats(struct storage *st, struct storage_stats *out);

/*
 * How long a call waits, in milliseconds, for a lock held by another process
 * (or for a pooled connection) before it fails with -1 (default
 * STORAGE_BUSY_MS). Takes effect on every connection; for tests and tuning.
 */
void storage_set_busy_timeout(struct storage *st, unsigned ms);

#endif
