/* storage/watch.c -- the SQLite change feed: PRAGMA data_version polling, then the change log */
/* SPDX-License-Identifier: ISC */

/*
 * On SQLite the daemon is the only process that registers and updates, but
 * an operator's `dns01d admin` (another process) may delete or clear an
 * account while it runs. Those verbs append a row to dns01d_changes in the
 * same transaction (admin.c). This thread, on a read-only connection of
 * its own, asks SQLite every STORAGE_WATCH_MS whether any other connection
 * committed (PRAGMA data_version changes: a read of the shared WAL index,
 * no table access), and only then reads the change rows past the last id
 * it applied, at most STORAGE_WATCH_BATCH per query, and hands each changed
 * subdomain's values (or NULL: the account is gone) to the callback. The
 * newest id is read at open, before the daemon's initial load, so nothing
 * committed in between is missed. Ids come from AUTOINCREMENT and only
 * grow; rows older than STORAGE_CHANGES_KEEP_S are pruned by the writers.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/common.h"
#include "internal.h"

/* Does sub still have an account on db? 1, 0, or -1 on error. */
static int
account_exists(sqlite3 *db, const char *sub)
{
	sqlite3_stmt *s = NULL;
	int rc = -1, r;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM records WHERE Subdomain = ?1", -1, &s,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, sub, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(s)) == SQLITE_ROW)
		rc = 1;
	else if (r == SQLITE_DONE)
		rc = 0;
	sqlite3_finalize(s);
	return rc;
}

/* Hand sub's state to the callback: its values, or NULL once its account is gone. */
static void
apply_one(struct storage *st, const char *sub)
{
	struct storage_txt t;
	int e;

	if (!is_uuid(sub) || (e = account_exists(st->wdb, sub)) == -1)
		return;
	if (e == 0)
		(void)st->wcb(st->wcbarg, sub, NULL);
	else if (storage_values(st->wdb, st->txt_values, sub, &t) == 0)
		(void)st->wcb(st->wcbarg, sub, &t);
}

/* Read and apply the change rows past st->wlast, in batches, in one read transaction. */
static void
catch_up(struct storage *st)
{
	sqlite3_stmt *s = NULL;
	const char *sub;
	int n, r;

	if (sqlite3_prepare_v2(st->wdb, "SELECT Id, Subdomain FROM dns01d_changes WHERE Id > ?1"
	    " ORDER BY Id LIMIT ?2", -1, &s, NULL) != SQLITE_OK) {
		log_warnx("storage: watch: %s", sqlite3_errmsg(st->wdb));
		return;
	}
	do {
		n = 0;
		sqlite3_bind_int64(s, 1, st->wlast);
		sqlite3_bind_int(s, 2, STORAGE_WATCH_BATCH);
		while ((r = sqlite3_step(s)) == SQLITE_ROW) {
			n++;
			st->wlast = sqlite3_column_int64(s, 0);
			if ((sub = (const char *)sqlite3_column_text(s, 1)) != NULL)
				apply_one(st, sub);
		}
		if (r != SQLITE_DONE)
			log_warnx("storage: watch: %s", sqlite3_errmsg(st->wdb));
		sqlite3_reset(s);
	} while (r == SQLITE_DONE && n == STORAGE_WATCH_BATCH);
	sqlite3_finalize(s);
}

/* Sleep STORAGE_WATCH_MS unless told to stop. True if asked to stop. */
static bool
nap(struct storage *st)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += STORAGE_WATCH_MS * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&st->wclock);
	if (!st->wstop)
		(void)pthread_cond_timedwait(&st->wccond, &st->wclock, &ts);
	stop = st->wstop;
	pthread_mutex_unlock(&st->wclock);
	return stop;
}

static void *
watcher(void *arg)
{
	struct storage *st = arg;
	char err[128];
	long long v, seen = -1;

	while (!nap(st)) {
		if (storage_query_int(st->wdb, "PRAGMA data_version", &v, err, sizeof(err)) == -1) {
			log_warnx("storage: watch: %s", err);
			continue;
		}
		if (v == seen)
			continue;
		seen = v;
		catch_up(st);
	}
	return NULL;
}

/* Start the SQLite watcher for cb (once). Returns 0 or -1. */
int
storage_sqlite_watch(struct storage *st,
    int (*cb)(void *arg, const char *subdomain, const struct storage_txt *txt), void *arg)
{
	int e;

	if (st->wrunning)
		return -1;
	if (sqlite3_open_v2(st->dbpath, &st->wdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK || sqlite3_exec(st->wdb, "PRAGMA query_only = ON", NULL, NULL,
	    NULL) != SQLITE_OK) {
		log_warnx("storage: watch: %s", st->wdb ? sqlite3_errmsg(st->wdb) : "out of memory");
		sqlite3_close(st->wdb);
		st->wdb = NULL;
		return -1;
	}
	sqlite3_busy_timeout(st->wdb, (int)st->busy_ms);
	st->wcb = cb;
	st->wcbarg = arg;
	if ((e = pthread_create(&st->wthread, NULL, watcher, st)) != 0) {
		log_warnx("storage: watch: thread: %s", strerror(e));
		sqlite3_close(st->wdb);
		st->wdb = NULL;
		return -1;
	}
	st->wrunning = true;
	return 0;
}

/* Stop and join the watcher, close its connection. Safe when it never started. */
void
storage_watch_stop(struct storage *st)
{
	if (st->wrunning) {
		pthread_mutex_lock(&st->wclock);
		st->wstop = true;
		pthread_cond_signal(&st->wccond);
		pthread_mutex_unlock(&st->wclock);
		pthread_join(st->wthread, NULL);
		st->wrunning = false;
	}
	sqlite3_close(st->wdb);
	st->wdb = NULL;
}
