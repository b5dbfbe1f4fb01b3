/* daemon/daemon.h -- the daemon's own helpers: privilege drop (privdrop.c), admin command (admin.c) */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01D_DAEMON_H
#define DNS01D_DAEMON_H

#include "../common/common.h"

/* ------------------------------------------------------------------ */
/* privdrop.c -- bind as root, then run as [general] user and group for good */

/*
 * Check, before anything is opened, that the process can become cfg's user:
 * as root any user works; as another uid only that user itself (systemd's
 * User=). Run as root with no user key, warns once. Returns 0, or -1 with
 * one line in err.
 */
int privdrop_check(const struct config *cfg, char *err, size_t errlen);
/*
 * As root with a user set: take the user's effective uid and gid for a
 * while, so files opened now (the SQLite database and its -wal, -shm files)
 * are created by, and checked against, the user that will run. Otherwise a
 * no-op. Returns 0 or -1 (errno set). privdrop_resume() goes back to root.
 */
int privdrop_borrow(const struct config *cfg);
int privdrop_resume(const struct config *cfg);
/*
 * Drop to the user for good (setgroups, setgid, setuid), after the ports are
 * bound; then check that root cannot be regained (setuid(0) fails) and log
 * the uid and gid the process runs as. Returns 0, or -1 with one line in
 * err (the caller exits). A no-op returning 0 when no drop is needed.
 */
int privdrop_final(const struct config *cfg, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* admin.c -- `dns01d admin -c FILE COMMAND ...`, beside a running daemon */

/*
 * Run one admin command; argv[0] is "admin". Prints results on stdout and
 * one line per failure on stderr. Returns the exit status: 0, 1 on an
 * error (no such account, database failure), 2 on bad usage.
 */
int admin_main(int argc, char **argv);

#endif
