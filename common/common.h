/* common/common.h -- helpers shared by dnsd, api, storage and the daemon: log, config, CIDR, random */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01D_COMMON_H
#define DNS01D_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define DNS01D_VERSION "0.1.0"	/* dns01d -V, the start-up line and dns01d_build_info */

/* ------------------------------------------------------------------ */
/* log.c -- leveled logging to stderr, a file or syslog, as text or JSON lines */

enum log_level {
	LOG_LEVEL_DEBUG = 0,
	LOG_LEVEL_INFO = 1,
	LOG_LEVEL_WARN = 2,
	LOG_LEVEL_ERROR = 3,
};

#define LOG_MAX_LINE 4096	/* bytes in one log line; longer lines are cut, still well-formed */
#define LOG_MAX_FIELDS 32	/* key/value pairs read by log_event */
#define LOG_MAX_PATH 4096	/* bytes in the log file path kept for log_reopen */

enum log_format {
	LOG_FORMAT_TEXT = 0,	/* "2026-11-22T10:00:00Z info message" */
	LOG_FORMAT_JSON = 1,	/* {"time":"...","level":"info","msg":"..."} */
};

/*
 * Set up logging. path NULL logs to stderr; otherwise the file is opened for
 * append (mode 0640). Returns 0, or -1 if the file cannot be opened (then
 * logging stays on stderr). Thread-safe after this call; each line is written
 * with one write(2) so lines from threads never interleave.
 */
int log_init(enum log_level level, enum log_format format, const char *path);
/*
 * When stderr is the journal (JOURNAL_STREAM matches it, systemd.exec(5)),
 * log_init makes every stderr line start with "<N>", its syslog priority, so
 * that journalctl -p works.
 */
/* Log to syslog(3) from now on (facility daemon, ident[pid]); no time or level in text lines. */
void log_use_syslog(const char *ident);
/*
 * Reopen the log file at the path log_init was given (logrotate's postrotate).
 * Returns 0, also when not logging to a file; -1 with errno if it cannot be
 * opened, and the old file stays in use.
 */
int log_reopen(void);
/* Close the log file or syslog, if any; logging goes back to stderr. */
void log_close(void);
/* True if messages at this level are written (to skip building costly args). */
bool log_enabled(enum log_level level);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log at error level and exit(1). Only the daemon's start-up code may call it. */
void log_fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Log one structured event with extra string fields (NULL-terminated list of
 * key, value pairs), e.g. the API access log:
 *   log_event(LOG_LEVEL_INFO, "request", "ip", "192.0.2.1", "path", "/update",
 *       (const char *)NULL);
 * (the cast keeps the sentinel a pointer, C11 §7.16.1.1; cppcheck wants it).
 * Text format: "request ip=192.0.2.1 path=/update"; JSON: one object per line.
 */
void log_event(enum log_level level, const char *msg, ...) __attribute__((sentinel));

/* ------------------------------------------------------------------ */
/* config.c -- the acme-dns config.cfg (a TOML subset) plus dns01d's own keys */

