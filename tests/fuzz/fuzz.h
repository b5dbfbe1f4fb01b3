/* tests/fuzz/fuzz.h -- what every libFuzzer target shares: splitting one input into fields */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01D_FUZZ_H
#define DNS01D_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * A fuzz input is read as fields separated by NUL bytes; the last field is
 * the rest of the input and may itself hold NULs (a body). Every field is
 * handed out as a malloc'd copy of exactly its size plus the NUL, so ASan
 * sees a read one byte past a field.
 */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

#define FUZZ_MAX_INPUT (64 * 1024)	/* longer inputs are ignored (libFuzzer's -max_len is lower) */

/* The next NUL-terminated field as a new string, or "" past the end; never NULL. */
static inline char *
fuzz_field(struct fuzz_in *in)
{
	const uint8_t *z = in->n > 0 ? memchr(in->p, '\0', in->n) : NULL;
	size_t len = z != NULL ? (size_t)(z - in->p) : in->n;
	char *s = malloc(len + 1);

	if (s == NULL)
		abort();
	if (len > 0)
		memcpy(s, in->p, len);
	s[len] = '\0';
	in->p += len;
	in->n -= len;
	if (z != NULL) {
		in->p++;
		in->n--;
	}
	return s;
}

/* The rest of the input as a new buffer of exactly *len bytes (NUL after it). */
static inline char *
fuzz_rest(struct fuzz_in *in, size_t *len)
{
	char *s = malloc(in->n + 1);

	if (s == NULL)
		abort();
	if (in->n > 0)
		memcpy(s, in->p, in->n);
	s[in->n] = '\0';
	*len = in->n;
	in->p += in->n;
	in->n = 0;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
