/* tests/fuzz/fuzz_acmedns.c -- libFuzzer target: the client's parsers of acme-dns answers and files */
/* SPDX-License-Identifier: ISC */

/*
 * The first byte picks the parser: an acme-dns /register answer, the
 * lego/goacmedns storage file (get, then put back), or the account cache
 * map (get, put, remove). Input: selector, key NUL, document.
 */

#include <stdio.h>
#include <stdlib.h>

#include "../../acme/internal.h"
#include "../../client/client.h"
#include "fuzz.h"

#define SERVER_URL "https://auth.example.org"

static void
parse_register(const char *s, size_t n)
{
	struct acmedns_account a;
	struct acme_err err = { .set = false };

	if (json_acmedns_account(s, n, SERVER_URL, &a, &err) == 0) {
		if (a.username == NULL || a.password == NULL || a.server_url == NULL ||
		    strcmp(a.server_url, SERVER_URL) != 0)
			abort();	/* a success has every member, and our server_url */
	} else if (!err.set) {
		abort();
	}
	acmedns_account_free(&a);
}

static void
parse_storage(const char *key, const char *s, size_t n)
{
	struct acmedns_account a;
	struct acme_err err = { .set = false };
	char *out;
	int rc;

	rc = json_storage_get(s, n, key, &a, &err);
	if (rc == -1 && !err.set)
		abort();
	if (rc == 1) {
		out = json_storage_put(s, n, key, &a, &err);
		free(out);
	}
	acmedns_account_free(&a);
}

static void
parse_map(const char *key, const char *s, size_t n)
{
	char *v = json_map_get(s, n, key), *out;

	out = json_map_put(s, n, key, v != NULL ? v : "https://acme.example.org/acct/1");
	free(out);
	out = json_map_put(s, n, key, NULL);
	free(out);
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned which;
	char *key, *s;
	size_t n;

	if (size < 1 || size > FUZZ_MAX_INPUT)
		return 0;
	which = data[0] % 3;
	in.p++;
	in.n--;
	key = fuzz_field(&in);
	s = fuzz_rest(&in, &n);
	if (which == 0)
		parse_register(s, n);
	else if (which == 1)
		parse_storage(key, s, n);
	else
		parse_map(key, s, n);
	free(key);
	free(s);
	return 0;
}
