/* client/issue.c -- issue and renew: order, DNS-01 through acme-dns, finalize, write, deploy */
/* SPDX-License-Identifier: ISC */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/common.h"
#include "client.h"

/* One authorization that needs a DNS challenge answered. */
struct pending {
	char *authz_url;
	char *chall_url;
	char *name;			/* the identifier, "*." added for a wildcard (display) */
	char *base;			/* the identifier without "*." */
	bool wildcard;
	enum acme_chall_type type;	/* the challenge answered */
	char rrname[ACME_MAX_NAME + 64];	/* where the CA looks: see acme_chall_record */
	size_t acct;			/* index into the run's accounts (not for dns-persist-01) */
	char txt[44];			/* dns-01 and dns-account-01 */
	char *issuers[ACME_MAX_ISSUERS];	/* dns-persist-01 issuerDomainNames */
	size_t nissuers;
	bool respond;			/* the challenge still needs "validate now" */
};

/* Everything one issue/renew run holds. */
struct run {
	const struct client_opts *o;
	struct acme_session s;
	bool session_open;
	struct acmedns_account *accts;	/* one per distinct base domain, from --storage */
	char **acct_base;
	size_t naccts;
	struct pending *p;
	size_t np;
	struct acme_order order;
	char *order_url;
	const char *profile;		/* --profile, or the one recorded in --out; NULL: none */
};

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The storage entry for base, loaded once. -1 if there is none. */
static int
account_for(struct run *r, const char *base, size_t *idx, struct acme_err *err)
{
	size_t i;
	int found;

	for (i = 0; i < r->naccts; i++) {
		if (strcmp(r->acct_base[i], base) == 0) {
			*idx = i;
			return 0;
		}
	}
	if (r->naccts >= CLIENT_MAX_DOMAINS) {
		acme_errf(err, "too many domains");
		return -1;
	}
	found = acmedns_storage_lookup(r->o->storage, base, &r->accts[r->naccts], err);
	if (found == -1)
		return -1;
	if (found == 0) {
		acme_errf(err, "no acme-dns account for %s in %s: run dns01 register --api URL "
		    "--storage %s %s, then create the CNAME record it prints", base, r->o->storage,
		    r->o->storage, base);
		return -1;
	}
	/* acme-dns-auth.py and older goacmedns store no server_url: use --api (DNS01_API). */
	if (r->accts[r->naccts].server_url == NULL) {
		if (r->o->api == NULL) {
			acme_errf(err, "the entry for %s in %s has no server_url (written by "
			    "acme-dns-auth.py or an older goacmedns): give the acme-dns API with --api "
			    "URL or DNS01_API", base, r->o->storage);
			acmedns_account_free(&r->accts[r->naccts]);
			return -1;
		}
		r->accts[r->naccts].server_url = strdup(r->o->api);
		if (r->accts[r->naccts].server_url == NULL) {
			acmedns_account_free(&r->accts[r->naccts]);
			acme_errf(err, "out of memory");
			return -1;
		}
		log_debug("%s: no server_url in %s; using --api %s", base, r->o->storage, r->o->api);
	}
	if (!r->o->insecure_http && acme_url_plain_remote(r->accts[r->naccts].server_url)) {
		acme_errf(err, "%s: server_url %.200s in %s is plain http:// to a host that is "
		    "not loopback and would get the API key in clear text: use https:// (or "
		    "--insecure-http)", base, r->accts[r->naccts].server_url, r->o->storage);
		acmedns_account_free(&r->accts[r->naccts]);
		return -1;
	}
	r->acct_base[r->naccts] = strdup(base);
	if (r->acct_base[r->naccts] == NULL) {
		acmedns_account_free(&r->accts[r->naccts]);
		acme_errf(err, "out of memory");
		return -1;
	}
	*idx = r->naccts++;
	return 0;
}

/* Is a dns-persist-01 record for this CA and account visible at pd->rrname? 1, 0 or -1. */
static int
persist_visible(struct run *r, const struct pending *pd, const char **why, struct acme_err *err)
{
	struct acme_persist_want w;
	char **vals;
	size_t n, i;
	int answered, rc;

	*why = "there is no TXT record";
	if (pd->nissuers == 0 || r->s.acme.kid == NULL) {
		*why = "the CA named no issuer";
		return 0;
	}
	memset(&w, 0, sizeof(w));
	w.issuers = (const char *const *)pd->issuers;
	w.nissuers = pd->nissuers;
	w.account_url = r->s.acme.kid;
	w.hash_prefix = r->s.acme.dir.account_hash_prefix;
	w.thumbprint = r->s.acme.thumbprint;
	w.domain = pd->base;
	w.wildcard = pd->wildcard;
	w.now = time(NULL);
	if (dnscheck_txt_values(r->o->resolver, pd->rrname, &vals, &n, NULL, &answered, err) == -1)
		return -1;
	if (!answered)
		*why = "the resolver did not answer";
	for (i = 0, rc = 0; i < n && rc == 0; i++)
		rc = acme_persist_match(vals[i], &w, why) ? 1 : 0;
	dnscheck_values_free(vals, n);
	return rc;
}

/* Does _<label>._acme-challenge.<base> lead to the acme-dns account's fulldomain? */
static bool
account_cname_ok(struct run *r, const char *rrname, size_t acct)
{
	struct acme_err e = { .set = false };
	const char *full = r->accts[acct].fulldomain;
	char **vals, *cname = NULL;
	size_t n, fl = strlen(full);
	int answered;
	bool ok;

	if (dnscheck_txt_values(r->o->resolver, rrname, &vals, &n, &cname, &answered, &e) == -1)
		return false;
	dnscheck_values_free(vals, n);
	ok = cname != NULL && strncasecmp(cname, full, fl) == 0 &&
	    (cname[fl] == '\0' || strcmp(cname + fl, ".") == 0);
	free(cname);
	return ok;
}

