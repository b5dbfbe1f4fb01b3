/* storage/sync.c -- group commit for registrations, and checkpoints off the write path */
/* SPDX-License-Identifier: ISC */

/*
 * Group commit. Every write commits on the writer connection with
 * synchronous=NORMAL: COMMIT appends the transaction to the -wal file with
 * write(2) and returns, so it survives kill -9 (the data is in the OS page
 * cache) but not yet power loss. That is the promise of storage_txt_set().
 *
 * storage_register() promises more: power-loss safety. After its COMMIT it
 * releases the writer (so /update keeps flowing) and calls
 * storage_sync_wait(), which takes a ticket (a counter bumped after the
 * commit returned) and sleeps until the syncer thread has fdatasync'd the
 * -wal file past that ticket. The syncer reads the newest ticket, runs one
 * fdatasync(2), and marks every ticket up to it as synced: each of those
 * commits had finished its write(2) before the ticket was taken, so the one
 * fsync covers them all. Registrations that arrive while an fsync runs are
 * covered by the next one, so N concurrent registrations cost about one
 * fsync, not N.
 *
 * Why fsyncing the -wal file alone is enough: a committed transaction lives
 * either in the WAL, or, once a checkpoint has copied it, in the database
 * file. SQLite (synchronous=NORMAL) fsyncs the WAL before a checkpoint and
 * the database file after it, and only then may a writer start the WAL over
 * from its beginning. So a frame is durable once its WAL is fsync'd, or it
 * was checkpointed and fsync'd by SQLite. If the database or -wal file at
 * its path is no longer the one SQLite has open (deleted or replaced under
 * us, see health.c), the sync fails: the commit is not durable.
 *
 * Checkpoints. Our WAL hook replaces SQLite's auto-checkpoint, which would
 * run inside some unlucky /update's COMMIT (copy plus two fsyncs: a p99
 * spike). Instead, when the WAL passes STORAGE_CKPT_FRAMES the hook wakes a
 * checkpoint thread, which runs a PASSIVE checkpoint on its own connection:
 * it never blocks the writer or readers. Only if the WAL keeps growing past
 * STORAGE_CKPT_RESTART times that (readers always overlapping) does it ask
 * for a RESTART checkpoint, which briefly waits for the writer.
 *
 * Small and often: a checkpoint fsyncs the WAL, and while the disk takes
 * that flush the writer's next write(2) to the WAL can wait for it (the
 * filesystem's journal, pages under writeback). The wait grows with the
 * dirty WAL data the fsync has to flush, so checkpoints come after
 * STORAGE_CKPT_FRAMES (64) frames, at most every SYNC_CKPT_PAUSE_MS (5):
 * /update's p99 under saturation fell from 35-44 ms (1000 frames, 100 ms)
 * to about 3 ms on an ext4 VM disk, at the same req/s; 10,000 frames made
 * it 150 ms. On tmpfs, with no real fsync, it is 0.5 ms either way.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/common.h"
#include "internal.h"

#define SYNC_CKPT_PAUSE_MS 5	/* least time between two checkpoints (ms) */

