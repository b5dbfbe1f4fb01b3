/* storage/storage.h -- accounts and TXT values in SQLite; the only code that speaks SQL */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01D_STORAGE_H
#define DNS01D_STORAGE_H

#include <stdbool.h>
#include <stddef.h>

#define STORAGE_ID_LEN 36		/* username and subdomain: UUID v4 */
#define STORAGE_KEY_LEN 40		/* API key (password) length */
#define STORAGE_TXT_LEN 43		/* base64url SHA-256 */
#define STORAGE_MAX_TXT 16		/* most values kept per account (config api.txt_values) */
#define STORAGE_MAX_ALLOWFROM 64	/* most allowfrom CIDRs per account */
#define STORAGE_CIDR_LEN 64		/* longest CIDR text kept, with NUL */
#define STORAGE_SCHEMA_VERSION 1	/* PRAGMA user_version once migrated (acme-dns's is 0) */
#define STORAGE_READERS 4		/* pooled read connections (auth, health, foreach) */
#define STORAGE_BUSY_MS 3000		/* default wait for another process's lock, then fail */
#define STORAGE_CKPT_FRAMES 1000	/* WAL frames that trigger a background checkpoint */
#define STORAGE_CKPT_RESTART 16		/* WAL past this many times CKPT_FRAMES: force a restart */
#define STORAGE_SALT_LEN 16		/* random bytes of salt per fast key hash */
#define STORAGE_BCRYPT_MAX_COST 16	/* legacy bcrypt hashes above this cost are refused */

struct storage;

/* One account as the API sees it. Plain data; no pointers. */
struct storage_account {
	char username[STORAGE_ID_LEN + 1];
	char subdomain[STORAGE_ID_LEN + 1];
	char allowfrom[STORAGE_MAX_ALLOWFROM][STORAGE_CIDR_LEN];	/* as registered */
	size_t nallowfrom;
};

/* The values published for one subdomain, newest first. */
struct storage_txt {
	char values[STORAGE_MAX_TXT][STORAGE_TXT_LEN + 1];
	size_t n;
};

/* Result of storage_auth(). */
enum storage_auth_result {
	STORAGE_AUTH_OK = 0,
	STORAGE_AUTH_DENIED = 1,	/* unknown user or wrong key: same cost either way */
	STORAGE_AUTH_ERROR = -1,	/* the database failed */
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
 * Check username and key. The work done is the same whether or not the user
 * exists, and the hash comparison is constant-time. A legacy bcrypt hash that
 * verifies is rehashed to the fast hash. On STORAGE_AUTH_OK, *out is filled.
 */
enum storage_auth_result storage_auth(struct storage *st, const char *username,
    const char *key, struct storage_account *out);

/*
 * Publish txt for subdomain: it becomes the newest value, and the oldest is
 * dropped once the account holds txt_values values (order is kept even within
 * the same second). *now receives the values now current, newest first. The
 * write is committed (it survives kill -9 of the process) when this returns 0.
 * Returns 0, or -1 on a database error.
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

/* True if the database answers a read right now (for /health). */
bool storage_healthy(struct storage *st);

/*
 * How long a call waits, in milliseconds, for a lock held by another process
 * (or for a pooled connection) before it fails with -1 (default
 * STORAGE_BUSY_MS). Takes effect on every connection; for tests and tuning.
 */
void storage_set_busy_timeout(struct storage *st, unsigned ms);

#endif
