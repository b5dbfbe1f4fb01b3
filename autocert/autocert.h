/* autocert/autocert.h -- the API's own certificate, from an ACME CA through our own DNS */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01D_AUTOCERT_H
#define DNS01D_AUTOCERT_H

/*
 * A background thread that keeps one certificate for one name (general.domain)
 * valid, with the acme module (acme/acme.h) for the protocol. It knows neither
 * dnsd nor the api: the daemon hands it two callbacks, one to publish the
 * dns-01 TXT value and one to serve a new certificate. The CA is never waited
 * on by anything else: DNS and the API run whether the CA answers or not.
 *
 * The cache directory holds the account (account.key, accounts.json) and the
 * certificate (cert.pem, the full chain) and its key (key.pem), all mode 0600.
 */

#include <stdbool.h>
#include <stddef.h>

#define AUTOCERT_CHALLENGE_LABEL "_acme-challenge"	/* RFC 8555 §8.4 */
#define AUTOCERT_BACKOFF_MIN 5		/* seconds before the first retry after a failure */
#define AUTOCERT_BACKOFF_MAX 3600	/* seconds between retries at most */
#define AUTOCERT_ERROR_AFTER 5		/* failures in a row, with no certificate, logged as errors */
#define AUTOCERT_EXPIRY_NEAR (7 * 86400)	/* seconds left when failures become errors */
#define AUTOCERT_ARI_INTERVAL (6 * 3600)	/* seconds between two renewalInfo checks */
#define AUTOCERT_MIN_INTERVAL 60	/* seconds between two issuances at least */
#define AUTOCERT_STOP_WAIT_MS 3000	/* how long autocert_stop waits for a busy thread */

struct autocert;

struct autocert_params {
	const char *domain;		/* the certificate's one name */
	const char *directory_url;	/* the CA's ACME directory */
	const char *cache_dir;		/* account, certificate, key (created 0700) */
	const char *ca_file;		/* PEM bundle for the CA's HTTPS, or NULL */
	const char *email;		/* account contact, or NULL / "" for none */
	const char *eab_kid;		/* External Account Binding, or NULL */
	const char *eab_hmac_key;	/* base64url (a secret: never logged), or NULL */
	unsigned renew_before;		/* seconds before expiry; 0 = a third of the
					 * lifetime, or the CA's ARI window when offered */
	/*
	 * Publish the TXT values at _acme-challenge.<domain> (n = 0 removes them).
	 * Called from the autocert thread. 0 or -1.
	 */
	int (*publish)(void *arg, const char *const *values, size_t n);
	/* Serve a new certificate: PEM full chain and PEM key. 0 or -1 (kept the old). */
	int (*deliver)(void *arg, const char *chain, size_t chain_len, const char *key,
	    size_t key_len);
	void *arg;			/* passed to both callbacks */
};

/*
 * Start: a valid cached certificate is delivered before this returns, with no
 * call to the CA; then the thread orders (or renews) in the background. The
 * strings in p are copied. NULL with err set (only on local errors).
 */
struct autocert *autocert_start(const struct autocert_params *p, char *err, size_t errlen);
/*
 * Stop: no callback runs once this returns. A thread busy in a CA request is
 * given AUTOCERT_STOP_WAIT_MS, then left to end with the process. Accepts NULL.
 */
void autocert_stop(struct autocert *ac);

#endif
