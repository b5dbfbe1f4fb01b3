/* daemon/main.c -- dns01d entry point: config, storage, dnsd and api wired together */
/* SPDX-License-Identifier: ISC */

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include <systemd/sd-daemon.h>

#include "../api/api.h"
#include "../autocert/autocert.h"
#include "../common/common.h"
#include "../dnsd/dnsd.h"
#include "../storage/storage.h"
#include "daemon.h"
#include "sandbox.h"

#define DAEMON_MAX_ERR 512	/* bytes in one start-up error line */
#define DAEMON_MAX_CHANGED 1024	/* bytes naming the settings a reload cannot apply */
#define DAEMON_MAX_PATH_DEPTH 256	/* parents climbed to find where acme_cache_dir would go */
#define DAEMON_EXPIRE_MS 1000		/* txt_expiry: the sweep runs this often ... */
#define DAEMON_EXPIRE_ROUNDS 16		/* ... and handles at most this many batches a run */

/* What the daemon runs: built by start(), torn down by stop(). */
struct daemon {
	struct config cfg;
	struct dnsd *d;
	struct storage *st;
	struct api *a;
	struct autocert *ac;		/* tls = letsencrypt*, acme; else NULL */
	pthread_t expirer;		/* txt_expiry > 0: the sweep thread */
	bool expiring;
	pthread_mutex_t xlock;		/* guards xstop */
	pthread_cond_t xcond;		/* wakes the sweep to stop */
	bool xstop;
	uint32_t reload_mark;		/* dnsd_mark() of the feed's full reload (its thread only) */
};

static void
usage(void)
{
	fprintf(stderr, "usage: dns01d [-n] -c FILE\n"
	    "       dns01d -c FILE -i SQLITE_FILE\n"
	    "       dns01d admin -c FILE COMMAND ... (see dns01d(8))\n"
	    "  -c FILE  the config file (acme-dns config.cfg format)\n"
	    "  -i FILE  copy the accounts and values of the SQLite database FILE into the\n"
	    "           PostgreSQL database of the config, then exit\n"
	    "  -n       check the config and exit\n"
	    "  -V       print the version and exit\n");
	exit(2);
}

/* Copy the config's zone settings into dnsd's parameter struct (borrowed strings). */
static void
dnsd_params_from(const struct config *cfg, struct dnsd_params *p)
{
	memset(p, 0, sizeof(*p));
	p->config_path = cfg->path;
	p->listen = cfg->listen_addr;
	p->listens = cfg->listen_addrs;
	p->nlisten = cfg->nlisten;
	p->protocol = cfg->protocol;
	p->domain = cfg->domain;
	p->nsname = cfg->nsname;
	p->nsadmin = cfg->nsadmin;
	p->records = (const char *const *)cfg->records.v;
	p->record_lines = cfg->records.line;
	p->nrecords = cfg->records.n;
	p->threads = cfg->dns_threads;
	p->txt_ttl = cfg->txt_ttl;
	p->persist_ttl = cfg->persist_ttl;
	p->negative_ttl = cfg->negative_ttl;
	p->tcp_idle_timeout = cfg->tcp_idle_timeout;
	p->tcp_max_clients = cfg->tcp_max_clients;
	p->rrl_rate = cfg->rrl_rate;
	p->rrl_slip = cfg->rrl_slip;
	p->cookies = cfg->cookies;
	p->cookie_rotation = cfg->cookie_rotation;
	p->stats = cfg->metrics_on;
}

/*
 * storage_foreach and storage_watch callback: put one account's values into
 * dnsd's memory, or (txt NULL: the account was deleted) make it NXDOMAIN.
 */
static int
load_one(void *arg, const char *subdomain, const struct storage_txt *txt)
{
	struct dnsd *d = arg;
	const char *values[STORAGE_MAX_TXT];
	size_t i;

	if (txt == NULL) {
		if (dnsd_unpublish(d, subdomain) == -1)
			log_warnx("%s: deleted, but still in DNS memory", subdomain);
		return 0;
	}
	for (i = 0; i < txt->n && i < STORAGE_MAX_TXT; i++)
		values[i] = txt->values[i];
	if (dnsd_publish(d, subdomain, values, i) == -1) {
		log_warnx("%s: cannot load into DNS memory", subdomain);
		return -1;
	}
	return 0;
}

