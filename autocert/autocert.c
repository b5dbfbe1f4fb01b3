/* autocert/autocert.c -- order, cache and renew the API's certificate in the background */
/* SPDX-License-Identifier: ISC */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../acme/acme.h"
#include "../common/common.h"
#include "autocert.h"

/* The certificate being served, as far as renewal cares. */
struct held {
	bool have;
	time_t not_before, not_after;
	char *ari_id;			/* RFC 9773 certID, or NULL */
	char serial[64];
};

struct autocert {
	struct autocert_params p;	/* strings owned (copies) */
	char *cert_path, *key_path;	/* <cache_dir>/cert.pem, key.pem */
	pthread_t thread;
	pthread_mutex_t mu;		/* guards stop, done, and every callback */
	pthread_cond_t wake;
	bool stop;			/* autocert_stop was called */
	bool done;			/* the thread has returned */
	struct held cur;		/* touched by the thread only, after start */
	unsigned failures;		/* in a row */
};

/* Copy a string that may be NULL; "" counts as NULL. */
static int
dup_opt(char **dst, const char *s)
{
	*dst = NULL;
	if (s == NULL || *s == '\0')
		return 0;
	*dst = strdup(s);
	return *dst == NULL ? -1 : 0;
}

static void
held_clear(struct held *h)
{
	free(h->ari_id);
	memset(h, 0, sizeof(*h));
}

/*
 * Check a PEM chain and key for serving: the leaf names the domain, is not
 * expired, and carries the key. Fills h. 0 or -1 with err.
 */
static int
check_pair(const struct autocert *ac, const char *chain, size_t chain_len, const char *key,
    size_t key_len, struct held *h, struct acme_err *err)
{
	struct crypto_cert c;
	struct crypto_key *k = NULL;
	size_t i;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	if (crypto_cert_parse(chain, chain_len, &c, err) == -1)
		goto out;
	for (i = 0; i < c.nnames && strcasecmp(c.names[i], ac->p.domain) != 0; i++)
		;
	if (i == c.nnames) {
		acme_errf(err, "the certificate does not name %s", ac->p.domain);
		goto out;
	}
	if (c.not_after <= time(NULL)) {
		acme_errf(err, "the certificate has expired");
		goto out;
	}
	if ((k = crypto_key_load(key, key_len, err)) == NULL)
		goto out;
	if (!crypto_cert_matches_key(chain, chain_len, k)) {
		acme_errf(err, "the key does not match the certificate");
		goto out;
	}
	held_clear(h);
	h->have = true;
	h->not_before = c.not_before;
	h->not_after = c.not_after;
	h->ari_id = c.ari_id != NULL ? strdup(c.ari_id) : NULL;
	snprintf(h->serial, sizeof(h->serial), "%s", c.serial_hex != NULL ? c.serial_hex : "?");
	rc = 0;
out:
	crypto_key_free(k);
	crypto_cert_free(&c);
	return rc;
}

/* Call deliver under the lock, unless stopping. 0 or -1. */
static int
deliver(struct autocert *ac, const char *chain, size_t chain_len, const char *key,
    size_t key_len)
{
	int rc = -1;

	pthread_mutex_lock(&ac->mu);
	if (!ac->stop)
		rc = ac->p.deliver(ac->p.arg, chain, chain_len, key, key_len);
	pthread_mutex_unlock(&ac->mu);
	return rc;
}

/* Call publish under the lock, unless stopping. 0 or -1. */
static int
publish(struct autocert *ac, const char *const *values, size_t n)
{
	int rc = -1;

	pthread_mutex_lock(&ac->mu);
	if (!ac->stop)
		rc = ac->p.publish(ac->p.arg, values, n);
	pthread_mutex_unlock(&ac->mu);
	return rc;
}

