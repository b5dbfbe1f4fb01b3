/* client/cmd.c -- the commands register, revoke, account; dispatch and output */
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

/* Lines register prints per base domain: dns-01's, dns-persist-01's, dns-account-01's CNAME. */
#define REGISTER_LINES 3

/*
 * The ACME account URL at --directory, if one already exists for our key
 * (nothing is created): register then also prints the dns-account-01 CNAME.
 * NULL when there is no --directory or no account (logged, not an error).
 */
static char *
existing_account(const struct client_opts *o)
{
	struct acme_session s;
	struct acme_account_info info;
	struct acme_err e;
	char *url = NULL;

	if (o->directory == NULL)
		return NULL;
	memset(&e, 0, sizeof(e));
	memset(&info, 0, sizeof(info));
	if (client_session_open(o, &s, false, &e) == 0 &&
	    client_session_account(&s, o, false, &info, &e) == 0 && s.acme.kid != NULL)
		url = strdup(s.acme.kid);
	else
		log_info("no ACME account at %s (%s): no dns-account-01 CNAME", o->directory,
		    e.set ? e.msg : "none");
	acme_account_info_free(&info);
	acme_session_close(&s);
	return url;
}

/* register: one acme-dns account per base domain, reused from --storage when there. */
int
cmd_register(const struct client_opts *o, struct client_result *res, struct acme_err *err)
{
	struct http *h = NULL;
	struct acmedns_account a;
	char **lines = NULL, **bases = NULL, *acct = existing_account(o);
	size_t i, k, n = 0, nb = 0;
	int r, rc = CLIENT_EXIT_ERROR;

	memset(&a, 0, sizeof(a));
	lines = calloc(o->ndomains * REGISTER_LINES, sizeof(*lines));
	bases = calloc(o->ndomains, sizeof(*bases));
	if (lines == NULL || bases == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	for (i = 0; i < o->ndomains; i++) {
		const char *base = acme_base_domain(o->domains[i]);

		for (k = 0; k < nb && strcmp(bases[k], base) != 0; k++)
			;
		if (k < nb)
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
			client_progress(o, "registered %s at %s", base, o->api);
		} else {
			client_progress(o, "%s: reusing the account in %s", base, o->storage);
		}
		if ((bases[nb] = strdup(base)) == NULL) {
			acme_errf(err, "out of memory");
			goto out;
		}
		nb++;
		if (asprintf(&lines[n], "_acme-challenge.%s. CNAME %s.", base, a.fulldomain) == -1) {
			lines[n] = NULL;
			acme_errf(err, "out of memory");
			goto out;
		}
		n++;
		if (client_register_extra(base, a.fulldomain, acct, lines, &n) == -1) {
			acme_errf(err, "out of memory");
			goto out;
		}
		acmedns_account_free(&a);
	}
	if (!o->json)	/* the records are the result: printed even with -q */
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
	for (i = 0; i < nb; i++)
		free(bases[i]);
	free(bases);
	free(acct);
	http_free(h);
	return rc;
}

/* revoke --cert-key: §7.6 signed by the certificate's own key; no account involved. */
static int
revoke_cert_key(const struct client_opts *o, const struct crypto_cert *c, const char *cert_pem,
    const unsigned char *der, size_t derlen, struct acme_err *err)
{
	struct http *h = NULL;
	struct acme a;
	struct crypto_key *k = NULL;
	char *pem = NULL;
	size_t len = 0;
	bool opened = false;	/* acme_open succeeded */
	int r, rc = -1;

	memset(&a, 0, sizeof(a));
	r = acme_file_read(o->cert_key, ACME_MAX_FILE, &pem, &len, err);
	if (r == 1)
		acme_errf(err, "%s does not exist: give the certificate's private key with "
		    "--cert-key", o->cert_key);
	if (r != 0)
		goto out;
	k = crypto_key_load(pem, len, err);
	if (k == NULL) {
		acme_err_replace(err, "--cert-key %s: %s", o->cert_key, err->msg);
		goto out;
	}
	if (!crypto_cert_matches_key(cert_pem, strlen(cert_pem), k)) {
		acme_errf(err, "--cert-key %s is not the private key of %s", o->cert_key, o->cert);
		goto out;
	}
	if ((h = http_new(o->ca_file, err)) == NULL ||
	    acme_open(&a, h, o->directory, NULL, err) == -1)
		goto out;
	opened = true;
	client_progress(o, "revoking serial %s with the certificate's own key", c->serial_hex);
	if (acme_revoke_with_key(&a, k, der, derlen, o->reason, err) == -1)
		goto out;
	rc = 0;
out:
	if (opened)
		acme_close(&a);
	http_free(h);
	crypto_key_free(k);
	acme_free_secret(pem);
	return rc;
}

