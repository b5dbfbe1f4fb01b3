/* client/cli.c -- the dns01 command line and its DNS01_<OPTION> environment variables */
/* SPDX-License-Identifier: ISC */

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../common/common.h"
#include "client.h"

enum {
	OPT_API = 256, OPT_STORAGE, OPT_ALLOW_FROM, OPT_OUT, OPT_DAYS, OPT_FORCE, OPT_CERT,
	OPT_REASON, OPT_DIRECTORY, OPT_STATE_DIR, OPT_CA_FILE, OPT_RESOLVER, OPT_EMAIL,
	OPT_AGREE_TOS, OPT_KEY_TYPE, OPT_EAB_KID, OPT_EAB_HMAC_KEY, OPT_DEPLOY_HOOK, OPT_JSON,
	OPT_PREFERRED_CHAIN, OPT_INSECURE_HTTP, OPT_HELP, OPT_VERSION, OPT_CSR, OPT_REUSE_KEY,
	OPT_ALL, OPT_CERT_KEY, OPT_DNS_TIMEOUT, OPT_NS_PORT, OPT_ISSUER, OPT_WILDCARD,
	OPT_PERSIST_UNTIL, OPT_CHALLENGE,
	OPT_PROFILE,
};

/* Each option, its DNS01_<OPTION> variable, and whether it takes a value. */
static const struct opt_def {
	const char *name;
	int id;
	bool arg;
	const char *env;
} opt_defs[] = {
	{ "api", OPT_API, true, "DNS01_API" },
	{ "storage", OPT_STORAGE, true, "DNS01_STORAGE" },
	{ "allow-from", OPT_ALLOW_FROM, true, "DNS01_ALLOW_FROM" },
	{ "domain", 'd', true, "DNS01_DOMAIN" },
	{ "out", OPT_OUT, true, "DNS01_OUT" },
	{ "days", OPT_DAYS, true, "DNS01_DAYS" },
	{ "force", OPT_FORCE, false, "DNS01_FORCE" },
	{ "cert", OPT_CERT, true, "DNS01_CERT" },
	{ "reason", OPT_REASON, true, "DNS01_REASON" },
	{ "directory", OPT_DIRECTORY, true, "DNS01_DIRECTORY" },
	{ "state-dir", OPT_STATE_DIR, true, "DNS01_STATE_DIR" },
	{ "ca-file", OPT_CA_FILE, true, "DNS01_CA_FILE" },
	{ "resolver", OPT_RESOLVER, true, "DNS01_RESOLVER" },
	{ "email", OPT_EMAIL, true, "DNS01_EMAIL" },
	{ "agree-tos", OPT_AGREE_TOS, false, "DNS01_AGREE_TOS" },
	{ "key-type", OPT_KEY_TYPE, true, "DNS01_KEY_TYPE" },
	{ "eab-kid", OPT_EAB_KID, true, "DNS01_EAB_KID" },
	{ "eab-hmac-key", OPT_EAB_HMAC_KEY, true, "DNS01_EAB_HMAC_KEY" },
	{ "deploy-hook", OPT_DEPLOY_HOOK, true, "DNS01_DEPLOY_HOOK" },
	{ "preferred-chain", OPT_PREFERRED_CHAIN, true, "DNS01_PREFERRED_CHAIN" },
	{ "challenge", OPT_CHALLENGE, true, "DNS01_CHALLENGE" },
	{ "profile", OPT_PROFILE, true, "DNS01_PROFILE" },
	{ "json", OPT_JSON, false, "DNS01_JSON" },
	{ "insecure-http", OPT_INSECURE_HTTP, false, "DNS01_INSECURE_HTTP" },
	{ "issuer", OPT_ISSUER, true, "DNS01_ISSUER" },
	{ "wildcard", OPT_WILDCARD, false, "DNS01_WILDCARD" },
	{ "persist-until", OPT_PERSIST_UNTIL, true, "DNS01_PERSIST_UNTIL" },
	{ "verbose", 'v', false, "DNS01_VERBOSE" },
	{ "quiet", 'q', false, "DNS01_QUIET" },
	{ "csr", OPT_CSR, true, "DNS01_CSR" },
	{ "reuse-key", OPT_REUSE_KEY, false, "DNS01_REUSE_KEY" },
	{ "all", OPT_ALL, false, NULL },
	{ "cert-key", OPT_CERT_KEY, true, "DNS01_CERT_KEY" },
	{ "dns-timeout", OPT_DNS_TIMEOUT, true, "DNS01_DNS_TIMEOUT" },
	{ "ns-port", OPT_NS_PORT, true, "DNS01_NS_PORT" },
	{ "help", OPT_HELP, false, NULL },
	{ "version", OPT_VERSION, false, NULL },
};
#define NOPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