/* The cached pair, if valid: delivered at once (no CA involved). 1 served, 0 none. */
static int
load_cache(struct autocert *ac)
{
	struct acme_err err = { .set = false };
	char *chain = NULL, *key = NULL, when[32];
	size_t clen = 0, klen = 0;
	int served = 0;

	if (acme_file_read(ac->cert_path, ACME_MAX_FILE, &chain, &clen, &err) != 0 ||
	    acme_file_read(ac->key_path, ACME_MAX_FILE, &key, &klen, &err) != 0) {
		if (err.set)
			log_warnx("autocert: %s", err.msg);
		goto out;
	}
	if (check_pair(ac, chain, clen, key, klen, &ac->cur, &err) == -1) {
		log_warnx("autocert: cached certificate %s not used: %s", ac->cert_path, err.msg);
		goto out;
	}
	if (deliver(ac, chain, clen, key, klen) == -1) {
		held_clear(&ac->cur);
		goto out;
	}
	log_info("autocert: serving the cached certificate for %s (serial %s, expires %s)",
	    ac->p.domain, ac->cur.serial, acme_time_str(ac->cur.not_after, when, sizeof(when)));
	served = 1;
out:
	free(chain);
	acme_free_secret(key);
	return served;
}

/* Publish the dns-01 TXT, ask the CA to validate, wait, remove the TXT. 0 or -1. */
static int
authorize(struct autocert *ac, struct acme_session *s, const char *url, struct acme_err *err)
{
	struct acme_authz az;
	const struct acme_chall *ch = &az.chall[ACME_CHALL_DNS01];
	char txt[44];
	const char *values[1] = { txt };
	int rc = -1;

	if (acme_get_authz(&s->acme, url, &az, err) == -1)
		return -1;
	if (strcmp(az.status, "valid") == 0) {
		rc = 0;
		goto out;
	}
	if (strcmp(az.status, "pending") != 0 || ch->url == NULL ||
	    !acme_token_valid(ch->token)) {
		acme_errf(err, "the authorization for %s is %s with no usable dns-01 challenge",
		    az.identifier, az.status);
		goto out;
	}
	if (acme_dns01_txt(ch->token, s->acme.thumbprint, txt) == -1) {
		acme_errf(err, "cannot compute the TXT value");
		goto out;
	}
	/* RFC 8555 §8.4: the TXT goes in our own zone, in memory; no account involved. */
	if (publish(ac, values, 1) == -1) {
		acme_errf(err, "cannot publish %s.%s", AUTOCERT_CHALLENGE_LABEL, ac->p.domain);
		goto out;
	}
	if ((ch->status == NULL || strcmp(ch->status, "pending") == 0) &&
	    acme_respond(&s->acme, ch->url, err) == -1)
		goto unpublish;
	if (acme_poll_authz(&s->acme, url, err) == -1)
		goto unpublish;
	rc = 0;
unpublish:
	(void)publish(ac, NULL, 0);
out:
	acme_authz_free(&az);
	return rc;
}

/* Open the session in the cache directory and find or create the account. 0 or -1. */
static int
open_account(struct autocert *ac, struct acme_session *s, struct acme_err *err)
{
	struct acme_session_params sp;
	struct acme_account_opts ao;
	struct acme_account_info info;
	int rc;

	memset(&sp, 0, sizeof(sp));
	sp.state_dir = ac->p.cache_dir;
	sp.directory_url = ac->p.directory_url;
	sp.ca_file = ac->p.ca_file;
	sp.create_key = true;
	if (acme_session_open(s, &sp, err) == -1)
		return -1;
	memset(&ao, 0, sizeof(ao));
	ao.email = ac->p.email;
	ao.agree_tos = true;	/* tls = letsencrypt means the operator agrees (docs) */
	ao.eab_kid = ac->p.eab_kid;
	ao.eab_hmac_key = ac->p.eab_hmac_key;
	rc = acme_session_account(s, &ao, &info, err);
	acme_account_info_free(&info);
	return rc;
}

/* Write key then chain to the cache (0600 each, atomically). 0 or -1. */
static int
store(struct autocert *ac, const char *chain, const char *key, size_t key_len,
    struct acme_err *err)
{
	if (acme_mkdirs(ac->p.cache_dir, 0700, err) == -1 ||
	    acme_file_write(ac->key_path, key, key_len, 0600, err) == -1 ||
	    acme_file_write(ac->cert_path, chain, strlen(chain), 0600, err) == -1)
		return -1;
	return 0;
}

