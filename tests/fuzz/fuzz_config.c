/* tests/fuzz/fuzz_config.c -- libFuzzer target: a config file through config_parse() and dnsd_new() */
/* SPDX-License-Identifier: ISC */

/*
 * The input is a whole config.cfg (acme-dns's TOML subset plus dns01d's
 * keys). A config that parses is then checked as `dns01d -n` checks it: the
 * zone is built from its records by dnsd_new() (which binds nothing). A
 * failure must come with a one-line message.
 */

#include <stdio.h>
#include <stdlib.h>

#include "../../common/common.h"
#include "../../dnsd/dnsd.h"
#include "fuzz.h"

/* dns01d -n: build the zone from the parsed config (as daemon/main.c does). */
static void
check_zone(const struct config *cfg)
{
	struct dnsd_params p;
	struct dnsd *d;
	char err[512];

	memset(&p, 0, sizeof(p));
	p.config_path = cfg->path;
	p.listen = cfg->listen_addr;
	p.protocol = cfg->protocol;
	p.domain = cfg->domain;
	p.nsname = cfg->nsname;
	p.nsadmin = cfg->nsadmin;
	p.records = (const char *const *)cfg->records.v;
	p.record_lines = cfg->records.line;
	p.nrecords = cfg->records.n;
	p.threads = cfg->dns_threads;
	p.txt_ttl = cfg->txt_ttl;
	p.negative_ttl = cfg->negative_ttl;
	p.tcp_idle_timeout = cfg->tcp_idle_timeout;
	p.tcp_max_clients = cfg->tcp_max_clients;
	err[0] = '\0';
	if ((d = dnsd_new(&p, err, sizeof(err))) == NULL && (err[0] == '\0' || strchr(err, '\n')))
		abort();	/* a refusal must say why, on one line */
	dnsd_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int logs_off;
	struct config cfg;
	char err[512];
	char *text;

	if (!logs_off) {
		log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT, NULL);
		logs_off = 1;
	}
	if (size > FUZZ_MAX_INPUT)
		return 0;
	/* An exact-size copy that is not NUL-terminated: config_parse takes a length. */
	if ((text = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	if (size > 0)
		memcpy(text, data, size);
	err[0] = '\0';
	if (config_parse("fuzz.cfg", text, size, &cfg, err, sizeof(err)) == 0) {
		check_zone(&cfg);
		config_free(&cfg);
	} else if (err[0] == '\0' || strchr(err, '\n') != NULL) {
		abort();	/* every refusal is one "file:line: message" line */
	}
	free(text);
	return 0;
}
