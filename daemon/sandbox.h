/* daemon/sandbox.h -- the seccomp allow-list dns01d loads once it has started */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01D_SANDBOX_H
#define DNS01D_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#define SANDBOX_EXIT 159		/* exit status after a blocked call: 128 + SIGSYS, as a
					 * shell reports a death by that signal */
#define SANDBOX_MAX_SYSNO 1024		/* system call numbers the SIGSYS line can name */
#define SANDBOX_LINE_MAX 256		/* bytes of that one line */

/*
 * Load the allow-list (every system call the daemon makes once started:
 * DNS, HTTP, SQLite, logging, signals, threads, the ACME client's libcurl
 * and OpenSSL) into every thread of the process at once (seccomp filter
 * with TSYNC). It can never be lifted. From then on a call outside the list
 * is not made: the thread gets SIGSYS, and the handler writes one log line
 * ("seccomp: blocked system call N (name); exiting") to standard error, in
 * the log's format (json: one JSON object), and ends the process with
 * _exit(SANDBOX_EXIT). If several threads trip at once, only the first
 * writes. Returns 0, or -1 with one line in err (the caller exits).
 */
int sandbox_enter(bool json, char *err, size_t errlen);

#endif
