/* api/tls.c -- the API's certificate: checked, swapped for new handshakes with no restart */
/* SPDX-License-Identifier: ISC */

/*
 * libmicrohttpd asks GnuTLS for the certificate of each new handshake through
 * a retrieve callback (MHD_OPTION_HTTPS_CERT_CALLBACK). The callback reads the
 * current credentials under a mutex and hands GnuTLS borrowed pointers. A swap
 * installs new credentials; the old ones are retired, not freed, because a
 * handshake that started before the swap may still hold them. Retired sets are
 * freed oldest first beyond API_TLS_MAX_RETIRED, and all at api_tls_free
 * (after MHD has stopped). Connections already up keep their session keys, so
 * neither requests in flight nor keep-alive connections notice a swap.
 *
 * GnuTLS types stop in this file.
 */

#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "api.h"

/* One certificate chain and its key, as GnuTLS wants them for a handshake. */
struct tls_cred {
	gnutls_pcert_st pcert[API_TLS_MAX_CHAIN];
	unsigned npcert;
	gnutls_privkey_t key;
	char serial[2 * API_TLS_MAX_SERIAL + 1];	/* hex, for the log */
	time_t not_after;
	struct tls_cred *next_retired;
};

/* The stat signature of the two files, to notice a change (tls = "cert"). */
struct file_sig {
	dev_t dev[2];
	ino_t ino[2];
	off_t size[2];
	struct timespec mtime[2];
	bool ok;			/* both files could be stat'ed */
};

struct api_tls {
	pthread_mutex_t mu;		/* guards cur and retired */
	pthread_mutex_t reload_mu;	/* one reload at a time (watcher, SIGHUP); guards sigs */
	struct tls_cred *cur;		/* NULL until the first certificate */
	struct tls_cred *retired;	/* newest first */
	unsigned nretired;
	char *chain_path, *key_path;	/* tls = "cert" */
	struct file_sig sig;		/* of the files behind cur */
	struct file_sig seen;		/* the last signature polled, for the debounce */
	struct file_sig failed;		/* a signature that failed: logged once */
	pthread_t watcher;
	bool watching;
	bool stop;
	pthread_cond_t wake;
};

/*
 * The retrieve callback has no closure argument, so the live credentials are
 * found through this pointer: one HTTPS API per process.
 */
static struct api_tls *tls_live;
static pthread_mutex_t tls_live_mu = PTHREAD_MUTEX_INITIALIZER;

/* Free one credential set. */
static void
cred_free(struct tls_cred *c)
{
	unsigned i;

	if (c == NULL)
		return;
	for (i = 0; i < c->npcert; i++)
		gnutls_pcert_deinit(&c->pcert[i]);
	if (c->key != NULL)
		gnutls_privkey_deinit(c->key);
	free(c);
}

/* True if the private key is the one whose public half the leaf carries. */
static bool
key_matches(gnutls_privkey_t key, const gnutls_pcert_st *leaf)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	bool ok = false;

	if (gnutls_pubkey_init(&pub) < 0)
		return false;
	if (gnutls_pubkey_import_privkey(pub, key, 0, 0) >= 0 &&
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a) >= 0 &&
	    gnutls_pubkey_export2(leaf->pubkey, GNUTLS_X509_FMT_DER, &b) >= 0)
		ok = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
	gnutls_free(a.data);
	gnutls_free(b.data);
	gnutls_pubkey_deinit(pub);
	return ok;
}

/* The leaf's serial (hex) and expiry, for the log and for the caller. */
static void
leaf_info(struct tls_cred *c)
{
	gnutls_x509_crt_t crt;
	unsigned char raw[API_TLS_MAX_SERIAL + 1];
	size_t n = sizeof(raw), i, skip = 0;

	snprintf(c->serial, sizeof(c->serial), "?");
	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &c->pcert[0].cert, GNUTLS_X509_FMT_DER) >= 0) {
		c->not_after = gnutls_x509_crt_get_expiration_time(crt);
		if (gnutls_x509_crt_get_serial(crt, raw, &n) >= 0) {
			/* DER keeps a 00 before a high bit; print the number as openssl does. */
			while (skip + 1 < n && raw[skip] == 0)
				skip++;
			for (i = skip; i < n && i - skip < API_TLS_MAX_SERIAL; i++)
				snprintf(c->serial + 2 * (i - skip), 3, "%02X", raw[i]);
		}
	}
	gnutls_x509_crt_deinit(crt);
}