/* The types the CA offers in an authorization, for messages ("dns-01, dns-persist-01"). */
static void
offered(const struct acme_authz *az, char *buf, size_t len)
{
	size_t t, n = 0;

	buf[0] = '\0';
	for (t = 0; t < ACME_CHALL_NTYPES; t++)
		if (az->chall[t].url != NULL && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n > 0 ? ", " : "",
			    acme_chall_type_name((enum acme_chall_type)t));
	if (n == 0)
		snprintf(buf, len, "no DNS challenge");
}

/*
 * --challenge auto (documented in dns01(1)): dns-persist-01 if the CA offers it
 * and a record for this CA and account is already visible; else dns-account-01
 * if offered and its _<label>._acme-challenge CNAME leads to the acme-dns
 * account; else dns-01 if offered; else whichever of dns-account-01 and
 * dns-persist-01 is offered (and the DNS wait says what to create).
 */
static int
choose_auto(struct run *r, const struct acme_authz *az, struct pending *pd, const char **why,
    struct acme_err *err)
{
	const struct acme_chall *ch = az->chall;
	char name[sizeof(pd->rrname)];
	const char *pwhy;
	int v;

	if (ch[ACME_CHALL_DNS_PERSIST01].url != NULL) {
		(void)acme_chall_record(ACME_CHALL_DNS_PERSIST01, pd->base, NULL, pd->rrname,
		    sizeof(pd->rrname));
		if ((v = persist_visible(r, pd, &pwhy, err)) == -1)
			return -1;
		if (v == 1) {
			*why = "a record for this CA and account is published";
			return ACME_CHALL_DNS_PERSIST01;
		}
		log_debug("%s: no usable dns-persist-01 record: %s", pd->name, pwhy);
	}
	if (ch[ACME_CHALL_DNS_ACCOUNT01].url != NULL &&
	    acme_chall_record(ACME_CHALL_DNS_ACCOUNT01, pd->base, r->s.acme.kid, name,
	    sizeof(name)) == 0 && account_cname_ok(r, name, pd->acct)) {
		*why = "its CNAME leads to the acme-dns account";
		return ACME_CHALL_DNS_ACCOUNT01;
	}
	*why = "the default";
	if (ch[ACME_CHALL_DNS01].url != NULL)
		return ACME_CHALL_DNS01;
	*why = "the only DNS challenge offered";
	if (ch[ACME_CHALL_DNS_ACCOUNT01].url != NULL)
		return ACME_CHALL_DNS_ACCOUNT01;
	if (ch[ACME_CHALL_DNS_PERSIST01].url != NULL)
		return ACME_CHALL_DNS_PERSIST01;
	acme_errf(err, "the CA offers no DNS challenge (dns-01, dns-account-01, dns-persist-01) "
	    "for %s", pd->name);
	return -1;
}

/* Pick the challenge of pd (--challenge, or auto) and fill what answering it needs. */
static int
choose(struct run *r, const struct acme_authz *az, struct pending *pd, struct acme_err *err)
{
	const struct acme_chall *ch;
	const char *why = "--challenge";
	char list[128];
	int t = r->o->challenge;
	size_t i;

	for (i = 0; i < az->chall[ACME_CHALL_DNS_PERSIST01].nissuers; i++) {
		pd->issuers[i] = strdup(az->chall[ACME_CHALL_DNS_PERSIST01].issuers[i]);
		if (pd->issuers[i] == NULL) {
			acme_errf(err, "out of memory");
			return -1;
		}
		pd->nissuers++;
	}
	if (t != ACME_CHALL_DNS_PERSIST01 && account_for(r, pd->base, &pd->acct, err) == -1)
		return -1;
	if (t == CLIENT_CHALLENGE_AUTO && (t = choose_auto(r, az, pd, &why, err)) == -1)
		return -1;
	pd->type = (enum acme_chall_type)t;
	ch = &az->chall[t];
	if (ch->url == NULL) {
		offered(az, list, sizeof(list));
		acme_errf(err, "the CA offers no %s challenge for %s (it offers %s): use --challenge "
		    "auto or one of those", acme_chall_type_name(pd->type), pd->name, list);
		return -1;
	}
	if (acme_chall_record(pd->type, pd->base, r->s.acme.kid, pd->rrname, sizeof(pd->rrname)) == -1 ||
	    (pd->chall_url = strdup(ch->url)) == NULL) {
		acme_errf(err, "%s: name too long, or out of memory", pd->name);
		return -1;
	}
	pd->respond = ch->status == NULL || strcmp(ch->status, "pending") == 0;
	client_progress(r->o, "%s: %s at %s (%s)", pd->name, acme_chall_type_name(pd->type),
	    pd->rrname, why);
	if (pd->type == ACME_CHALL_DNS_PERSIST01)
		return 0;	/* the record is already there: nothing to compute or publish */
	if (!acme_token_valid(ch->token)) {
		acme_errf(err, "the CA sent a %s challenge with a bad token for %s",
		    acme_chall_type_name(pd->type), pd->name);
		return -1;
	}
	if (acme_dns01_txt(ch->token, r->s.acme.thumbprint, pd->txt) == -1) {
		acme_errf(err, "cannot compute the TXT value");
		return -1;
	}
	return 0;
}

