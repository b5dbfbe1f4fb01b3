/* client/certs.c -- the state directory's list of certificates, and renew --all */
/* SPDX-License-Identifier: ISC */

/*
 * Every successful issue or renew records how the certificate was made in
 * <state-dir>/certs/<id>.json (id: the first 16 hex digits of SHA-256 of the
 * absolute --out path, so one --out is one entry). renew --all reads them
 * back and renews each one that is due, with the options it was issued with.
 */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/common.h"
#include "client.h"

/* See client.h. */
void
cert_entry_free(struct cert_entry *e)
{
	size_t i;

	if (e == NULL)
		return;
	free(e->out);
	free(e->directory);
	free(e->storage);
	free(e->key_type);
	free(e->csr);
	free(e->deploy_hook);
	free(e->preferred_chain);
	free(e->api);
	for (i = 0; i < e->ndomains; i++)
		free(e->domains[i]);
	free(e->domains);
	memset(e, 0, sizeof(*e));
}

/* <state>/certs/<id>.json for the absolute out path. New string or NULL. */
static char *
entry_path(const char *state, const char *out_abs)
{
	unsigned char d[32];
	char *p = NULL;

	if (crypto_sha256(out_abs, strlen(out_abs), d) == -1)
		return NULL;
	if (asprintf(&p, "%s/certs/%02x%02x%02x%02x%02x%02x%02x%02x.json", state, d[0], d[1],
	    d[2], d[3], d[4], d[5], d[6], d[7]) == -1)
		return NULL;
	return p;
}

/* See client.h. */
int
client_cert_record(const struct client_opts *o, const char *state, struct acme_err *err)
{
	struct cert_entry e;
	char out_abs[PATH_MAX], storage_abs[PATH_MAX], csr_abs[PATH_MAX], *dir = NULL;
	char *path = NULL, *text = NULL;
	int rc = -1;

	memset(&e, 0, sizeof(e));
	if (realpath(o->out, out_abs) == NULL) {
		acme_errf(err, "%s: %s", o->out, strerror(errno));
		return -1;
	}
	e.out = out_abs;
	e.domains = o->domains;
	e.ndomains = o->ndomains;
	e.directory = o->directory;
	e.storage = o->storage != NULL && realpath(o->storage, storage_abs) != NULL ?
	    storage_abs : o->storage;
	e.key_type = (char *)(uintptr_t)crypto_key_type_name(o->key_type);
	e.csr = o->csr != NULL && realpath(o->csr, csr_abs) != NULL ? csr_abs : o->csr;
	e.reuse_key = o->reuse_key;
	e.deploy_hook = o->deploy_hook;
	e.preferred_chain = o->preferred_chain;
	e.api = o->api;
	path = entry_path(state, out_abs);
	text = json_cert_entry(&e);
	if (path == NULL || text == NULL || asprintf(&dir, "%s/certs", state) == -1) {
		dir = NULL;
		acme_errf(err, "out of memory");
		goto out;
	}
	if (acme_mkdirs(dir, 0700, err) == -1 ||
	    acme_file_write(path, text, strlen(text), 0600, err) == -1)
		goto out;
	rc = 0;
out:
	free(dir);
	free(path);
	free(text);
	return rc;
}

/* Only the entry files: <16 hex>.json. */
static int
entry_name(const struct dirent *d)
{
	return strlen(d->d_name) == 21 && strspn(d->d_name, "0123456789abcdef") == 16 &&
	    strcmp(d->d_name + 16, ".json") == 0;
}

/* The options of one entry on top of the command line's (borrowed pointers, not freed). */
static int
entry_opts(const struct client_opts *o, const struct cert_entry *e, struct client_opts *sub,
    struct acme_err *err)
{
	*sub = *o;
	sub->cmd = CLIENT_CMD_RENEW;
	sub->all = false;
	sub->out = e->out;
	sub->domains = e->domains;
	sub->ndomains = e->ndomains;
	sub->csr = e->csr;
	sub->reuse_key = o->reuse_key || e->reuse_key;
	if (sub->directory == NULL)
		sub->directory = e->directory;
	if (sub->storage == NULL)
		sub->storage = e->storage;
	if (sub->api == NULL)
		sub->api = e->api;
	if (sub->deploy_hook == NULL)
		sub->deploy_hook = e->deploy_hook;
	if (sub->preferred_chain == NULL)
		sub->preferred_chain = e->preferred_chain;
	if (e->key_type != NULL && crypto_key_type_parse(e->key_type, &sub->key_type) == -1) {
		acme_errf(err, "unknown key_type \"%.32s\"", e->key_type);
		return -1;
	}
	if (sub->directory == NULL || sub->storage == NULL) {
		acme_errf(err, "no directory or storage recorded: give --directory and --storage");
		return -1;
	}
	return 0;
}