/*
 * Parse a PEM chain (leaf first, each certificate issued by the next) and a
 * PEM private key, and check that the key matches the leaf. Returns new
 * credentials, or NULL with err saying why.
 */
static struct tls_cred *
cred_load(const char *chain, size_t chain_len, const char *key, size_t key_len, char *err,
    size_t errlen)
{
	struct tls_cred *c;
	gnutls_datum_t d;
	unsigned n = API_TLS_MAX_CHAIN;
	int r;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d.data = (unsigned char *)(uintptr_t)chain;
	d.size = (unsigned)chain_len;
	r = gnutls_pcert_list_import_x509_raw(c->pcert, &n, &d, GNUTLS_X509_FMT_PEM,
	    GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
	if (r < 0 || n == 0) {
		snprintf(err, errlen, "the certificate chain does not parse (%s)",
		    r < 0 ? gnutls_strerror(r) : "no certificate");
		goto fail;
	}
	c->npcert = n;
	if (gnutls_privkey_init(&c->key) < 0) {
		c->key = NULL;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	d.data = (unsigned char *)(uintptr_t)key;
	d.size = (unsigned)key_len;
	r = gnutls_privkey_import_x509_raw(c->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (r < 0) {
		snprintf(err, errlen, "the private key does not parse (%s)", gnutls_strerror(r));
		goto fail;
	}
	if (!key_matches(c->key, &c->pcert[0])) {
		snprintf(err, errlen, "the private key does not match the certificate");
		goto fail;
	}
	leaf_info(c);
	return c;
fail:
	cred_free(c);
	return NULL;
}

/* GnuTLS's retrieve callback: the current chain and key, borrowed. */
static int
retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
    unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
	struct tls_cred *c = NULL;

	(void)session;
	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	pthread_mutex_lock(&tls_live_mu);
	if (tls_live != NULL) {
		pthread_mutex_lock(&tls_live->mu);
		c = tls_live->cur;
		pthread_mutex_unlock(&tls_live->mu);
	}
	pthread_mutex_unlock(&tls_live_mu);
	if (c == NULL)
		return -1;
	*pcert = c->pcert;
	*pcert_length = c->npcert;
	*pkey = c->key;
	return 0;
}

/* Install c for new handshakes; the old set is retired (see the top of the file). */
static void
cred_install(struct api_tls *t, struct tls_cred *c)
{
	struct tls_cred *old, **pp;

	pthread_mutex_lock(&t->mu);
	old = t->cur;
	t->cur = c;
	if (old != NULL) {
		old->next_retired = t->retired;
		t->retired = old;
		t->nretired++;
	}
	if (t->nretired > API_TLS_MAX_RETIRED) {
		for (pp = &t->retired; (*pp)->next_retired != NULL; pp = &(*pp)->next_retired)
			;
		cred_free(*pp);
		*pp = NULL;
		t->nretired--;
	}
	pthread_mutex_unlock(&t->mu);
}

/* Read a whole file of at most API_MAX_TLS_FILE bytes. New buffer or NULL with err. */
static char *
slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(API_MAX_TLS_FILE + 1)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, API_MAX_TLS_FILE + 1, f);
	if (ferror(f) || n > API_MAX_TLS_FILE) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ? "read error" : "too large");
		explicit_bzero(buf, n);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Load and check the pair of files. New credentials or NULL with err. */