/* Read one authorization; valid ones are skipped (§7.1.4, pre-validated CAs). */
static int
take_authz(struct run *r, const char *url, struct acme_err *err)
{
	struct acme_authz az;
	struct pending *pd;
	char *dn;
	int rc = -1;

	if (acme_get_authz(&r->s.acme, url, &az, err) == -1)
		return -1;
	if (strcmp(az.status, "valid") == 0) {
		client_progress(r->o, "%s%s: already authorized", az.wildcard ? "*." : "",
		    az.identifier);
		rc = 0;
		goto out;
	}
	if (strcmp(az.status, "pending") != 0) {
		acme_errf(err, "the authorization for %s is %s: run dns01 again for a new order",
		    az.identifier, az.status);
		goto out;
	}
	/* RFC 8555 §7.1.4: the identifier has no "*."; tolerate CAs that keep it. */
	dn = acme_domain_normalize(acme_base_domain(az.identifier));
	if (acme_base_domain(az.identifier) != az.identifier)
		az.wildcard = true;
	if (dn == NULL || dn[0] == '*') {
		free(dn);
		acme_errf(err, "the CA sent a bad identifier in an authorization");
		goto out;
	}
	if (r->np >= ACME_MAX_AUTHZ + CLIENT_MAX_DOMAINS) {
		free(dn);
		acme_errf(err, "the CA sent too many authorizations");
		goto out;
	}
	pd = &r->p[r->np];
	memset(pd, 0, sizeof(*pd));
	pd->base = dn;
	pd->wildcard = az.wildcard;
	pd->authz_url = strdup(url);
	if (asprintf(&pd->name, "%s%s", az.wildcard ? "*." : "", dn) == -1)
		pd->name = NULL;
	r->np++;
	if (pd->authz_url == NULL || pd->name == NULL) {
		acme_errf(err, "out of memory");
		goto out;
	}
	if (choose(r, &az, pd, err) == -1)
		goto out;
	rc = 0;
out:
	acme_authz_free(&az);
	return rc;
}

/* newOrder; pre-authorize with newAuthz (§7.4.1) if the CA wants that and offers it. */
static int
order(struct run *r, const char *replaces, struct acme_err *err)
{
	const struct client_opts *o = r->o;
	struct acme *a = &r->s.acme;
	char *az_url = NULL;
	size_t i;
	int rc;

	rc = acme_new_order(a, (const char *const *)o->domains, o->ndomains, replaces, r->profile,
	    &r->order, &r->order_url, err);
	if (rc == -1 && replaces != NULL && a->problem.type != NULL &&
	    !acme_problem_is(a, "rateLimited")) {
		/* RFC 9773 §5: a CA may refuse "replaces"; order without it. */
		log_debug("order with replaces refused (%s); ordering without it", err->msg);
		acme_err_clear(err);
		rc = acme_new_order(a, (const char *const *)o->domains, o->ndomains, NULL,
		    r->profile, &r->order, &r->order_url, err);
	}
	if (rc == -1 && a->dir.new_authz != NULL &&
	    (acme_problem_is(a, "unauthorized") || acme_problem_is(a, "userActionRequired"))) {
		/* The CA wants the names authorized first: pre-authorize the non-wildcards. */
		log_info("pre-authorizing with newAuthz (%s)", err->msg);
		acme_err_clear(err);
		for (i = 0; i < o->ndomains; i++) {
			if (o->domains[i][0] == '*')
				continue;	/* §7.4.1: wildcards cannot be pre-authorized */
			if (acme_new_authz(a, o->domains[i], &az_url, err) == -1)
				return -1;
			if (take_authz(r, az_url, err) == -1) {
				free(az_url);
				return -1;
			}
			free(az_url);
			az_url = NULL;
		}
		rc = 0;	/* the order follows once these are valid (see cmd_issue) */
		r->order_url = NULL;
	}
	return rc;
}

/* Publish every TXT through acme-dns; wildcard and base share one account (2 values). */
static int
publish(struct run *r, struct acme_err *err)
{
	size_t i, k, per;

	for (i = 0; i < r->naccts; i++) {
		per = 0;
		for (k = 0; k < r->np; k++)
			per += r->p[k].acct == i && r->p[k].type != ACME_CHALL_DNS_PERSIST01;
		if (per > 2)
			log_warnx("%s: %zu TXT values at one name; acme-dns keeps 2 by default",
			    r->acct_base[i], per);
	}
	for (k = 0; k < r->np; k++) {
		if (r->p[k].type == ACME_CHALL_DNS_PERSIST01)
			continue;	/* the persistent record is already published */
		if (acmedns_update(r->s.http, &r->accts[r->p[k].acct], r->p[k].txt, err) == -1) {
			acme_err_replace(err, "%s: %s", r->p[k].name, err->msg);
			return -1;
		}
		client_progress(r->o, "publishing: %s TXT via %s", r->p[k].name,
		    r->accts[r->p[k].acct].server_url);
	}
	return 0;
}

/* The record the user must create for pd, for messages. */
static void
instruction(const struct run *r, const struct pending *pd, char *buf, size_t len)
{
	if (pd->type == ACME_CHALL_DNS_PERSIST01)
		snprintf(buf, len, "publish \"%s TXT \\\"%s; accounturi=%s%s\\\"\"", pd->rrname,
		    pd->nissuers > 0 ? pd->issuers[0] : "?", r->s.acme.kid != NULL ? r->s.acme.kid : "?",
		    pd->wildcard ? "; policy=wildcard" : "");
	else
		snprintf(buf, len, "create the record \"%s CNAME %s.\"", pd->rrname,
		    r->accts[pd->acct].fulldomain);
}

/*
 * One record name's DNS check: the TXT values published for it (dns-01,
 * dns-account-01), or one dns-persist-01 record; its authoritative servers and
 * what they showed.
 */
struct dns_watch {
	const char *want[ACME_MAX_AUTHZ];
	size_t nwant;
	size_t first;			/* the first pending at this name (messages, persist) */
	bool persist;			/* a dns-persist-01 record: the resolver only */
	const char *persist_why;	/* why the last look did not match */
	struct dnscheck_auth auth;
	bool ns_done[CLIENT_MAX_NS];	/* this server has every value (or never answers) */
	bool ns_dead[CLIENT_MAX_NS];	/* this server did not answer: not waited for */
	bool done;
};

/* One round for w: authoritative servers first, then the resolver. 1 done, 0 not, -1 error. */
static int
dns_round(struct run *r, struct dns_watch *w, char **cname, bool *answered,
    struct acme_err *err)
{
	const char *qname = r->p[w->first].rrname;
	size_t k;
	int ok, ans;
	bool all = true;