/* The usage text (also in docs/client.md and dns01(1)). */
void
client_usage(FILE *f)
{
	fprintf(f,
	    "usage: dns01 register --api URL --storage FILE [--allow-from CIDR]... DOMAIN...\n"
	    "       dns01 issue    -d DOMAIN [-d DOMAIN]... | --csr FILE  --out DIR [common options]\n"
	    "       dns01 renew    -d DOMAIN [-d DOMAIN]... | --csr FILE  --out DIR [--days N] [--force]\n"
	    "       dns01 renew    --all [--days N] [--force] [common options]\n"
	    "       dns01 revoke   --cert FILE [--cert-key FILE] [--reason N] [common options]\n"
	    "       dns01 persist  -d DOMAIN [-d DOMAIN]... [--issuer NAME] [--wildcard]\n"
	    "                      [--persist-until UNIX_TIME] [common options]\n"
	    "       dns01 account  show|rollover|deactivate [common options]\n"
	    "common options: --directory URL --storage FILE --state-dir DIR --ca-file FILE\n"
	    "                --resolver HOST:PORT --email ADDR --agree-tos\n"
	    "                --key-type ec256|ec384|rsa2048|rsa3072|rsa4096\n"
	    "                --eab-kid ID --eab-hmac-key B64URL --deploy-hook CMD\n"
	    "                --preferred-chain ISSUER_CN --insecure-http --reuse-key\n"
	    "                --dns-timeout SECONDS --ns-port PORT --api URL --json -q -v\n"
	    "issue/renew:    --challenge auto|dns-01|dns-account-01|dns-persist-01 --profile NAME\n"
	    "Every option can be set as DNS01_<OPTION>, e.g. DNS01_DIRECTORY, DNS01_EAB_HMAC_KEY.\n"
	    "Exit: 0 done, 1 renew found nothing due, 2 error. See dns01(1).\n");
}

/* Free everything client_opts_parse allocated. */
void
client_opts_free(struct client_opts *o)
{
	size_t i;

	if (o == NULL)
		return;
	free(o->api);
	free(o->storage);
	for (i = 0; i < o->nallow; i++)
		free(o->allow_from[i]);
	free(o->allow_from);
	for (i = 0; i < o->ndomains; i++)
		free(o->domains[i]);
	free(o->domains);
	free(o->out);
	free(o->cert);
	free(o->directory);
	free(o->state_dir);
	free(o->ca_file);
	free(o->resolver);
	free(o->email);
	free(o->eab_kid);
	acme_free_secret(o->eab_hmac_key);
	free(o->deploy_hook);
	free(o->preferred_chain);
	free(o->csr);
	free(o->cert_key);
	free(o->issuer);
	free(o->profile);
	memset(o, 0, sizeof(*o));
}

/* "1", "true", "yes", "on" are true; "", "0", "false", "no", "off" false. */
static int
parse_bool(const char *s, bool *b)
{
	if (strcasecmp(s, "1") == 0 || strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
	    strcasecmp(s, "on") == 0)
		*b = true;
	else if (*s == '\0' || strcasecmp(s, "0") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "no") == 0 || strcasecmp(s, "off") == 0)
		*b = false;
	else
		return -1;
	return 0;
}