static struct tls_cred *
cred_from_files(const char *chain_path, const char *key_path, char *err, size_t errlen)
{
	struct tls_cred *c = NULL;
	char *chain = NULL, *key = NULL, why[256];
	size_t clen = 0, klen = 0;

	if ((chain = slurp(chain_path, &clen, err, errlen)) == NULL ||
	    (key = slurp(key_path, &klen, err, errlen)) == NULL)
		goto out;
	c = cred_load(chain, clen, key, klen, why, sizeof(why));
	if (c == NULL)
		snprintf(err, errlen, "%s, %s: %s", chain_path, key_path, why);
out:
	if (key != NULL) {
		explicit_bzero(key, klen);
		free(key);
	}
	free(chain);
	return c;
}

/* stat both files (following symbolic links, as certbot's live/ uses them). */
static void
sig_read(const struct api_tls *t, struct file_sig *s)
{
	const char *paths[2] = { t->chain_path, t->key_path };
	struct stat st;
	int i;

	memset(s, 0, sizeof(*s));
	s->ok = true;
	for (i = 0; i < 2; i++) {
		if (stat(paths[i], &st) == -1) {
			s->ok = false;
			continue;
		}
		s->dev[i] = st.st_dev;
		s->ino[i] = st.st_ino;
		s->size[i] = st.st_size;
		s->mtime[i] = st.st_mtim;
	}
}

static bool
sig_equal(const struct file_sig *a, const struct file_sig *b)
{
	int i;

	if (a->ok != b->ok)
		return false;
	for (i = 0; i < 2; i++)
		if (a->dev[i] != b->dev[i] || a->ino[i] != b->ino[i] || a->size[i] != b->size[i] ||
		    a->mtime[i].tv_sec != b->mtime[i].tv_sec ||
		    a->mtime[i].tv_nsec != b->mtime[i].tv_nsec)
			return false;
	return true;
}

/* Log a refused certificate at error level: one line, the old one stays. */
static void
log_refused(const struct api_tls *t, const char *why)
{
	char line[768];

	pthread_mutex_lock((pthread_mutex_t *)(uintptr_t)&t->mu);
	snprintf(line, sizeof(line), "api: new certificate refused: %s; still serving serial %s",
	    why, t->cur != NULL ? t->cur->serial : "(none)");
	pthread_mutex_unlock((pthread_mutex_t *)(uintptr_t)&t->mu);
	log_event(LOG_LEVEL_ERROR, line, (const char *)NULL);
}