	if (w->persist) {
		*answered = true;	/* persist_visible says so in its reason */
		return persist_visible(r, &r->p[w->first], &w->persist_why, err);
	}
	for (k = 0; k < w->auth.naddr; k++) {
		if (w->ns_done[k])
			continue;
		ok = dnscheck_txt_direct(w->auth.addr[k], r->o->ns_port, w->auth.target, w->want,
		    w->nwant);
		if (ok == -1) {
			client_progress(r->o, "authoritative server %s (port %d) did not answer; "
			    "checking the resolver only", w->auth.addr[k], r->o->ns_port);
			w->ns_done[k] = w->ns_dead[k] = true;
		} else if (ok == 1) {
			w->ns_done[k] = true;
		} else {
			all = false;
		}
	}
	/* Ask the resolver only once every server has the values: no negative caching. */
	if (!all)
		return 0;
	free(*cname);
	*cname = NULL;
	ok = dnscheck_txt(r->o->resolver, qname, w->want, w->nwant, cname, &ans, err);
	*answered = *answered || ans != 0;
	return ok;
}

/* The one line that says why the wait failed. */
static void
dns_fail(struct run *r, const struct dns_watch *w, const char *cname, bool answered,
    struct acme_err *err)
{
	const struct pending *pd = &r->p[w->first];
	char todo[ACME_MAX_NAME + 512];
	size_t k, missing = 0;

	instruction(r, pd, todo, sizeof(todo));
	for (k = 0; k < w->auth.naddr; k++)
		missing += !w->ns_done[k];
	if (w->persist)
		acme_errf(err, "%s has no usable dns-persist-01 record via %s (%s): %s and run "
		    "again", pd->rrname, r->o->resolver != NULL ? r->o->resolver :
		    "the system resolver", w->persist_why != NULL ? w->persist_why : "none", todo);
	else if (missing > 0)
		acme_errf(err, "%zu of %zu authoritative servers of %s still lack the TXT value "
		    "after %ld s: check that they serve %s (--dns-timeout to wait longer)", missing,
		    w->auth.naddr, w->auth.zone != NULL ? w->auth.zone : "the zone",
		    r->o->dns_timeout, w->auth.target);
	else if (!answered)
		acme_errf(err, "the resolver %s did not answer for %ld s: give a working "
		    "recursive resolver with --resolver HOST:PORT, then %s",
		    r->o->resolver != NULL ? r->o->resolver : "from /etc/resolv.conf",
		    r->o->dns_timeout, todo);
	else
		acme_errf(err, "%s does not resolve to the published TXT value via %s%s%s: %s "
		    "and run again", pd->rrname,
		    r->o->resolver != NULL ? r->o->resolver : "the system resolver",
		    cname != NULL ? "; it points to " : "", cname != NULL ? cname : "", todo);
}

/*
 * One watch per record name (dns-01 and dns-account-01 values at one name are
 * checked together), one per dns-persist-01 name (a wildcard needs its own
 * policy check). Returns the number of watches, or -1.
 */
static int
dns_watches(struct run *r, struct dns_watch *w, struct acme_err *err)
{
	struct pending *pd;
	size_t k, j, n = 0;

	for (k = 0; k < r->np; k++) {
		pd = &r->p[k];
		for (j = 0; j < n && (w[j].persist || pd->type == ACME_CHALL_DNS_PERSIST01 ||
		    strcmp(r->p[w[j].first].rrname, pd->rrname) != 0); j++)
			;
		if (j < n) {
			if (w[j].nwant < ACME_MAX_AUTHZ)
				w[j].want[w[j].nwant++] = pd->txt;
			continue;
		}
		w[n].first = k;
		w[n].persist = pd->type == ACME_CHALL_DNS_PERSIST01;
		if (!w[n].persist) {
			w[n].want[w[n].nwant++] = pd->txt;
			if (dnscheck_auth_find(r->o->resolver, pd->rrname,
			    r->accts[pd->acct].fulldomain, &w[n].auth, err) == -1)
				return -1;
			client_progress(r->o, "waiting for DNS: %s -> %s on %zu authoritative "
			    "server%s of %s, then the resolver", pd->rrname, w[n].auth.target,
			    w[n].auth.naddr, w[n].auth.naddr == 1 ? "" : "s",
			    w[n].auth.zone != NULL ? w[n].auth.zone : "?");
		}
		n++;
	}
	return (int)n;
}

/*
 * Wait (bounded by --dns-timeout) until every record name's TXT values are on
 * each authoritative server of the zone its CNAME points into, and then
 * through the resolver (a dns-persist-01 record: through the resolver).
 * Checks at once, then every 50 ms doubling to 1 s.
 */
static int
dns_wait(struct run *r, struct acme_err *err)
{
	struct dns_watch *w;
	char *cname = NULL;
	size_t i, left, rounds = 0, nw = 0;
	double start = mono(), last = start;
	long delay = 0;
	bool answered = false;
	int ok, rc = -1;

	w = calloc(r->np + 1, sizeof(*w));
	if (w == NULL) {
		acme_errf(err, "out of memory");
		return -1;
	}
	if ((ok = dns_watches(r, w, err)) == -1)
		goto out;
	nw = (size_t)ok;
	for (;;) {
		rounds++;
		for (i = 0, left = 0; i < nw; i++) {
			if (w[i].done)
				continue;
			ok = dns_round(r, &w[i], &cname, &answered, err);
			if (ok == -1)
				goto out;
			w[i].done = ok == 1;
			left += !w[i].done;
		}
		if (left == 0)
			break;
		delay = delay == 0 ? CLIENT_DNS_FIRST_MS : delay * 2;
		if (delay > CLIENT_DNS_BACKOFF_MAX_MS)
			delay = CLIENT_DNS_BACKOFF_MAX_MS;
		if (mono() - start + (double)delay / 1000.0 > (double)r->o->dns_timeout) {
			for (i = 0; i < nw && w[i].done; i++)
				;
			dns_fail(r, &w[i], cname, answered, err);
			goto out;
		}
		if (mono() - last >= CLIENT_DNS_PROGRESS) {
			last = mono();
			client_progress(r->o, "still waiting for DNS (%.0f s)", last - start);
		}
		log_debug("dns: round %zu, next check in %ld ms", rounds, delay);
		acme_sleep_ms(delay);
	}
	client_progress(r->o, "DNS: the TXT values are visible (%.1f s, %zu check%s)",
	    mono() - start, rounds, rounds == 1 ? "" : "s");
	rc = 0;
out:
	for (i = 0; i < nw; i++)
		dnscheck_auth_free(&w[i].auth);
	free(w);
	free(cname);
	return rc;
}

