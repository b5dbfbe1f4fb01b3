/* client/client.h -- dns01, the ACME client (RFC 8555) that answers DNS-01 through acme-dns */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01_CLIENT_H
#define DNS01_CLIENT_H

/*
 * The command line on top of the acme module (acme/acme.h): options, the
 * acme-dns API and storage file, the DNS check, the commands and their output.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "../acme/acme.h"

#define CLIENT_VERSION ACME_VERSION

/* ------------------------------------------------------------------ */
/* Limits of the command line (the protocol's are in acme/acme.h). */

#define CLIENT_MAX_DOMAINS 100		/* -d names in one order */
#define CLIENT_MAX_ALLOW_FROM 32	/* --allow-from entries */
#define CLIENT_DNS_WAIT 60		/* --dns-timeout default: seconds to wait for the TXT */
#define CLIENT_DNS_WAIT_MAX 3600	/* --dns-timeout at most */
#define CLIENT_DNS_FIRST_MS 50		/* DNS re-checks: 50 ms, doubling ... */
#define CLIENT_DNS_BACKOFF_MAX_MS 1000	/* ... to at most 1 s apart */
#define CLIENT_DNS_PROGRESS 5		/* seconds between two "still waiting" lines */
#define CLIENT_DNS_TIMEOUT 3		/* seconds one DNS query to the resolver may take */
#define CLIENT_NS_TIMEOUT 2		/* seconds one query to an authoritative server may take */
#define CLIENT_NS_PORT 53		/* --ns-port default: port of the authoritative servers */
#define CLIENT_MAX_NS 8			/* authoritative servers checked per zone */
#define CLIENT_KEEP_RELEASES 3		/* certificate releases kept in <out>/releases */
#define CLIENT_MAX_RELEASE 999999999	/* release numbers wrap no further */
#define CLIENT_MAX_CERTS 1000		/* certificates renew --all handles */
#define CLIENT_HOOK_TIMEOUT 600		/* seconds the deploy hook may run */
#define CLIENT_ACCOUNT_LABEL_LEN (1 + ACME_ACCOUNT_LABEL_LEN)	/* "_" + the 16 base32 characters */
#define CLIENT_PERSIST_LEN 1024		/* bytes of a dns-persist-01 record (the API's limit) */
#define CLIENT_MAX_TXT 4096		/* octets of one TXT value read back (strings joined) */
#define CLIENT_CHALLENGE_AUTO (-1)	/* --challenge auto: see choose_challenge in issue.c */
#define CLIENT_SETTINGS_FILE "dns01.json"	/* in --out: what renew reuses (the profile) */

/* Exit codes: users and scripts rely on them. */
enum client_exit {
	CLIENT_EXIT_OK = 0,		/* done: issued, renewed, revoked, registered */
	CLIENT_EXIT_NOTHING = 1,	/* renew: nothing due */
	CLIENT_EXIT_ERROR = 2,		/* any error; one line on stderr says what to do */
};

/* ------------------------------------------------------------------ */
/* json.c -- the acme-dns documents, the storage file and the --json result, on jansson */

/* An account at an acme-dns API, as lego and goacmedns store it. */
struct acmedns_account {
	char *username, *password, *fulldomain, *subdomain, *server_url;
};

/* What --json prints. NULL members are left out. */
struct client_result {
	const char *command;
	const char *status;		/* "issued", "renewed", "not-due", "revoked", ... */
	const char *account;
	const char *account_status;
	const char *contact;
	const char *const *domains;
	size_t ndomains;
	const char *cert_dir;
	const char *serial;
	const char *not_after;
	const char *renewal_reason;
	const char *profile;		/* the profile ordered, if any */
	const char *challenges;		/* the challenge types answered, e.g. "dns-01" */
	const char *const *records;	/* register: the CNAME lines */
	size_t nrecords;
	const char *error;
	long badnonce_retries;
	double seconds;
	bool printed;			/* the command printed its own JSON lines (renew --all) */
};