/* A non-negative decimal within max. */
static int
parse_long(const char *s, long max, long *v)
{
	char *ep;
	long n;

	errno = 0;
	n = strtol(s, &ep, 10);
	if (*s == '\0' || *ep != '\0' || errno != 0 || n < 0 || n > max)
		return -1;
	*v = n;
	return 0;
}

/* Replace a string option (the later source wins). */
static int
set_str(char **slot, const char *v)
{
	char *s = strdup(v);

	if (s == NULL)
		return -1;
	free(*slot);
	*slot = s;
	return 0;
}

/* Append to a list option. */
static int
add_str(char ***v, size_t *n, size_t max, const char *s)
{
	char **nv;

	if (*n >= max)
		return -1;
	nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (nv == NULL)
		return -1;
	*v = nv;
	nv[*n] = strdup(s);
	if (nv[*n] == NULL)
		return -1;
	(*n)++;
	return 0;
}

/* Add a domain after checking it; duplicates are dropped. */
static int
add_domain(struct client_opts *o, const char *s, struct acme_err *err)
{
	char *d;
	size_t i;
	int rc = -1;

	if (acme_name_numeric(s)) {
		acme_errf(err, "'%.100s' is an IP address or an all-numeric name, not a DNS name: "
		    "dns01 orders DNS identifiers only", s);
		return -1;
	}
	d = acme_domain_normalize(s);
	if (d == NULL) {
		acme_errf(err, "'%.100s' is not a valid domain name (letters, digits, '-', at "
		    "least two labels, optional leading '*.')", s);
		return -1;
	}
	for (i = 0; i < o->ndomains; i++) {
		if (strcmp(o->domains[i], d) == 0) {
			rc = 0;
			goto out;
		}
	}
	if (add_str(&o->domains, &o->ndomains, CLIENT_MAX_DOMAINS, d) == -1) {
		acme_errf(err, "at most %d domains", CLIENT_MAX_DOMAINS);
		goto out;
	}
	rc = 0;
out:
	free(d);
	return rc;
}

/* The options of dns01 persist: --issuer, --wildcard, --persist-until. */
static int
apply_persist(struct client_opts *o, int id, const char *v, const char *from,
    struct acme_err *err)
{
	char *d;
	bool b;
	long n;

	switch (id) {
	case OPT_ISSUER:
		if ((d = acme_domain_normalize(v)) == NULL || d[0] == '*') {
			free(d);
			goto bad;
		}
		free(o->issuer);
		o->issuer = d;
		return 0;
	case OPT_WILDCARD:
		if (parse_bool(v, &b) == -1)
			goto bad;
		o->wildcard = b;
		return 0;
	case OPT_PERSIST_UNTIL:
		if (parse_long(v, LONG_MAX, &n) == -1)
			goto bad;
		o->persist_until = n;
		return 0;
	default:
		return 0;
	}
bad:
	acme_errf(err, "%s: bad value '%.100s'", from, v);
	return -1;
}

/* The options of -q, --csr, --reuse-key, --all, --cert-key, --dns-timeout, --ns-port. */
static int
apply_more(struct client_opts *o, int id, const char *v, const char *from,
    struct acme_err *err)
{
	bool b;
	long n;

	switch (id) {
	case 'q':
		if (parse_bool(v, &b) == -1)
			goto bad;
		o->quiet = b;
		return 0;
	case OPT_CSR:
		return set_str(&o->csr, v);
	case OPT_REUSE_KEY:
		if (parse_bool(v, &b) == -1)
			goto bad;
		o->reuse_key = b;
		return 0;
	case OPT_ALL:
		o->all = true;
		return 0;
	case OPT_CERT_KEY:
		return set_str(&o->cert_key, v);
	case OPT_DNS_TIMEOUT:
		if (parse_long(v, CLIENT_DNS_WAIT_MAX, &n) == -1 || n < 1)
			goto bad;
		o->dns_timeout = n;
		return 0;
	case OPT_NS_PORT:
		if (parse_long(v, 65535, &n) == -1 || n < 1)
			goto bad;
		o->ns_port = (int)n;
		return 0;
	default:
		return apply_persist(o, id, v, from, err);
	}
bad:
	acme_errf(err, "%s: bad value '%.100s'", from, v);
	return -1;
}

