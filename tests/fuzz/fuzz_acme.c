/* tests/fuzz/fuzz_acme.c -- libFuzzer target: the acme module's parsers of what an ACME server sends */
/* SPDX-License-Identifier: ISC */

/*
 * The first byte picks the parser, the rest is what the CA sent: a
 * directory, an order, an authorization, an account, a problem document, a
 * renewalInfo (RFC 8555 §7.1, RFC 9773), or a Link, Retry-After or RFC 3339
 * header value. Every parser either succeeds or sets one error line; what it
 * filled in is freed.
 */

#include <stdio.h>
#include <stdlib.h>

#include "../../acme/internal.h"
#include "fuzz.h"

#define BASE_URL "https://acme.example.org/acme/order/1"

/* A failure must leave one error line; a success none. */
static void
check_err(int rc, const struct acme_err *err)
{
	if (rc == -1 && (!err->set || err->msg[0] == '\0' || strchr(err->msg, '\n') != NULL))
		abort();
}

static void
parse_directory(const char *s, size_t n)
{
	struct acme_directory d;
	struct acme_err err = { .set = false };

	memset(&d, 0, sizeof(d));
	check_err(json_directory_parse(s, n, &d, &err), &err);
	acme_directory_free(&d);
}

static void
parse_order(const char *s, size_t n)
{
	struct acme_order o;
	struct acme_err err = { .set = false };

	memset(&o, 0, sizeof(o));
	check_err(json_order_parse(s, n, &o, &err), &err);
	acme_order_free(&o);
}

static void
parse_authz(const char *s, size_t n)
{
	struct acme_authz a;
	struct acme_err err = { .set = false };

	memset(&a, 0, sizeof(a));
	check_err(json_authz_parse(s, n, &a, &err), &err);
	acme_authz_free(&a);
}

static void
parse_small(unsigned which, const char *s, size_t n)
{
	struct acme_problem p;
	struct acme_account_info ai;
	struct http_response resp;
	time_t t0, t1;
	long secs;

	switch (which) {
	case 3:
		memset(&p, 0, sizeof(p));
		json_problem_parse(s, n, &p);
		acme_problem_free(&p);
		break;
	case 4:
		memset(&ai, 0, sizeof(ai));
		json_account_parse(s, n, &ai);
		acme_account_info_free(&ai);
		break;
	case 5:
		json_renewal_info_parse(s, n, &t0, &t1);
		break;
	case 6:
		memset(&resp, 0, sizeof(resp));
		http_parse_link(BASE_URL, s, &resp);
		if (resp.nalternate > ACME_MAX_LINKS)
			abort();
		http_response_free(&resp);
		break;
	case 7:
		if (acme_retry_after(s, 1700000000, &secs) == 0 && secs < 0)
			abort();
		break;
	default:
		acme_rfc3339(s, &t0);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned which;
	size_t n;
	char *s;

	if (size < 1 || size > FUZZ_MAX_INPUT)
		return 0;
	which = data[0] % 9;
	in.p++;
	in.n--;
	s = fuzz_rest(&in, &n);
	if (which == 0)
		parse_directory(s, n);
	else if (which == 1)
		parse_order(s, n);
	else if (which == 2)
		parse_authz(s, n);
	else
		parse_small(which, s, n);
	free(s);
	return 0;
}
