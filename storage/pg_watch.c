/* storage/pg_watch.c -- the change feed between instances: LISTEN/NOTIFY, catch-up, reconnect */
/* SPDX-License-Identifier: ISC */

/*
 * One thread per storage handle, on a connection of its own that LISTENs
 * on STORAGE_PG_CHANNEL. Every committed write (any instance) appended a
 * row to dns01d_changes and sent a NOTIFY, delivered at its commit. On a
 * notification, and every STORAGE_PG_CATCHUP_MS anyway, the thread reads
 * the change rows past the last id it applied and hands each changed
 * subdomain's current values to the callback (the daemon publishes them
 * into DNS memory). So a lost notification, a reconnect or a restart costs
 * a resync by change id, not a full reload; only a gap in the ids (rows
 * pruned after STORAGE_PG_KEEP_S while we were away) reloads everything.
 *
 * The same thread keeps pg->up honest: its periodic query fails when the
 * server is gone, and then it reconnects with exponential backoff
 * (STORAGE_PG_BACKOFF_MIN_MS .. _MAX_MS), catches up, and only then sets
 * up again, bumping pg->gen so the pool drops its dead connections.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/common.h"
#include "internal.h"

/* Wake the watcher now (a request found the server gone, or we stop). */
void
pg_watch_wake(struct storage_pg *pg)
{
	char b = 1;

	if (pg->wake[1] >= 0)
		(void)!write(pg->wake[1], &b, 1);
}

/* Drain the wake pipe. */
static void
drain_wake(struct storage_pg *pg)
{
	char buf[64];

	while (read(pg->wake[0], buf, sizeof(buf)) > 0)
		;
}

/* Sleep ms, or less if woken. Returns true if asked to stop. */
static bool
nap(struct storage_pg *pg, int ms)
{
	struct pollfd p = { .fd = pg->wake[0], .events = POLLIN };

	if (poll(&p, 1, ms) > 0)
		drain_wake(pg);
	return pg->wstop;
}

/* The callbacks set by storage_watch() and storage_persist_watch(), read under wlock. */
struct watch_cbs {
	int (*cb)(void *, const char *, const struct storage_txt *);
	void *arg;
	storage_persist_cb pcb;
	void *parg;
	void (*mark)(void *);
	void (*sweep)(void *);
	void *marg;
};

static void
get_cbs(struct storage_pg *pg, struct watch_cbs *w)
{
	pthread_mutex_lock(&pg->wlock);
	w->cb = pg->cb;
	w->arg = pg->cbarg;
	w->pcb = pg->pcb;
	w->parg = pg->pcbarg;
	w->mark = pg->mark;
	w->sweep = pg->sweep;
	w->marg = pg->markarg;
	pthread_mutex_unlock(&pg->wlock);
}

/*
 * Full reload after a gap in the change ids: every account to the callbacks,
 * between mark and sweep, so the names deleted in the gap go too.
 */
static int
reload(struct storage_pg *pg, int64_t deadline, bool *broken, const struct watch_cbs *w)
{
	PGresult *res;
	int rc = -1;

	log_warnx("storage: change log has a gap after id %lld; reloading every account",
	    pg->last);
	if (w->mark != NULL)
		w->mark(w->marg);
	if ((res = pg_query(pg->listen, deadline, broken, "SELECT r.Subdomain, t.Value"
	    " FROM records AS r LEFT JOIN txt AS t ON t.Subdomain = r.Subdomain"
	    " ORDER BY r.Subdomain, t.Seq DESC, t.rowid DESC", 0, NULL)) != NULL &&
	    pg_ok(res, "reload"))
		rc = pg_emit_all(pg, res, w->cb, w->arg);
	PQclear(res);
	if (rc == 0 && w->pcb != NULL)
		rc = pg_persist_reload(pg->listen, deadline, broken, w->pcb, w->parg);
	if (rc == 0 && w->sweep != NULL)
		w->sweep(w->marg);
	return rc;
}

/* The kind of change row i (column 2; a row without Kind is a TXT change). */
static int
row_kind(const PGresult *res, int i)
{
	return PQgetisnull(res, i, 2) ? PG_CHANGE_TXT : atoi(PQgetvalue(res, i, 2));
}