/* revoke: §7.6 with the account key, or with --cert-key the certificate's own key. */
int
cmd_revoke(const struct client_opts *o, struct client_result *res, struct acme_err *err)
{
	struct acme_session s;
	struct acme_account_info info;
	struct crypto_cert c;
	char *pem = NULL;
	unsigned char *der = NULL;
	size_t len = 0, derlen = 0;
	int r, rc = CLIENT_EXIT_ERROR;

	memset(&c, 0, sizeof(c));
	memset(&info, 0, sizeof(info));
	memset(&s, 0, sizeof(s));
	r = acme_file_read(o->cert, ACME_MAX_FILE, &pem, &len, err);
	if (r == 1)
		acme_errf(err, "%s does not exist: give the certificate with --cert", o->cert);
	if (r != 0)
		return CLIENT_EXIT_ERROR;
	if (crypto_cert_parse(pem, len, &c, err) == -1 ||
	    crypto_cert_der(pem, len, &der, &derlen, err) == -1) {
		acme_err_replace(err, "%s: %s", o->cert, err->msg);
		free(pem);
		crypto_cert_free(&c);
		return CLIENT_EXIT_ERROR;
	}
	if (o->cert_key != NULL) {
		if (revoke_cert_key(o, &c, pem, der, derlen, err) == -1)
			goto out_nos;
	} else {
		if (client_session_open(o, &s, false, err) == -1)
			goto out_nos;
		if (client_session_account(&s, o, false, &info, err) == -1)
			goto out;
		client_progress(o, "revoking serial %s with account %s", c.serial_hex, s.acme.kid);
		if (acme_revoke(&s.acme, der, derlen, o->reason, err) == -1)
			goto out;
		res->badnonce_retries = s.acme.badnonce_retries;
	}
	if (!o->json && !o->quiet)
		printf("revoked certificate %s (serial %s)\n", o->cert, c.serial_hex);
	res->status = "revoked";
	res->serial = strdup(c.serial_hex);
	rc = CLIENT_EXIT_OK;
out:
	if (o->cert_key == NULL) {
		res->badnonce_retries = s.acme.badnonce_retries;
		acme_session_close(&s);
	}
out_nos:
	acme_account_info_free(&info);
	crypto_cert_free(&c);
	free(pem);
	free(der);
	return rc;
}

/* account show|rollover|deactivate. */
int
cmd_account(const struct client_opts *o, struct client_result *res, struct acme_err *err)
{
	struct acme_session s;
	struct acme_account_info info;
	struct crypto_key *nk = NULL;
	char *pem = NULL, *newpath = NULL, label[ACME_ACCOUNT_LABEL_LEN + 1];
	size_t len = 0;
	int rc = CLIENT_EXIT_ERROR;

	memset(&info, 0, sizeof(info));
	if (client_session_open(o, &s, false, err) == -1)
		return CLIENT_EXIT_ERROR;
	if (client_session_account(&s, o, false, &info, err) == -1)
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
		    acme_file_write(newpath, pem, len, 0600, err) == -1)
			goto out;
		if (acme_key_change(&s.acme, nk, err) == -1) {
			(void)unlink(newpath);
			goto out;
		}
		if (rename(newpath, s.key_path) == -1) {
			acme_errf(err, "the CA now knows the new key, but renaming %s to %s failed "
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
		(void)acme_session_forget(&s, err);
		acme_err_clear(err);
		free(info.status);
		info.status = strdup("deactivated");
		res->status = "deactivated";
		break;
	default:
		acme_errf(err, "unknown account command");
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
		if (acme_account_label(s.acme.kid, label) == 0)
			printf("dns-account-01: _%s._acme-challenge.<domain> (CNAME it to the "
			    "domain's acme-dns fulldomain)\n", label);
		if (o->cmd == CLIENT_CMD_ACCOUNT_ROLLOVER)
			printf("rolled over to a new key\n");
	}
	rc = CLIENT_EXIT_OK;
out:
	res->badnonce_retries = s.acme.badnonce_retries;
	acme_account_info_free(&info);
	crypto_key_free(nk);
	acme_free_secret(pem);
	free(newpath);
	acme_session_close(&s);
	return rc;
}

/* Dispatch. */
int
client_run(const struct client_opts *o, struct client_result *res, struct acme_err *err)
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
		return o->all ? cmd_renew_all(o, res, err) : cmd_issue(o, res, err);
	case CLIENT_CMD_REVOKE:
		res->command = "revoke";
		return cmd_revoke(o, res, err);
	case CLIENT_CMD_PERSIST:
		res->command = "persist";
		return cmd_persist(o, res, err);
	case CLIENT_CMD_ACCOUNT_SHOW:
	case CLIENT_CMD_ACCOUNT_ROLLOVER:
	case CLIENT_CMD_ACCOUNT_DEACTIVATE:
		res->command = "account";
		return cmd_account(o, res, err);
	default:
		acme_errf(err, "no command: use register, issue, renew, revoke or account");
		return CLIENT_EXIT_ERROR;
	}
}

/* Free the strings a command put into res (the ones it allocated). */
void
client_result_free(struct client_result *res)
{
	size_t i;

	free((char *)(uintptr_t)res->account);
	free((char *)(uintptr_t)res->account_status);
	free((char *)(uintptr_t)res->contact);
	free((char *)(uintptr_t)res->serial);
	free((char *)(uintptr_t)res->not_after);
	free((char *)(uintptr_t)res->profile);
	free((char *)(uintptr_t)res->challenges);
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
	struct acme_err err;
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
	/* -v: debug; -q: errors only; else warnings (progress lines are client_progress). */
	log_init(o.verbose > 0 ? LOG_LEVEL_DEBUG : o.quiet ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN,
	    LOG_FORMAT_TEXT, NULL);
	rc = client_run(&o, &res, &err);
	if (rc == CLIENT_EXIT_ERROR) {
		if (!err.set)
			acme_errf(&err, "failed (run with -v for details)");
		fprintf(stderr, "dns01: %s\n", err.msg);
		res.status = "error";
		res.error = err.msg;
	}
	if (o.json && !res.printed) {
		js = json_result(&res);
		if (js != NULL)
			printf("%s\n", js);
		free(js);
	}
	client_result_free(&res);
	client_opts_free(&o);
	log_close();
	return rc;
}
