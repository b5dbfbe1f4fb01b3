/* storage/health.c -- storage truth: are our writes still reaching the files on disk? */
/* SPDX-License-Identifier: ISC */

/*
 * SQLite keeps its database and -wal files open. If someone deletes or
 * replaces them under the running daemon, every commit still succeeds, into
 * files that no longer have a name: the value is served from memory and
 * lost at the next restart. So the identity (device and inode) of both
 * files is taken at open, and compared with what their paths name now after
 * every commit, before every group-commit fsync, and in the health probe: a
 * stat(2) of each, a few microseconds. Once they differ, storage is broken
 * for good (sticky): every write fails and /health says 503 until the
 * daemon restarts and opens the files that are really there.
 *
 * A write that fails for another reason than a lock (I/O error, full disk,
 * read-only file system) marks storage unhealthy until the next probe, which
 * storage_healthy() then runs at once. The probe is a one-row UPDATE on the
 * writer (it appends a WAL frame, so it needs disk space once the WAL has to
 * grow), at most every STORAGE_PROBE_MS, and never waits: if the writer is
 * busy, the cached answer stands. The free space of the file system (a
 * statvfs(2)) is checked on every call: a WAL that has room inside its
 * current size still takes commits on a full disk, until it must grow.
 */

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "../common/common.h"
#include "internal.h"

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Take the identity of the database and -wal files, just opened by SQLite.
 * Returns 0, or -1 with err (the -wal file must exist: the writer made it).
 */