/* Apply a batch of change rows: each subdomain and kind re-read once, for its callback. */
static int
apply_batch(struct storage_pg *pg, const PGresult *res, int64_t deadline, bool *broken,
    const struct watch_cbs *w)
{
	struct storage_txt t;
	struct storage_persist_set ps;
	const char *sub;
	long long exists;
	int i, j, kind, n = PQntuples(res);

	for (i = 0; i < n; i++) {
		sub = PQgetvalue(res, i, 1);
		kind = row_kind(res, i);
		/* A subdomain changed twice in the batch is read once, at its last change. */
		for (j = i + 1; j < n; j++)
			if (strcmp(sub, PQgetvalue(res, j, 1)) == 0 && row_kind(res, j) == kind)
				break;
		if (j < n || !is_uuid(sub))
			continue;
		if (kind == PG_CHANGE_PERSIST) {
			if (w->pcb == NULL)
				continue;
			if (pg_persist_read(pg->listen, deadline, broken, sub, &ps) == -1)
				return -1;
			(void)w->pcb(w->parg, sub, &ps);
			continue;
		}
		if (pg_query_int(pg->listen, deadline, broken, "SELECT count(*) FROM records"
		    " WHERE Subdomain = $1", 1, &sub, &exists) == -1)
			return -1;
		if (exists == 0) {	/* deregistered */
			(void)w->cb(w->arg, sub, NULL);
			continue;
		}
		if (pg_values(pg, pg->listen, deadline, broken, sub, &t) == -1)
			return -1;
		(void)w->cb(w->arg, sub, &t);
	}
	return 0;
}

/*
 * Read the changes past pg->last and apply them, in batches. Returns 0, or
 * -1 if the server failed (*broken says whether the connection is gone).
 */
static int
catch_up(struct storage_pg *pg, bool *broken)
{
	int64_t deadline = pg_now_ms() + STORAGE_PG_LOAD_MS;
	struct watch_cbs w;
	char last[24], lim[16];
	const char *p[2] = { last, lim };
	PGresult *res;
	long long first, max;
	int n, rc = -1;

	get_cbs(pg, &w);
	if (w.cb == NULL)
		return pg_exec(pg->listen, deadline, broken, "ping", "SELECT 1", 0, NULL);
	snprintf(lim, sizeof(lim), "%d", STORAGE_PG_BATCH);
	do {
		snprintf(last, sizeof(last), "%lld", pg->last);
		if ((res = pg_query(pg->listen, deadline, broken, "SELECT id, Subdomain, Kind FROM"
		    " dns01d_changes WHERE id > $1 ORDER BY id LIMIT $2", 2, p)) == NULL ||
		    !pg_ok(res, "changes"))
			goto out;
		if ((n = PQntuples(res)) == 0)
			break;
		first = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		max = strtoll(PQgetvalue(res, n - 1, 0), NULL, 10);
		/* Ids are consecutive unless rows were pruned (or a commit failed): reload. */
		if (first != pg->last + 1 ? reload(pg, deadline, broken, &w) == -1 :
		    apply_batch(pg, res, deadline, broken, &w) == -1)
			goto out;
		pg->last = max;
		PQclear(res);
		res = NULL;
	} while (n == STORAGE_PG_BATCH && pg_now_ms() < deadline);
	rc = 0;
out:
	PQclear(res);
	return rc;
}

/* Drop change rows older than STORAGE_PG_KEEP_S (any instance may; all do, rarely). */
static void
prune(struct storage_pg *pg, bool *broken)
{
	char at[24];
	const char *p[1] = { at };

	snprintf(at, sizeof(at), "%lld", (long long)time(NULL) - STORAGE_PG_KEEP_S);
	(void)pg_exec(pg->listen, pg_now_ms() + STORAGE_PG_OP_MS, broken, "prune changes",
	    "DELETE FROM dns01d_changes WHERE At < $1", 1, p);
}

/* Connect and LISTEN. Returns 0 or -1 (logged once per outage). */
static int
listen_connect(struct storage_pg *pg, bool quiet)
{
	char err[256];
	bool broken = false;

	if ((pg->listen = pg_connect(pg->conninfo, STORAGE_PG_CONNECT_MS, err,
	    sizeof(err))) == NULL) {
		if (!quiet)
			log_warnx("storage: postgres %s: %s", pg->name, err);
		return -1;
	}
	if (pg_exec(pg->listen, pg_now_ms() + STORAGE_PG_OP_MS, &broken, "listen",
	    "LISTEN " STORAGE_PG_CHANNEL, 0, NULL) == -1) {
		PQfinish(pg->listen);
		pg->listen = NULL;
		return -1;
	}
	return 0;
}