/* One certificate recorded in <state-dir>/certs/ (renew --all). Strings are owned. */
struct cert_entry {
	char *out;			/* absolute --out */
	char **domains;
	size_t ndomains;
	char *directory, *storage, *key_type, *csr, *deploy_hook, *preferred_chain, *api;
	bool reuse_key;
};

/* acme-dns bodies. */
char *json_acmedns_register(const char *const *allow_from, size_t n);
char *json_acmedns_update(const char *subdomain, const char *txt);
char *json_acmedns_persist(const char *subdomain, const char *value);
/* Parse the /register response; every member is checked against an allowlist. */
int json_acmedns_account(const char *body, size_t len, const char *server_url,
    struct acmedns_account *a, struct acme_err *err);
void acmedns_account_free(struct acmedns_account *a);
/*
 * The lego/goacmedns storage file: look up key. Returns 1 and fills *a if
 * found, 0 if not, -1 if the document is malformed.
 */
int json_storage_get(const char *text, size_t len, const char *key, struct acmedns_account *a,
    struct acme_err *err);
/* Return the storage document with key set to a; other entries are kept. */
char *json_storage_put(const char *text, size_t len, const char *key,
    const struct acmedns_account *a, struct acme_err *err);
/* The --json output, one line. */
char *json_result(const struct client_result *r);
/* A cert_entry as JSON (new string), and back (every member checked). */
char *json_cert_entry(const struct cert_entry *e);
int json_cert_entry_parse(const char *text, size_t len, struct cert_entry *e,
    struct acme_err *err);
/* The settings file in --out (CLIENT_SETTINGS_FILE): a string member, new or NULL. */
char *json_settings_get(const char *text, size_t len, const char *key);
/* The settings document with key set to value (NULL removes it); other members kept. */
char *json_settings_put(const char *text, size_t len, const char *key, const char *value);
/* ------------------------------------------------------------------ */
/* dnscheck.c -- does the challenge TXT resolve? (ldns; ldns types stop here) */

/*
 * Query TXT at name through resolver (as dnscheck_txt) and return every TXT
 * value of the answer, character-strings joined, in *vals (free with
 * dnscheck_values_free). 0 (answered or timed out, see *answered) or -1 on a
 * resolver setup error.
 */
int dnscheck_txt_values(const char *resolver, const char *name, char ***vals, size_t *nvals,
    char **cname, int *answered, struct acme_err *err);
void dnscheck_values_free(char **vals, size_t n);

/*
 * Query TXT at name through resolver ("HOST:PORT", "[V6]:PORT", "HOST", or
 * NULL for /etc/resolv.conf) with RD set. Returns 1 if every value in want is
 * in the answer section (the resolver follows the CNAME), 0 if not (yet), -1
 * on a resolver setup error. *cname gets the CNAME target seen, if any;
 * *answered tells whether the resolver answered at all.
 */
int dnscheck_txt(const char *resolver, const char *name, const char *const *want,
    size_t nwant, char **cname, int *answered, struct acme_err *err);

/* Where a challenge TXT lives and who serves it. */
struct dnscheck_auth {
	char *target;			/* the CNAME target of the name, else the fallback */
	char *zone;			/* the closest enclosing zone with NS records, or NULL */
	char *addr[CLIENT_MAX_NS];	/* its authoritative servers' addresses */
	size_t naddr;
};
/*
 * Follow name's CNAME through the resolver (fallback: the acme-dns fulldomain
 * when there is none yet), find the zone's NS records and their addresses.
 * 0 (a->naddr may be 0) or -1 on a resolver setup error.
 */
int dnscheck_auth_find(const char *resolver, const char *name, const char *fallback,
    struct dnscheck_auth *a, struct acme_err *err);
void dnscheck_auth_free(struct dnscheck_auth *a);
/*
 * Query one authoritative server (addr, port) directly, RD off, for TXT at
 * name: 1 if every value in want is there, 0 if not yet, -1 if it did not answer.
 */
int dnscheck_txt_direct(const char *addr, int port, const char *name, const char *const *want,
    size_t nwant);
/* ------------------------------------------------------------------ */
/* acmedns.c -- the acme-dns API (register, update) and its storage file */