/* Renew one entry and print its summary line; returns its enum client_exit value. */
static int
renew_one(const struct client_opts *o, const char *file, const struct cert_entry *e)
{
	struct client_opts sub;
	struct client_result res;
	struct acme_err err;
	const char *name = e->ndomains > 0 ? e->domains[0] : file;
	char more[32] = "";
	char *js;
	int rc = CLIENT_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	memset(&err, 0, sizeof(err));
	res.command = "renew";
	if (e->ndomains > 1)
		snprintf(more, sizeof(more), " (+%zu)", e->ndomains - 1);
	if (entry_opts(o, e, &sub, &err) == 0) {
		sub.summary = true;
		rc = cmd_issue(&sub, &res, &err);
	}
	if (rc == CLIENT_EXIT_ERROR) {
		if (!err.set)
			acme_errf(&err, "failed (run with -v for details)");
		fprintf(stderr, "dns01: %s%s: %s\n", name, more, err.msg);
		res.status = "error";
		res.error = err.msg;
		res.cert_dir = e->out;
	}
	if (o->json) {
		js = json_result(&res);
		if (js != NULL)
			printf("%s\n", js);
		free(js);
	} else if (!o->quiet) {
		if (rc == CLIENT_EXIT_OK)
			printf("%s%s: renewed in %s (serial %s, expires %s)\n", name, more, e->out,
			    res.serial, res.not_after);
		else if (rc == CLIENT_EXIT_NOTHING)
			printf("%s%s: not due (%s) in %s\n", name, more, res.renewal_reason != NULL ?
			    res.renewal_reason : "not due", e->out);
		else
			printf("%s%s: FAILED in %s\n", name, more, e->out);
	}
	client_result_free(&res);
	return rc;
}

/* renew --all (see client.h and docs/client.md). */
int
cmd_renew_all(const struct client_opts *o, struct client_result *res, struct acme_err *err)
{
	struct dirent **names = NULL;
	struct cert_entry e;
	struct acme_err perr;
	char *state = NULL, *dir = NULL, *path = NULL, *text = NULL;
	size_t len, renewed = 0, failed = 0, seen = 0;
	int i, n = 0, rc = CLIENT_EXIT_ERROR, r;

	res->printed = true;
	state = client_state_dir(o, err);
	if (state == NULL || asprintf(&dir, "%s/certs", state) == -1) {
		dir = NULL;
		goto out;
	}
	n = scandir(dir, &names, entry_name, alphasort);
	if (n < 0) {
		n = 0;
		if (errno != ENOENT) {
			acme_errf(err, "cannot read %s: %s", dir, strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < n && seen < CLIENT_MAX_CERTS; i++) {
		memset(&perr, 0, sizeof(perr));
		free(path);
		free(text);
		text = NULL;
		if (asprintf(&path, "%s/%s", dir, names[i]->d_name) == -1) {
			path = NULL;
			continue;
		}
		r = acme_file_read(path, ACME_MAX_FILE, &text, &len, &perr);
		if (r != 0 || json_cert_entry_parse(text, len, &e, &perr) == -1) {
			fprintf(stderr, "dns01: %s: %s\n", path, perr.set ? perr.msg : "vanished");
			failed++;
			continue;
		}
		/* With --directory, only the certificates of that CA. */
		if (o->directory == NULL || e.directory == NULL ||
		    strcmp(o->directory, e.directory) == 0) {
			seen++;
			r = renew_one(o, names[i]->d_name, &e);
			renewed += r == CLIENT_EXIT_OK;
			failed += r == CLIENT_EXIT_ERROR;
		}
		cert_entry_free(&e);
	}
	if (seen == 0 && failed == 0)
		client_progress(o, "no certificates recorded in %s: issue one first", dir);
	if (failed > 0) {
		acme_errf(err, "%zu of %zu certificates failed to renew (see the lines above)",
		    failed, seen);
		rc = CLIENT_EXIT_ERROR;
	} else {
		rc = renewed > 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_NOTHING;
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(state);
	free(dir);
	free(path);
	free(text);
	return rc;
}