/* storage_watch_reload callbacks: a full reload drops the names deleted in the gap. */
static void
reload_mark(void *arg)
{
	struct daemon *dm = arg;

	dm->reload_mark = dnsd_mark(dm->d);
}

static void
reload_sweep(void *arg)
{
	struct daemon *dm = arg;
	long n = dnsd_sweep(dm->d, dm->reload_mark);

	if (n == -1)
		log_warnx("storage: full reload: out of memory; deleted names may still answer");
	else if (n > 0)
		log_info("storage: full reload: %ld deleted names no longer answer", n);
}

/* storage_persist_foreach/_watch callback: one account's persist records into DNS memory. */
static int
load_persist(void *arg, const char *subdomain, const struct storage_persist_set *set)
{
	struct dnsd *d = arg;
	const char *values[STORAGE_PERSIST_MAX];
	size_t i;

	for (i = 0; i < set->n && i < STORAGE_PERSIST_MAX; i++)
		values[i] = set->rec[i].value;
	if (dnsd_publish_persist(d, subdomain, values, i) == -1) {
		log_warnx("%s: cannot load the persist records into DNS memory", subdomain);
		return -1;
	}
	return 0;
}

/*
 * dns01d -n: the certificate files exist, can be read and match (tls = "cert");
 * the ACME cache directory can be written, or created, and acme_ca_file can be
 * read (tls = letsencrypt*, acme; config.c already checked that acme_directory
 * is a URL). The CA is not contacted. 0, or -1 with one line in err.
 */
static int
check_tls(const struct config *cfg, char *err, size_t errlen)
{
	char dir[4096], *slash;
	struct stat st;
	int depth;

	if (cfg->tls == CONFIG_TLS_CERT)
		return api_check_certificate_files(cfg->tls_cert_fullchain, cfg->tls_cert_privkey,
		    err, errlen);
	if (cfg->tls == CONFIG_TLS_NONE)
		return 0;
	if (cfg->acme_ca_file != NULL && access(cfg->acme_ca_file, R_OK) == -1) {
		snprintf(err, errlen, "acme_ca_file %.200s: %s", cfg->acme_ca_file, strerror(errno));
		return -1;
	}
	/* The nearest existing ancestor must be a writable directory (mkdir -p works). */
	snprintf(dir, sizeof(dir), "%s", cfg->acme_cache_dir);
	for (depth = 0; depth < DAEMON_MAX_PATH_DEPTH; depth++) {
		if (stat(dir, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				snprintf(err, errlen, "acme_cache_dir %.200s: %.200s is not a directory",
				    cfg->acme_cache_dir, dir);
				return -1;
			}
			if (access(dir, W_OK | X_OK) == -1) {
				snprintf(err, errlen, "acme_cache_dir %.200s: %.200s is not writable: %s",
				    cfg->acme_cache_dir, dir, strerror(errno));
				return -1;
			}
			return 0;
		}
		if (errno != ENOENT) {
			snprintf(err, errlen, "acme_cache_dir %.200s: %.200s: %s", cfg->acme_cache_dir, dir,
			    strerror(errno));
			return -1;
		}
		slash = strrchr(dir, '/');
		if (slash == NULL) {
			snprintf(dir, sizeof(dir), ".");
		} else if (slash == dir) {
			dir[1] = '\0';
		} else {
			*slash = '\0';
		}
	}
	snprintf(err, errlen, "acme_cache_dir %.200s: no existing parent directory",
	    cfg->acme_cache_dir);
	return -1;
}

/* autocert's publish callback: the dns-01 TXT in dnsd's memory (never in storage). */
static int
publish_challenge(void *arg, const char *const *values, size_t n)
{
	struct daemon *dm = arg;

	return dnsd_publish(dm->d, AUTOCERT_CHALLENGE_LABEL, values, n);
}

/* autocert's deliver callback: the API serves the new certificate. */
static int
deliver_certificate(void *arg, const char *chain, size_t chain_len, const char *key,
    size_t key_len)
{
	struct daemon *dm = arg;
	char err[DAEMON_MAX_ERR];

	return api_set_certificate(dm->a, chain, chain_len, key, key_len, err, sizeof(err));
}

