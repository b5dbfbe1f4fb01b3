/* client/session.c -- the CLI's ACME session: state directory and account options from argv */
/* SPDX-License-Identifier: ISC */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* The state directory: --state-dir, else $XDG_STATE_HOME/dns01, else ~/.local/state/dns01. */
char *
client_state_dir(const struct client_opts *o, struct acme_err *err)
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
		acme_errf(err, "no state directory: give --state-dir DIR (or DNS01_STATE_DIR)");
	return d;
}

/* See client.h. */
int
client_session_open(const struct client_opts *o, struct acme_session *s, bool create_key,
    struct acme_err *err)
{
	struct acme_session_params p;
	char *dir;
	int rc;

	memset(s, 0, sizeof(*s));
	dir = client_state_dir(o, err);
	if (dir == NULL)
		return -1;
	memset(&p, 0, sizeof(p));
	p.state_dir = dir;
	p.directory_url = o->directory;
	p.ca_file = o->ca_file;
	p.create_key = create_key;
	rc = acme_session_open(s, &p, err);
	free(dir);
	return rc;
}

/* See client.h. */
int
client_session_account(struct acme_session *s, const struct client_opts *o, bool may_create,
    struct acme_account_info *info, struct acme_err *err)
{
	struct acme_account_opts ao;

	memset(&ao, 0, sizeof(ao));
	ao.email = o->email;
	ao.agree_tos = o->agree_tos;
	ao.eab_kid = o->eab_kid;
	ao.eab_hmac_key = o->eab_hmac_key;
	ao.only_existing = !may_create;
	return acme_session_account(s, &ao, info, err);
}
