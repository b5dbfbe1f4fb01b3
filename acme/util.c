/* acme/util.c -- errors, HTTP and RFC 3339 dates, domain names, atomic files */
/* SPDX-License-Identifier: ISC */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


#include "internal.h"

/* Format into e->msg and replace control characters, so the line stays one line. */
static void
err_vset(struct acme_err *e, const char *fmt, va_list ap)
{
	size_t i;

	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	for (i = 0; e->msg[i] != '\0'; i++) {
		unsigned char c = (unsigned char)e->msg[i];
		if (c < 0x20 || c == 0x7f)
			e->msg[i] = ' ';
	}
	e->set = true;
}

/* Set the error line unless one is already set (the innermost cause wins). */
void
acme_errf(struct acme_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL || e->set)
		return;
	va_start(ap, fmt);
	err_vset(e, fmt, ap);
	va_end(ap);
}

/* Set the error line even if one is set; for callers that know what to do. */
void
acme_err_replace(struct acme_err *e, const char *fmt, ...)
{
	va_list ap;
	char tmp[ACME_ERR_MAX];

	if (e == NULL)
		return;
	/* The old message may be an argument: format into a copy first. */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	e->set = false;
	acme_errf(e, "%s", tmp);
}

/* Forget the error (after a handled failure). */
void
acme_err_clear(struct acme_err *e)
{
	if (e == NULL)
		return;
	e->msg[0] = '\0';
	e->set = false;
}

/* RFC 9110 §10.2.3: Retry-After = HTTP-date / delay-seconds. */
int
acme_retry_after(const char *value, time_t now, long *seconds)
{
	static const char *const formats[] = {
		"%a, %d %b %Y %H:%M:%S GMT",	/* IMF-fixdate (§5.6.7) */
		"%A, %d-%b-%y %H:%M:%S GMT",	/* obsolete RFC 850 form */
		"%a %b %e %H:%M:%S %Y",		/* obsolete asctime() form */
	};
	const char *p;
	size_t i;
	struct tm tm;
	time_t t;

	if (value == NULL)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (*value == '\0')
		return -1;
	if (isdigit((unsigned char)*value)) {
		unsigned long long v = 0;
		for (p = value; isdigit((unsigned char)*p); p++) {
			v = v * 10 + (unsigned long long)(*p - '0');
			if (v > 10ULL * 365 * 86400)
				v = 10ULL * 365 * 86400;	/* a cap, not an error */
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0')
			return -1;
		*seconds = (long)v;
		return 0;
	}
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		p = strptime(value, formats[i], &tm);
		if (p == NULL)
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0')
			continue;
		t = timegm(&tm);
		if (t == (time_t)-1)
			continue;
		*seconds = t > now ? (long)(t - now) : 0;
		return 0;
	}
	return -1;
}

/* RFC 3339 §5.6 date-time: full-date "T" full-time, with fractions and offsets. */
int
acme_rfc3339(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh, om;
	const char *p;
	time_t t;
	long off = 0;

	if (s == NULL)
		return -1;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	p = s + n;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	n = 0;
	if (sscanf(p, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8)
		return -1;
	p += n;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		n = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 || oh > 23 || om > 59)
			return -1;
		off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
		p += 1 + n;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = t - off;
	return 0;
}

/* Format t as "2026-11-24T13:00:00Z". */
const char *
acme_time_str(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "?");
	return buf;
}

/* RFC 1123 §2.1 LDH label check. */
static bool
label_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > ACME_MAX_LABEL || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

/* Lower-case, strip one trailing dot, check every label; "*." only first. */
char *
acme_domain_normalize(const char *s)
{
	char *d = NULL;
	size_t len, i, start, labels = 0;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > ACME_MAX_NAME)
		return NULL;
	d = strndup(s, len);
	if (d == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	start = 0;
	if (len > 2 && d[0] == '*' && d[1] == '.')
		start = 2;
	for (i = start; i <= len; i++) {
		if (i == len || d[i] == '.') {
			if (!label_valid(d + start, i - start))
				goto bad;
			labels++;
			start = i + 1;
		}
	}
	if (labels < 2 || acme_name_numeric(d))
		goto bad;
	return d;
bad:
	free(d);
	return NULL;
}

/* See acme.h: "127.0.0.1", "::1", "123", "a.123" are not DNS names. */
bool
acme_name_numeric(const char *s)
{
	struct in6_addr a6;
	const char *last;
	size_t len;

	if (s == NULL || *s == '\0')
		return false;
	if (strchr(s, ':') != NULL)
		return inet_pton(AF_INET6, s[0] == '[' ? s + 1 : s, &a6) == 1 ||
		    strspn(s, "0123456789abcdefABCDEF:.[]") == strlen(s);
	len = strlen(s);
	if (s[len - 1] == '.')
		len--;
	if (len == 0)
		return false;
	for (last = s + len; last > s && last[-1] != '.'; last--)
		;
	return strspn(last, "0123456789") >= (size_t)(s + len - last) && s + len > last;
}

