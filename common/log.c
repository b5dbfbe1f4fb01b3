/* common/log.c -- leveled logging to stderr, a file or syslog, as text or JSON lines */
/* SPDX-License-Identifier: ISC */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

/*
 * Logging state. The level and format are read on every call without a
 * lock; the descriptor is swapped and written under log_mu so that a line
 * never goes to a closed descriptor and lines from threads never interleave.
 */
static atomic_int log_level_cur = LOG_LEVEL_INFO;
static atomic_int log_format_cur = LOG_FORMAT_TEXT;
static int log_fd = STDERR_FILENO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
/* Where lines go besides log_fd: syslog(3), or stderr read by journald. */
static atomic_bool log_to_syslog = false;
static atomic_int log_journal = -1;	/* stderr is the journal: "<N>" prefixes; -1 unknown */
static char log_path[LOG_MAX_PATH];	/* the log file, for log_reopen ("" = none) */

static const char *const level_names[] = { "debug", "info", "warning", "error" };
/* syslog(3) priorities of the levels (RFC 5424 §6.2.1 severities). */
static const int level_prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };

/*
 * A fixed line buffer. The last LOG_TAIL bytes are reserved for the closing
 * quote, brace and newline, so a truncated line is still well-formed.
 */
#define LOG_TAIL 8

struct line {
	char b[LOG_MAX_LINE];
	size_t len;
	bool full;		/* something was dropped; append nothing more */
};

/* Append n bytes if they fit before the reserved tail; otherwise mark full. */
static bool
line_put(struct line *l, const char *s, size_t n)
{
	if (l->full || n > sizeof(l->b) - LOG_TAIL - l->len) {
		l->full = true;
		return false;
	}
	memcpy(l->b + l->len, s, n);
	l->len += n;
	return true;
}

static bool
line_puts(struct line *l, const char *s)
{
	return line_put(l, s, strlen(s));
}

/* Append into the reserved tail: only for the closing bytes. */
static void
line_close(struct line *l, const char *s)
{
	size_t n = strlen(s);

	if (n > sizeof(l->b) - l->len)
		n = sizeof(l->b) - l->len;
	memcpy(l->b + l->len, s, n);
	l->len += n;
}

/*
 * Append s as the inside of a JSON string (RFC 8259 §7): quote, backslash
 * and control characters escaped, DEL as \u007f, invalid UTF-8 replaced by
 * U+FFFD so the line is always valid JSON. Stops at the first sequence
 * that does not fit.
 */
static void
put_json_chars(struct line *l, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, k;
	char esc[8];

	while (i < n && !l->full) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			line_put(l, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			const char *short_esc = c == '\n' ? "\\n" : c == '\r' ? "\\r" :
			    c == '\t' ? "\\t" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;

			if (short_esc != NULL)
				line_puts(l, short_esc);
			else {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				line_put(l, esc, 6);
			}
			i++;
		} else if ((k = utf8_char_len(s + i, n - i)) == 0) {
			line_puts(l, "\\ufffd");
			i++;
		} else {
			line_put(l, (const char *)s + i, k);
			i += k;
		}
	}
}

/* Append a JSON string value: "chars", closing quote guaranteed. */
static void
put_json_string(struct line *l, const char *s)
{
	if (!line_put(l, "\"", 1)) {
		line_close(l, "\"\"");	/* fits in the reserved tail */
		return;
	}
	put_json_chars(l, s);
	line_close(l, "\"");
}

/*
 * Append s for a text line. Control characters, backslash and invalid
 * UTF-8 are written as \n, \t, \\ or \xHH, so one event is one line and a
 * client cannot forge log lines. With quote, the value is wrapped in double
 * quotes and '"' is escaped as well.
 */
static void
put_text(struct line *l, const char *str, bool quote)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, k;
	char esc[8];

	if (quote && !line_put(l, "\"", 1))
		return;
	while (i < n && !l->full) {
		unsigned char c = s[i];

		if (c == '\\' || (quote && c == '"')) {
			esc[0] = '\\';
			esc[1] = (char)c;
			line_put(l, esc, 2);
			i++;
		} else if (c == '\n') {
			line_puts(l, "\\n");
			i++;
		} else if (c == '\t') {
			line_puts(l, "\\t");
			i++;
		} else if (c < 0x20 || c == 0x7f || (k = utf8_char_len(s + i, n - i)) == 0) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			line_put(l, esc, 4);
			i++;
		} else {
			line_put(l, (const char *)s + i, k);
			i += k;
		}
	}
	if (quote)
		line_close(l, "\"");
}