/* tls = letsencrypt*, acme: start the certificate manager on our own DNS. */
static struct autocert *
start_autocert(const struct config *cfg, struct daemon *dm)
{
	struct autocert_params p;
	struct autocert *ac;
	char err[256];

	memset(&p, 0, sizeof(p));
	p.domain = cfg->domain;
	p.directory_url = cfg->acme_directory;
	p.cache_dir = cfg->acme_cache_dir;
	p.ca_file = cfg->acme_ca_file;
	p.email = cfg->notification_email;
	p.eab_kid = cfg->acme_eab_kid;
	p.eab_hmac_key = cfg->acme_eab_hmac_key;
	p.renew_before = cfg->acme_renew_before;
	p.publish = publish_challenge;
	p.deliver = deliver_certificate;
	p.arg = dm;
	if ((ac = autocert_start(&p, err, sizeof(err))) == NULL)
		log_fatalx("autocert: %s", err);
	return ac;
}

static double
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Set up logging as [logconfig] says: stderr (journald), a file, or syslog. */
static void
logging_start(const struct config *cfg)
{
	bool file = strcmp(cfg->logtype, "file") == 0;

	if (log_init(cfg->loglevel, cfg->logformat, file ? cfg->logfile : NULL) == -1)
		log_warn("%s: cannot open log file, logging to stderr", cfg->logfile);
	if (strcmp(cfg->logtype, "syslog") == 0)
		log_use_syslog("dns01d");
}

/*
 * Open the database and load it into DNS memory. With a user set, this runs
 * with the user's effective ids, so the files are the user's and a directory
 * the user cannot write is an error now rather than after the drop.
 */
/* The storage engine the config names, and a loggable name (no password) in name. */
static enum storage_engine
engine_of(const struct config *cfg, char name[STORAGE_DESCRIBE_LEN])
{
	enum storage_engine e = strcmp(cfg->db_engine, "postgres") == 0 ? STORAGE_POSTGRES :
	    STORAGE_SQLITE;

	storage_describe(e, cfg->db_connection, name, STORAGE_DESCRIBE_LEN);
	return e;
}

static void
storage_start(struct daemon *dm)
{
	const struct config *cfg = &dm->cfg;
	char err[DAEMON_MAX_ERR], name[STORAGE_DESCRIBE_LEN];
	enum storage_engine e = engine_of(cfg, name);

	if (privdrop_borrow(cfg) == -1)
		log_fatalx("cannot take the ids of user %s: %s", cfg->user, strerror(errno));
	if ((dm->st = storage_open_engine(e, cfg->db_connection, cfg->txt_values, err,
	    sizeof(err))) == NULL)
		log_fatalx("%s: %s%s%s", name, err, cfg->user ? ", opened as user " : "",
		    cfg->user ? cfg->user : "");
	/* Only a daemon with txt_expiry pays for the index its sweep reads. */
	(void)storage_expiry_index(dm->st, cfg->txt_expiry > 0);
	if (storage_foreach(dm->st, load_one, dm->d) == -1 ||
	    storage_persist_foreach(dm->st, load_persist, dm->d) == -1)
		log_fatalx("%s: cannot load the accounts into DNS memory", name);
	/*
	 * Other instances' writes (PostgreSQL) reach DNS memory through the same
	 * callbacks. The records' first: the feed starts with the values'.
	 */
	if (storage_persist_watch(dm->st, load_persist, dm->d) == -1 ||
	    storage_watch_reload(dm->st, reload_mark, reload_sweep, dm) == -1 ||
	    storage_watch(dm->st, load_one, dm->d) == -1)
		log_fatalx("%s: cannot watch for changes", name);
	if (privdrop_resume(cfg) == -1)
		log_fatalx("cannot get root back to bind the ports: %s", strerror(errno));
}

/*
 * The txt_expiry sweep: every DAEMON_EXPIRE_MS, values older than
 * txt_expiry seconds are dropped from storage and from DNS memory, at most
 * DAEMON_EXPIRE_ROUNDS batches of STORAGE_EXPIRE_BATCH names a run.
 */
static void *
expire_loop(void *arg)
{
	struct daemon *dm = arg;
	struct timespec ts;
	int round, n;

	pthread_mutex_lock(&dm->xlock);
	while (!dm->xstop) {
		pthread_mutex_unlock(&dm->xlock);
		for (round = 0, n = STORAGE_EXPIRE_BATCH; round < DAEMON_EXPIRE_ROUNDS &&
		    n == STORAGE_EXPIRE_BATCH; round++)
			n = storage_txt_expire(dm->st, (long long)time(NULL) - dm->cfg.txt_expiry,
			    load_one, dm->d);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += DAEMON_EXPIRE_MS / 1000;
		pthread_mutex_lock(&dm->xlock);
		if (!dm->xstop)
			(void)pthread_cond_timedwait(&dm->xcond, &dm->xlock, &ts);
	}
	pthread_mutex_unlock(&dm->xlock);
	return NULL;
}