/* --challenge: "auto" or a type name (acme_chall_type_parse). */
static int
parse_challenge(const char *v, int *out)
{
	enum acme_chall_type t;

	if (strcmp(v, "auto") == 0) {
		*out = CLIENT_CHALLENGE_AUTO;
		return 0;
	}
	if (acme_chall_type_parse(v, &t) == -1)
		return -1;
	*out = (int)t;
	return 0;
}

/* --profile: 1..ACME_MAX_PROFILE_NAME printable characters, no space, quote or backslash. */
static bool
profile_valid(const char *v)
{
	size_t i, n = strlen(v);

	for (i = 0; i < n && v[i] > 0x20 && v[i] < 0x7f && v[i] != '"' && v[i] != '\\'; i++)
		;
	return n > 0 && n <= ACME_MAX_PROFILE_NAME && i == n;
}

/* The options of the ACME server, the account and the output, --directory to -v. */
static int
apply_acme(struct client_opts *o, int id, const char *v, const char *from,
    struct acme_err *err)
{
	bool b;

	switch (id) {
	case OPT_DIRECTORY:
		if (!is_http_url(v))
			goto bad;
		return set_str(&o->directory, v);
	case OPT_STATE_DIR:
		return set_str(&o->state_dir, v);
	case OPT_CA_FILE:
		return set_str(&o->ca_file, v);
	case OPT_RESOLVER:
		return set_str(&o->resolver, v);
	case OPT_EMAIL:
		if (strchr(v, '@') == NULL || strpbrk(v, " ,<>\"\r\n") != NULL)
			goto bad;
		return set_str(&o->email, v);
	case OPT_AGREE_TOS:
		if (parse_bool(v, &b) == -1)
			goto bad;
		o->agree_tos = b;
		return 0;
	case OPT_KEY_TYPE:
		if (crypto_key_type_parse(v, &o->key_type) == -1)
			goto bad;
		return 0;
	case OPT_EAB_KID:
		return set_str(&o->eab_kid, v);
	case OPT_EAB_HMAC_KEY:
		acme_free_secret(o->eab_hmac_key);
		o->eab_hmac_key = strdup(v);
		return o->eab_hmac_key == NULL ? -1 : 0;
	case OPT_DEPLOY_HOOK:
		return set_str(&o->deploy_hook, v);
	case OPT_PREFERRED_CHAIN:
		return set_str(&o->preferred_chain, v);
	case OPT_CHALLENGE:
		if (parse_challenge(v, &o->challenge) == -1)
			goto bad;
		return 0;
	case OPT_PROFILE:
		if (!profile_valid(v))
			goto bad;
		return set_str(&o->profile, v);
	case OPT_JSON:
		if (parse_bool(v, &b) == -1)
			goto bad;
		o->json = b;
		return 0;
	case OPT_INSECURE_HTTP:
		if (parse_bool(v, &b) == -1)
			goto bad;
		o->insecure_http = b;
		return 0;
	case 'v':
		if (parse_bool(v, &b) == -1)
			goto bad;
		o->verbose = b ? o->verbose + 1 : 0;
		return 0;

	default:
		return apply_more(o, id, v, from, err);
	}
bad:
	/* Never echo a secret value; the others help the user. */
	if (id == OPT_EAB_HMAC_KEY)
		acme_errf(err, "%s: bad value", from);
	else
		acme_errf(err, "%s: bad value '%.100s'", from, v);
	return -1;
}

