/* common/rand.c -- identifiers and secrets from getrandom(2), token allowlists */
/* SPDX-License-Identifier: ISC */

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "common.h"

/* base64url alphabet (RFC 4648 §5): 64 symbols, so each carries exactly 6 bits. */
static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Fill buf with n bytes from the kernel's CSPRNG. getrandom(2) may return
 * short reads for large n or be interrupted by a signal; both are retried.
 * Returns 0, or -1 with errno set.
 */
int
rand_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = getrandom(p, n, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Write a random UUID version 4 (RFC 9562 §5.4) in lower-case 8-4-4-4-12
 * form into out. Returns 0, or -1 if no randomness was available (out is
 * then the empty string).
 */
int
rand_uuid(char out[RAND_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t i, o = 0;

	out[0] = '\0';
	if (rand_bytes(b, sizeof(b)) == -1)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);	/* variant 10 (RFC 9562 §4.1) */
	for (i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
	explicit_bzero(b, sizeof(b));
	return 0;
}

/*
 * Write a 40-character password of [A-Za-z0-9_-] into out: 30 random bytes
 * split into 40 six-bit symbols, so every symbol is uniform (no modulo
 * bias) and the key carries 240 bits. Returns 0, or -1 (out is empty).
 */
int
rand_password(char out[RAND_PASSWORD_LEN + 1])
{
	unsigned char b[RAND_PASSWORD_LEN * 6 / 8];
	size_t i, o = 0;

	out[0] = '\0';
	if (rand_bytes(b, sizeof(b)) == -1)
		return -1;
	for (i = 0; i < sizeof(b); i += 3) {
		unsigned v = (unsigned)b[i] << 16 | (unsigned)b[i + 1] << 8 | b[i + 2];

		out[o++] = b64url[(v >> 18) & 0x3f];
		out[o++] = b64url[(v >> 12) & 0x3f];
		out[o++] = b64url[(v >> 6) & 0x3f];
		out[o++] = b64url[v & 0x3f];
	}
	out[o] = '\0';
	explicit_bzero(b, sizeof(b));
	return 0;
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}

/*
 * True if s is a UUID in the 8-4-4-4-12 hex form, either case. The version
 * is not checked: acme-dns accounts may hold any UUID.
 */
bool
is_uuid(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < RAND_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!is_hex(s[i]))
			return false;	/* also stops at an early NUL */
	}
	return s[i] == '\0';
}

/*
 * True if s is exactly 43 base64url characters: an unpadded SHA-256 digest,
 * the only TXT value ACME DNS-01 publishes (RFC 8555 §8.4).
 */
bool
is_acme_txt(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < 43; i++)
		if (!is_b64url(s[i]))
			return false;
	return s[i] == '\0';
}

bool
is_http_url(const char *s)
{
	const char *p;

	if (s == NULL || strlen(s) > COMMON_MAX_URL)
		return false;
	if (strncasecmp(s, "https://", 8) == 0)
		p = s + 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		p = s + 7;
	else
		return false;
	if (*p == '\0' || *p == '/')
		return false;
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

/*
 * Compare n bytes of a and b in time that depends only on n, so an attacker
 * cannot learn how many leading bytes of a secret matched. True if equal.
 */
bool
ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *pa = a, *pb = b;
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= pa[i] ^ pb[i];
	return d == 0;
}