/* Finalize with a new key, download, check, store and serve. 0 or -1. */
static int
finish(struct autocert *ac, struct acme_session *s, const char *order_url,
    struct acme_order *o, struct acme_err *err)
{
	const char *names[1] = { ac->p.domain };
	struct crypto_key *k = NULL;
	struct crypto_chain ch;
	struct held h;
	unsigned char *csr = NULL;
	char *pem = NULL, *kpem = NULL, when[32];
	size_t csrlen = 0, pemlen = 0, klen = 0;
	int rc = -1;

	memset(&ch, 0, sizeof(ch));
	memset(&h, 0, sizeof(h));
	if ((k = crypto_key_generate(CRYPTO_KEY_EC256, err)) == NULL ||
	    crypto_csr(k, names, 1, &csr, &csrlen, err) == -1 ||
	    acme_finalize(&s->acme, order_url, o, csr, csrlen, err) == -1 ||
	    acme_download(&s->acme, o->certificate, NULL, &pem, &pemlen, err) == -1 ||
	    crypto_chain_split(pem, pemlen, &ch, err) == -1 ||
	    crypto_key_pem(k, &kpem, &klen, err) == -1)
		goto out;
	if (check_pair(ac, ch.full_pem, strlen(ch.full_pem), kpem, klen, &h, err) == -1 ||
	    store(ac, ch.full_pem, kpem, klen, err) == -1)
		goto out;
	if (deliver(ac, ch.full_pem, strlen(ch.full_pem), kpem, klen) == -1) {
		acme_errf(err, "the API refused the new certificate");
		goto out;
	}
	log_info("autocert: new certificate for %s (serial %s, expires %s)", ac->p.domain,
	    h.serial, acme_time_str(h.not_after, when, sizeof(when)));
	held_clear(&ac->cur);
	ac->cur = h;
	memset(&h, 0, sizeof(h));
	rc = 0;
out:
	held_clear(&h);
	crypto_key_free(k);
	crypto_chain_free(&ch);
	acme_free_secret(kpem);
	free(csr);
	free(pem);
	return rc;
}

/* One whole issuance (RFC 8555 §7.4), replacing the current certificate if any. 0 or -1. */
static int
obtain(struct autocert *ac, struct acme_err *err)
{
	const char *names[1] = { ac->p.domain };
	struct acme_session s;
	struct acme_order o;
	char *order_url = NULL;
	const char *replaces = ac->cur.have ? ac->cur.ari_id : NULL;
	size_t i;
	int rc = -1;

	memset(&o, 0, sizeof(o));
	if (open_account(ac, &s, err) == -1)
		goto out;
	if (s.acme.dir.renewal_info == NULL)
		replaces = NULL;
	if (acme_new_order(&s.acme, names, 1, replaces, NULL, &o, &order_url, err) == -1) {
		if (replaces == NULL || acme_problem_is(&s.acme, "rateLimited"))
			goto out;
		acme_err_clear(err);	/* RFC 9773 §5: a CA may refuse "replaces" */
		if (acme_new_order(&s.acme, names, 1, NULL, NULL, &o, &order_url, err) == -1)
			goto out;
	}
	for (i = 0; i < o.nauthz; i++)
		if (authorize(ac, &s, o.authz[i], err) == -1)
			goto out;
	rc = finish(ac, &s, order_url, &o, err);
out:
	acme_order_free(&o);
	free(order_url);
	acme_session_close(&s);
	return rc;
}

/*
 * When is the current certificate due? Returns the time to renew (now or
 * earlier: due). With ARI, *ari_next is when to ask the CA again.
 */
static time_t
due_at(const struct autocert *ac, time_t now, bool *ask_ari)
{
	const struct held *h = &ac->cur;

	*ask_ari = false;
	if (!h->have)
		return now;
	if (ac->p.renew_before > 0)
		return h->not_after - (time_t)ac->p.renew_before;
	*ask_ari = h->ari_id != NULL;
	/* RFC 9773 §4.2 when the CA says; else a third of the lifetime left. */
	return h->not_after - (h->not_after - h->not_before) / 3;
}