int
storage_files_init(struct storage *st, char *err, size_t errlen)
{
	struct stat sb;

	if (stat(st->dbpath, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", st->dbpath, strerror(errno));
		return -1;
	}
	st->db_dev = sb.st_dev;
	st->db_ino = sb.st_ino;
	if (stat(st->walpath, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", st->walpath, strerror(errno));
		return -1;
	}
	st->wal_dev = sb.st_dev;
	st->wal_ino = sb.st_ino;
	return 0;
}

/* Is path still the file (dev, ino)? 1 yes, 0 no (gone or another file), -1 unknown. */
static int
same_file(const char *path, dev_t dev, ino_t ino)
{
	struct stat sb;

	if (stat(path, &sb) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	return sb.st_dev == dev && sb.st_ino == ino;
}

/*
 * Check that the database and -wal files at their paths are those SQLite
 * has open. Returns 0, or -1 if not (or stat failed). A mismatch is
 * sticky: it is logged once and storage stays broken.
 */
int
storage_files_ok(struct storage *st)
{
	int a, b;

	if (st->broken)
		return -1;
	a = same_file(st->dbpath, st->db_dev, st->db_ino);
	b = same_file(st->walpath, st->wal_dev, st->wal_ino);
	if (a == 1 && b == 1)
		return 0;
	if (a == 0 || b == 0) {
		if (!atomic_exchange(&st->broken, true))
			log_warnx("storage: %s: the database file%s was deleted or replaced under"
			    " the running daemon; writes now fail and /health is 503 until"
			    " dns01d is restarted", a == 0 ? st->dbpath : st->walpath,
			    a == 0 ? "" : "'s -wal");
	} else {
		log_warn("storage: stat of the database files");
		st->wfailed = true;
	}
	return -1;
}

/* Note a failed write: anything but a lock held elsewhere makes storage suspect. */
void
storage_write_failed(struct storage *st, int sqlite_rc)
{
	int prim = sqlite_rc & 0xff;

	if (prim != SQLITE_BUSY && prim != SQLITE_LOCKED && prim != SQLITE_CONSTRAINT)
		st->wfailed = true;
}

/* Begin a write transaction, unless storage is broken. Call with wlock held. Returns 0 or -1. */
int
storage_begin(struct storage *st, const char *what)
{
	if (st->broken) {
		log_warnx("storage: %s: refused, the database files were deleted or replaced", what);
		return -1;
	}
	return storage_step_done(st, st->w, st->begin, what);
}

/*
 * Commit the writer's transaction, then check that it went to the files
 * that are really there. Call with wlock held. Returns 0, or -1 (the
 * caller rolls back; after a commit into a deleted file there is nothing
 * to roll back, but the value is not durable, so it is not acknowledged).
 */
int
storage_commit(struct storage *st, const char *what)
{
	if (storage_step_done(st, st->w, st->commit, what) == -1)
		return -1;
	return storage_files_ok(st);
}

/*
 * The write probe: one transaction that inserts a row into acmedns and
 * deletes it again (an UPDATE to the same value writes nothing), so a WAL
 * frame is really written. Call with wlock held. True if it succeeded, or
 * met a lock held by another process (not a storage fault).
 */
static bool
probe_write(struct storage *st)
{
	int rc;
	bool ok = false;

	sqlite3_busy_timeout(st->w, 0);
	rc = sqlite3_step(st->begin);
	sqlite3_reset(st->begin);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
		ok = true;
		goto out;
	}
	if (rc != SQLITE_DONE || (rc = sqlite3_step(st->probe)) != SQLITE_DONE ||
	    (sqlite3_reset(st->probe), rc = sqlite3_step(st->unprobe)) != SQLITE_DONE ||
	    (sqlite3_reset(st->unprobe), rc = sqlite3_step(st->commit)) != SQLITE_DONE) {
		log_warnx("storage: health write: %s", sqlite3_errstr(rc));
		goto out;
	}
	ok = storage_files_ok(st) == 0;
out:
	sqlite3_reset(st->probe);
	sqlite3_reset(st->unprobe);
	sqlite3_reset(st->commit);
	storage_abort(st);
	sqlite3_busy_timeout(st->w, (int)st->busy_ms);
	return ok;
}

/* Enough room on the database's file system? */
static bool
space_ok(struct storage *st)
{
	struct statvfs vfs;
	unsigned long long avail;

	if (statvfs(st->dbpath, &vfs) == -1)
		return true;	/* cannot tell: the write probe decides */
	avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	if (avail >= STORAGE_MIN_FREE) {
		st->low_space = false;
		return true;
	}
	if (!atomic_exchange(&st->low_space, true))
		log_warnx("storage: %s: only %llu bytes free (need %d); /health is 503",
		    st->dbpath, avail, STORAGE_MIN_FREE);
	return false;
}

/* A real read on a pooled connection: not blocked by any writer (WAL). */
static bool
probe_read(struct storage *st)
{
	struct storage_reader *r;
	int rc;

	if ((r = storage_rget(st)) == NULL)
		return false;
	rc = sqlite3_step(r->health);
	sqlite3_reset(r->health);
	storage_rput(st, r);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_warnx("storage: health read: %s", sqlite3_errstr(rc));
		return false;
	}
	return true;
}

/* See storage.h. Never waits for the writer. */
bool
storage_healthy(struct storage *st)
{
	int64_t now;
	bool ok;

	if (st != NULL && st->pg != NULL)
		return storage_pg_healthy(st);
	if (st == NULL || st->broken || storage_files_ok(st) == -1 || !space_ok(st) ||
	    !probe_read(st))
		return false;
	pthread_mutex_lock(&st->hlock);
	now = mono_ms();
	if (st->wfailed || st->probe_ms == 0 || now - st->probe_ms >= STORAGE_PROBE_MS) {
		if (pthread_mutex_trylock(&st->wlock) == 0) {
			st->wfailed = false;
			st->probe_ok = probe_write(st);
			st->probe_ms = now;
			pthread_mutex_unlock(&st->wlock);
		} else if (st->wfailed)
			st->probe_ok = false;	/* a write failed; re-probe when the writer is free */
	}
	ok = st->probe_ok;
	pthread_mutex_unlock(&st->hlock);
	return ok && !st->broken;
}

/* CLOCK_MONOTONIC in ns (see internal.h). */
uint64_t
storage_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Account one write in the latency histogram or the errors (see internal.h). */
void
storage_write_done(struct storage *st, uint64_t t0, int rc)
{
	static const double bound[STORAGE_WRITE_BUCKETS] = STORAGE_WRITE_BOUNDS;
	uint64_t ns = storage_now_ns() - t0;
	size_t i;

	if (rc != 0) {
		atomic_fetch_add_explicit(&st->wr_errors, 1, memory_order_relaxed);
		return;
	}
	for (i = 0; i < STORAGE_WRITE_BUCKETS && (double)ns / 1e9 > bound[i]; i++)
		;
	if (i < STORAGE_WRITE_BUCKETS)
		atomic_fetch_add_explicit(&st->wr_bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->wr_ns, ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->wr_count, 1, memory_order_relaxed);
}

/* See storage.h. */
void
storage_stats(struct storage *st, struct storage_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->sync_writer = out->sync_checkpoint = -1;
	if (st == NULL)
		return;
	pthread_mutex_lock(&st->block);
	out->bcrypt_calls = st->bcalls;
	out->bcrypt_busy = st->bbusy;
	out->bcrypt_peak = st->bpeak;
	pthread_mutex_unlock(&st->block);
	out->legacy_left = st->legacy_left;
	out->wal_syncs = st->wal_syncs;
	out->sync_writer = st->sync_w;
	out->sync_checkpoint = st->sync_ck;
	out->wal_limit = st->wal_limit;
	out->writes = atomic_load_explicit(&st->wr_count, memory_order_relaxed);
	out->write_errors = atomic_load_explicit(&st->wr_errors, memory_order_relaxed);
	out->write_ns = atomic_load_explicit(&st->wr_ns, memory_order_relaxed);
	for (size_t i = 0; i < STORAGE_WRITE_BUCKETS; i++)
		out->write_bucket[i] = atomic_load_explicit(&st->wr_bucket[i], memory_order_relaxed);
}