/* Start the sweep when txt_expiry is set. */
static void
expire_start(struct daemon *dm)
{
	int e;

	pthread_mutex_init(&dm->xlock, NULL);
	pthread_cond_init(&dm->xcond, NULL);
	if (dm->cfg.txt_expiry == 0)
		return;
	if ((e = pthread_create(&dm->expirer, NULL, expire_loop, dm)) != 0)
		log_fatalx("txt_expiry: cannot start the sweep: %s", strerror(e));
	dm->expiring = true;
}

/* Stop and join the sweep. */
static void
expire_stop(struct daemon *dm)
{
	if (dm->expiring) {
		pthread_mutex_lock(&dm->xlock);
		dm->xstop = true;
		pthread_cond_signal(&dm->xcond);
		pthread_mutex_unlock(&dm->xlock);
		pthread_join(dm->expirer, NULL);
		dm->expiring = false;
	}
	pthread_mutex_destroy(&dm->xlock);
	pthread_cond_destroy(&dm->xcond);
}

/*
 * Start everything, as root if so started: storage, DNS and the API bind
 * their sockets, then the process drops to [general] user for good. Only
 * then does systemd hear READY=1: DNS answers and the API listens.
 */
static void
start(struct daemon *dm, const struct timespec *t0)
{
	const struct config *cfg = &dm->cfg;
	char err[DAEMON_MAX_ERR];

	if (privdrop_check(cfg, err, sizeof(err)) == -1)
		log_fatalx("%s", err);
	storage_start(dm);
	if (dnsd_start(dm->d, err, sizeof(err)) == -1)
		log_fatalx("dns: %s", err);
	if ((dm->a = api_start(cfg, dm->st, dm->d, err, sizeof(err))) == NULL)
		log_fatalx("api: %s", err);
	if (privdrop_final(cfg, err, sizeof(err)) == -1)
		log_fatalx("%s", err);
	expire_start(dm);
	/* After the drop, so the cache files belong to the user; DNS already answers. */
	if (cfg->tls >= CONFIG_TLS_LETSENCRYPT)
		dm->ac = start_autocert(cfg, dm);
	/* Last: after the drop, every socket bound and every thread running (TSYNC covers them). */
	if (cfg->seccomp && sandbox_enter(cfg->logformat == LOG_FORMAT_JSON, err, sizeof(err)) == -1)
		log_fatalx("%s", err);
	log_info("dns01d %s ready: dns %s (port %u), api %s port %u, started in %.0f ms, "
	    "seccomp %s", DNS01D_VERSION, cfg->listen, dnsd_port(dm->d), cfg->api_ip,
	    api_port(dm->a), elapsed_ms(t0), cfg->seccomp ? "on" : "off");
	sd_notifyf(0, "READY=1\nSTATUS=dns port %u, api port %u", dnsd_port(dm->d),
	    api_port(dm->a));
}

/*
 * SIGHUP: reopen the log file (logrotate's postrotate), then read the config
 * again and name, in one line, every setting whose change needs a restart
 * (today: all of them). Hooks that can apply a change live go here.
 */
static void
reload(struct daemon *dm)
{
	struct config fresh;
	char err[DAEMON_MAX_ERR], changed[DAEMON_MAX_CHANGED];
	size_t n;

	sd_notify(0, "RELOADING=1");
	/* tls = "cert": the files again (an error keeps the old ones, logged). */
	if (dm->cfg.tls == CONFIG_TLS_CERT && api_reload_certificate(dm->a) == 0)
		log_info("SIGHUP: certificate files re-read");
	if (log_reopen() == -1)
		log_warn("SIGHUP: %s: cannot reopen the log file, still writing to the old one",
		    dm->cfg.logfile);
	if (config_load(dm->cfg.path, &fresh, err, sizeof(err)) == -1) {
		log_warnx("SIGHUP: %s; the running configuration stays", err);
	} else {
		n = config_diff(&dm->cfg, &fresh, NULL, changed, sizeof(changed));
		if (n > 0)
			log_warnx("SIGHUP: %s: %zu changed setting%s take%s effect only after a "
			    "restart: %s", dm->cfg.path, n, n == 1 ? "" : "s", n == 1 ? "s" : "",
			    changed);
		config_free(&fresh);
	}
	log_info("SIGHUP: log reopened, configuration checked");
	sd_notify(0, "READY=1");
}

