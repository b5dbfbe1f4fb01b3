/* client/persist.c -- dns01 persist (dns-persist-01 records), and the names register prints */
/* SPDX-License-Identifier: ISC */

/*
 * dns-persist-01 (draft-ietf-acme-dns-persist): the CA looks for a TXT
 * record at _validation-persist.<domain> naming itself and the ACME
 * account; it stays valid, so no per-order TXT is needed. With acme-dns
 * the user CNAMEs _validation-persist.<domain> to
 * _validation-persist.<fulldomain>, where dns01d serves the account's
 * records (POST /persist).
 *
 * dns-account-01 (draft-ietf-acme-dns-account-label-03): the challenge TXT
 * lives at _<label>._acme-challenge.<domain>, label derived from the
 * account URL, so it is CNAMEd to the same <fulldomain> as dns-01's.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/common.h"
#include "client.h"

/* See client.h: "_" and acme_account_label's 16 characters. */
int
client_account_label(const char *account_url, char out[CLIENT_ACCOUNT_LABEL_LEN + 1])
{
	out[0] = '_';	/* the label itself is the protocol's: acme/challenge.c */
	return acme_account_label(account_url, out + 1);
}

/* See client.h. */
char *
client_persist_value(const char *issuer, const char *account_url, bool wildcard,
    long long until)
{
	char *v = NULL, tail[48] = "";
	int n;

	if (until >= 0)
		snprintf(tail, sizeof(tail), "; persistUntil=%lld", until);
	n = asprintf(&v, "%s; accounturi=%s%s%s", issuer, account_url,
	    wildcard ? "; policy=wildcard" : "", tail);
	if (n < 0)
		return NULL;
	if ((size_t)n > CLIENT_PERSIST_LEN) {
		free(v);
		return NULL;
	}
	return v;
}

/* See client.h. */
int
client_register_extra(const char *base, const char *fulldomain, const char *account_url,
    char **lines, size_t *n)
{
	char label[CLIENT_ACCOUNT_LABEL_LEN + 1];

	if (asprintf(&lines[*n], "_validation-persist.%s. CNAME _validation-persist.%s.", base,
	    fulldomain) == -1) {
		lines[*n] = NULL;
		return -1;
	}
	(*n)++;
	if (account_url == NULL)
		return 0;
	if (client_account_label(account_url, label) == -1 ||
	    asprintf(&lines[*n], "%s._acme-challenge.%s. CNAME %s.", label, base,
	    fulldomain) == -1) {
		lines[*n] = NULL;
		return -1;
	}
	(*n)++;
	return 0;
}

/* Publish value for each distinct base domain of o through its acme-dns account. */
static int
publish_all(const struct client_opts *o, const char *value, char **lines, size_t *n,
    struct acme_err *err)
{
	struct acmedns_account a;
	struct http *h = NULL;
	size_t i, k;
	int r, rc = -1;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < o->ndomains; i++) {
		const char *base = acme_base_domain(o->domains[i]);

		for (k = 0; k < i && strcmp(acme_base_domain(o->domains[k]), base) != 0; k++)
			;
		if (k < i)
			continue;	/* "*.x" and "x" share one account and one record */
		if ((r = acmedns_storage_lookup(o->storage, base, &a, err)) == -1)
			goto out;
		if (r == 0) {
			acme_errf(err, "no acme-dns account for %s in %s: run dns01 register first",
			    base, o->storage);
			goto out;
		}
		if (h == NULL && (h = http_new(o->ca_file, err)) == NULL)
			goto out;
		if (acmedns_persist(h, &a, value, err) == -1)
			goto out;
		if (asprintf(&lines[*n], "_validation-persist.%s. TXT \"%s\"", a.fulldomain,
		    value) == -1) {
			lines[*n] = NULL;
			acme_errf(err, "out of memory");
			goto out;
		}
		(*n)++;
		if (!o->json)
			printf("%s\n", lines[*n - 1]);
		acmedns_account_free(&a);
	}
	rc = 0;
out:
	acmedns_account_free(&a);
	http_free(h);
	return rc;
}

/*
 * persist: the record for the current ACME account (created if needed, as
 * issue does) and this CA (meta.caaIdentities[0], or --issuer), published
 * for every -d base domain.
 */
int
cmd_persist(const struct client_opts *o, struct client_result *res, struct acme_err *err)
{
	struct acme_session s;
	struct acme_account_info info;
	const char *issuer;
	char *value = NULL, **lines = NULL;
	size_t i, n = 0;
	int rc = CLIENT_EXIT_ERROR;

	memset(&info, 0, sizeof(info));
	if (client_session_open(o, &s, true, err) == -1)
		goto out;
	if (client_session_account(&s, o, true, &info, err) == -1)
		goto out;
	issuer = o->issuer != NULL ? o->issuer : s.acme.dir.caa_identity;
	if (issuer == NULL) {
		acme_errf(err, "the CA's directory names no issuer domain (meta.caaIdentities): "
		    "give --issuer NAME");
		goto out;
	}
	if ((value = client_persist_value(issuer, s.acme.kid, o->wildcard,
	    o->persist_until)) == NULL) {
		acme_errf(err, "the record would exceed %d bytes", CLIENT_PERSIST_LEN);
		goto out;
	}
	if ((lines = calloc(o->ndomains, sizeof(*lines))) == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	if (publish_all(o, value, lines, &n, err) == -1)
		goto out;
	res->status = "published";
	res->account = strdup(s.acme.kid);
	res->domains = (const char *const *)o->domains;
	res->ndomains = o->ndomains;
	res->records = (const char *const *)lines;
	res->nrecords = n;
	lines = NULL;	/* res owns them now; client_run frees them */
	rc = CLIENT_EXIT_OK;
out:
	res->badnonce_retries = s.acme.badnonce_retries;
	if (lines != NULL) {
		for (i = 0; i < n; i++)
			free(lines[i]);
		free(lines);
	}
	free(value);
	acme_account_info_free(&info);
	acme_session_close(&s);
	return rc;
}
