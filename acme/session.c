/* acme/session.c -- an ACME account kept in a state directory: key, cached account URL */
/* SPDX-License-Identifier: ISC */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/common.h"
#include "internal.h"

/* See acme.h. */
int
acme_session_open(struct acme_session *s, const struct acme_session_params *p,
    struct acme_err *err)
{
	char *pem = NULL;
	size_t len = 0;
	struct stat st;
	int r, rc = -1;

	memset(s, 0, sizeof(*s));
	s->state_dir = strdup(p->state_dir);
	if (s->state_dir == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	if (acme_mkdirs(s->state_dir, 0700, err) == -1)
		goto out;
	if (asprintf(&s->key_path, "%s/account.key", s->state_dir) == -1 ||
	    asprintf(&s->cache_path, "%s/accounts.json", s->state_dir) == -1) {
		s->key_path = s->cache_path = NULL;
		acme_errf(err, "out of memory");
		goto out;
	}
	r = acme_file_read(s->key_path, ACME_MAX_FILE, &pem, &len, err);
	if (r == -1)
		goto out;
	if (r == 0) {
		s->key = crypto_key_load(pem, len, err);
		if (s->key == NULL) {
			acme_err_replace(err, "%s: %s: fix or remove the account key", s->key_path,
			    err->msg);
			goto out;
		}
		if (stat(s->key_path, &st) == 0 && (st.st_mode & 077) != 0)
			log_warnx("%s: the account key is readable by others: chmod 600 it",
			    s->key_path);
	} else if (!p->create_key) {
		acme_errf(err, "no account key in %s: run dns01 issue first (or give the right "
		    "--state-dir)", s->state_dir);
		goto out;
	} else {
		/* RFC 8555 §6.2: ES256 is the algorithm every CA supports. */
		s->key = crypto_key_generate(CRYPTO_KEY_EC256, err);
		if (s->key == NULL)
			goto out;
		acme_free_secret(pem);
		pem = NULL;
		if (crypto_key_pem(s->key, &pem, &len, err) == -1 ||
		    acme_file_write(s->key_path, pem, len, 0600, err) == -1)
			goto out;
		log_info("created account key %s", s->key_path);
	}
	s->http = http_new(p->ca_file, err);
	if (s->http == NULL)
		goto out;
	if (acme_open(&s->acme, s->http, p->directory_url, s->key, err) == -1)
		goto out;
	s->acme_open = true;
	rc = 0;
out:
	acme_free_secret(pem);
	if (rc != 0)
		acme_session_close(s);
	return rc;
}

/* Free the session. */
void
acme_session_close(struct acme_session *s)
{
	if (s->acme_open)
		acme_close(&s->acme);
	http_free(s->http);
	crypto_key_free(s->key);
	free(s->state_dir);
	free(s->key_path);
	free(s->cache_path);
	memset(s, 0, sizeof(*s));
}

/* Remember (or, with url NULL, forget) the account URL of this CA. */
static int
cache_put(struct acme_session *s, const char *url, struct acme_err *err)
{
	char *text = NULL, *out = NULL;
	size_t len = 0;
	int rc = -1;

	if (acme_file_read(s->cache_path, ACME_MAX_FILE, &text, &len, err) == -1) {
		acme_err_clear(err);	/* a broken cache is rebuilt */
		text = NULL;
		len = 0;
	}
	out = json_map_put(text, len, s->acme.directory_url, url);
	if (out == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	if (acme_file_write(s->cache_path, out, strlen(out), 0600, err) == -1)
		goto out;
	rc = 0;
out:
	free(text);
	free(out);
	return rc;
}

/*
 * Find the account: the cached URL if the CA still knows it (one POST-as-GET),
 * else newAccount (§7.3; onlyReturnExisting when o->only_existing).
 */
int
acme_session_account(struct acme_session *s, const struct acme_account_opts *o,
    struct acme_account_info *info, struct acme_err *err)
{
	char *text = NULL, *kid = NULL;
	size_t len = 0;
	int rc = -1;

	memset(info, 0, sizeof(*info));
	if (acme_file_read(s->cache_path, ACME_MAX_FILE, &text, &len, err) == 0)
		kid = json_map_get(text, len, s->acme.directory_url);
	acme_err_clear(err);
	if (kid != NULL && is_http_url(kid)) {
		s->acme.kid = kid;
		kid = NULL;
		if (acme_account_get(&s->acme, info, err) == 0 && strcmp(info->status, "valid") == 0) {
			rc = 0;
			goto out;
		}
		if (info->status != NULL) {
			acme_errf(err, "the account %s is %s: use another --state-dir (or remove "
			    "%s) to start a new one", s->acme.kid, info->status, s->key_path);
			goto out;
		}
		if (s->acme.problem.type == NULL)
			goto out;	/* no answer at all */
		/* The CA forgot the account (or the key changed): look it up again. */
		log_debug("cached account %s not usable: %s", s->acme.kid, err->msg);
		acme_err_clear(err);
		free(s->acme.kid);
		s->acme.kid = NULL;
		acme_account_info_free(info);
	}
	if (acme_account(&s->acme, o, err) == -1)
		goto out;
	if (cache_put(s, s->acme.kid, err) == -1)
		goto out;
	if (acme_account_get(&s->acme, info, err) == -1)
		goto out;
	rc = 0;
out:
	free(text);
	free(kid);
	return rc;
}

/* See acme.h. */
int
acme_session_forget(struct acme_session *s, struct acme_err *err)
{
	return cache_put(s, NULL, err);
}
