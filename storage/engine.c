/* storage/engine.c -- choose the backend: SQLite (db.c, account.c, txt.c) or PostgreSQL (pg*.c) */
/* SPDX-License-Identifier: ISC */

/*
 * One contract (storage.h), two implementations. Both share struct storage
 * and its backend-neutral parts (key hashing, the bcrypt queue, the
 * rotation rule in rotate.c); each public verb starts with one test of
 * st->pg and hands PostgreSQL handles to the storage_pg_* function that
 * does the same job.
 */

#include <stdio.h>
#include <string.h>

#include "../common/common.h"
#include "internal.h"

/* Open the database of engine; see storage.h. */
struct storage *
storage_open_engine(enum storage_engine engine, const char *connection, unsigned txt_values,
    char *err, size_t errlen)
{
	struct storage *st;

	if (engine == STORAGE_SQLITE)
		return storage_open(connection, txt_values, err, errlen);
	if (connection == NULL || *connection == '\0') {
		snprintf(err, errlen, "no connection string");
		return NULL;
	}
	if ((st = storage_alloc(txt_values, err, errlen)) == NULL)
		return NULL;
	if (storage_pg_open(st, connection, err, errlen) == -1) {
		storage_close(st);
		return NULL;
	}
	return st;
}

/* A loggable name for a connection; see storage.h. */
void
storage_describe(enum storage_engine engine, const char *connection, char *out, size_t outlen)
{
	if (engine == STORAGE_POSTGRES)
		storage_pg_redact(connection ? connection : "", out, outlen);
	else
		snprintf(out, outlen, "%s", connection ? connection : "");
}

/* Deliver committed changes to cb; see storage.h. */
int
storage_watch(struct storage *st,
    int (*cb)(void *arg, const char *subdomain, const struct storage_txt *txt), void *arg)
{
	if (st == NULL || cb == NULL)
		return -1;
	if (st->pg == NULL)
		return storage_sqlite_watch(st, cb, arg);
	return storage_pg_watch(st, cb, arg);
}

/* Bracket the watcher's full reloads with mark and sweep; see storage.h. */
int
storage_watch_reload(struct storage *st, void (*mark)(void *arg), void (*sweep)(void *arg),
    void *arg)
{
	if (st == NULL || mark == NULL || sweep == NULL)
		return -1;
	if (st->pg != NULL) {
		pthread_mutex_lock(&st->pg->wlock);
		st->pg->mark = mark;
		st->pg->sweep = sweep;
		st->pg->markarg = arg;
		pthread_mutex_unlock(&st->pg->wlock);
	}
	return 0;
}

/* False while the server is known to be down; see storage.h. */
bool
storage_available(struct storage *st)
{
	return st != NULL && (st->pg == NULL || st->pg->up);
}