/* RFC 8555 §8.4: "*.example.com" is validated at _acme-challenge.example.com. */
const char *
acme_base_domain(const char *domain)
{
	if (domain != NULL && domain[0] == '*' && domain[1] == '.')
		return domain + 2;
	return domain;
}

/*
 * True if url is plain http:// to a host that is not loopback (127.0.0.0/8,
 * ::1, localhost): secrets sent there cross the network in clear text.
 */
bool
acme_url_plain_remote(const char *url)
{
	char host[ACME_MAX_NAME + 1];
	const char *p, *end, *at;
	struct in_addr a4;
	struct in6_addr a6;
	size_t n;

	if (url == NULL || strncasecmp(url, "http://", 7) != 0)
		return false;
	p = url + 7;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at != NULL)		/* RFC 3986 §3.2.1 userinfo */
		p = at + 1;
	if (*p == '[') {	/* RFC 3986 §3.2.2 IP-literal */
		p++;
		end = memchr(p, ']', (size_t)(end - p));
		if (end == NULL)
			return true;
	} else {
		end = p + strcspn(p, ":/?#");
	}
	n = (size_t)(end - p);
	if (n == 0 || n >= sizeof(host))
		return true;
	memcpy(host, p, n);
	host[n] = '\0';
	if (host[n - 1] == '.')
		host[n - 1] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return false;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) != 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return !IN6_IS_ADDR_LOOPBACK(&a6);
	return true;
}

/* Read at most max bytes; a bigger file is refused, not truncated. */
int
acme_file_read(const char *path, size_t max, char **buf, size_t *len, struct acme_err *err)
{
	int fd = -1, rc = -1;
	struct stat st;
	char *b = NULL;
	size_t n = 0;
	ssize_t r;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		if (errno == ENOENT) {
			rc = 1;
			goto out;
		}
		acme_errf(err, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		acme_errf(err, "%s is not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		acme_errf(err, "%s is larger than %zu bytes", path, max);
		goto out;
	}
	b = malloc(max + 1);
	if (b == NULL) {
		acme_errf(err, "out of memory reading %s", path);
		goto out;
	}
	for (;;) {
		r = read(fd, b + n, max + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			acme_errf(err, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			acme_errf(err, "%s is larger than %zu bytes", path, max);
			goto out;
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	rc = 0;
out:
	if (b != NULL) {
		explicit_bzero(b, max + 1);
		free(b);
	}
	if (fd != -1)
		close(fd);
	return rc;
}

/* Temp file + fchmod + write + fsync + rename + fsync(dir): readers see old or new. */
int
acme_file_write(const char *path, const void *data, size_t len, unsigned mode,
    struct acme_err *err)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *slash, *p = data;
	int fd = -1, dfd = -1, rc = -1;
	size_t off = 0;
	ssize_t w;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp)) {
		acme_errf(err, "%s: path too long", path);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd == -1) {
		acme_errf(err, "cannot create a file next to %s: %s", path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, (mode_t)mode) == -1) {
		acme_errf(err, "cannot set the mode of %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < len) {
		w = write(fd, p + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			acme_errf(err, "cannot write %s: %s", tmp, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1) {
		acme_errf(err, "cannot sync %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		acme_errf(err, "cannot close %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		acme_errf(err, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd != -1)
		(void)fsync(dfd);	/* best effort: the rename is durable on most systems */
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	if (rc != 0 && tmp[0] != '\0')
		(void)unlink(tmp);
	return rc;
}

/* mkdir -p, creating missing parents with mode. */
int
acme_mkdirs(const char *path, unsigned mode, struct acme_err *err)
{
	char buf[PATH_MAX];
	size_t i, len;
	struct stat st;

	len = strlen(path);
	if (len == 0 || len >= sizeof(buf)) {
		acme_errf(err, "bad directory name '%s'", path);
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, (mode_t)mode) == -1 && errno != EEXIST) {
			acme_errf(err, "cannot create directory %s: %s", buf, strerror(errno));
			return -1;
		}
		buf[i] = i == len ? '\0' : '/';
	}
	if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
		acme_errf(err, "%s is not a directory", path);
		return -1;
	}
	return 0;
}

/* Wipe then free a NUL-terminated secret. */
void
acme_free_secret(char *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, strlen(p));
	free(p);
}
