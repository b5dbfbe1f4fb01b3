/* client/cmd.c -- the commands register, revoke, account; state files; dispatch and output */
/* SPDX-License-Identifier: ISC */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/common.h"
#include "client.h"

/* The state directory: --state-dir, else $XDG_STATE_HOME/dns01, else ~/.local/state/dns01. */
static char *
state_dir(const struct client_opts *o, struct client_err *err)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *d = NULL;

	if (o->state_dir != NULL)
		d = strdup(o->state_dir);
	else if (x != NULL && x[0] == '/')
		(void)!asprintf(&d, "%s/dns01", x);
	else if (home != NULL && home[0] == '/')
		(void)!asprintf(&d, "%s/.local/state/dns01", home);
	else
		client_errf(err, "no state directory: give --state-dir DIR (or DNS01_STATE_DIR)");
	return d;
}

/* Open the state, the account key (created if allowed) and the CA's directory. */
int
session_open(const struct client_opts *o, struct session *s, bool create_key,
    struct client_err *err)
{
	char *pem = NULL;
	size_t len = 0;
	struct stat st;
	int r, rc = -1;

	memset(s, 0, sizeof(*s));
	s->state_dir = state_dir(o, err);
	if (s->state_dir == NULL || client_mkdirs(s->state_dir, 0700, err) == -1)
		goto out;
	if (asprintf(&s->key_path, "%s/account.key", s->state_dir) == -1 ||
	    asprintf(&s->cache_path, "%s/accounts.json", s->state_dir) == -1) {
		s->key_path = s->cache_path = NULL;
		client_errf(err, "out of memory");
		goto out;
	}
	r = client_file_read(s->key_path, CLIENT_MAX_FILE, &pem, &len, err);
	if (r == -1)
		goto out;
	if (r == 0) {
		s->key = crypto_key_load(pem, len, err);
		if (s->key == NULL) {
			client_err_replace(err, "%s: %s: fix or remove the account key", s->key_path,
			    err->msg);
			goto out;
		}
		if (stat(s->key_path, &st) == 0 && (st.st_mode & 077) != 0)
			log_warnx("%s: the account key is readable by others: chmod 600 it",
			    s->key_path);
	} else if (!create_key) {
		client_errf(err, "no account key in %s: run dns01 issue first (or give the right "
		    "--state-dir)", s->state_dir);
		goto out;
	} else {
		/* RFC 8555 §6.2: ES256 is the algorithm every CA supports. */
		s->key = crypto_key_generate(CRYPTO_KEY_EC256, err);
		if (s->key == NULL)
			goto out;
		client_free_secret(pem);
		pem = NULL;
		if (crypto_key_pem(s->key, &pem, &len, err) == -1 ||
		    client_file_write(s->key_path, pem, len, 0600, err) == -1)
			goto out;
		log_info("created account key %s", s->key_path);
	}
	s->http = http_new(o->ca_file, err);
	if (s->http == NULL)
		goto out;
	if (acme_open(&s->acme, s->http, o->directory, s->key, err) == -1)
		goto out;
	s->acme_open = true;
	rc = 0;
out:
	client_free_secret(pem);
	if (rc != 0)
		session_close(s);
	return rc;
}

/* Free the session. */
void
session_close(struct session *s)
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
cache_put(struct session *s, const char *url, struct client_err *err)
{
	char *text = NULL, *out = NULL;
	size_t len = 0;
	int rc = -1;

	if (client_file_read(s->cache_path, CLIENT_MAX_FILE, &text, &len, err) == -1) {
		client_err_clear(err);	/* a broken cache is rebuilt */
		text = NULL;
		len = 0;
	}
	out = json_map_put(text, len, s->acme.directory_url, url);
	if (out == NULL) {
		client_errf(err, "out of memory");
		goto out;
	}
	if (client_file_write(s->cache_path, out, strlen(out), 0600, err) == -1)
		goto out;
	rc = 0;
out:
	free(text);
	free(out);
	return rc;
}

/*
 * Find the account: the cached URL if the CA still knows it (one POST-as-GET),
 * else newAccount (§7.3; onlyReturnExisting unless may_create).
 */
int
session_account(struct session *s, const struct client_opts *o, bool may_create,
    struct acme_account_info *info, struct client_err *err)
{
	struct acme_account_opts ao;
	char *text = NULL, *kid = NULL;
	size_t len = 0;
	int rc = -1;