/* POST <api>/register (with allowfrom CIDRs). 0 or -1. */
int acmedns_register(struct http *h, const char *api_url, const char *const *allow_from,
    size_t nallow, struct acmedns_account *a, struct acme_err *err);
/* POST <server_url>/update with X-Api-User/X-Api-Key. 0 or -1. */
int acmedns_update(struct http *h, const struct acmedns_account *a, const char *txt,
    struct acme_err *err);
/* POST <server_url>/persist {"subdomain","value"}: a dns-persist-01 record. 0 or -1. */
int acmedns_persist(struct http *h, const struct acmedns_account *a, const char *value,
    struct acme_err *err);
/* Look up domain (wildcard -> base) in the storage file: 1 found, 0 not, -1 error. */
int acmedns_storage_lookup(const char *path, const char *domain, struct acmedns_account *a,
    struct acme_err *err);
/* Add or replace domain's entry; written atomically at mode 0600. 0 or -1. */
int acmedns_storage_store(const char *path, const char *domain,
    const struct acmedns_account *a, struct acme_err *err);
/* ------------------------------------------------------------------ */
/* cli.c -- the command line and DNS01_<OPTION> environment variables */

enum client_cmd {
	CLIENT_CMD_NONE = 0,
	CLIENT_CMD_REGISTER,
	CLIENT_CMD_PERSIST,
	CLIENT_CMD_ISSUE,
	CLIENT_CMD_RENEW,
	CLIENT_CMD_REVOKE,
	CLIENT_CMD_ACCOUNT_SHOW,
	CLIENT_CMD_ACCOUNT_ROLLOVER,
	CLIENT_CMD_ACCOUNT_DEACTIVATE,
	CLIENT_CMD_HELP,
	CLIENT_CMD_VERSION,
};

struct client_opts {
	enum client_cmd cmd;
	char *api;			/* --api */
	char *storage;			/* --storage */
	char **allow_from;		/* --allow-from, repeated */
	size_t nallow;
	char **domains;			/* -d (issue/renew) or DOMAIN... (register), normalised */
	size_t ndomains;
	char *out;			/* --out */
	long days;			/* --days, -1 if not given */
	bool force;			/* --force */
	char *cert;			/* --cert */
	int reason;			/* --reason, -1 if not given */
	char *directory;		/* --directory */
	char *state_dir;		/* --state-dir */
	char *ca_file;			/* --ca-file */
	char *resolver;			/* --resolver */
	char *email;			/* --email */
	bool agree_tos;			/* --agree-tos */
	enum crypto_key_type key_type;	/* --key-type */
	char *eab_kid;			/* --eab-kid */
	char *eab_hmac_key;		/* --eab-hmac-key (secret) */
	char *deploy_hook;		/* --deploy-hook */
	char *preferred_chain;		/* --preferred-chain */
	int challenge;			/* --challenge: enum acme_chall_type or CLIENT_CHALLENGE_AUTO */
	char *profile;			/* --profile (draft-aaron-acme-profiles) */
	bool json;			/* --json */
	bool insecure_http;		/* --insecure-http: allow http:// off loopback */
	char *issuer;			/* --issuer: dns-persist-01 issuer domain name */
	bool wildcard;			/* --wildcard: policy=wildcard */
	long long persist_until;	/* --persist-until (Unix seconds), -1 if not given */
	int verbose;			/* -v */
	bool quiet;			/* -q: no progress, no result line */
	char *csr;			/* --csr: the user's own CSR (PEM or DER) */
	bool reuse_key;			/* --reuse-key: keep <out>/privkey.pem */
	bool all;			/* renew --all */
	char *cert_key;			/* revoke --cert-key: the certificate's own key */
	long dns_timeout;		/* --dns-timeout seconds */
	int ns_port;			/* --ns-port: authoritative servers' port */
	bool summary;			/* set by renew --all: no result line per run */
};

/*
 * Parse argv, after DNS01_<OPTION> environment variables (the command line
 * wins). Values of secret options are overwritten in argv so they do not show
 * in the process title. Returns 0, or -1 with a usage error in err. Free with
 * client_opts_free.
 */