/* Ask the CA to validate, then wait for every authorization. */
static int
validate(struct run *r, struct acme_err *err)
{
	char todo[ACME_MAX_NAME + 512];
	size_t k;

	client_progress(r->o, "validating: the CA checks %zu challenge%s", r->np,
	    r->np == 1 ? "" : "s");
	for (k = 0; k < r->np; k++)
		if (r->p[k].respond && acme_respond(&r->s.acme, r->p[k].chall_url, err) == -1)
			return -1;
	for (k = 0; k < r->np; k++) {
		if (acme_poll_authz(&r->s.acme, r->p[k].authz_url, err) == -1) {
			instruction(r, &r->p[k], todo, sizeof(todo));
			acme_err_replace(err, "%s: %s: %s in public DNS", err->msg,
			    acme_chall_type_name(r->p[k].type), todo);
			return -1;
		}
		client_progress(r->o, "%s: authorized", r->p[k].name);
	}
	return 0;
}

/* True if the certificate names every -d name (and, if exact, no other). */
static bool
has_names(const struct crypto_cert *c, const struct client_opts *o, bool exact)
{
	size_t i, k;

	if (exact && c->nnames != o->ndomains)
		return false;
	for (i = 0; i < o->ndomains; i++) {
		for (k = 0; k < c->nnames && strcasecmp(c->names[k], o->domains[i]) != 0; k++)
			;
		if (k == c->nnames)
			return false;
	}
	return true;
}

/* Join the names for the hook's DNS01_DOMAINS. */
static char *
join_names(const struct client_opts *o)
{
	size_t i, n = 1;
	char *s;

	for (i = 0; i < o->ndomains; i++)
		n += strlen(o->domains[i]) + 1;
	s = calloc(1, n);
	if (s == NULL)
		return NULL;
	for (i = 0; i < o->ndomains; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, o->domains[i]);
	}
	return s;
}