#define CONFIG_MAX_FILE (1024 * 1024)	/* a config file larger than this is refused */
#define CONFIG_MAX_ARRAY 4096		/* entries in one array (records, allowfrom ...) */
#define CONFIG_MAX_LINE 8192		/* bytes in one line */
#define CONFIG_MAX_THREADS 256		/* dns_threads, api_threads */
#define CONFIG_MAX_TIMEOUT 3600		/* tcp_idle_timeout, connection_timeout (seconds) */
#define CONFIG_MAX_TCP_CLIENTS 65536	/* tcp_max_clients */
#define CONFIG_MAX_RRL_RATE 1000000	/* rrl_rate (the same as DNSD_RRL_MAX_RATE) */
#define CONFIG_MAX_RRL_SLIP 10		/* rrl_slip (BIND's ceiling) */
#define CONFIG_DEFAULT_PERSIST_TTL 3600	/* persist_ttl: dns-persist-01 examples use 600..3600 s */
#define CONFIG_MIN_COOKIE_ROTATION 3600	/* cookie_rotation floor: a cookie's lifetime (RFC 9018) */
#define CONFIG_MAX_COOKIE_ROTATION (30 * 86400)	/* cookie_rotation ceiling */
#define CONFIG_MAX_LISTEN 8		/* [general] listen: addresses in the array */
#define CONFIG_MAX_TXT_EXPIRY 315360000	/* txt_expiry ceiling: ten years, in seconds */
#define CONFIG_MAX_TXT_VALUES 16	/* txt_values (the same as STORAGE_MAX_TXT) */
#define CONFIG_MIN_BODY 256		/* max_body floor: an /update body fits */
#define CONFIG_MAX_BODY (1024 * 1024)	/* max_body ceiling */
#define CONFIG_MAX_HEADER_NAME 64	/* bytes in header_name */
#define CONFIG_MAX_RATE 1000000		/* the most events per period a rate may allow */
#define CONFIG_MAX_CONNS_PER_IP 65536	/* max_conns_per_ip ceiling */
#define CONFIG_MIN_TOKEN 16		/* register_token: fewest characters */
#define CONFIG_MAX_TOKEN 256		/* register_token: most characters */
#define CONFIG_MAX_PWBUF 16384		/* getpwnam_r/getgrnam_r buffer for user, group */
#define CONFIG_MAX_HSTS_AGE 63072000	/* hsts_max_age ceiling: two years in seconds */
#define CONFIG_MAX_RENEW_BEFORE 315360000	/* acme_renew_before ceiling: ten years (s) */

/* Let's Encrypt's ACME directories, for tls = "letsencrypt" and "letsencryptstaging". */
#define CONFIG_LE_DIRECTORY "https://acme-v02.api.letsencrypt.org/directory"
#define CONFIG_LE_STAGING_DIRECTORY "https://acme-staging-v02.api.letsencrypt.org/directory"

/* [api] tls: how the API gets its certificate. */
enum config_tls {
	CONFIG_TLS_NONE = 0,		/* plain HTTP (behind a proxy) */
	CONFIG_TLS_CERT,		/* tls_cert_fullchain + tls_cert_privkey, reloaded on change */
	CONFIG_TLS_LETSENCRYPT,		/* ACME at Let's Encrypt (acme_directory set for it) */
	CONFIG_TLS_LETSENCRYPT_STAGING,	/* ACME at Let's Encrypt's staging CA */
	CONFIG_TLS_ACME,		/* ACME at acme_directory */
};

/* general.protocol: which transports and families dnsd serves. */
#define CONFIG_PROTO_UDP 0x1
#define CONFIG_PROTO_TCP 0x2
#define CONFIG_PROTO_V4 0x4
#define CONFIG_PROTO_V6 0x8

struct config_strv {
	char **v;		/* n strings, each owned */
	unsigned *line;		/* the config line each entry came from */
	size_t n;
};

/*
 * A rate such as "10/minute": count events per period seconds, in bursts
 * of up to count. count 0 means no limit.
 */
struct config_rate {
	unsigned count;
	unsigned period;		/* 1, 60 or 3600 seconds */
};

/* A DNS listen address, parsed once from "IPv4:port", "[IPv6]:port" or ":port". */
struct config_listen {
	int family;		/* AF_INET, AF_INET6, or AF_UNSPEC for ":port" (every address) */
	uint8_t addr[16];	/* 4 or 16 bytes, network order; 0.0.0.0 and [::] are wildcards */
	unsigned port;		/* 0 = pick a free port (tests read it back) */
};

struct config {
	char *path;			/* the file it was read from */