/* A text value needs quotes if it is empty or holds a space, '=' or '"'. */
static bool
text_needs_quote(const char *s)
{
	if (*s == '\0')
		return true;
	for (; *s != '\0'; s++)
		if (*s == ' ' || *s == '=' || *s == '"')
			return true;
	return false;
}

/*
 * True if stderr is the journal: systemd sets JOURNAL_STREAM to "DEV:INODE"
 * of the stream it connected to stderr (systemd.exec(5)).
 */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) == -1)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Write the time and level that open every line. */
static void
put_prefix(struct line *l, enum log_level level, int format)
{
	char ts[32];
	struct tm tm;
	time_t now = time(NULL);

	if (gmtime_r(&now, &tm) == NULL || strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(ts, sizeof(ts), "1970-01-01T00:00:00Z");
	/* sd-daemon(3): journald takes a leading "<N>" as the line's priority. */
	if (atomic_load(&log_journal) == -1)
		atomic_store(&log_journal, stderr_is_journal() ? 1 : 0);
	if (atomic_load(&log_journal) == 1 && !atomic_load(&log_to_syslog)) {
		char prio[8];

		snprintf(prio, sizeof(prio), "<%d>", level_prio[level]);
		line_puts(l, prio);
	}
	if (format == LOG_FORMAT_JSON) {
		line_puts(l, "{\"time\":\"");
		line_puts(l, ts);
		line_puts(l, "\",\"level\":\"");
		line_puts(l, level_names[level]);
		line_puts(l, "\",\"msg\":");
	} else if (!atomic_load(&log_to_syslog)) {
		line_puts(l, ts);
		line_puts(l, " ");
		line_puts(l, level_names[level]);
		line_puts(l, " ");
	}
}

/* Write the finished line with one write(2) under the lock, or hand it to syslog(3). */
static void
emit(struct line *l, int format, enum log_level level)
{
	const char *p = l->b;
	size_t left;
	ssize_t w;
	int saved = errno;

	if (atomic_load(&log_to_syslog)) {
		line_close(l, format == LOG_FORMAT_JSON ? "}" : "");
		syslog(level_prio[level], "%.*s", (int)l->len, l->b);
		errno = saved;
		return;
	}
	line_close(l, format == LOG_FORMAT_JSON ? "}\n" : "\n");
	left = l->len;
	pthread_mutex_lock(&log_mu);
	while (left > 0) {
		w = write(log_fd, p, left);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		p += w;
		left -= (size_t)w;
	}
	pthread_mutex_unlock(&log_mu);
	errno = saved;
}

static bool
level_ok(enum log_level level)
{
	return (int)level >= LOG_LEVEL_DEBUG && (int)level <= LOG_LEVEL_ERROR;
}

/* Format one message (plus ": strerror" if errnum != 0) and write it. */
static void __attribute__((format(printf, 3, 0)))
log_vmsg(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	struct line l;
	char msg[LOG_MAX_LINE];
	int format = atomic_load(&log_format_cur);
	int n;

	if (!level_ok(level) || !log_enabled(level))
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "(unformattable message)");
	if (errnum != 0) {
		char ebuf[128];
		size_t used = strlen(msg);

		snprintf(msg + used, sizeof(msg) - used, ": %s",
		    strerror_r(errnum, ebuf, sizeof(ebuf)));
	}
	l.len = 0;
	l.full = false;
	put_prefix(&l, level, format);
	if (format == LOG_FORMAT_JSON)
		put_json_string(&l, msg);
	else
		put_text(&l, msg, false);
	emit(&l, format, level);
}

/*
 * Set the level and format and choose the output: stderr for path NULL,
 * else path opened for append with mode 0640. Returns 0, or -1 with errno
 * from open(2) if the file cannot be opened (then output stays on stderr).
 */