/* Apply one option value, from argv or the environment (from names the source). */
static int
apply(struct client_opts *o, int id, const char *v, const char *from, struct acme_err *err)
{
	bool b;
	long n;

	switch (id) {
	case OPT_API:
		if (!is_http_url(v))
			goto bad;
		return set_str(&o->api, v);
	case OPT_STORAGE:
		return set_str(&o->storage, v);
	case OPT_ALLOW_FROM: {
		struct cidr c;
		if (cidr_parse(v, &c) == -1) {
			acme_errf(err, "%s: '%.100s' is not a CIDR (e.g. 192.0.2.0/24)", from, v);
			return -1;
		}
		if (add_str(&o->allow_from, &o->nallow, CLIENT_MAX_ALLOW_FROM, v) == -1) {
			acme_errf(err, "%s: at most %d entries", from, CLIENT_MAX_ALLOW_FROM);
			return -1;
		}
		return 0;
	}
	case 'd':
		return add_domain(o, v, err);
	case OPT_OUT:
		return set_str(&o->out, v);
	case OPT_DAYS:
		if (parse_long(v, 36500, &n) == -1)
			goto bad;
		o->days = n;
		return 0;
	case OPT_FORCE:
		if (parse_bool(v, &b) == -1)
			goto bad;
		o->force = b;
		return 0;
	case OPT_CERT:
		return set_str(&o->cert, v);
	case OPT_REASON:
		/* RFC 5280 §5.3.1: 0-10, 7 unused. */
		if (parse_long(v, 10, &n) == -1 || n == 7)
			goto bad;
		o->reason = (int)n;
		return 0;
	default:
		return apply_acme(o, id, v, from, err);
	}
bad:
	acme_errf(err, "%s: bad value '%.100s'", from, v);
	return -1;
}

/* DNS01_DOMAIN and DNS01_ALLOW_FROM hold lists separated by commas or spaces. */
static int
apply_env_list(struct client_opts *o, int id, const char *v, const char *from,
    struct acme_err *err)
{
	char *copy, *tok, *save = NULL;
	int rc = 0;

	copy = strdup(v);
	if (copy == NULL)
		return -1;
	for (tok = strtok_r(copy, ", \t\n", &save); tok != NULL && rc == 0;
	    tok = strtok_r(NULL, ", \t\n", &save))
		rc = apply(o, id, tok, from, err);
	free(copy);
	return rc;
}

/* The subcommand words. */
static enum client_cmd
parse_cmd(int argc, char **argv, int *used)
{
	*used = 2;
	if (argc < 2)
		return CLIENT_CMD_NONE;
	if (strcmp(argv[1], "register") == 0)
		return CLIENT_CMD_REGISTER;
	if (strcmp(argv[1], "issue") == 0)
		return CLIENT_CMD_ISSUE;
	if (strcmp(argv[1], "renew") == 0)
		return CLIENT_CMD_RENEW;
	if (strcmp(argv[1], "revoke") == 0)
		return CLIENT_CMD_REVOKE;
	if (strcmp(argv[1], "persist") == 0)
		return CLIENT_CMD_PERSIST;
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)
		return CLIENT_CMD_HELP;
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "-V") == 0)
		return CLIENT_CMD_VERSION;
	if (strcmp(argv[1], "account") == 0 && argc >= 3) {
		*used = 3;
		if (strcmp(argv[2], "show") == 0)
			return CLIENT_CMD_ACCOUNT_SHOW;
		if (strcmp(argv[2], "rollover") == 0)
			return CLIENT_CMD_ACCOUNT_ROLLOVER;
		if (strcmp(argv[2], "deactivate") == 0)
			return CLIENT_CMD_ACCOUNT_DEACTIVATE;
	}
	return CLIENT_CMD_NONE;
}

