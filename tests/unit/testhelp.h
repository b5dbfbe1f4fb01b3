/* tests/unit/testhelp.h -- a complete unit-test harness in a few lines */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01D_TESTHELP_H
#define DNS01D_TESTHELP_H

#include <stdio.h>
#include <string.h>

/*
 * Each test is `static int test_<what>(void)` returning 0 on pass. CHECK fails
 * the test with the file, line and expression. Each binary ends with
 * TEST_MAIN(table), which runs every test (or those whose name contains
 * argv[1]) and prints "ok - name" or "FAIL - name" per test, the lines
 * tests/run.sh counts.
 */
#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "    %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		return 1; \
	} \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *check_a_ = (a), *check_b_ = (b); \
	if (check_a_ == NULL || check_b_ == NULL || strcmp(check_a_, check_b_) != 0) { \
		fprintf(stderr, "    %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
		    check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)"); \
		return 1; \
	} \
} while (0)

struct test_case {
	const char *name;
	int (*fn)(void);
};

#define TEST_MAIN(table) \
int main(int argc, char **argv) \
{ \
	int failed = 0; \
	setvbuf(stdout, NULL, _IOLBF, 0); \
	for (size_t i = 0; i < sizeof(table) / sizeof((table)[0]); i++) { \
		if (argc > 1 && strstr((table)[i].name, argv[1]) == NULL) \
			continue; \
		int r = (table)[i].fn(); \
		printf("%s - %s\n", r == 0 ? "ok" : "FAIL", (table)[i].name); \
		failed += r != 0; \
	} \
	return failed != 0; \
}

#endif