/* Sync the -wal file (reopening it if replaced), or the database if none. Returns 0 or -1. */
static int
sync_wal(struct storage *st)
{
	struct stat a, b;
	int fd;

	/* A deleted or replaced file: syncing the path would sync someone else's data. */
	if (storage_files_ok(st) == -1)
		return -1;
	if (st->walfd != -1 && (stat(st->walpath, &a) == -1 || fstat(st->walfd, &b) == -1 ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
		close(st->walfd);
		st->walfd = -1;
	}
	if (st->walfd == -1)
		st->walfd = open(st->walpath, O_RDONLY | O_CLOEXEC);
	if (st->walfd != -1) {
		if (fdatasync(st->walfd) == -1) {
			log_warn("%s: fdatasync", st->walpath);
			return -1;
		}
		return 0;
	}
	/* No WAL file: every commit is in the database file. */
	if ((fd = open(st->dbpath, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s: open", st->dbpath);
		return -1;
	}
	if (fdatasync(fd) == -1) {
		log_warn("%s: fdatasync", st->dbpath);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The syncer thread: one fdatasync per batch of tickets, until stopped and drained. */
static void *
syncer(void *arg)
{
	struct storage *st = arg;
	uint64_t target;
	int r;

	pthread_mutex_lock(&st->slock);
	for (;;) {
		while (st->synced == st->tickets && !st->sync_stop)
			pthread_cond_wait(&st->scond, &st->slock);
		if (st->synced == st->tickets)
			break;	/* stopping, and nothing is waiting */
		target = st->tickets;
		pthread_mutex_unlock(&st->slock);
		r = sync_wal(st);
		pthread_mutex_lock(&st->slock);
		if (r == -1)
			st->failed = target;
		else
			st->wal_syncs++;
		st->synced = target;
		pthread_cond_broadcast(&st->dcond);
	}
	pthread_mutex_unlock(&st->slock);
	return NULL;
}

/*
 * Wait until everything this thread committed so far is on stable storage.
 * Call after COMMIT, without holding the writer. Returns 0, or -1 if the
 * fsync failed (the data may not survive power loss).
 */
int
storage_sync_wait(struct storage *st)
{
	uint64_t ticket;
	int rc;

	pthread_mutex_lock(&st->slock);
	ticket = ++st->tickets;
	pthread_cond_signal(&st->scond);
	while (st->synced < ticket)
		pthread_cond_wait(&st->dcond, &st->slock);
	rc = ticket <= st->failed ? -1 : 0;
	pthread_mutex_unlock(&st->slock);
	return rc;
}

/*
 * sqlite3_wal_hook callback, run by the writer after each commit with the
 * WAL's size in frames: wake the checkpoint thread when it is large.
 */
int
storage_wal_hook(void *arg, sqlite3 *db, const char *name, int nframes)
{
	struct storage *st = arg;

	(void)db;
	(void)name;
	if (nframes >= STORAGE_CKPT_FRAMES) {
		pthread_mutex_lock(&st->clock);
		if (!st->ckpt_wanted) {
			st->ckpt_wanted = true;
			pthread_cond_signal(&st->ccond);
		}
		pthread_mutex_unlock(&st->clock);
	}
	return SQLITE_OK;
}

/* The checkpoint thread: PASSIVE checkpoints when asked, at most one per pause. */
static void *
checkpointer(void *arg)
{
	struct storage *st = arg;
	struct timespec ts;
	int mode, logf = 0, done = 0;

	pthread_mutex_lock(&st->clock);
	for (;;) {
		while (!st->ckpt_wanted && !st->ckpt_stop)
			pthread_cond_wait(&st->ccond, &st->clock);
		if (st->ckpt_stop)
			break;
		st->ckpt_wanted = false;
		pthread_mutex_unlock(&st->clock);

		mode = logf >= STORAGE_CKPT_FRAMES * STORAGE_CKPT_RESTART ?
		    SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE;
		if (sqlite3_wal_checkpoint_v2(st->ck, NULL, mode, &logf, &done) != SQLITE_OK &&
		    sqlite3_errcode(st->ck) != SQLITE_BUSY)
			log_warnx("storage: checkpoint: %s", sqlite3_errmsg(st->ck));
		if (mode == SQLITE_CHECKPOINT_RESTART)
			logf = 0;

		pthread_mutex_lock(&st->clock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += SYNC_CKPT_PAUSE_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!st->ckpt_stop)
			if (pthread_cond_timedwait(&st->ccond, &st->clock, &ts) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&st->clock);
	return NULL;
}

/*
 * Open the checkpoint connection and start both threads. Returns 0, or -1
 * with err (the caller then calls storage_sync_stop via storage_close).
 */
int
storage_sync_start(struct storage *st, char *err, size_t errlen)
{
	char sql[128];
	long long v;
	int e;

	if (sqlite3_open_v2(st->dbpath, &st->ck, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "checkpoint connection: %s",
		    st->ck ? sqlite3_errmsg(st->ck) : "out of memory");
		return -1;
	}
	sqlite3_busy_timeout(st->ck, 100);
	/* NORMAL: SQLite fsyncs the WAL before a checkpoint and the database after it. */
	snprintf(sql, sizeof(sql), "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -256;"
	    " PRAGMA journal_size_limit = %d", STORAGE_WAL_LIMIT);
	if (sqlite3_exec(st->ck, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    storage_query_int(st->ck, "PRAGMA synchronous", &v, err, errlen) == -1) {
		snprintf(err, errlen, "checkpoint connection: %s", sqlite3_errmsg(st->ck));
		return -1;
	}
	st->sync_ck = (int)v;
	if ((e = pthread_create(&st->syncer, NULL, syncer, st)) != 0) {
		snprintf(err, errlen, "syncer thread: %s", strerror(e));
		return -1;
	}
	st->sync_running = true;
	if ((e = pthread_create(&st->ckpter, NULL, checkpointer, st)) != 0) {
		snprintf(err, errlen, "checkpoint thread: %s", strerror(e));
		return -1;
	}
	st->ckpt_running = true;
	return 0;
}

/* Drain pending syncs, stop both threads, close the checkpoint connection. */
void
storage_sync_stop(struct storage *st)
{
	if (st->sync_running) {
		pthread_mutex_lock(&st->slock);
		st->sync_stop = true;
		pthread_cond_signal(&st->scond);
		pthread_mutex_unlock(&st->slock);
		pthread_join(st->syncer, NULL);
		st->sync_running = false;
	}
	if (st->ckpt_running) {
		pthread_mutex_lock(&st->clock);
		st->ckpt_stop = true;
		pthread_cond_signal(&st->ccond);
		pthread_mutex_unlock(&st->clock);
		pthread_join(st->ckpter, NULL);
		st->ckpt_running = false;
	}
	sqlite3_close(st->ck);
	st->ck = NULL;
	if (st->walfd != -1)
		close(st->walfd);
	st->walfd = -1;
}