/* Which options make sense for the command, and which it needs. */
static int
check_required(const struct client_opts *o, struct acme_err *err)
{
	/* The API key and the account's requests must not cross the network in clear. */
	if (!o->insecure_http && acme_url_plain_remote(o->api)) {
		acme_errf(err, "--api %.200s: plain http:// to a host that is not loopback would "
		    "send the API key in clear text: use https:// (or --insecure-http)", o->api);
		return -1;
	}
	if (!o->insecure_http && acme_url_plain_remote(o->directory)) {
		acme_errf(err, "--directory %.200s: plain http:// to a host that is not loopback: "
		    "use https:// (or --insecure-http)", o->directory);
		return -1;
	}
	switch (o->cmd) {
	case CLIENT_CMD_REGISTER:
		if (o->api == NULL) {
			acme_errf(err, "register needs --api URL (or DNS01_API): the acme-dns API");
			return -1;
		}
		if (o->storage == NULL) {
			acme_errf(err, "register needs --storage FILE (or DNS01_STORAGE)");
			return -1;
		}
		if (o->ndomains == 0) {
			acme_errf(err, "register needs at least one DOMAIN");
			return -1;
		}
		return 0;
	case CLIENT_CMD_PERSIST:
		if (o->ndomains == 0 || o->storage == NULL) {
			acme_errf(err, "persist needs -d DOMAIN and --storage FILE (the file dns01 "
			    "register wrote)");
			return -1;
		}
		break;
	case CLIENT_CMD_ISSUE:
	case CLIENT_CMD_RENEW:
		if (o->all) {
			if (o->cmd != CLIENT_CMD_RENEW || o->ndomains > 0 || o->out != NULL ||
			    o->csr != NULL) {
				acme_errf(err, "--all goes with renew alone, without -d, --out or --csr "
				    "(it renews what the state directory lists)");
				return -1;
			}
			return 0;	/* each entry names its own directory and storage */
		}
		if (o->ndomains == 0 && o->csr == NULL) {
			acme_errf(err, "%s needs -d DOMAIN (or DNS01_DOMAIN) or --csr FILE",
			    o->cmd == CLIENT_CMD_ISSUE ? "issue" : "renew");
			return -1;
		}
		if (o->out == NULL) {
			acme_errf(err, "%s needs --out DIR (or DNS01_OUT) for the certificate files",
			    o->cmd == CLIENT_CMD_ISSUE ? "issue" : "renew");
			return -1;
		}
		if (o->storage == NULL && o->challenge != ACME_CHALL_DNS_PERSIST01) {
			acme_errf(err, "%s needs --storage FILE (or DNS01_STORAGE): the file "
			    "dns01 register wrote", o->cmd == CLIENT_CMD_ISSUE ? "issue" : "renew");
			return -1;
		}
		break;
	case CLIENT_CMD_REVOKE:
		if (o->cert == NULL) {
			acme_errf(err, "revoke needs --cert FILE (or DNS01_CERT)");
			return -1;
		}
		break;
	default:
		break;
	}
	if (o->directory == NULL) {
		acme_errf(err, "no ACME server: give --directory URL (or DNS01_DIRECTORY), e.g. "
		    "https://acme-v02.api.letsencrypt.org/directory");
		return -1;
	}
	return 0;
}

/* Overwrite a secret's bytes in argv, so ps and /proc/PID/cmdline do not show it. */
static void
hide_arg(char *s)
{
	size_t n = strlen(s);

	if (n > 0)
		memset(s, 'x', n);
}

/* The values before the environment and argv are read. */
static void
opts_defaults(struct client_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->days = -1;
	o->reason = -1;
	o->persist_until = -1;
	o->key_type = CRYPTO_KEY_EC256;
	o->dns_timeout = CLIENT_DNS_WAIT;
	o->ns_port = CLIENT_NS_PORT;
	o->challenge = CLIENT_CHALLENGE_AUTO;
}

/* Every DNS01_<OPTION> variable that is set, in opt_defs order. */
static int
apply_env(struct client_opts *o, struct acme_err *err)
{
	const char *v;
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		if (opt_defs[i].env == NULL || (v = getenv(opt_defs[i].env)) == NULL)
			continue;
		if (opt_defs[i].id == 'd' || opt_defs[i].id == OPT_ALLOW_FROM) {
			if (apply_env_list(o, opt_defs[i].id, v, opt_defs[i].env, err) == -1)
				return -1;
		} else if (apply(o, opt_defs[i].id, v, opt_defs[i].env, err) == -1) {
			return -1;
		}
	}
	return 0;
}

/* Empty a list option, so argv's entries replace the environment's. */
static void
clear_list(char **v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free(v[i]);
	*n = 0;
}