	/* [general] (acme-dns keys) */
	char *listen;			/* "127.0.0.1:53", "[::]:53", ":53", as written (for
					 * logs); an array's entries joined by ", " */
	struct config_listen listen_addr;	/* listen, parsed (the first of an array) */
	struct config_listen listen_addrs[CONFIG_MAX_LISTEN];	/* every address: what dnsd binds */
	size_t nlisten;			/* 1.. CONFIG_MAX_LISTEN; all share one port */
	unsigned protocol;		/* CONFIG_PROTO_* bits; "both" = UDP|TCP|V4|V6 */
	char *domain;			/* "auth.example.org", lower-cased, no trailing dot */
	char *nsname;			/* SOA MNAME, no trailing dot */
	char *nsadmin;			/* SOA RNAME, '@' already written as '.' */
	struct config_strv records;	/* zone-file lines, as written */
	bool debug;
	/* [general] (dns01d keys) */
	unsigned dns_threads;		/* UDP workers; 0 = number of cores (default) */
	uint32_t txt_ttl;		/* TTL of challenge TXT answers (default 1, as acme-dns) */
	uint32_t negative_ttl;		/* SOA minimum / negative TTL (default 60, RFC 2308) */
	uint32_t persist_ttl;		/* TTL of _validation-persist TXT answers (default
					 * CONFIG_DEFAULT_PERSIST_TTL) */
	unsigned tcp_idle_timeout;	/* seconds (default 10, RFC 7766 §6.2.3) */
	unsigned tcp_max_clients;	/* concurrent TCP connections (default 1024) */
	char *user;			/* run as this user after binding (NULL: stay) */
	char *group;			/* and this group (NULL: the user's primary group) */
	uid_t run_uid;			/* user's uid, resolved when the config is read */
	gid_t run_gid;			/* group's gid, or user's primary gid */
	bool has_group;			/* group was given (run_gid is the group's) */
	unsigned rrl_rate;		/* UDP responses/s per /24 or /56 and kind (default 20; 0 = off) */
	unsigned rrl_slip;		/* every Nth limited answer sent TC=1 (default 2; 0 = drop all) */
	bool cookies;			/* DNS cookies, RFC 7873/9018 (default true) */
	unsigned cookie_rotation;	/* seconds between server secret rotations (default 86400) */
	bool seccomp;			/* load the seccomp allow-list once started (default true) */
	unsigned txt_expiry;		/* seconds a TXT value is served; 0 = for ever (default) */

	/* [database] */
	char *db_engine;		/* "sqlite3" or "sqlite", or "postgres" (also for
					 * "postgresql"); anything else is an error */
	char *db_connection;		/* the database file path, or a libpq URI or
					 * key=value string (may hold a password: never log) */

