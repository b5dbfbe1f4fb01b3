/* tests/unit/test_common.c -- random identifiers, token allowlists, ct_equal, logging */
/* SPDX-License-Identifier: ISC */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/common.h"
#include "testhelp.h"

#define NUUID 2000

static int
cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static int
test_rand_uuid_v4_format(void)
{
	char u[RAND_UUID_LEN + 1];
	size_t i;
	int n;

	for (n = 0; n < 200; n++) {
		memset(u, 'Z', sizeof(u));
		CHECK(rand_uuid(u) == 0);
		CHECK(strlen(u) == RAND_UUID_LEN);
		CHECK(is_uuid(u));
		for (i = 0; i < RAND_UUID_LEN; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23)
				CHECK(u[i] == '-');
			else
				CHECK((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f'));
		}
		CHECK(u[14] == '4');	/* version 4, RFC 9562 §5.4 */
		CHECK(strchr("89ab", u[19]) != NULL);	/* variant 10, RFC 9562 §4.1 */
	}
	return 0;
}

static int
test_rand_uuid_unique(void)
{
	static char all[NUUID][RAND_UUID_LEN + 1];
	int i;

	for (i = 0; i < NUUID; i++)
		CHECK(rand_uuid(all[i]) == 0);
	qsort(all, NUUID, sizeof(all[0]), cmp_str);
	for (i = 1; i < NUUID; i++)
		CHECK(strcmp(all[i - 1], all[i]) != 0);
	return 0;
}

static int
test_rand_password(void)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char p[RAND_PASSWORD_LEN + 1], q[RAND_PASSWORD_LEN + 1];
	unsigned seen[256];
	size_t i, distinct = 0;
	int n;

	memset(seen, 0, sizeof(seen));
	for (n = 0; n < 200; n++) {
		CHECK(rand_password(p) == 0);
		CHECK(strlen(p) == RAND_PASSWORD_LEN);
		for (i = 0; i < RAND_PASSWORD_LEN; i++) {
			CHECK(strchr(alphabet, p[i]) != NULL);
			seen[(unsigned char)p[i]]++;
		}
	}
	/* 8000 symbols over 64: every symbol shows up (each misses with p < 1e-50). */
	for (i = 0; i < 256; i++)
		distinct += seen[i] != 0;
	CHECK(distinct == 64);
	CHECK(rand_password(q) == 0);
	CHECK(strcmp(p, q) != 0);
	return 0;
}