/* Run --deploy-hook via /bin/sh -c with DNS01_CERT_DIR etc.; secrets are not passed on. */
static int
deploy_hook(const struct client_opts *o, bool renewed, struct acme_err *err)
{
	static const char *const secret_env[] = { "DNS01_EAB_HMAC_KEY", "DNS01_EAB_KID" };
	char *names = NULL, path[4096];
	pid_t pid;
	int status = 0, rc = -1;
	unsigned waited = 0;
	size_t i;

	names = join_names(o);
	if (names == NULL) {
		acme_errf(err, "out of memory");
		return -1;
	}
	fflush(stdout);
	pid = fork();
	if (pid == -1) {
		acme_errf(err, "cannot run --deploy-hook: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		for (i = 0; i < sizeof(secret_env) / sizeof(secret_env[0]); i++)
			unsetenv(secret_env[i]);
		setenv("DNS01_CERT_DIR", o->out, 1);
		snprintf(path, sizeof(path), "%s/cert.pem", o->out);
		setenv("DNS01_CERT_FILE", path, 1);
		snprintf(path, sizeof(path), "%s/chain.pem", o->out);
		setenv("DNS01_CHAIN_FILE", path, 1);
		snprintf(path, sizeof(path), "%s/fullchain.pem", o->out);
		setenv("DNS01_FULLCHAIN_FILE", path, 1);
		snprintf(path, sizeof(path), "%s/privkey.pem", o->out);
		setenv("DNS01_KEY_FILE", path, 1);
		setenv("DNS01_DOMAINS", names, 1);
		setenv("DNS01_RENEWED", renewed ? "1" : "0", 1);
		if (o->json)
			dup2(STDERR_FILENO, STDOUT_FILENO);	/* keep stdout for the JSON result */
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", o->deploy_hook, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w == -1 && errno != EINTR) {
			acme_errf(err, "--deploy-hook: %s", strerror(errno));
			goto out;
		}
		if (waited >= CLIENT_HOOK_TIMEOUT * 10) {
			kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			acme_errf(err, "--deploy-hook ran longer than %d s and was killed; the "
			    "certificate is in %s", CLIENT_HOOK_TIMEOUT, o->out);
			goto out;
		}
		usleep(100000);
		waited++;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		acme_errf(err, "--deploy-hook failed (%s %d); the new certificate is in %s: fix "
		    "the hook and run it by hand", WIFEXITED(status) ? "exit status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), o->out);
		goto out;
	}
	rc = 0;
out:
	free(names);
	return rc;
}

/* renew: is the certificate in --out due? 1 due, 0 not, -1 error. *replaces gets the ARI id. */
static int
renew_check(struct run *r, char **replaces, const char **why, struct acme_err *err)
{
	const struct client_opts *o = r->o;
	struct crypto_cert c;
	char path[4096], *pem = NULL;
	size_t len;
	time_t s = 0, e = 0;
	int due, rd;

	*replaces = NULL;
	snprintf(path, sizeof(path), "%s/cert.pem", o->out);
	rd = acme_file_read(path, ACME_MAX_FILE, &pem, &len, err);
	if (rd == -1)
		return -1;
	if (rd == 1) {
		*why = "no certificate yet";
		return 1;
	}
	if (crypto_cert_parse(pem, len, &c, err) == -1) {
		free(pem);
		acme_err_clear(err);
		*why = "the certificate in --out is unreadable";
		return 1;
	}
	free(pem);
	if (!o->force && !has_names(&c, o, true)) {
		crypto_cert_free(&c);
		*why = "the names changed";
		return 1;
	}
	/* RFC 9773: ask the CA when it wants this certificate renewed. */
	if (!o->force && o->days < 0 && r->s.acme.dir.renewal_info != NULL && c.ari_id != NULL) {
		if (acme_renewal_info(&r->s.acme, c.ari_id, &s, &e, err) == -1) {
			log_debug("renewalInfo: %s; using the lifetime rule", err->msg);
			acme_err_clear(err);
			s = e = 0;
		}
	}
	due = acme_renewal_due(&c, time(NULL), o->days, o->force, s, e, why);
	if (due && c.ari_id != NULL && r->s.acme.dir.renewal_info != NULL)
		*replaces = strdup(c.ari_id);
	crypto_cert_free(&c);
	return due;
}

/*
 * The profile for this run (draft-aaron-acme-profiles): --profile, else for
 * renew the one recorded in --out/CLIENT_SETTINGS_FILE. It must be in the
 * directory's meta.profiles. *recorded is new (or NULL). 0 or -1.
 */
static int
profile_resolve(struct run *r, bool renew, char **recorded, struct acme_err *err)
{
	const struct acme_directory *d = &r->s.acme.dir;
	char path[4096], *text = NULL, list[512];
	size_t len, i, n = 0;

	*recorded = NULL;
	r->profile = r->o->profile;
	snprintf(path, sizeof(path), "%s/%s", r->o->out, CLIENT_SETTINGS_FILE);
	if (r->profile == NULL && renew && acme_file_read(path, ACME_MAX_FILE, &text, &len,
	    err) == 0) {
		r->profile = *recorded = json_settings_get(text, len, "profile");
		free(text);
	}
	acme_err_clear(err);
	if (r->profile == NULL || acme_profile_offered(&r->s.acme, r->profile))
		return 0;
	list[0] = '\0';
	for (i = 0; i < d->nprofiles && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i > 0 ? ", " : "",
		    d->profiles[i]);
	acme_errf(err, "the CA at %s offers no profile '%s'%s%s (%s%s): give --profile with one it offers", r->o->directory, r->profile,
	    *recorded != NULL ? ", recorded in " : "", *recorded != NULL ? path : "",
	    d->nprofiles > 0 ? "it offers: " : "it offers no profiles", list);
	return -1;
}

/* Record the profile in --out/CLIENT_SETTINGS_FILE for renew (kept members: others'). */
static int
settings_write(const struct run *r, struct acme_err *err)
{
	char path[4096], *text = NULL, *doc;
	size_t len = 0;
	int rd, rc;

	snprintf(path, sizeof(path), "%s/%s", r->o->out, CLIENT_SETTINGS_FILE);
	rd = acme_file_read(path, ACME_MAX_FILE, &text, &len, err);
	if (rd == -1)
		return -1;
	if (rd == 1 && r->profile == NULL)
		return 0;	/* nothing to record, nothing to forget */
	doc = json_settings_put(text, len, "profile", r->profile);
	free(text);
	if (doc == NULL) {
		acme_errf(err, "out of memory");
		return -1;
	}
	rc = acme_file_write(path, doc, strlen(doc), 0644, err);
	free(doc);
	return rc;
}

/* The challenge types answered in this run, "dns-01,dns-persist-01", into buf. */
static void
challenges_used(const struct run *r, char *buf, size_t len)
{
	size_t t, k, n = 0;

	buf[0] = '\0';
	for (t = 0; t < ACME_CHALL_NTYPES; t++) {
		for (k = 0; k < r->np && r->p[k].type != (enum acme_chall_type)t; k++)
			;
		if (k < r->np && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n > 0 ? "," : "",
			    acme_chall_type_name((enum acme_chall_type)t));
	}
}

/* Free a run. */
static void
run_free(struct run *r)
{
	size_t i, k;

	for (i = 0; i < r->np; i++) {
		free(r->p[i].authz_url);
		free(r->p[i].chall_url);
		free(r->p[i].name);
		free(r->p[i].base);
		for (k = 0; k < r->p[i].nissuers; k++)
			free(r->p[i].issuers[k]);
	}
	free(r->p);
	for (i = 0; i < r->naccts; i++) {
		acmedns_account_free(&r->accts[i]);
		free(r->acct_base[i]);
	}
	free(r->accts);
	free(r->acct_base);
	acme_order_free(&r->order);
	free(r->order_url);
	if (r->session_open)
		acme_session_close(&r->s);
}

/* Add name (checked like -d) to the list unless it is there. 0 or -1. */
static int
name_add(char **names, size_t *n, const char *raw, const char *csr, struct acme_err *err)
{
	char *d;
	size_t i;

	if (acme_name_numeric(raw) || (d = acme_domain_normalize(raw)) == NULL) {
		acme_errf(err, "--csr %s: '%.100s' is not a DNS name (IP addresses and all-numeric "
		    "names are refused)", csr, raw);
		return -1;
	}
	for (i = 0; i < *n; i++) {
		if (strcmp(names[i], d) == 0) {
			free(d);
			return 0;
		}
	}
	if (*n >= CLIENT_MAX_DOMAINS) {
		free(d);
		acme_errf(err, "--csr %s: more than %d names", csr, CLIENT_MAX_DOMAINS);
		return -1;
	}
	names[(*n)++] = d;
	return 0;
}

/*
 * --csr: read the user's CSR, check its signature, and take its names (SANs,
 * else the CN) as the identifiers; with -d too, the two sets must be equal.
 * eff->domains becomes a new list (free with free_names). 0 or -1.
 */
static int
csr_take(const struct client_opts *o, struct client_opts *eff, unsigned char **der,
    size_t *derlen, struct acme_err *err)
{
	struct crypto_csr_info info;
	char *buf = NULL, **names = NULL;
	size_t len = 0, i, n = 0, k;
	int r, rc = -1;

	memset(&info, 0, sizeof(info));
	r = acme_file_read(o->csr, ACME_MAX_FILE, &buf, &len, err);
	if (r == 1)
		acme_errf(err, "--csr %s does not exist", o->csr);
	if (r != 0)
		goto out;
	if (crypto_csr_load(buf, len, der, derlen, err) == -1 ||
	    crypto_csr_parse(*der, *derlen, &info) == -1 || !info.signature_ok) {
		acme_err_replace(err, "--csr %s: not a valid, self-signed PKCS #10 request (PEM "
		    "or DER)", o->csr);
		goto out;
	}
	names = calloc(CLIENT_MAX_DOMAINS + 1, sizeof(*names));
	if (names == NULL)
		goto out;
	for (i = 0; i < info.nnames; i++)
		if (name_add(names, &n, info.names[i], o->csr, err) == -1)
			goto out;
	if (n == 0 && info.cn != NULL && name_add(names, &n, info.cn, o->csr, err) == -1)
		goto out;
	if (n == 0) {
		acme_errf(err, "--csr %s names no domain (no dNSName SAN, no CN)", o->csr);
		goto out;
	}
	for (i = 0; o->ndomains > 0 && i < n; i++) {
		for (k = 0; k < o->ndomains && strcmp(o->domains[k], names[i]) != 0; k++)
			;
		if (k == o->ndomains || n != o->ndomains) {
			acme_errf(err, "--csr %s names %s%s, which differs from the -d names: give "
			    "the same names, or leave out -d", o->csr, names[0], n > 1 ? " and others" :
			    "");
			goto out;
		}
	}
	eff->domains = names;
	eff->ndomains = n;
	names = NULL;
	rc = 0;
out:
	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	free(buf);
	crypto_csr_info_free(&info);
	return rc;
}

/* The certificate key: with --reuse-key the one in <out>/privkey.pem, if there; else new. */
static struct crypto_key *
cert_key(const struct client_opts *o, struct acme_err *err)
{
	struct crypto_key *k;
	char path[4096], *pem = NULL;
	size_t len = 0;
	int r;

	if (o->reuse_key) {
		snprintf(path, sizeof(path), "%s/privkey.pem", o->out);
		r = acme_file_read(path, ACME_MAX_FILE, &pem, &len, err);
		if (r == -1)
			return NULL;
		if (r == 0) {
			k = crypto_key_load(pem, len, err);
			acme_free_secret(pem);
			if (k == NULL)
				acme_err_replace(err, "--reuse-key: %s: %s", path, err->msg);
			else
				client_progress(o, "reusing the key in %s", path);
			return k;
		}
	}
	return crypto_key_generate(o->key_type, err);
}

/* Order, answer every challenge, wait until the order may be finalized. 0 or -1. */
static int
authorize(struct run *r, const char *replaces, struct acme_err *err)
{
	const struct client_opts *o = r->o;
	size_t i, before;
	bool preauth;

	if (order(r, replaces, err) == -1)
		return -1;
	preauth = r->order_url == NULL;
	if (!preauth) {
		client_progress(o, "order: %s (%zu authorization%s)", r->order_url, r->order.nauthz,
		    r->order.nauthz == 1 ? "" : "s");
		for (i = 0; i < r->order.nauthz; i++)
			if (take_authz(r, r->order.authz[i], err) == -1)
				return -1;
		if (r->order.nauthz == 0 && strcmp(r->order.status, "pending") == 0) {
			acme_errf(err, "the CA sent a pending order without authorizations");
			return -1;
		}
	}
	if (r->np > 0 && (publish(r, err) == -1 || dns_wait(r, err) == -1 ||
	    validate(r, err) == -1))
		return -1;
	if (!preauth)
		return 0;
	/* §7.4.1: with the names pre-authorized, the order comes back ready. */
	before = r->np;
	if (acme_new_order(&r->s.acme, (const char *const *)o->domains, o->ndomains, NULL,
	    r->profile, &r->order, &r->order_url, err) == -1)
		return -1;
	for (i = 0; i < r->order.nauthz; i++)
		if (take_authz(r, r->order.authz[i], err) == -1)
			return -1;
	if (r->np > before) {
		/* Wildcards still need their challenge in the order itself. */
		struct run sub = *r;
		sub.p = r->p + before;
		sub.np = r->np - before;
		if (publish(&sub, err) == -1 || dns_wait(&sub, err) == -1 ||
		    validate(&sub, err) == -1)
			return -1;
	}
	return 0;
}

/* Finalize with our CSR (or the user's), download, check and install the set. 0 or -1. */
static int
finish(struct run *r, const unsigned char *user_csr, size_t user_csrlen,
    struct crypto_cert *cert, struct acme_err *err)
{
	const struct client_opts *o = r->o;
	struct crypto_key *ck = NULL;
	struct crypto_chain ch;
	unsigned char *csr = NULL;
	size_t csrlen = 0, keylen = 0, pemlen = 0;
	char *keypem = NULL, *pem = NULL;
	int rc = -1;

	memset(&ch, 0, sizeof(ch));
	if (user_csr != NULL)
		ck = crypto_csr_key(user_csr, user_csrlen, err);	/* public half only */
	else if ((ck = cert_key(o, err)) != NULL &&
	    crypto_csr(ck, (const char *const *)o->domains, o->ndomains, &csr, &csrlen, err) == -1)
		goto out;
	if (ck == NULL)
		goto out;
	client_progress(o, "finalizing: sending the CSR");
	if (acme_finalize(&r->s.acme, r->order_url, &r->order, user_csr != NULL ? user_csr : csr,
	    user_csr != NULL ? user_csrlen : csrlen, err) == -1)
		goto out;
	if (acme_download(&r->s.acme, r->order.certificate, o->preferred_chain, &pem, &pemlen,
	    err) == -1)
		goto out;
	if (crypto_chain_split(pem, pemlen, &ch, err) == -1 ||
	    crypto_cert_parse(ch.leaf_pem, strlen(ch.leaf_pem), cert, err) == -1)
		goto out;
	if (!crypto_cert_matches_key(ch.leaf_pem, strlen(ch.leaf_pem), ck) ||
	    !has_names(cert, o, false)) {
		acme_errf(err, "the CA sent a certificate for another key or other names: not "
		    "writing it");
		goto out;
	}
	if (user_csr == NULL && crypto_key_pem(ck, &keypem, &keylen, err) == -1)
		goto out;
	if (client_output_install(o->out, &ch, keypem, keylen, err) == -1)
		goto out;
	client_progress(o, "written to %s (cert.pem, chain.pem, fullchain.pem%s)", o->out,
	    user_csr == NULL ? ", privkey.pem" : "");
	rc = 0;
out:
	crypto_key_free(ck);
	crypto_chain_free(&ch);
	acme_free_secret(keypem);
	free(csr);
	free(pem);
	return rc;
}

/* The run's tables, sized for the most names and authorizations; run_free frees them. */
static int
run_alloc(struct run *r, struct acme_err *err)
{
	r->accts = calloc(CLIENT_MAX_DOMAINS, sizeof(*r->accts));
	r->acct_base = calloc(CLIENT_MAX_DOMAINS, sizeof(*r->acct_base));
	r->p = calloc(ACME_MAX_AUTHZ + CLIENT_MAX_DOMAINS, sizeof(*r->p));
	if (r->accts == NULL || r->acct_base == NULL || r->p == NULL) {
		acme_errf(err, "out of memory");
		return -1;
	}
	return 0;
}

/* renew: whether --out is due, from renew_check. 1 due, 0 not due (said so), -1 error. */
static int
renew_due(struct run *r, struct client_result *res, char **replaces, bool talk,
    struct acme_err *err)
{
	const struct client_opts *o = r->o;
	const char *why = NULL;
	int due;

	due = renew_check(r, replaces, &why, err);
	if (due == -1)
		return -1;
	res->renewal_reason = why;
	if (due == 0) {
		if (talk)
			printf("%s/cert.pem is not due for renewal (%s)\n", o->out, why);
		res->status = "not-due";
		return 0;
	}
	client_progress(o, "renewing %s: %s", o->out, why);
	return 1;
}

/* A certificate is installed: record it for renew --all, fill res in, and say so. */
static void
issued(struct run *r, const struct crypto_cert *cert, bool renew, bool talk,
    struct client_result *res, struct acme_err *err)
{
	const struct client_opts *eff = r->o;
	char when[32], used[64];

	challenges_used(r, used, sizeof(used));
	res->challenges = used[0] != '\0' ? strdup(used) : NULL;
	if (client_cert_record(eff, r->s.state_dir, err) == -1) {
		log_warnx("%s: not recorded for renew --all: %s", eff->out, err->msg);
		acme_err_clear(err);
	}
	acme_time_str(cert->not_after, when, sizeof(when));
	res->serial = strdup(cert->serial_hex);
	res->not_after = strdup(when);
	res->account = r->s.acme.kid != NULL ? strdup(r->s.acme.kid) : NULL;
	res->status = renew ? "renewed" : "issued";
	if (talk)
		printf("%s certificate for %s%s in %s (serial %s, expires %s)\n",
		    renew ? "renewed" : "issued", eff->domains[0], eff->ndomains > 1 ? " and others" :
		    "", eff->out, cert->serial_hex, when);
}

/* issue and renew (see client.h and docs/client.md). */
int
cmd_issue(const struct client_opts *o, struct client_result *res, struct acme_err *err)
{
	struct client_opts eff = *o;	/* o, with the names of --csr */
	struct run r;
	struct acme_account_info info;
	struct crypto_cert cert;
	unsigned char *user_csr = NULL;
	size_t user_csrlen = 0, i;
	char *replaces = NULL, *recorded = NULL;
	bool renew = o->cmd == CLIENT_CMD_RENEW, talk = !o->json && !o->quiet && !o->summary;
	double t0 = mono();
	int rc = CLIENT_EXIT_ERROR, due;

	memset(&r, 0, sizeof(r));
	memset(&cert, 0, sizeof(cert));
	memset(&info, 0, sizeof(info));
	if (o->csr != NULL && csr_take(o, &eff, &user_csr, &user_csrlen, err) == -1) {
		eff.domains = NULL;
		eff.ndomains = 0;
		goto out;
	}
	r.o = &eff;
	if (run_alloc(&r, err) == -1)
		goto out;
	res->domains = (const char *const *)o->domains;
	res->ndomains = o->ndomains;
	res->cert_dir = o->out;
	/* Every name needs an acme-dns account before we bother the CA (not dns-persist-01). */
	for (i = 0; i < eff.ndomains && o->challenge != ACME_CHALL_DNS_PERSIST01; i++)
		if (account_for(&r, acme_base_domain(eff.domains[i]), &(size_t){ 0 }, err) == -1)
			goto out;
	if (client_session_open(&eff, &r.s, true, err) == -1)
		goto out;
	r.session_open = true;
	if (profile_resolve(&r, renew, &recorded, err) == -1)
		goto out;
	res->profile = r.profile != NULL ? strdup(r.profile) : NULL;
	if (renew) {
		due = renew_due(&r, res, &replaces, talk, err);
		if (due == -1)
			goto out;
		if (due == 0) {
			rc = CLIENT_EXIT_NOTHING;
			goto out;
		}
	}
	client_progress(o, "registering: the ACME account at %s", o->directory);
	if (client_session_account(&r.s, &eff, true, &info, err) == -1)
		goto out;
	client_progress(o, "account: %s", r.s.acme.kid);
	if (authorize(&r, replaces, err) == -1 || finish(&r, user_csr, user_csrlen, &cert, err) == -1 ||
	    settings_write(&r, err) == -1)
		goto out;
	issued(&r, &cert, renew, talk, res, err);
	if (o->deploy_hook != NULL && deploy_hook(&eff, renew, err) == -1)
		goto out;
	rc = CLIENT_EXIT_OK;
out:
	res->seconds = mono() - t0;
	if (r.session_open)
		res->badnonce_retries = r.s.acme.badnonce_retries;
	acme_account_info_free(&info);
	crypto_cert_free(&cert);
	free(user_csr);
	free(replaces);
	free(recorded);
	run_free(&r);
	if (eff.domains != o->domains) {
		for (i = 0; i < eff.ndomains; i++)
			free(eff.domains[i]);
		free(eff.domains);
	}
	return rc;
}
