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

#include "../api/api.h"
#include "../common/common.h"
#include "../dnsd/dnsd.h"
#include "../storage/storage.h"

#define DNS01D_VERSION "0.1.0"

static void
usage(void)
{
	fprintf(stderr, "usage: dns01d [-n] -c FILE\n"
	    "  -c FILE  the config file (acme-dns config.cfg format)\n"
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
	p->listen = cfg->listen;
	p->protocol = cfg->protocol;
	p->domain = cfg->domain;
	p->nsname = cfg->nsname;
	p->nsadmin = cfg->nsadmin;
	p->records = (const char *const *)cfg->records.v;
	p->record_lines = cfg->records.line;
	p->nrecords = cfg->records.n;
	p->threads = cfg->dns_threads;
	p->txt_ttl = cfg->txt_ttl;
	p->negative_ttl = cfg->negative_ttl;
	p->tcp_idle_timeout = cfg->tcp_idle_timeout;
	p->tcp_max_clients = cfg->tcp_max_clients;
}

/* storage_foreach callback: put one account's values into dnsd's memory. */
static int
load_one(void *arg, const char *subdomain, const struct storage_txt *txt)
{
	struct dnsd *d = arg;
	const char *values[STORAGE_MAX_TXT];
	size_t i;

	for (i = 0; i < txt->n && i < STORAGE_MAX_TXT; i++)
		values[i] = txt->values[i];
	if (dnsd_publish(d, subdomain, values, i) == -1) {
		log_warnx("%s: cannot load into DNS memory", subdomain);
		return -1;
	}
	return 0;
}

static double
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct dnsd_params params;
	struct dnsd *d = NULL;
	struct storage *st = NULL;
	struct api *a = NULL;
	struct timespec t0;
	char err[512];
	const char *path = NULL;
	bool check_only = false;
	sigset_t sigs;
	int c, sig;

	while ((c = getopt(argc, argv, "c:nVh")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
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
	if (config_load(path, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	dnsd_params_from(&cfg, &params);
	if ((d = dnsd_new(&params, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		config_free(&cfg);
		return 1;
	}
	if (check_only) {
		printf("%s: configuration OK\n", path);
		dnsd_free(d);
		config_free(&cfg);
		return 0;
	}

	if (log_init(cfg.loglevel, cfg.logformat,
	    strcmp(cfg.logtype ? cfg.logtype : "stdout", "file") == 0 ? cfg.logfile : NULL) == -1)
		log_warn("%s: cannot open log file, logging to stderr", cfg.logfile);

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

	if ((st = storage_open(cfg.db_connection, cfg.txt_values, err, sizeof(err))) == NULL)
		log_fatalx("%s: %s", cfg.db_connection, err);
	if (storage_foreach(st, load_one, d) == -1)
		log_fatalx("%s: cannot load the accounts into DNS memory", cfg.db_connection);
	if (dnsd_start(d, err, sizeof(err)) == -1)
		log_fatalx("dns: %s", err);
	if ((a = api_start(&cfg, st, d, err, sizeof(err))) == NULL)
		log_fatalx("api: %s", err);
	log_info("dns01d %s ready: dns %s (port %u), api %s port %u, started in %.0f ms",
	    DNS01D_VERSION, cfg.listen, dnsd_port(d), cfg.api_ip, api_port(a), elapsed_ms(&t0));

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP: configuration reload needs a restart; ignored");
			continue;
		}
		log_info("signal %d: shutting down", sig);
		break;
	}

	api_stop(a);
	dnsd_free(d);
	storage_close(st);
	config_free(&cfg);
	log_close();
	return 0;
}