/* Log the certificate now served. */
static void
log_serving(const struct tls_cred *c, const char *how)
{
	char when[32];
	struct tm tm;

	gmtime_r(&c->not_after, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	log_info("api: %s certificate serial %s (expires %s) for new TLS handshakes", how,
	    c->serial, when);
}

/* Re-read the files with signature s; on error keep the old ones (logged once per s). */
static int
reload_files(struct api_tls *t, const struct file_sig *s, bool always_log)
{
	struct tls_cred *c;
	char err[512];

	c = cred_from_files(t->chain_path, t->key_path, err, sizeof(err));
	if (c == NULL) {
		if (always_log || !sig_equal(s, &t->failed))
			log_refused(t, err);
		t->failed = *s;
		return -1;
	}
	cred_install(t, c);
	t->sig = *s;
	log_serving(c, "serving");
	return 0;
}

/*
 * The file watcher (tls = "cert"): a stat poll every API_TLS_POLL_MS. A change
 * is acted on once the files have stayed the same for one more poll, so a
 * writer that replaces the key and the chain one after the other (dns01 renew)
 * is seen as one change.
 */
static void *
watch(void *arg)
{
	struct api_tls *t = arg;
	struct file_sig s;
	struct timespec until;

	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += API_TLS_POLL_MS / 1000;
		until.tv_nsec += (long)(API_TLS_POLL_MS % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&t->wake, &t->mu, &until);
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->mu);
		pthread_mutex_lock(&t->reload_mu);
		sig_read(t, &s);
		if (s.ok && !sig_equal(&s, &t->sig) && sig_equal(&s, &t->seen) &&
		    !sig_equal(&s, &t->failed))
			(void)reload_files(t, &s, false);
		t->seen = s;
		pthread_mutex_unlock(&t->reload_mu);
		pthread_mutex_lock(&t->mu);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* See api.h. */
struct api_tls *
api_tls_new(const struct config *cfg, char *err, size_t errlen)
{
	struct api_tls *t;
	struct tls_cred *c;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&t->mu, NULL);
	pthread_mutex_init(&t->reload_mu, NULL);
	pthread_cond_init(&t->wake, NULL);
	if (cfg->tls == CONFIG_TLS_CERT) {
		t->chain_path = strdup(cfg->tls_cert_fullchain);
		t->key_path = strdup(cfg->tls_cert_privkey);
		if (t->chain_path == NULL || t->key_path == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		sig_read(t, &t->sig);
		c = cred_from_files(t->chain_path, t->key_path, err, errlen);
		if (c == NULL)
			goto fail;
		cred_install(t, c);
		log_serving(c, "serving");
		t->seen = t->sig;
		if (pthread_create(&t->watcher, NULL, watch, t) != 0) {
			snprintf(err, errlen, "cannot start the certificate file watcher");
			goto fail;
		}
		t->watching = true;
	}
	pthread_mutex_lock(&tls_live_mu);
	tls_live = t;
	pthread_mutex_unlock(&tls_live_mu);
	return t;
fail:
	api_tls_free(t);
	return NULL;
}

/* See api.h. MHD must have stopped: nothing can hold the credentials any more. */
void
api_tls_free(struct api_tls *t)
{
	struct tls_cred *c, *next;

	if (t == NULL)
		return;
	if (t->watching) {
		pthread_mutex_lock(&t->mu);
		t->stop = true;
		pthread_cond_signal(&t->wake);
		pthread_mutex_unlock(&t->mu);
		pthread_join(t->watcher, NULL);
	}
	pthread_mutex_lock(&tls_live_mu);
	if (tls_live == t)
		tls_live = NULL;
	pthread_mutex_unlock(&tls_live_mu);
	cred_free(t->cur);
	for (c = t->retired; c != NULL; c = next) {
		next = c->next_retired;
		cred_free(c);
	}
	free(t->chain_path);
	free(t->key_path);
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->reload_mu);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* See api.h. */
bool
api_tls_not_after(struct api_tls *t, time_t *not_after)
{
	bool have = false;

	if (t == NULL)
		return false;
	pthread_mutex_lock(&t->mu);
	if (t->cur != NULL && t->cur->not_after > 0) {
		*not_after = t->cur->not_after;
		have = true;
	}
	pthread_mutex_unlock(&t->mu);
	return have;
}

/* See api.h. */
bool
api_tls_ready(struct api_tls *t)
{
	bool ready;

	pthread_mutex_lock(&t->mu);
	ready = t->cur != NULL;
	pthread_mutex_unlock(&t->mu);
	return ready;
}

/* See api.h. */
void
api_tls_option(struct MHD_OptionItem *item)
{
	item->option = MHD_OPTION_HTTPS_CERT_CALLBACK;
	item->value = 0;
	item->ptr_value = (void *)(uintptr_t)&retrieve;
}

/* See api.h. */
int
api_tls_swap(struct api_tls *t, const char *chain, size_t chain_len, const char *key,
    size_t key_len, char *err, size_t errlen)
{
	struct tls_cred *c;

	c = cred_load(chain, chain_len, key, key_len, err, errlen);
	if (c == NULL) {
		log_refused(t, err);
		return -1;
	}
	cred_install(t, c);
	log_serving(c, "serving");
	return 0;
}

/* See api.h. */
int
api_tls_reload_files(struct api_tls *t)
{
	struct file_sig s;
	int rc;

	if (t->chain_path == NULL)
		return 0;
	pthread_mutex_lock(&t->reload_mu);
	sig_read(t, &s);
	rc = reload_files(t, &s, true);
	t->seen = s;
	pthread_mutex_unlock(&t->reload_mu);
	return rc;
}

/* See api.h. */
int
api_tls_check_files(const char *chain_path, const char *key_path, char *err, size_t errlen)
{
	struct tls_cred *c;

	c = cred_from_files(chain_path, key_path, err, errlen);
	if (c == NULL)
		return -1;
	cred_free(c);
	return 0;
}