static int
test_rand_bytes(void)
{
	unsigned char a[4096], b[4096];
	size_t i, zeros = 0;

	CHECK(rand_bytes(a, sizeof(a)) == 0);
	CHECK(rand_bytes(b, sizeof(b)) == 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	for (i = 0; i < sizeof(a); i++)
		zeros += a[i] == 0;
	CHECK(zeros < 64);	/* expected 16 */
	CHECK(rand_bytes(a, 0) == 0);
	return 0;
}

static int
test_is_uuid(void)
{
	CHECK(is_uuid("0b6a8f7e-9c1d-4e2f-8a3b-5c6d7e8f9a0b"));
	CHECK(is_uuid("0B6A8F7E-9C1D-4E2F-8A3B-5C6D7E8F9A0B"));
	CHECK(is_uuid("00000000-0000-0000-0000-000000000000"));
	CHECK(!is_uuid(""));
	CHECK(!is_uuid(NULL));
	CHECK(!is_uuid("0b6a8f7e-9c1d-4e2f-8a3b-5c6d7e8f9a0"));	/* short */
	CHECK(!is_uuid("0b6a8f7e-9c1d-4e2f-8a3b-5c6d7e8f9a0bb"));	/* long */
	CHECK(!is_uuid("0b6a8f7e9c1d-4e2f-8a3b-5c6d7e8f9a0b0"));	/* dash moved */
	CHECK(!is_uuid("0b6a8f7g-9c1d-4e2f-8a3b-5c6d7e8f9a0b"));	/* not hex */
	CHECK(!is_uuid("0b6a8f7e-9c1d-4e2f-8a3b-5c6d7e8f9a0\n"));
	CHECK(!is_uuid("{b6a8f7e-9c1d-4e2f-8a3b-5c6d7e8f9a0b"));
	CHECK(!is_uuid("0b6a8f7e-9c1d-4e2f-8a3b"));
	return 0;
}

static int
test_is_acme_txt(void)
{
	CHECK(is_acme_txt("LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM"));
	CHECK(is_acme_txt("___________________________________________"));
	CHECK(is_acme_txt("-------------------------------------------"));
	CHECK(!is_acme_txt("LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmto"));	/* 42 */
	CHECK(!is_acme_txt("LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoMM"));	/* 44 */
	CHECK(!is_acme_txt("LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmto="));	/* padding */
	CHECK(!is_acme_txt("LHDhK3oGRvkiefQnx7OOczTY5Tic+xZ6HcMOc/gmtoM"));	/* base64, not url */
	CHECK(!is_acme_txt("LHDhK3oGRvkiefQnx7OOczTY5Tic xZ6HcMOc_gmtoM"));
	CHECK(!is_acme_txt("LHDhK3oGRvkiefQnx7OOczTY5Tic\"xZ6HcMOc_gmtoM"));
	CHECK(!is_acme_txt(""));
	CHECK(!is_acme_txt(NULL));
	return 0;
}

static int
test_ct_equal(void)
{
	unsigned char a[32], b[32];
	size_t i;

	CHECK(rand_bytes(a, sizeof(a)) == 0);
	memcpy(b, a, sizeof(b));
	CHECK(ct_equal(a, b, sizeof(a)));
	CHECK(ct_equal(a, b, 0));
	for (i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		CHECK(!ct_equal(a, b, sizeof(a)));
		CHECK(ct_equal(a, b, i));	/* the differing byte lies beyond n */
		b[i] ^= 0x80;
	}
	b[31] ^= 1;
	CHECK(!ct_equal(a, b, sizeof(a)));
	return 0;
}

/* Log to a fresh temp file; returns 0 and its path in buf. */
static int
log_to_temp(char *buf, size_t len, enum log_level level, enum log_format format)
{
	int fd;

	snprintf(buf, len, "/tmp/dns01d-test-log-XXXXXX");
	if ((fd = mkstemp(buf)) == -1)
		return -1;
	close(fd);
	unlink(buf);	/* log_init creates it, so its mode is log_init's */
	return log_init(level, format, buf);
}

static char *
read_all(const char *path)
{
	static char data[1 << 20];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(data, 1, sizeof(data) - 1, f);
	data[n] = '\0';
	fclose(f);
	return data;
}

/* The i-th line (from 0) of text, copied into out. */
static const char *
nth_line(const char *text, int i, char *out, size_t len)
{
	const char *e;

	while (i-- > 0 && text != NULL)
		text = (text = strchr(text, '\n')) ? text + 1 : NULL;
	if (text == NULL || (e = strchr(text, '\n')) == NULL || (size_t)(e - text) >= len)
		return NULL;
	memcpy(out, text, (size_t)(e - text));
	out[e - text] = '\0';
	return out;
}

/* The part of a log line after the timestamp ("...Z "). */
static const char *
after_time(const char *line)
{
	const char *z = line ? strstr(line, "Z ") : NULL;

	return z ? z + 2 : NULL;
}

static int
test_log_text(void)
{
	char path[64], l[8192];
	struct stat st;
	const char *all;

	CHECK(log_to_temp(path, sizeof(path), LOG_LEVEL_INFO, LOG_FORMAT_TEXT) == 0);
	log_debug("hidden %d", 1);
	log_info("hello %s", "world");
	log_warnx("line\nbreak\tand \x01 and \\ and \xff");
	errno = ENOENT;
	log_warn("%s: open", "/x");
	log_event(LOG_LEVEL_INFO, "request", "ip", "192.0.2.1", "path", "/update",
	    "ua", "curl 8", "empty", "", "nil", (const char *)NULL, "q", "a\"b", (const char *)NULL);
	log_event(LOG_LEVEL_DEBUG, "hidden", "k", "v", (const char *)NULL);
	CHECK(stat(path, &st) == 0);
	CHECK((st.st_mode & 0137) == 0);	/* at most 0640, whatever the umask */
	log_close();
	all = read_all(path);
	unlink(path);
	CHECK(all != NULL);
	CHECK(strstr(all, "hidden") == NULL);
	CHECK(strncmp(all, "20", 2) == 0);
	CHECK_STR(after_time(nth_line(all, 0, l, sizeof(l))), "info hello world");
	CHECK_STR(after_time(nth_line(all, 1, l, sizeof(l))),
	    "warning line\\nbreak\\tand \\x01 and \\\\ and \\xff");
	CHECK_STR(after_time(nth_line(all, 2, l, sizeof(l))),
	    "warning /x: open: No such file or directory");
	CHECK_STR(after_time(nth_line(all, 3, l, sizeof(l))),
	    "info request ip=192.0.2.1 path=/update ua=\"curl 8\" empty=\"\" nil=\"\" q=\"a\\\"b\"");
	CHECK(nth_line(all, 4, l, sizeof(l)) == NULL);
	return 0;
}

/*
 * Decode one JSON string starting at *p (just after its opening quote),
 * resolving the escapes JSON allows; false on anything invalid. This is a
 * strict mini-checker so the test does not trust log.c's own logic.
 */
static bool
json_string(const char **p, char *out, size_t len)
{
	const char *s = *p;
	size_t o = 0;

	while (*s != '"') {
		unsigned char c = (unsigned char)*s;

		if (c == '\0' || c < 0x20 || o + 4 >= len)
			return false;
		if (c == '\\') {
			s++;
			switch (*s) {
			case '"': out[o++] = '"'; break;
			case '\\': out[o++] = '\\'; break;
			case '/': out[o++] = '/'; break;
			case 'b': out[o++] = '\b'; break;
			case 'f': out[o++] = '\f'; break;
			case 'n': out[o++] = '\n'; break;
			case 'r': out[o++] = '\r'; break;
			case 't': out[o++] = '\t'; break;
			case 'u': {
				unsigned v = 0;
				int i;

				for (i = 1; i <= 4; i++) {
					char h = s[i];

					if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
					    (h >= 'A' && h <= 'F')))
						return false;
					v = v * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
				}
				s += 4;
				if (v < 0x80)
					out[o++] = (char)v;
				else if (v < 0x800) {
					out[o++] = (char)(0xc0 | v >> 6);
					out[o++] = (char)(0x80 | (v & 0x3f));
				} else {
					out[o++] = (char)(0xe0 | v >> 12);
					out[o++] = (char)(0x80 | ((v >> 6) & 0x3f));
					out[o++] = (char)(0x80 | (v & 0x3f));
				}
				break;
			}
			default:
				return false;
			}
			s++;
		} else {
			size_t k = utf8_char_len((const unsigned char *)s, strlen(s));

			if (k == 0)
				return false;
			memcpy(out + o, s, k);
			o += k;
			s += k;
		}
	}
	out[o] = '\0';
	*p = s + 1;
	return true;
}