/* The getopt_long table, from opt_defs. */
static void
longopts_fill(struct option longopts[NOPTS + 1])
{
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		longopts[i].name = opt_defs[i].name;
		longopts[i].has_arg = opt_defs[i].arg ? required_argument : no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = opt_defs[i].id;
	}
	longopts[NOPTS] = (struct option){ NULL, 0, NULL, 0 };
}

/* The DOMAIN... operands after the options: register only. */
static int
apply_operands(int sub_argc, char **sub_argv, struct client_opts *o, struct acme_err *err)
{
	if (optind < sub_argc && o->cmd != CLIENT_CMD_REGISTER) {
		acme_errf(err, "unexpected argument '%.100s' (use -d DOMAIN for names)",
		    sub_argv[optind]);
		return -1;
	}
	if (optind < sub_argc)
		clear_list(o->domains, &o->ndomains);
	for (; optind < sub_argc; optind++)
		if (add_domain(o, sub_argv[optind], err) == -1)
			return -1;
	return 0;
}

/* The options and operands after the command words. 1 when -h or --version ends it. */
static int
apply_argv(int sub_argc, char **sub_argv, struct client_opts *o, struct acme_err *err)
{
	struct option longopts[NOPTS + 1];
	char from[64];
	bool argv_domains = false, argv_allow = false;
	size_t i;
	int c, idx;

	/* argv replaces env for lists too: the first -d from argv clears DNS01_DOMAIN's. */
	longopts_fill(longopts);
	optind = 0;	/* GNU: full re-initialisation, so parse may run again */
	opterr = 0;
	while ((c = getopt_long(sub_argc, sub_argv, "d:vqh", longopts, &idx)) != -1) {
		if (c == '?' || c == ':') {
			acme_errf(err, "bad option '%.100s' (dns01 --help lists them)",
			    sub_argv[optind - 1]);
			return -1;
		}
		if (c == 'h' || c == OPT_HELP) {
			o->cmd = CLIENT_CMD_HELP;
			return 1;
		}
		if (c == OPT_VERSION) {
			o->cmd = CLIENT_CMD_VERSION;
			return 1;
		}
		if (c == 'd' && !argv_domains) {
			argv_domains = true;
			clear_list(o->domains, &o->ndomains);
		}
		if (c == OPT_ALLOW_FROM && !argv_allow) {
			argv_allow = true;
			clear_list(o->allow_from, &o->nallow);
		}
		for (i = 0; i < NOPTS && opt_defs[i].id != c; i++)
			;
		snprintf(from, sizeof(from), "--%s", i < NOPTS ? opt_defs[i].name : "?");
		if (apply(o, c, optarg != NULL ? optarg : "1", from, err) == -1)
			return -1;
		if (c == OPT_EAB_HMAC_KEY && optarg != NULL)
			hide_arg(optarg);
	}
	return apply_operands(sub_argc, sub_argv, o, err);
}

/* See client.h: environment first, then argv; argv wins. */
int
client_opts_parse(int argc, char **argv, struct client_opts *o, struct acme_err *err)
{
	int used, r, rc = -1;

	opts_defaults(o);
	o->cmd = parse_cmd(argc, argv, &used);
	if (o->cmd == CLIENT_CMD_HELP || o->cmd == CLIENT_CMD_VERSION)
		return 0;
	if (o->cmd == CLIENT_CMD_NONE) {
		acme_errf(err, "unknown command%s%s: use register, issue, renew, revoke, persist or "
		    "account show|rollover|deactivate (dns01 --help)", argc > 1 ? " " : "",
		    argc > 1 ? argv[1] : "");
		goto out;
	}
	if (apply_env(o, err) == -1)
		goto out;
	r = apply_argv(argc - used + 1, argv + used - 1, o, err);
	if (r == -1)
		goto out;
	if (r == 1) {
		rc = 0;
		goto out;
	}
	if (check_required(o, err) == -1)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		client_opts_free(o);
		o->cmd = CLIENT_CMD_NONE;
	}
	return rc;
}