int
log_init(enum log_level level, enum log_format format, const char *path)
{
	int fd = STDERR_FILENO, old, rc = 0;

	if (level_ok(level))
		atomic_store(&log_level_cur, (int)level);
	atomic_store(&log_format_cur, format == LOG_FORMAT_JSON ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
	atomic_store(&log_to_syslog, false);
	log_path[0] = '\0';
	if (path != NULL) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
		if (fd == -1) {
			fd = STDERR_FILENO;
			rc = -1;
		} else if (strlen(path) < sizeof(log_path))
			memcpy(log_path, path, strlen(path) + 1);
	}
	atomic_store(&log_journal, fd == STDERR_FILENO && stderr_is_journal() ? 1 : 0);
	pthread_mutex_lock(&log_mu);
	old = log_fd;
	log_fd = fd;
	pthread_mutex_unlock(&log_mu);
	if (old != STDERR_FILENO && old != fd) {
		int saved = errno;

		close(old);
		errno = saved;
	}
	return rc;
}

/*
 * Send every line to syslog(3) (facility daemon, tagged "dns01d[pid]") from
 * now on; the level and format stay as log_init set them.
 */
void
log_use_syslog(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&log_to_syslog, true);
}

/*
 * Open the log file again at its path (after logrotate moved it) and swap it
 * in. Returns 0 (also when not logging to a file), or -1 with errno and the
 * old descriptor kept.
 */
int
log_reopen(void)
{
	int fd, old;

	if (log_path[0] == '\0')
		return 0;
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd == -1)
		return -1;
	pthread_mutex_lock(&log_mu);
	old = log_fd;
	log_fd = fd;
	pthread_mutex_unlock(&log_mu);
	if (old != STDERR_FILENO)
		close(old);
	return 0;
}

/* Close the log file, if any, and go back to stderr. */
void
log_close(void)
{
	int old;

	pthread_mutex_lock(&log_mu);
	old = log_fd;
	log_fd = STDERR_FILENO;
	pthread_mutex_unlock(&log_mu);
	if (old != STDERR_FILENO)
		close(old);
	log_path[0] = '\0';
	atomic_store(&log_journal, -1);
	if (atomic_exchange(&log_to_syslog, false))
		closelog();
}

/* True if a message at level would be written. */
bool
log_enabled(enum log_level level)
{
	return (int)level >= atomic_load(&log_level_cur);
}

/* Debug detail; off unless loglevel = "debug". */
void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_DEBUG, 0, fmt, ap);
	va_end(ap);
}

/* Normal operation: start-up, requests. */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_INFO, 0, fmt, ap);
	va_end(ap);
}

/* A warning with ": strerror(errno)" appended (errno as on entry). */
void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_WARN, e != 0 ? e : EIO, fmt, ap);
	va_end(ap);
	errno = e;
}

/* A warning without errno. */
void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_WARN, 0, fmt, ap);
	va_end(ap);
}

/* Log at error level and exit(1): start-up failures only. */
void
log_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/*
 * Log msg with extra key/value string fields, ended by a NULL key. A NULL
 * value is written as "" in text and null in JSON. At most LOG_MAX_FIELDS
 * pairs are read; the caller's list must be NULL-terminated regardless.
 */
void
log_event(enum log_level level, const char *msg, ...)
{
	struct line l;
	va_list ap;
	const char *k, *v;
	int format = atomic_load(&log_format_cur);
	unsigned nf = 0;

	if (!level_ok(level) || !log_enabled(level))
		return;
	l.len = 0;
	l.full = false;
	put_prefix(&l, level, format);
	if (format == LOG_FORMAT_JSON)
		put_json_string(&l, msg ? msg : "");
	else
		put_text(&l, msg ? msg : "", false);

	va_start(ap, msg);
	while (nf++ < LOG_MAX_FIELDS && (k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (format == LOG_FORMAT_JSON) {
			/* The key is written whole or not at all, so the object stays valid. */
			size_t before = l.len;

			if (!line_puts(&l, ",\""))
				break;
			put_json_chars(&l, k);
			if (!line_puts(&l, "\":")) {
				l.len = before;
				break;
			}
			if (v == NULL) {
				if (!line_puts(&l, "null"))
					line_close(&l, "null");
			}
			else
				put_json_string(&l, v);
		} else {
			if (!line_puts(&l, " "))
				break;
			put_text(&l, k, false);
			if (!line_puts(&l, "="))
				break;
			put_text(&l, v ? v : "", v == NULL || text_needs_quote(v));
		}
	}
	va_end(ap);
	emit(&l, format, level);
}