int client_opts_parse(int argc, char **argv, struct client_opts *o, struct acme_err *err);
void client_opts_free(struct client_opts *o);
/* The usage text. */
void client_usage(FILE *f);
/* ------------------------------------------------------------------ */
/* cmd.c (register, revoke, account, dispatch) and issue.c (issue, renew) */

/* Run the command in o; returns an enum client_exit value, err set on 2. */
int client_run(const struct client_opts *o, struct client_result *res, struct acme_err *err);
int cmd_register(const struct client_opts *o, struct client_result *res, struct acme_err *err);
int cmd_issue(const struct client_opts *o, struct client_result *res, struct acme_err *err);
int cmd_revoke(const struct client_opts *o, struct client_result *res, struct acme_err *err);
int cmd_account(const struct client_opts *o, struct client_result *res, struct acme_err *err);
/* Free the strings a command allocated in res. */
void client_result_free(struct client_result *res);
/* ------------------------------------------------------------------ */
/* certs.c -- the state directory's list of certificates; renew --all */

/* Record o's certificate (issue/renew succeeded) in <state>/certs/. 0 or -1. */
int client_cert_record(const struct client_opts *o, const char *state, struct acme_err *err);
/* renew --all: each recorded certificate, one summary line each; exit 2 if any failed. */
int cmd_renew_all(const struct client_opts *o, struct client_result *res, struct acme_err *err);
void cert_entry_free(struct cert_entry *e);
/* ------------------------------------------------------------------ */
/* output.c -- progress lines and the certificate set */

/* One progress line on stderr ("dns01: ..."), unless -q. */
void client_progress(const struct client_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * Install a new certificate set in out: a new releases/<n> directory, then
 * live -> releases/<n> in one rename; cert.pem etc. are symlinks into live/.
 * key_pem NULL (--csr) leaves privkey.pem out. Keeps CLIENT_KEEP_RELEASES. 0 or -1.
 */
int client_output_install(const char *out, const struct crypto_chain *ch, const char *key_pem,
    size_t key_len, struct acme_err *err);
/* ------------------------------------------------------------------ */
/* persist.c -- dns01 persist, and the record names register prints */

/*
 * The dns-account-01 label of an account URL: "_" + lower-case base32 of
 * the first 10 bytes of SHA-256(url) (acme_account_label), into
 * out[CLIENT_ACCOUNT_LABEL_LEN + 1]. 0 or -1.
 */
int client_account_label(const char *account_url, char out[CLIENT_ACCOUNT_LABEL_LEN + 1]);
/*
 * The dns-persist-01 record: "<issuer>; accounturi=<url>[; policy=wildcard]
 * [; persistUntil=<n>]" (until < 0: none). New string, or NULL when it
 * would exceed CLIENT_PERSIST_LEN (or out of memory).
 */
char *client_persist_value(const char *issuer, const char *account_url, bool wildcard,
    long long until);
int cmd_persist(const struct client_opts *o, struct client_result *res, struct acme_err *err);
/*
 * register's extra CNAME lines for base: dns-persist-01's, and, when
 * account_url is known, dns-account-01's. Appends up to 2 to lines[*n]. 0 or -1.
 */
int client_register_extra(const char *base, const char *fulldomain, const char *account_url,
    char **lines, size_t *n);
/* ------------------------------------------------------------------ */
/* session.c -- the CLI's session: state directory and account options from the command line */

/* The state directory: --state-dir, $XDG_STATE_HOME/dns01 or ~/.local/state/dns01. */
char *client_state_dir(const struct client_opts *o, struct acme_err *err);
/* Open the acme session for o (state directory resolved, key created if create_key). */
int client_session_open(const struct client_opts *o, struct acme_session *s, bool create_key,
    struct acme_err *err);
/* Find the account with o's contact and EAB (created only if may_create). 0 or -1. */
int client_session_account(struct acme_session *s, const struct client_opts *o,
    bool may_create, struct acme_account_info *info, struct acme_err *err);
/* The whole program: parse, run, print. Returns the exit code. */
int client_main(int argc, char **argv);

#endif