	/* [api] (acme-dns keys) */
	char *api_ip;			/* "127.0.0.1", "::", "0.0.0.0" */
	unsigned api_port;		/* 0..65535; 0 = pick a free port (tests) */
	bool disable_registration;
	enum config_tls tls;		/* none, cert, letsencrypt, letsencryptstaging, acme */
	char *tls_cert_privkey;
	char *tls_cert_fullchain;
	char *acme_cache_dir;		/* ACME account, certificate and key (default "api-certs") */
	char *notification_email;	/* ACME account contact, or "" for none */
	bool hsts_enabled;		/* Strict-Transport-Security on HTTPS replies */
	unsigned hsts_max_age;		/* seconds (default 31536000) */
	bool hsts_include_subdomains;
	bool hsts_preload;
	struct config_strv corsorigins;
	bool use_header;
	char *header_name;		/* default "X-Forwarded-For" */
	/* [api] (dns01d keys) */
	struct config_strv trusted_proxies;	/* CIDRs allowed to set header_name, as written */
	struct cidr *trusted;		/* trusted_proxies, parsed (ntrusted entries) */
	size_t ntrusted;
	struct sockaddr_storage api_addr;	/* ip and port, parsed: what the API binds */
	unsigned txt_values;		/* values kept per account (default 2, 1..16) */
	unsigned max_body;		/* request body cap in bytes (default 4096) */
	unsigned api_threads;		/* HTTP worker threads (default 2) */
	unsigned connection_timeout;	/* seconds an idle HTTP connection is kept (default 10) */
	unsigned request_timeout;	/* seconds a request's headers and body may take to
					 * arrive, however they trickle (default 10) */
	unsigned max_conns_per_ip;	/* concurrent HTTP connections per address (default 64; 0 = off) */
	struct config_rate auth_fail_rate;	/* failed /update logins per address and per
						 * user (default 10/minute; count 0 = off) */
	struct config_rate register_rate;	/* /register per address (default 10/minute) */
	struct cidr *register_allowfrom;	/* who may /register, parsed; none = anyone */
	size_t nregister_allowfrom;
	char *register_token;		/* a secret: /register needs "Authorization: Bearer
					 * <token>" when set; never logged; wiped on free */
	char *acme_directory;		/* the CA's directory URL (tls = acme; set for letsencrypt*) */
	char *acme_ca_file;		/* PEM bundle trusted for the CA's HTTPS, or NULL */
	char *acme_eab_kid;		/* External Account Binding key ID, or NULL */
	char *acme_eab_hmac_key;	/* EAB HMAC key, base64url (a secret: never logged) */
	unsigned acme_renew_before;	/* seconds before expiry to renew; 0 = a third of the
					 * lifetime or the CA's ARI window (default) */
	char *metrics_listen;		/* Prometheus /metrics listener as written, or NULL/"" (off) */
	bool metrics_on;		/* metrics_listen is set: serve /metrics, count in dnsd */
	struct sockaddr_storage metrics_addr;	/* metrics_listen, parsed: what it binds */

	/* [logconfig] */
	enum log_level loglevel;	/* debug|info|warning|error (default info) */
	char *logtype;			/* "stdout", "file" or "syslog" */
	char *logfile;			/* used when logtype = "file" */
	enum log_format logformat;	/* text|json */
};

/*
 * Read and validate the config file into *cfg (zeroed first, defaults applied).
 * Returns 0, or -1 with a one-line "file:line: message" in err. On failure
 * *cfg holds nothing that needs freeing. The caller frees with config_free().
 */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);
/* Parse a DNS listen address ("IPv4:port", "[IPv6]:port", ":port"; no names)
   into *out. False if s has none of these shapes. */
bool config_listen_parse(const char *s, struct config_listen *out);
/* Same as config_load, from a string (for tests); name is used in messages. */
int config_parse(const char *name, const char *text, size_t len, struct config *cfg,
    char *err, size_t errlen);
/* Free everything config_load allocated. Accepts a zeroed struct. */
void config_free(struct config *cfg);
/*
 * Name the keys whose values differ between a and b, as "[table] key" joined
 * by ", " into out (cut at outlen); keys of the table skip_table (NULL: none)
 * are left out. Returns how many differ (0: out is "").
 */
size_t config_diff(const struct config *a, const struct config *b, const char *skip_table,
    char *out, size_t outlen);

/* ------------------------------------------------------------------ */
/* toml.c -- the TOML subset acme-dns config files use (config.c's lexer and parser) */

#define TOML_MAX_KEYS 4096	/* keys plus table headers in one file */
#define TOML_MAX_KEY 128	/* bytes in one bare key or table name */

enum toml_type {
	TOML_STRING = 0,	/* "basic" or 'literal', one line */
	TOML_INTEGER = 1,	/* decimal, optional sign and '_' separators */
	TOML_BOOL = 2,		/* true | false */
	TOML_ARRAY = 3,		/* [ "strings", ... ] across lines, trailing comma allowed */
};

struct toml_kv {
	const char *table;	/* table name as written ("" before any header); borrowed from the doc */
	char *key;		/* bare key as written */
	unsigned line;		/* line of the key */
	enum toml_type type;
	char *str;		/* TOML_STRING: UTF-8, no NUL inside */
	long long integer;	/* TOML_INTEGER */
	bool boolean;		/* TOML_BOOL */
	struct config_strv array;	/* TOML_ARRAY: strings with their lines */
};