/* Is the CA's ARI window open now? 1 yes, 0 no or no answer. */
static int
ari_open(struct autocert *ac, time_t now)
{
	struct acme_err err = { .set = false };
	struct acme_session s;
	struct acme_session_params sp;
	time_t start = 0, end = 0;
	const char *why;
	struct crypto_cert c;
	int due = 0;

	memset(&sp, 0, sizeof(sp));
	sp.state_dir = ac->p.cache_dir;
	sp.directory_url = ac->p.directory_url;
	sp.ca_file = ac->p.ca_file;
	sp.create_key = true;
	if (acme_session_open(&s, &sp, &err) == 0 && s.acme.dir.renewal_info != NULL &&
	    acme_renewal_info(&s.acme, ac->cur.ari_id, &start, &end, &err) == 0) {
		memset(&c, 0, sizeof(c));
		c.not_before = ac->cur.not_before;
		c.not_after = ac->cur.not_after;
		due = acme_renewal_due(&c, now, -1, false, start, end, &why) == 1;
		log_debug("autocert: renewalInfo: %s", why);
	}
	acme_session_close(&s);
	return due;
}

/* Log a failed attempt: a warning, or an error when it starts to matter. */
static void
log_failure(const struct autocert *ac, const char *why, unsigned delay)
{
	char line[ACME_ERR_MAX + 256];
	bool near = ac->cur.have ? ac->cur.not_after - time(NULL) < AUTOCERT_EXPIRY_NEAR :
	    ac->failures >= AUTOCERT_ERROR_AFTER;

	snprintf(line, sizeof(line), "autocert: %s for %s failed (attempt %u): %s; retrying in "
	    "%u s%s", ac->cur.have ? "renewal" : "certificate", ac->p.domain, ac->failures, why,
	    delay, ac->cur.have ? "; the current certificate stays in use" : "");
	if (near)
		log_event(LOG_LEVEL_ERROR, line, (const char *)NULL);
	else
		log_warnx("%s", line);
}

/* Sleep until t (wall clock) or a stop. Returns true if stopping. */
static bool
sleep_until(struct autocert *ac, time_t t)
{
	struct timespec until = { t, 0 };
	bool stop;

	pthread_mutex_lock(&ac->mu);
	while (!ac->stop && time(NULL) < t)
		pthread_cond_timedwait(&ac->wake, &ac->mu, &until);
	stop = ac->stop;
	pthread_mutex_unlock(&ac->mu);
	return stop;
}

/* The thread: renew when due, back off on failure, sleep otherwise. */
static void *
run(void *arg)
{
	struct autocert *ac = arg;
	struct acme_err err;
	time_t now, at, ari_next = 0;
	unsigned delay = 0;
	bool ask_ari;

	for (;;) {
		now = time(NULL);
		at = due_at(ac, now, &ask_ari);
		if (at > now && ask_ari && now >= ari_next) {
			ari_next = now + AUTOCERT_ARI_INTERVAL;
			if (ari_open(ac, now))
				at = now;
		}
		if (at > now) {
			if (ask_ari && ari_next < at)
				at = ari_next;
			if (sleep_until(ac, at))
				break;
			continue;
		}
		memset(&err, 0, sizeof(err));
		if (obtain(ac, &err) == 0) {
			ac->failures = 0;
			delay = 0;
			ari_next = 0;
			/* A renew_before longer than the lifetime must not hammer the CA. */
			if (due_at(ac, now, &ask_ari) <= time(NULL)) {
				log_warnx("autocert: acme_renew_before (%u s) is longer than the "
				    "certificate's lifetime: renewing again in %d s", ac->p.renew_before,
				    AUTOCERT_MIN_INTERVAL);
				if (sleep_until(ac, time(NULL) + AUTOCERT_MIN_INTERVAL))
					break;
			}
			continue;
		}
		ac->failures++;
		delay = delay == 0 ? AUTOCERT_BACKOFF_MIN : delay * 2;
		if (delay > AUTOCERT_BACKOFF_MAX)
			delay = AUTOCERT_BACKOFF_MAX;
		log_failure(ac, err.msg, delay);
		if (sleep_until(ac, time(NULL) + (time_t)delay))
			break;
	}
	pthread_mutex_lock(&ac->mu);
	ac->done = true;
	pthread_cond_broadcast(&ac->wake);
	pthread_mutex_unlock(&ac->mu);
	return NULL;
}