/*
 * Check that line is one flat JSON object of string (or null) members and
 * find member key's decoded value. Returns 1 found, 0 absent, -1 invalid.
 */
static int
json_member(const char *line, const char *key, char *val, size_t len)
{
	char k[256], v[8192];
	const char *p = line;
	int found = 0;

	if (*p++ != '{')
		return -1;
	for (;;) {
		if (*p++ != '"' || !json_string(&p, k, sizeof(k)) || *p++ != ':')
			return -1;
		if (strncmp(p, "null", 4) == 0) {
			p += 4;
			snprintf(v, sizeof(v), "(null)");
		} else if (*p++ != '"' || !json_string(&p, v, sizeof(v)))
			return -1;
		if (strcmp(k, key) == 0) {
			snprintf(val, len, "%s", v);
			found = 1;
		}
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p++ != '}' || *p != '\0')
			return -1;
		return found;
	}
}

static int
test_log_json_escaping(void)
{
	char path[64], l[8192], v[8192];
	const char *all;
	static const char nasty[] = "q\" bs\\ nl\n cr\r tab\t bell\x07 del\x7f ctl\x1f "
	    "utf8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 bad \xff\xc3 end";
	static const char want[] = "q\" bs\\ nl\n cr\r tab\t bell\x07 del\x7f ctl\x1f "
	    "utf8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 bad \xef\xbf\xbd\xef\xbf\xbd end";

	CHECK(log_to_temp(path, sizeof(path), LOG_LEVEL_DEBUG, LOG_FORMAT_JSON) == 0);
	CHECK(log_enabled(LOG_LEVEL_DEBUG));
	log_debug("%s", nasty);
	log_event(LOG_LEVEL_WARN, "request", "ip", "2001:db8::1", "k\"ey\n", nasty,
	    "none", (const char *)NULL, (const char *)NULL);
	log_close();
	all = read_all(path);
	unlink(path);
	CHECK(all != NULL);

	CHECK(nth_line(all, 0, l, sizeof(l)) != NULL);
	CHECK(strncmp(l, "{\"time\":\"", 9) == 0);
	CHECK(json_member(l, "level", v, sizeof(v)) == 1);
	CHECK_STR(v, "debug");
	CHECK(json_member(l, "msg", v, sizeof(v)) == 1);
	CHECK_STR(v, want);
	CHECK(json_member(l, "time", v, sizeof(v)) == 1);
	CHECK(strlen(v) == 20 && v[10] == 'T' && v[19] == 'Z');

	CHECK(nth_line(all, 1, l, sizeof(l)) != NULL);
	CHECK(json_member(l, "level", v, sizeof(v)) == 1);
	CHECK_STR(v, "warning");
	CHECK(json_member(l, "msg", v, sizeof(v)) == 1);
	CHECK_STR(v, "request");
	CHECK(json_member(l, "ip", v, sizeof(v)) == 1);
	CHECK_STR(v, "2001:db8::1");
	CHECK(json_member(l, "k\"ey\n", v, sizeof(v)) == 1);
	CHECK_STR(v, want);
	CHECK(json_member(l, "none", v, sizeof(v)) == 1);
	CHECK_STR(v, "(null)");
	CHECK(nth_line(all, 2, l, sizeof(l)) == NULL);
	return 0;
}