/*
 * Take delivered notifications off the connection; *got counts them. False
 * if it is broken. Notifications that arrived while a catch-up query ran
 * are already in libpq's queue, where poll(2) cannot see them: checked first.
 */
static bool
consume(struct storage_pg *pg, int *got)
{
	PGnotify *n;

	if (!PQconsumeInput(pg->listen))
		return false;
	while ((n = PQnotifies(pg->listen)) != NULL) {
		PQfreemem(n);
		(*got)++;
	}
	return true;
}

/* One pass while connected: wait for a notification or the period, then catch up. */
static void
watch_once(struct storage_pg *pg, int64_t *next_prune)
{
	struct pollfd p[2] = { { .fd = PQsocket(pg->listen), .events = POLLIN },
	    { .fd = pg->wake[0], .events = POLLIN } };
	bool broken = false;
	int got = 0;

	if (!consume(pg, &got))
		broken = true;
	else if (got == 0 && poll(p, 2, STORAGE_PG_CATCHUP_MS) > 0) {
		if (p[1].revents)
			drain_wake(pg);
		if (p[0].revents && !consume(pg, &got))
			broken = true;
	}
	if (pg->wstop)
		return;
	if (!broken && catch_up(pg, &broken) == 0) {
		if (!pg->up)
			log_info("storage: postgres %s reachable again", pg->name);
		pg->up = true;
	}
	if (!broken && pg_now_ms() >= *next_prune) {
		prune(pg, &broken);
		*next_prune = pg_now_ms() + STORAGE_PG_PRUNE_S * 1000LL;
	}
	if (broken || PQstatus(pg->listen) != CONNECTION_OK) {
		PQfinish(pg->listen);
		pg->listen = NULL;
		pg_down(pg);
	}
}

static void *
watcher(void *arg)
{
	struct storage_pg *pg = arg;
	int64_t next_prune = pg_now_ms() + STORAGE_PG_PRUNE_S * 1000LL;
	int backoff = STORAGE_PG_BACKOFF_MIN_MS;
	bool quiet = false;

	while (!pg->wstop) {
		if (pg->listen == NULL) {
			if (listen_connect(pg, quiet) == -1) {
				quiet = true;
				pg->up = false;
				if (nap(pg, backoff))
					break;
				backoff = backoff * 2 > STORAGE_PG_BACKOFF_MAX_MS ?
				    STORAGE_PG_BACKOFF_MAX_MS : backoff * 2;
				continue;
			}
			quiet = false;
			backoff = STORAGE_PG_BACKOFF_MIN_MS;
			pg->gen++;
		}
		watch_once(pg, &next_prune);
	}
	return NULL;
}

/* Start the watcher thread (at open). Returns 0 or -1 with err. */
int
pg_watch_start(struct storage_pg *pg, char *err, size_t errlen)
{
	int e;

	if (pipe2(pg->wake, O_NONBLOCK | O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		pg->wake[0] = pg->wake[1] = -1;
		return -1;
	}
	if ((e = pthread_create(&pg->wthread, NULL, watcher, pg)) != 0) {
		snprintf(err, errlen, "watcher thread: %s", strerror(e));
		return -1;
	}
	pg->wrunning = true;
	return 0;
}

/* Stop and join the watcher, close its connection and the pipe. */
void
pg_watch_stop(struct storage_pg *pg)
{
	if (pg->wrunning) {
		pg->wstop = true;
		pg_watch_wake(pg);
		pthread_join(pg->wthread, NULL);
		pg->wrunning = false;
	}
	PQfinish(pg->listen);
	pg->listen = NULL;
	if (pg->wake[0] >= 0)
		close(pg->wake[0]);
	if (pg->wake[1] >= 0)
		close(pg->wake[1]);
	pg->wake[0] = pg->wake[1] = -1;
}

/*
 * Deliver every change committed from now on (by any instance, this one
 * included) to cb, from the watcher thread; see storage.h.
 */
int
storage_pg_watch(struct storage *st,
    int (*cb)(void *arg, const char *subdomain, const struct storage_txt *txt), void *arg)
{
	struct storage_pg *pg = st->pg;

	pthread_mutex_lock(&pg->wlock);
	pg->cb = cb;
	pg->cbarg = arg;
	pthread_mutex_unlock(&pg->wlock);
	pg_watch_wake(pg);
	return 0;
}