struct toml_table {
	char *name;		/* as written */
	unsigned line;		/* line of the [header] */
};

struct toml_doc {
	struct toml_kv *kv;	/* nkv pairs in file order */
	size_t nkv;
	struct toml_table *tables;	/* ntables headers in file order */
	size_t ntables;
};

/*
 * Parse text (len bytes, need not be NUL-terminated) into doc. Table and key
 * names compare case-insensitively, as acme-dns's decoder matched them, so a
 * second "Listen" in [general] is a duplicate. Returns 0, or -1 with one
 * line "name:line: message" in err and doc empty. Free with toml_doc_free().
 */
int toml_parse(const char *name, const char *text, size_t len, struct toml_doc *doc,
    char *err, size_t errlen);
/* Free everything toml_parse allocated. Accepts a zeroed doc. */
void toml_doc_free(struct toml_doc *doc);
/* Free the strings of v and zero it. Accepts a zeroed struct. */
void config_strv_free(struct config_strv *v);
/*
 * Length of the one valid UTF-8 sequence at s (n bytes available), or 0 if
 * s does not start one (RFC 3629 §4: overlongs and surrogates are invalid).
 */
size_t utf8_char_len(const unsigned char *s, size_t n);

/* ------------------------------------------------------------------ */
/* cidr.c -- IPv4/IPv6 network prefixes, for allowfrom and trusted proxies */

struct cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network address, host bits zeroed */
	unsigned prefix;	/* 0..32 or 0..128 */
};

/*
 * Parse "192.0.2.0/24", "2001:db8::/32", or a bare address (a host prefix).
 * Host bits set below the prefix are accepted, as Go's net.ParseCIDR does.
 * Returns 0, or -1 if s is not a valid CIDR.
 */
int cidr_parse(const char *s, struct cidr *out);
/* True if addr (AF_INET or AF_INET6) lies in c. IPv4-mapped IPv6 matches IPv4 nets. */
bool cidr_match(const struct cidr *c, const struct sockaddr *addr);
/* True if addr matches any of the n prefixes. n == 0 is false. */
bool cidr_match_any(const struct cidr *c, size_t n, const struct sockaddr *addr);
/*
 * Parse a textual IP address (v4 or v6, no port, optional brackets) into ss.
 * Returns 0 or -1.
 */
int cidr_addr_parse(const char *s, struct sockaddr_storage *ss);
/* Write the address of sa as text ("192.0.2.1", "2001:db8::1"); returns buf. */
const char *cidr_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* rand.c -- identifiers and secrets from getrandom(2) */

#define RAND_UUID_LEN 36	/* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */
#define RAND_PASSWORD_LEN 40	/* acme-dns API key: 40 chars of [A-Za-z0-9_-] */

/* Fill buf with n random bytes; returns 0 or -1 (errno set). */
int rand_bytes(void *buf, size_t n);
/* Write a random UUID v4 (RFC 9562 §5.4), lower case, NUL-terminated, into out[37]. */
int rand_uuid(char out[RAND_UUID_LEN + 1]);
/* Write a 40-char password of [A-Za-z0-9_-] (240 bits), NUL-terminated, into out[41]. */
int rand_password(char out[RAND_PASSWORD_LEN + 1]);
/* True if s is a lower- or upper-case UUID in the 8-4-4-4-12 hex form. */
bool is_uuid(const char *s);
/* True if s is exactly 43 characters of [A-Za-z0-9_-] (base64url SHA-256). */
bool is_acme_txt(const char *s);
/* True if s is an http:// or https:// URL with a host, at most COMMON_MAX_URL bytes of
   printable, non-space ASCII (the CA's URLs, acme_directory). */
#define COMMON_MAX_URL 2048
bool is_http_url(const char *s);
/* Constant-time comparison of two n-byte buffers; true if equal. */
bool ct_equal(const void *a, const void *b, size_t n);

#endif