/* Take signals until one says stop: SIGHUP reloads, SIGINT and SIGTERM end. */
static void
serve(struct daemon *dm, const sigset_t *sigs)
{
	int sig;

	for (;;) {
		if (sigwait(sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload(dm);
			continue;
		}
		log_info("signal %d: shutting down", sig);
		sd_notify(0, "STOPPING=1");
		return;
	}
}

/* Stop the API, storage and DNS, and free the config. */
static void
stop(struct daemon *dm)
{
	autocert_stop(dm->ac);	/* first: it calls into the API and dnsd */
	api_stop(dm->a);
	expire_stop(dm);
	/* Storage before DNS: its watcher thread (PostgreSQL) publishes into DNS until it stops. */
	storage_close(dm->st);
	dnsd_free(dm->d);
	config_free(&dm->cfg);
	log_close();
}

/*
 * -i: copy the SQLite database at path into the configured (PostgreSQL)
 * database, then free everything. Returns the exit status.
 */
static int
import_main(struct daemon *dm, const char *path)
{
	struct storage *from = NULL, *to = NULL;
	char err[DAEMON_MAX_ERR], name[STORAGE_DESCRIBE_LEN];
	enum storage_engine e = engine_of(&dm->cfg, name);
	size_t n = 0;
	int rc = 1;

	if ((to = storage_open_engine(e, dm->cfg.db_connection, dm->cfg.txt_values, err,
	    sizeof(err))) == NULL)
		fprintf(stderr, "%s: %s\n", name, err);
	else if ((from = storage_open(path, dm->cfg.txt_values, err, sizeof(err))) == NULL)
		fprintf(stderr, "%s: %s\n", path, err);
	else if (storage_copy(from, to, &n, err, sizeof(err)) == -1)
		fprintf(stderr, "%s: %s\n", path, err);
	else {
		printf("%s: %zu accounts copied into %s\n", path, n, name);
		rc = 0;
	}
	storage_close(from);
	storage_close(to);
	dnsd_free(dm->d);
	config_free(&dm->cfg);
	log_close();
	return rc;
}

/*
 * Read and check the config, and build the DNS zone from it (so -n checks
 * the records too). Exits with one line on stderr if anything is wrong.
 */
static void
configure(struct daemon *dm, const char *path)
{
	struct dnsd_params params;
	char err[DAEMON_MAX_ERR];

	if (config_load(path, &dm->cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	dnsd_params_from(&dm->cfg, &params);
	if ((dm->d = dnsd_new(&params, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		config_free(&dm->cfg);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	struct daemon dm;
	struct timespec t0;
	const char *path = NULL, *import = NULL;
	bool check_only = false;
	sigset_t sigs;
	int c;

	if (argc >= 2 && strcmp(argv[1], "admin") == 0)
		return admin_main(argc - 1, argv + 1);
	while ((c = getopt(argc, argv, "c:i:nVh")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'i':
			import = optarg;
			break;
		case 'n':
			check_only = true;
			break;
		case 'V':
			printf("dns01d %s\n", DNS01D_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (path == NULL || optind != argc)
		usage();

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&dm, 0, sizeof(dm));
	configure(&dm, path);
	if (check_only) {
		char err[DAEMON_MAX_ERR];

		if (check_tls(&dm.cfg, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s: %s\n", path, err);
			dnsd_free(dm.d);
			config_free(&dm.cfg);
			return 1;
		}
		printf("%s: configuration OK\n", path);
		dnsd_free(dm.d);
		config_free(&dm.cfg);
		return 0;
	}
	logging_start(&dm.cfg);
	if (import != NULL)
		return import_main(&dm, import);

	/*
	 * Signals are taken synchronously by this thread alone: block them
	 * before any worker starts so every thread inherits the mask.
	 */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	start(&dm, &t0);
	serve(&dm, &sigs);
	stop(&dm);
	return 0;
}