static int
test_log_long_lines_stay_valid(void)
{
	char path[64], l[LOG_MAX_LINE + 16], v[8192];
	static char big[3 * LOG_MAX_LINE];
	const char *all;
	int i;

	/* Quotes double in JSON, so the cut lands mid-message; vary the offset. */
	memset(big, '"', sizeof(big) - 1);
	CHECK(log_to_temp(path, sizeof(path), LOG_LEVEL_INFO, LOG_FORMAT_JSON) == 0);
	for (i = 0; i < 8; i++)
		log_event(LOG_LEVEL_INFO, "big", "pad", big + sizeof(big) - 1 - (size_t)i * 700,
		    "k", big, "k2", "v2", (const char *)NULL);
	log_info("%s", big);
	log_event(LOG_LEVEL_INFO, big, "k", "v", (const char *)NULL);
	log_close();
	all = read_all(path);
	unlink(path);
	CHECK(all != NULL);
	for (i = 0; i < 10; i++) {
		CHECK(nth_line(all, i, l, sizeof(l)) != NULL);
		CHECK(strlen(l) < LOG_MAX_LINE);
		CHECK(json_member(l, "msg", v, sizeof(v)) == 1);
	}
	CHECK(nth_line(all, 10, l, sizeof(l)) == NULL);
	return 0;
}

struct thread_arg {
	int id;
};

static void *
log_thread(void *p)
{
	const struct thread_arg *a = p;
	char id[16];
	int i;

	snprintf(id, sizeof(id), "%d", a->id);
	for (i = 0; i < 200; i++)
		log_event(LOG_LEVEL_INFO, "tick", "thread", id,
		    "pad", "0123456789012345678901234567890123456789012345678901234567890123456789",
		    (const char *)NULL);
	return NULL;
}

static int
test_log_threads_do_not_interleave(void)
{
	pthread_t t[4];
	struct thread_arg a[4];
	char path[64], l[512], v[256];
	const char *all;
	int i, counts[4] = { 0, 0, 0, 0 };

	CHECK(log_to_temp(path, sizeof(path), LOG_LEVEL_INFO, LOG_FORMAT_JSON) == 0);
	for (i = 0; i < 4; i++) {
		a[i].id = i;
		CHECK(pthread_create(&t[i], NULL, log_thread, &a[i]) == 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	log_close();
	all = read_all(path);
	unlink(path);
	CHECK(all != NULL);
	for (i = 0; i < 800; i++) {
		CHECK(nth_line(all, i, l, sizeof(l)) != NULL);
		CHECK(json_member(l, "thread", v, sizeof(v)) == 1);
		CHECK(v[0] >= '0' && v[0] <= '3' && v[1] == '\0');
		counts[v[0] - '0']++;
	}
	CHECK(nth_line(all, 800, l, sizeof(l)) == NULL);
	for (i = 0; i < 4; i++)
		CHECK(counts[i] == 200);
	return 0;
}

static int
test_log_levels_and_bad_path(void)
{
	CHECK(log_init(LOG_LEVEL_WARN, LOG_FORMAT_TEXT, NULL) == 0);
	CHECK(!log_enabled(LOG_LEVEL_INFO));
	CHECK(log_enabled(LOG_LEVEL_WARN));
	CHECK(log_enabled(LOG_LEVEL_ERROR));
	errno = 0;
	CHECK(log_init(LOG_LEVEL_INFO, LOG_FORMAT_TEXT, "/nonexistent-dir/x.log") == -1);
	CHECK(errno == ENOENT);	/* the daemon's log_warn reports the cause */
	CHECK(log_enabled(LOG_LEVEL_INFO));
	log_close();
	return 0;
}

static const struct test_case tests[] = {
	{ "rand_uuid_v4_format", test_rand_uuid_v4_format },
	{ "rand_uuid_unique", test_rand_uuid_unique },
	{ "rand_password", test_rand_password },
	{ "rand_bytes", test_rand_bytes },
	{ "is_uuid", test_is_uuid },
	{ "is_acme_txt", test_is_acme_txt },
	{ "ct_equal", test_ct_equal },
	{ "log_text", test_log_text },
	{ "log_json_escaping", test_log_json_escaping },
	{ "log_long_lines_stay_valid", test_log_long_lines_stay_valid },
	{ "log_threads_do_not_interleave", test_log_threads_do_not_interleave },
	{ "log_levels_and_bad_path", test_log_levels_and_bad_path },
};

TEST_MAIN(tests)
