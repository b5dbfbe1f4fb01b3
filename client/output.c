/* client/output.c -- progress lines, and the certificate set replaced in one rename */
/* SPDX-License-Identifier: ISC */

/*
 * Layout of --out DIR (docs/client.md, "Files"):
 *
 *   DIR/releases/<n>/{cert,chain,fullchain,privkey}.pem   one directory per issuance
 *   DIR/live -> releases/<n>                              swapped by one rename(2)
 *   DIR/cert.pem -> live/cert.pem  (and the other three)  stable paths, never rewritten
 *
 * A release is written and fsynced completely before live points at it, so a
 * reader that resolves live once (or opens DIR/live/ and reads both files
 * from that directory) always sees a certificate and the key that belongs to
 * it. Old releases beyond CLIENT_KEEP_RELEASES are removed afterwards.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/common.h"
#include "client.h"

/* The four files of a set; privkey.pem is left out when the key is the user's (--csr). */
static const char *const set_files[] = { "cert.pem", "chain.pem", "fullchain.pem",
	"privkey.pem" };
#define NSET (sizeof(set_files) / sizeof(set_files[0]))

/* snprintf for paths: -1 (and an empty buffer) if the result does not fit. */
static int pathf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

/* See client.h. */
void
client_progress(const struct client_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (o->quiet)
		return;
	va_start(ap, fmt);
	fputs("dns01: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* A release directory name: 1..9 digits, no leading zero. 0 if not one. */
static long
release_number(const char *name)
{
	size_t n = strspn(name, "0123456789");

	if (n == 0 || n > 9 || name[n] != '\0' || name[0] == '0')
		return 0;
	return strtol(name, NULL, 10);
}

/* The numbers of the releases in dir, highest first (at most max). */
static size_t
release_list(const char *dir, long *nums, size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0, i;
	long v, t;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		v = release_number(e->d_name);
		if (v == 0)
			continue;
		if (n < max) {
			nums[n++] = v;
		} else if (v > nums[max - 1]) {
			nums[max - 1] = v;
		} else {
			continue;
		}
		for (i = n - 1; i > 0 && nums[i] > nums[i - 1]; i--) {
			t = nums[i];
			nums[i] = nums[i - 1];
			nums[i - 1] = t;
		}
	}
	closedir(d);
	return n;
}

/* Make path a symlink to target, replacing whatever is there in one rename. */
static int
symlink_swap(const char *target, const char *path, struct acme_err *err)
{
	char tmp[4096], cur[4096];
	ssize_t n;

	n = readlink(path, cur, sizeof(cur) - 1);
	if (n >= 0) {
		cur[n] = '\0';
		if (strcmp(cur, target) == 0)
			return 0;
	}
	pathf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
	(void)unlink(tmp);
	if (symlink(target, tmp) == -1 || rename(tmp, path) == -1) {
		acme_errf(err, "cannot point %s at %s: %s", path, target, strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

/* fsync a directory, so the renames in it survive a crash. */
static void
dir_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Remove releases beyond the newest CLIENT_KEEP_RELEASES (never the live one). */
static void
prune(const char *rels, long live)
{
	long nums[CLIENT_KEEP_RELEASES + 1];
	char path[4096];
	size_t n, i, k;

	/* One old release at a time per call is enough: each install adds one. */
	for (k = 0; k < 8; k++) {
		n = release_list(rels, nums, CLIENT_KEEP_RELEASES + 1);
		if (n <= CLIENT_KEEP_RELEASES)
			return;
		/* nums is the newest KEEP+1; everything at or below the last one goes. */
		if (nums[n - 1] == live)
			return;
		for (i = 0; i < NSET; i++) {
			pathf(path, sizeof(path), "%s/%ld/%s", rels, nums[n - 1], set_files[i]);
			(void)unlink(path);
		}
		pathf(path, sizeof(path), "%s/%ld", rels, nums[n - 1]);
		if (rmdir(path) == -1) {
			log_debug("%s: not removed (%s)", path, strerror(errno));
			return;
		}
	}
}

/* Write the files of one release into a new directory under rels; *num gets its number. */
static int
write_release(const char *rels, const struct crypto_chain *ch, const char *key_pem,
    size_t key_len, long *num, struct acme_err *err)
{
	long nums[1], n;
	char dir[4096], path[4096];
	const char *data[NSET] = { ch->leaf_pem, ch->chain_pem, ch->full_pem, key_pem };
	size_t i, tries;

	n = release_list(rels, nums, 1) > 0 ? nums[0] : 0;
	for (tries = 0;; tries++) {
		if (n >= CLIENT_MAX_RELEASE)
			n = 0;	/* wrap; the old low numbers were pruned long ago */
		n++;
		pathf(dir, sizeof(dir), "%s/%ld", rels, n);
		if (mkdir(dir, 0755) == 0)
			break;
		if (errno != EEXIST || tries >= 16) {
			acme_errf(err, "cannot create %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < NSET; i++) {
		if (data[i] == NULL)
			continue;
		pathf(path, sizeof(path), "%s/%s", dir, set_files[i]);
		if (acme_file_write(path, data[i], i == 3 ? key_len : strlen(data[i]),
		    i == 3 ? 0600 : 0644, err) == -1)
			return -1;
	}
	dir_sync(dir);
	*num = n;
	return 0;
}

/* See client.h. */
int
client_output_install(const char *out, const struct crypto_chain *ch, const char *key_pem,
    size_t key_len, struct acme_err *err)
{
	char rels[4096], path[4096], target[64];
	long num = 0;
	size_t i;
	int lock = -1, rc = -1;

	if (strlen(out) > 3000) {
		acme_errf(err, "--out path too long");
		return -1;
	}
	pathf(rels, sizeof(rels), "%s/releases", out);
	if (acme_mkdirs(rels, 0755, err) == -1)
		return -1;
	/* Two runs on one --out take turns (the lock file is never removed). */
	pathf(path, sizeof(path), "%s/.lock", out);
	lock = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (lock == -1 || flock(lock, LOCK_EX) == -1) {
		acme_errf(err, "cannot lock %s: %s", path, strerror(errno));
		goto out;
	}
	if (write_release(rels, ch, key_pem, key_len, &num, err) == -1)
		goto out;
	pathf(target, sizeof(target), "releases/%ld", num);
	pathf(path, sizeof(path), "%s/live", out);
	if (symlink_swap(target, path, err) == -1)	/* the one switch readers see */
		goto out;
	for (i = 0; i < NSET; i++) {
		pathf(path, sizeof(path), "%s/%s", out, set_files[i]);
		if (key_pem == NULL && i == 3) {
			(void)unlink(path);	/* --csr: the key is the user's, not here */
			continue;
		}
		pathf(target, sizeof(target), "live/%s", set_files[i]);
		if (symlink_swap(target, path, err) == -1)
			goto out;
	}
	dir_sync(out);
	prune(rels, num);
	log_debug("%s: release %ld is live", out, num);
	rc = 0;
out:
	if (lock != -1)
		close(lock);
	return rc;
}
