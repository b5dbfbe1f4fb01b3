/* tests/fuzz/fuzz_stored.c -- libFuzzer target: decoding what the database holds */
/* SPDX-License-Identifier: ISC */

/*
 * An acme-dns or dns01d database is untrusted input too (it may have been
 * edited, or written by another program). The input is one stored account:
 *   client address NUL AllowFrom column NUL Subdomain NUL Value NUL Value ...
 * The AllowFrom JSON goes through storage's decoder and then the API's
 * allowfrom decision for the client; the Subdomain and Value columns go
 * through the checks storage_foreach() applies at start-up (UUID, at most
 * 43 bytes kept, 43 base64url characters) into dnsd's memory, and a TXT query
 * for the name must then be answered from it.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../api/api.h"
#include "../../storage/internal.h"
#include "fuzz.h"

#define FUZZ_STORED_RENEW 4096	/* names published before dnsd is rebuilt (bounded memory) */
#define FUZZ_DOMAIN "auth.example.org"

static struct dnsd *zone;
static unsigned published;

/* A fresh, empty zone. */
static void
zone_renew(void)
{
	struct dnsd_params p;
	char err[512];

	dnsd_free(zone);
	memset(&p, 0, sizeof(p));
	p.config_path = "fuzz.cfg";
	(void)config_listen_parse("127.0.0.1:0", &p.listen);
	p.protocol = DNSD_PROTO_UDP | DNSD_PROTO_V4;
	p.domain = FUZZ_DOMAIN;
	p.nsname = "ns1." FUZZ_DOMAIN;
	p.nsadmin = "admin.example.org";
	p.threads = 1;
	p.txt_ttl = 1;
	p.negative_ttl = 60;
	if ((zone = dnsd_new(&p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_stored: %s\n", err);
		abort();
	}
	published = 0;
}

/* The AllowFrom column, then the API's decision for client (NULL = unknown). */
static void
check_allowfrom(const char *column, const struct sockaddr *client)
{
	struct storage_account acct;
	struct cidr c;
	size_t i;
	bool ok;

	memset(&acct, 0, sizeof(acct));
	if (storage_allowfrom_decode(column[0] != '\0' ? column : NULL, &acct) == -1)
		return;	/* undecodable: storage_auth denies */
	if (acct.nallowfrom > STORAGE_MAX_ALLOWFROM)
		abort();
	for (i = 0; i < acct.nallowfrom; i++) {
		if (memchr(acct.allowfrom[i], '\0', STORAGE_CIDR_LEN) == NULL)
			abort();	/* every kept entry is a whole C string */
		(void)api_cidr_parse(acct.allowfrom[i], &c);
	}
	ok = api_allowfrom_ok(&acct, client);
	if (acct.nallowfrom == 0 && !ok)
		abort();	/* no list: any address (acme-dns) */
	if (acct.nallowfrom > 0 && client == NULL && ok)
		abort();	/* a list, and the client unknown: never */
}

/* A TXT query for sub.FUZZ_DOMAIN; returns its length. */
static size_t
txt_query(const char *sub, uint8_t *q)
{
	static const uint8_t hdr[12] = { 0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
	const char *labels[] = { sub, "auth", "example", "org" };
	size_t n = 12, i, l;

	memcpy(q, hdr, sizeof(hdr));
	for (i = 0; i < 4; i++) {
		l = strlen(labels[i]);
		q[n++] = (uint8_t)l;
		memcpy(q + n, labels[i], l);
		n += l;
	}
	q[n++] = 0;
	memcpy(q + n, "\x00\x10\x00\x01", 4);	/* TXT IN */
	return n + 4;
}

/* The Subdomain and Value columns, as storage_foreach() hands them to dnsd. */
static void
check_txt(const char *sub, char *const *col, size_t ncol)
{
	const char *values[STORAGE_MAX_TXT];
	uint8_t q[128], a[DNSD_MAX_TCP_MSG];
	size_t i, n = 0;
	int len;

	if (!is_uuid(sub))
		return;	/* skipped with a warning */
	for (i = 0; i < ncol && n < STORAGE_MAX_TXT; i++)
		if (strlen(col[i]) <= STORAGE_TXT_LEN && is_acme_txt(col[i]))
			values[n++] = col[i];
	if (published++ >= FUZZ_STORED_RENEW)
		zone_renew();
	if (dnsd_publish(zone, sub, values, n) == -1)
		abort();	/* a checked UUID and checked values must publish */
	/* Over TCP: 16 values exceed a UDP answer without EDNS (512 bytes, TC=1, no records). */
	len = dnsd_answer(zone, q, txt_query(sub, q), a, sizeof(a), true);
	if (len < 12 || (a[3] & 0x0f) != 0)
		abort();	/* the name exists now: NOERROR */
	if (n > 0 && a[6] == 0 && a[7] == 0)
		abort();	/* and with values it has an answer */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct sockaddr_storage ss;
	char *addr, *allow, *sub, *col[STORAGE_MAX_TXT + 2];
	size_t i, ncol = 0;

	if (zone == NULL) {
		log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT, NULL);
		zone_renew();
	}
	if (size > FUZZ_MAX_INPUT)
		return 0;
	addr = fuzz_field(&in);
	allow = fuzz_field(&in);
	sub = fuzz_field(&in);
	while (in.n > 0 && ncol < sizeof(col) / sizeof(col[0]))
		col[ncol++] = fuzz_field(&in);
	check_allowfrom(allow, cidr_addr_parse(addr, &ss) == 0 ? (struct sockaddr *)&ss : NULL);
	check_txt(sub, col, ncol);
	free(addr);
	free(allow);
	free(sub);
	for (i = 0; i < ncol; i++)
		free(col[i]);
	return 0;
}