	memset(info, 0, sizeof(*info));
	if (client_file_read(s->cache_path, CLIENT_MAX_FILE, &text, &len, err) == 0)
		kid = json_map_get(text, len, s->acme.directory_url);
	client_err_clear(err);
	if (kid != NULL && client_url_valid(kid)) {
		s->acme.kid = kid;
		kid = NULL;
		if (acme_account_get(&s->acme, info, err) == 0 && strcmp(info->status, "valid") == 0) {
			rc = 0;
			goto out;
		}
		if (info->status != NULL) {
			client_errf(err, "the account %s is %s: use another --state-dir (or remove "
			    "%s) to start a new one", s->acme.kid, info->status, s->key_path);
			goto out;
		}
		if (s->acme.problem.type == NULL)
			goto out;	/* no answer at all */
		/* The CA forgot the account (or the key changed): look it up again. */
		log_debug("cached account %s not usable: %s", s->acme.kid, err->msg);
		client_err_clear(err);
		free(s->acme.kid);
		s->acme.kid = NULL;
		acme_account_info_free(info);
	}
	memset(&ao, 0, sizeof(ao));
	ao.email = o->email;
	ao.agree_tos = o->agree_tos;
	ao.eab_kid = o->eab_kid;
	ao.eab_hmac_key = o->eab_hmac_key;
	ao.only_existing = !may_create;
	if (acme_account(&s->acme, &ao, err) == -1)
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

/* register: one acme-dns account per base domain, reused from --storage when there. */
int
cmd_register(const struct client_opts *o, struct client_result *res, struct client_err *err)
{
	struct http *h = NULL;
	struct acmedns_account a;
	char **lines = NULL, **bases = NULL;
	size_t i, k, n = 0;
	int r, rc = CLIENT_EXIT_ERROR;

	memset(&a, 0, sizeof(a));
	lines = calloc(o->ndomains, sizeof(*lines));
	bases = calloc(o->ndomains, sizeof(*bases));
	if (lines == NULL || bases == NULL) {
		client_errf(err, "out of memory");
		goto out;
	}
	for (i = 0; i < o->ndomains; i++) {
		const char *base = client_base_domain(o->domains[i]);

		for (k = 0; k < n && strcmp(bases[k], base) != 0; k++)
			;
		if (k < n)
			continue;	/* "*.x" and "x" share one account */
		r = acmedns_storage_lookup(o->storage, base, &a, err);
		if (r == -1)
			goto out;
		if (r == 0) {
			if (h == NULL && (h = http_new(o->ca_file, err)) == NULL)
				goto out;
			if (acmedns_register(h, o->api, (const char *const *)o->allow_from, o->nallow,
			    &a, err) == -1)
				goto out;
			/* Store at once: the password is shown only once by the API. */
			if (acmedns_storage_store(o->storage, base, &a, err) == -1)
				goto out;
			log_info("registered %s at %s", base, o->api);
		} else {
			log_info("%s: reusing the account in %s", base, o->storage);
		}
		bases[n] = strdup(base);
		if (bases[n] == NULL ||
		    asprintf(&lines[n], "_acme-challenge.%s. CNAME %s.", base, a.fulldomain) == -1) {
			lines[n] = NULL;
			free(bases[n]);
			client_errf(err, "out of memory");
			goto out;
		}
		n++;
		acmedns_account_free(&a);
	}
	if (!o->json)
		for (i = 0; i < n; i++)
			printf("%s\n", lines[i]);
	res->status = "registered";
	res->domains = (const char *const *)o->domains;
	res->ndomains = o->ndomains;
	res->records = (const char *const *)lines;
	res->nrecords = n;
	lines = NULL;	/* res owns them now; client_run frees them */
	rc = CLIENT_EXIT_OK;
out:
	acmedns_account_free(&a);
	if (lines != NULL) {
		for (i = 0; i < n; i++)
			free(lines[i]);
		free(lines);
	}
	for (i = 0; i < n; i++)
		free(bases[i]);
	free(bases);
	http_free(h);
	return rc;
}

/* revoke: §7.6 with the account key. */
int
cmd_revoke(const struct client_opts *o, struct client_result *res, struct client_err *err)
{
	struct session s;
	struct acme_account_info info;
	struct crypto_cert c;
	char *pem = NULL;
	unsigned char *der = NULL;
	size_t len = 0, derlen = 0;
	int r, rc = CLIENT_EXIT_ERROR;

	memset(&c, 0, sizeof(c));
	memset(&info, 0, sizeof(info));
	r = client_file_read(o->cert, CLIENT_MAX_FILE, &pem, &len, err);
	if (r == 1)
		client_errf(err, "%s does not exist: give the certificate with --cert", o->cert);
	if (r != 0)
		return CLIENT_EXIT_ERROR;
	if (crypto_cert_parse(pem, len, &c, err) == -1 ||
	    crypto_cert_der(pem, len, &der, &derlen, err) == -1) {
		client_err_replace(err, "%s: %s", o->cert, err->msg);
		free(pem);
		crypto_cert_free(&c);
		return CLIENT_EXIT_ERROR;
	}
	if (session_open(o, &s, false, err) == -1)
		goto out_nos;
	if (session_account(&s, o, false, &info, err) == -1)
		goto out;
	if (acme_revoke(&s.acme, der, derlen, o->reason, err) == -1)
		goto out;
	if (!o->json)
		printf("revoked certificate %s (serial %s)\n", o->cert, c.serial_hex);
	res->status = "revoked";
	res->serial = strdup(c.serial_hex);
	rc = CLIENT_EXIT_OK;
out:
	res->badnonce_retries = s.acme.badnonce_retries;
	session_close(&s);
out_nos:
	acme_account_info_free(&info);
	crypto_cert_free(&c);
	free(pem);
	free(der);
	return rc;
}

/* account show|rollover|deactivate. */
int
cmd_account(const struct client_opts *o, struct client_result *res, struct client_err *err)
{
	struct session s;
	struct acme_account_info info;
	struct crypto_key *nk = NULL;
	char *pem = NULL, *newpath = NULL;
	size_t len = 0;
	int rc = CLIENT_EXIT_ERROR;

	memset(&info, 0, sizeof(info));
	if (session_open(o, &s, false, err) == -1)
		return CLIENT_EXIT_ERROR;
	if (session_account(&s, o, false, &info, err) == -1)
		goto out;
	switch (o->cmd) {
	case CLIENT_CMD_ACCOUNT_SHOW:
		res->status = "shown";
		break;
	case CLIENT_CMD_ACCOUNT_ROLLOVER:
		/* Keep the new key on disk before the CA knows it, so a crash loses nothing. */
		nk = crypto_key_generate(crypto_key_kind(s.key), err);
		if (nk == NULL || crypto_key_pem(nk, &pem, &len, err) == -1 ||
		    asprintf(&newpath, "%s.new", s.key_path) == -1 ||
		    client_file_write(newpath, pem, len, 0600, err) == -1)
			goto out;
		if (acme_key_change(&s.acme, nk, err) == -1) {
			(void)unlink(newpath);
			goto out;
		}
		if (rename(newpath, s.key_path) == -1) {
			client_errf(err, "the CA now knows the new key, but renaming %s to %s failed "
			    "(%s): rename it by hand", newpath, s.key_path, strerror(errno));
			goto out;
		}
		crypto_key_free(s.key);
		s.key = nk;
		nk = NULL;
		res->status = "rolled-over";
		break;
	case CLIENT_CMD_ACCOUNT_DEACTIVATE:
		if (acme_deactivate(&s.acme, err) == -1)
			goto out;
		(void)cache_put(&s, NULL, err);
		client_err_clear(err);
		free(info.status);
		info.status = strdup("deactivated");
		res->status = "deactivated";
		break;
	default:
		client_errf(err, "unknown account command");
		goto out;
	}
	res->account = strdup(s.acme.kid);
	res->account_status = info.status != NULL ? strdup(info.status) : NULL;
	res->contact = info.contact != NULL ? strdup(info.contact) : NULL;
	if (!o->json) {
		printf("account: %s\nstatus: %s\n", s.acme.kid, info.status != NULL ? info.status :
		    "?");
		if (info.contact != NULL)
			printf("contact: %s\n", info.contact);
		printf("key: %s %s (JWK thumbprint %s)\n", crypto_key_alg(s.key), s.key_path,
		    s.acme.thumbprint);
		if (o->cmd == CLIENT_CMD_ACCOUNT_ROLLOVER)
			printf("rolled over to a new key\n");
	}
	rc = CLIENT_EXIT_OK;
out:
	res->badnonce_retries = s.acme.badnonce_retries;
	acme_account_info_free(&info);
	crypto_key_free(nk);
	client_free_secret(pem);
	free(newpath);
	session_close(&s);
	return rc;
}

/* RFC 9773 §4.2 window, --days, --force, or a third of the lifetime left. */
int
client_renewal_due(const struct crypto_cert *c, time_t now, long days, bool force,
    time_t ari_start, time_t ari_end, const char **why)
{
	time_t left = c->not_after - now, life = c->not_after - c->not_before, pick;
	uint32_t r = 0;

	if (force) {
		*why = "forced";
		return 1;
	}
	if (left <= 0) {
		*why = "expired";
		return 1;
	}
	if (days >= 0) {
		*why = left < (time_t)days * 86400 ? "fewer days left than --days" :
		    "more days left than --days";
		return left < (time_t)days * 86400;
	}
	if (ari_start != 0 || ari_end != 0) {
		/* §4.2: a uniformly random time in the window; past means now. */
		(void)rand_bytes(&r, sizeof(r));
		pick = ari_start;
		if (ari_end > ari_start)
			pick += (time_t)((double)(ari_end - ari_start) * ((double)r / 4294967296.0));
		*why = pick <= now ? "in the CA's suggested renewal window (ARI)" :
		    "before the CA's suggested renewal window (ARI)";
		return pick <= now;
	}
	*why = left < life / 3 ? "less than a third of the lifetime left" :
	    "more than a third of the lifetime left";
	return left < life / 3;
}

/* Dispatch. */
int
client_run(const struct client_opts *o, struct client_result *res, struct client_err *err)
{
	switch (o->cmd) {
	case CLIENT_CMD_REGISTER:
		res->command = "register";
		return cmd_register(o, res, err);
	case CLIENT_CMD_ISSUE:
		res->command = "issue";
		return cmd_issue(o, res, err);
	case CLIENT_CMD_RENEW:
		res->command = "renew";
		return cmd_issue(o, res, err);
	case CLIENT_CMD_REVOKE:
		res->command = "revoke";
		return cmd_revoke(o, res, err);
	case CLIENT_CMD_ACCOUNT_SHOW:
	case CLIENT_CMD_ACCOUNT_ROLLOVER:
	case CLIENT_CMD_ACCOUNT_DEACTIVATE:
		res->command = "account";
		return cmd_account(o, res, err);
	default:
		client_errf(err, "no command: use register, issue, renew, revoke or account");
		return CLIENT_EXIT_ERROR;
	}
}

/* Free the strings a command put into res (the ones it allocated). */
static void
result_free(struct client_result *res)
{
	size_t i;

	free((char *)(uintptr_t)res->account);
	free((char *)(uintptr_t)res->account_status);
	free((char *)(uintptr_t)res->contact);
	free((char *)(uintptr_t)res->serial);
	free((char *)(uintptr_t)res->not_after);
	for (i = 0; i < res->nrecords; i++)
		free((char *)(uintptr_t)res->records[i]);
	free((void *)(uintptr_t)res->records);
}

/* See client.h. */
int
client_main(int argc, char **argv)
{
	struct client_opts o;
	struct client_result res;
	struct client_err err;
	char *js;
	int rc;

	memset(&err, 0, sizeof(err));
	memset(&res, 0, sizeof(res));
	signal(SIGPIPE, SIG_IGN);
	/* Private keys live in this process: no core dumps, no ptrace by other users. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (client_opts_parse(argc, argv, &o, &err) == -1) {
		fprintf(stderr, "dns01: %s\n", err.msg);
		return CLIENT_EXIT_ERROR;
	}
	if (o.cmd == CLIENT_CMD_HELP) {
		client_usage(stdout);
		client_opts_free(&o);
		return CLIENT_EXIT_OK;
	}
	if (o.cmd == CLIENT_CMD_VERSION) {
		printf("dns01 %s\n", CLIENT_VERSION);
		client_opts_free(&o);
		return CLIENT_EXIT_OK;
	}
	log_init(o.verbose > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN, LOG_FORMAT_TEXT, NULL);
	rc = client_run(&o, &res, &err);
	if (rc == CLIENT_EXIT_ERROR) {
		if (!err.set)
			client_errf(&err, "failed (run with -v for details)");
		fprintf(stderr, "dns01: %s\n", err.msg);
		res.status = "error";
		res.error = err.msg;
	}
	if (o.json) {
		js = json_result(&res);
		if (js != NULL)
			printf("%s\n", js);
		free(js);
	}
	result_free(&res);
	client_opts_free(&o);
	log_close();
	return rc;
}