static void
free_all(struct autocert *ac)
{
	free((char *)(uintptr_t)ac->p.domain);
	free((char *)(uintptr_t)ac->p.directory_url);
	free((char *)(uintptr_t)ac->p.cache_dir);
	free((char *)(uintptr_t)ac->p.ca_file);
	free((char *)(uintptr_t)ac->p.email);
	free((char *)(uintptr_t)ac->p.eab_kid);
	acme_free_secret((char *)(uintptr_t)ac->p.eab_hmac_key);
	free(ac->cert_path);
	free(ac->key_path);
	held_clear(&ac->cur);
	pthread_cond_destroy(&ac->wake);
	pthread_mutex_destroy(&ac->mu);
	free(ac);
}

/* See autocert.h. */
struct autocert *
autocert_start(const struct autocert_params *p, char *err, size_t errlen)
{
	struct autocert *ac;
	char *s[7] = { NULL };
	size_t i;

	if ((ac = calloc(1, sizeof(*ac))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&ac->mu, NULL);
	pthread_cond_init(&ac->wake, NULL);
	ac->p = *p;
	if (dup_opt(&s[0], p->domain) || dup_opt(&s[1], p->directory_url) ||
	    dup_opt(&s[2], p->cache_dir) || dup_opt(&s[3], p->ca_file) ||
	    dup_opt(&s[4], p->email) || dup_opt(&s[5], p->eab_kid) ||
	    dup_opt(&s[6], p->eab_hmac_key)) {
		snprintf(err, errlen, "out of memory");
		for (i = 0; i < 7; i++)
			free(s[i]);
		pthread_cond_destroy(&ac->wake);
		pthread_mutex_destroy(&ac->mu);
		free(ac);
		return NULL;
	}
	ac->p.domain = s[0];
	ac->p.directory_url = s[1];
	ac->p.cache_dir = s[2];
	ac->p.ca_file = s[3];
	ac->p.email = s[4];
	ac->p.eab_kid = s[5];
	ac->p.eab_hmac_key = s[6];
	if (asprintf(&ac->cert_path, "%s/cert.pem", s[2]) == -1 ||
	    asprintf(&ac->key_path, "%s/key.pem", s[2]) == -1) {
		snprintf(err, errlen, "out of memory");
		free_all(ac);
		return NULL;
	}
	(void)load_cache(ac);
	if (pthread_create(&ac->thread, NULL, run, ac) != 0) {
		snprintf(err, errlen, "cannot start the certificate thread");
		free_all(ac);
		return NULL;
	}
	return ac;
}

/* See autocert.h. */
void
autocert_stop(struct autocert *ac)
{
	struct timespec until;
	bool done;

	if (ac == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += AUTOCERT_STOP_WAIT_MS / 1000;
	pthread_mutex_lock(&ac->mu);	/* waits for a callback in progress */
	ac->stop = true;
	pthread_cond_broadcast(&ac->wake);
	while (!ac->done && pthread_cond_timedwait(&ac->wake, &ac->mu, &until) != ETIMEDOUT)
		;
	done = ac->done;
	pthread_mutex_unlock(&ac->mu);
	if (!done) {
		/* Busy in a CA request: it calls nothing more; the process exit ends it. */
		log_info("autocert: a CA request is still running; not waiting for it");
		pthread_detach(ac->thread);
		return;
	}
	pthread_join(ac->thread, NULL);
	free_all(ac);
}
