/* tests/unit/test_config.c -- the config parser: acme-dns's config.cfg, dns01d keys, every error */
/* SPDX-License-Identifier: ISC */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "../../common/common.h"
#include "testhelp.h"

/* acme-dns's config.cfg as its repository ships it, comments and all. */
static const char acme_dns_cfg[] =
    "[general]\n"
    "# DNS interface. Note that systemd-resolved may reserve port 53 on 127.0.0.53\n"
    "# In this case acme-dns will error out and you will need to define the listening interface\n"
    "# for example: listen = \"127.0.0.1:53\"\n"
    "listen = \"127.0.0.1:53\"\n"
    "# protocol, \"both\", \"both4\", \"both6\", \"udp\", \"udp4\", \"udp6\" or \"tcp\", \"tcp4\", \"tcp6\"\n"
    "protocol = \"both\"\n"
    "# domain name to serve the requests off of\n"
    "domain = \"auth.example.org\"\n"
    "# zone name server\n"
    "nsname = \"auth.example.org\"\n"
    "# admin email address, where @ is substituted with .\n"
    "nsadmin = \"admin.example.org\"\n"
    "# predefined records served in addition to the TXT\n"
    "records = [\n"
    "    # domain pointing to the public IP of your acme-dns server \n"
    "    \"auth.example.org. A 198.51.100.1\",\n"
    "    # specify that auth.example.org will resolve any *.auth.example.org records\n"
    "    \"auth.example.org. NS auth.example.org.\",\n"
    "]\n"
    "# debug messages from CORS etc\n"
    "debug = false\n"
    "\n"
    "[database]\n"
    "# Database engine to use, sqlite3 or postgres\n"
    "engine = \"sqlite3\"\n"
    "# Connection string, filename for sqlite3 and postgres://$username:$password@$host/$db_name for postgres\n"
    "# Please note that the default Docker image uses path /var/lib/acme-dns/acme-dns.db for sqlite3\n"
    "connection = \"/var/lib/acme-dns/acme-dns.db\"\n"
    "# connection = \"postgres://user:password@localhost/acmedns_db\"\n"
    "\n"
    "[api]\n"
    "# listen ip eg. 127.0.0.1\n"
    "ip = \"0.0.0.0\"\n"
    "# disable registration endpoint\n"
    "disable_registration = false\n"
    "# listen port, eg. 443 for default HTTPS\n"
    "port = \"443\"\n"
    "# possible values: \"letsencrypt\", \"letsencryptstaging\", \"cert\", \"none\"\n"
    "tls = \"letsencryptstaging\"\n"
    "# only used if tls = \"cert\"\n"
    "tls_cert_privkey = \"/etc/tls/example.org/privkey.pem\"\n"
    "tls_cert_fullchain = \"/etc/tls/example.org/fullchain.pem\"\n"
    "# only used if tls = \"letsencrypt\"\n"
    "acme_cache_dir = \"api-certs\"\n"
    "# optional e-mail address to which Let's Encrypt will send expiration notices for the API's cert\n"
    "notification_email = \"\"\n"
    "# CORS AllowOrigins, wildcards can be used\n"
    "corsorigins = [\n"
    "    \"*\"\n"
    "]\n"
    "# use HTTP header to get the client ip\n"
    "use_header = false\n"
    "# header name to pull the ip address / list of ip addresses from\n"
    "header_name = \"X-Forwarded-For\"\n"
    "\n"
    "[logconfig]\n"
    "# logging level: \"error\", \"warning\", \"info\" or \"debug\"\n"
    "loglevel = \"debug\"\n"
    "# possible values: stdout, TODO file & integrations\n"
    "logtype = \"stdout\"\n"
    "# file path for logfile TODO\n"
    "# logfile = \"./acme-dns.log\"\n"
    "# format, either \"json\" or \"text\"\n"
    "logformat = \"text\"\n";

/* The smallest valid config: 9 lines, so a line appended to [api] is line 10. */
#define MINIMAL \
	"[general]\n" \
	"listen = \"127.0.0.1:53\"\n" \
	"domain = \"auth.example.org\"\n" \
	"nsname = \"auth.example.org\"\n" \
	"nsadmin = \"admin.example.org\"\n" \
	"[database]\n" \
	"connection = \"/tmp/dns01d-test.db\"\n" \
	"[api]\n" \
	"port = \"443\"\n"

/* MINIMAL cut in two, so a test can add [general] keys (GENERAL "k = v\n" REST). */
#define GENERAL \
	"[general]\n" \
	"listen = \"127.0.0.1:53\"\n" \
	"domain = \"auth.example.org\"\n" \
	"nsname = \"auth.example.org\"\n" \
	"nsadmin = \"admin.example.org\"\n"
#define REST \
	"[database]\n" \
	"connection = \"/tmp/dns01d-test.db\"\n" \
	"[api]\n" \
	"port = \"443\"\n"

static char errbuf[512];

static int
parse(const char *text, struct config *cfg)
{
	return config_parse("t.cfg", text, strlen(text), cfg, errbuf, sizeof(errbuf));
}

/* The 1-based line of the first occurrence of needle in text. */
static unsigned
line_of(const char *text, const char *needle)
{
	const char *p = strstr(text, needle), *q;
	unsigned line = 1;

	if (p == NULL)
		return 0;
	for (q = text; q < p; q++)
		line += *q == '\n';
	return line;
}

/* A copy of text with the first from replaced by to. */
static char *
replace(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	size_t a, b, c;
	char *out;

	if (p == NULL)
		return NULL;
	a = (size_t)(p - text);
	b = strlen(to);
	c = strlen(p + strlen(from));
	if ((out = malloc(a + b + c + 1)) == NULL)
		return NULL;
	memcpy(out, text, a);
	memcpy(out + a, to, b);
	memcpy(out + a + b, p + strlen(from), c + 1);
	return out;
}

/* Log to a temp file; returns its path in buf. */
static int
capture_log(char *buf, size_t len)
{
	int fd;

	snprintf(buf, len, "/tmp/dns01d-test-config-XXXXXX");
	if ((fd = mkstemp(buf)) == -1)
		return -1;
	close(fd);
	return log_init(LOG_LEVEL_INFO, LOG_FORMAT_TEXT, buf);
}

static char *
slurp(const char *path)
{
	static char data[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(data, 1, sizeof(data) - 1, f);
	data[n] = '\0';
	fclose(f);
	return data;
}

/* Issue 7: acme-dns's shipped config, letsencryptstaging and all, is accepted unchanged. */
static int
test_acme_dns_shipped_letsencryptstaging(void)
{
	struct config cfg;

	CHECK(line_of(acme_dns_cfg, "tls = \"letsencryptstaging\"") == 40);
	CHECK(parse(acme_dns_cfg, &cfg) == 0);
	CHECK(cfg.tls == CONFIG_TLS_LETSENCRYPT_STAGING);
	CHECK_STR(cfg.acme_directory, CONFIG_LE_STAGING_DIRECTORY);
	CHECK_STR(cfg.acme_cache_dir, "api-certs");
	CHECK_STR(cfg.notification_email, "");
	CHECK(cfg.acme_ca_file == NULL && cfg.acme_eab_kid == NULL && cfg.acme_renew_before == 0);
	config_free(&cfg);
	return 0;
}

/* tls = "acme" needs acme_directory, a URL; EAB keys go in pairs; HSTS keys are read. */
static int
test_tls_acme_keys(void)
{
	struct config cfg;

	CHECK(parse(MINIMAL "tls = \"letsencrypt\"\n", &cfg) == 0);
	CHECK(cfg.tls == CONFIG_TLS_LETSENCRYPT);
	CHECK_STR(cfg.acme_directory, CONFIG_LE_DIRECTORY);
	config_free(&cfg);
	CHECK(parse(MINIMAL "tls = \"ACME\"\nacme_directory = \"https://127.0.0.1:14000/dir\"\n"
	    "acme_ca_file = \"/ca.pem\"\nacme_eab_kid = \"k\"\nacme_eab_hmac_key = \"aGk\"\n"
	    "acme_renew_before = 20\nhsts_enabled = true\nhsts_max_age = 600\n"
	    "hsts_include_subdomains = true\nhsts_preload = true\n", &cfg) == 0);
	CHECK(cfg.tls == CONFIG_TLS_ACME);
	CHECK_STR(cfg.acme_directory, "https://127.0.0.1:14000/dir");
	CHECK_STR(cfg.acme_ca_file, "/ca.pem");
	CHECK_STR(cfg.acme_eab_hmac_key, "aGk");
	CHECK(cfg.acme_renew_before == 20);
	CHECK(cfg.hsts_enabled && cfg.hsts_max_age == 600 && cfg.hsts_include_subdomains &&
	    cfg.hsts_preload);
	config_free(&cfg);
	CHECK(parse(MINIMAL "tls = \"acme\"\n", &cfg) == -1);
	CHECK(strstr(errbuf, "acme_directory") != NULL);
	CHECK(parse(MINIMAL "tls = \"acme\"\nacme_directory = \"ftp://x/\"\n", &cfg) == -1);
	CHECK(strstr(errbuf, "not an http(s) URL") != NULL);
	CHECK(parse(MINIMAL "acme_eab_kid = \"k\"\n", &cfg) == -1);
	CHECK(strstr(errbuf, "go together") != NULL);
	return 0;
}

static int
test_acme_dns_shipped_with_tls_none(void)
{
	struct config cfg;
	char *text = replace(acme_dns_cfg, "tls = \"letsencryptstaging\"", "tls = \"none\"");
	int r;

	CHECK(text != NULL);
	r = parse(text, &cfg);
	free(text);
	if (r != 0)
		fprintf(stderr, "    %s\n", errbuf);
	CHECK(r == 0);
	CHECK_STR(cfg.path, "t.cfg");
	CHECK_STR(cfg.listen, "127.0.0.1:53");
	CHECK(cfg.protocol == (CONFIG_PROTO_UDP | CONFIG_PROTO_TCP | CONFIG_PROTO_V4 | CONFIG_PROTO_V6));
	CHECK_STR(cfg.domain, "auth.example.org");
	CHECK_STR(cfg.nsname, "auth.example.org");
	CHECK_STR(cfg.nsadmin, "admin.example.org");
	CHECK(cfg.records.n == 2);
	CHECK_STR(cfg.records.v[0], "auth.example.org. A 198.51.100.1");
	CHECK_STR(cfg.records.v[1], "auth.example.org. NS auth.example.org.");
	CHECK(cfg.records.line[0] == 17 && cfg.records.line[1] == 19);
	CHECK(cfg.debug == false);
	CHECK_STR(cfg.db_engine, "sqlite3");
	CHECK_STR(cfg.db_connection, "/var/lib/acme-dns/acme-dns.db");
	CHECK_STR(cfg.api_ip, "0.0.0.0");
	CHECK(cfg.api_port == 443);
	CHECK(cfg.disable_registration == false);
	CHECK(cfg.tls == CONFIG_TLS_NONE);
	CHECK_STR(cfg.tls_cert_privkey, "/etc/tls/example.org/privkey.pem");
	CHECK_STR(cfg.tls_cert_fullchain, "/etc/tls/example.org/fullchain.pem");
	CHECK_STR(cfg.acme_cache_dir, "api-certs");
	CHECK_STR(cfg.notification_email, "");
	CHECK(cfg.corsorigins.n == 1);
	CHECK_STR(cfg.corsorigins.v[0], "*");
	CHECK(cfg.use_header == false);
	CHECK_STR(cfg.header_name, "X-Forwarded-For");
	CHECK(cfg.loglevel == LOG_LEVEL_DEBUG);
	CHECK_STR(cfg.logtype, "stdout");
	CHECK(cfg.logfile == NULL);
	CHECK(cfg.logformat == LOG_FORMAT_TEXT);
	config_free(&cfg);
	CHECK(cfg.domain == NULL);
	config_free(&cfg);	/* twice is harmless on a zeroed struct */
	return 0;
}

static int
test_acme_dns_shipped_tls_cert(void)
{
	struct config cfg;
	char *text = replace(acme_dns_cfg, "tls = \"letsencryptstaging\"", "tls = \"cert\"");
	int r;

	CHECK(text != NULL);
	r = parse(text, &cfg);
	free(text);
	CHECK(r == 0);
	CHECK(cfg.tls == CONFIG_TLS_CERT);
	config_free(&cfg);
	return 0;
}

/* [general] rrl_rate, rrl_slip, cookies, cookie_rotation: set, and the boundaries. */
static int
test_dns_limit_keys(void)
{
	struct config cfg;
	const char *text = "[general]\n"
	    "listen = \"127.0.0.1:53\"\n"
	    "domain = \"auth.example.org\"\n"
	    "nsname = \"auth.example.org\"\n"
	    "nsadmin = \"admin.example.org\"\n"
	    "rrl_rate = 1_000_000\n"
	    "rrl_slip = 0\n"
	    "cookies = false\n"
	    "cookie_rotation = 2592000\n"
	    "[database]\n"
	    "connection = \"/tmp/dns01d-test.db\"\n"
	    "[api]\n"
	    "port = \"443\"\n";

	CHECK(parse(text, &cfg) == 0);
	CHECK(cfg.rrl_rate == 1000000 && cfg.rrl_slip == 0);
	CHECK(!cfg.cookies && cfg.cookie_rotation == 2592000);
	config_free(&cfg);
	return 0;
}

static int
test_defaults(void)
{
	struct config cfg;

	CHECK(parse(MINIMAL, &cfg) == 0);
	CHECK(cfg.protocol == (CONFIG_PROTO_UDP | CONFIG_PROTO_TCP | CONFIG_PROTO_V4 | CONFIG_PROTO_V6));
	CHECK(cfg.records.n == 0 && cfg.records.v == NULL);
	CHECK(cfg.dns_threads == 0);
	CHECK(cfg.txt_ttl == 1);
	CHECK(cfg.negative_ttl == 60);
	CHECK(cfg.tcp_idle_timeout == 10);
	CHECK(cfg.tcp_max_clients == 1024);
	CHECK(cfg.rrl_rate == 20 && cfg.rrl_slip == 2);
	CHECK(cfg.cookies && cfg.cookie_rotation == 86400);
	CHECK_STR(cfg.db_engine, "sqlite3");
	CHECK_STR(cfg.api_ip, "127.0.0.1");
	CHECK(cfg.api_port == 443);
	CHECK(cfg.tls == CONFIG_TLS_NONE);
	CHECK_STR(cfg.header_name, "X-Forwarded-For");
	CHECK(cfg.trusted_proxies.n == 0);
	CHECK(cfg.txt_values == 2);
	CHECK(cfg.max_body == 4096);
	CHECK(cfg.api_threads == 2);
	CHECK(cfg.connection_timeout == 10);
	CHECK(cfg.request_timeout == 10);
	CHECK(cfg.max_conns_per_ip == 64);
	CHECK(cfg.auth_fail_rate.count == 10 && cfg.auth_fail_rate.period == 60);
	CHECK(cfg.register_rate.count == 100 && cfg.register_rate.period == 3600);
	CHECK(cfg.register_allowfrom == NULL && cfg.nregister_allowfrom == 0);
	CHECK(cfg.register_token == NULL);
	CHECK(cfg.loglevel == LOG_LEVEL_INFO);
	CHECK_STR(cfg.logtype, "stdout");
	CHECK(cfg.logformat == LOG_FORMAT_TEXT);
	config_free(&cfg);
	return 0;
}

static int
test_dns01d_keys(void)
{
	static const char text[] =
	    "[general]\n"
	    "listen = \"[::1]:5353\"\n"
	    "protocol = \"udp6\"\n"
	    "domain = \"Auth.Example.ORG.\"\n"
	    "nsname = \"ns1.auth.example.org.\"\n"
	    "nsadmin = \"hostmaster@example.org\"\n"
	    "dns_threads = 3\n"
	    "txt_ttl = 300\n"
	    "negative_ttl = 2_147_483_647\n"
	    "tcp_idle_timeout = 30\n"
	    "tcp_max_clients = 65536\n"
	    "[database]\n"
	    "engine = \"sqlite\"\n"
	    "connection = 'C:\\data\\x.db'\n"
	    "[api]\n"
	    "ip = \"[::1]\"\n"
	    "port = 0\n"
	    "disable_registration = true\n"
	    "use_header = true\n"
	    "header_name = \"X-Real-IP\"\n"
	    "trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\",\n"
	    "  \"2001:db8::/32\", # v6 proxies\n"
	    "]\n"
	    "txt_values = 16\n"
	    "max_body = 1048576\n"
	    "api_threads = 8\n"
	    "connection_timeout = 5\n"
	    "[logconfig]\n"
	    "loglevel = \"warning\"\n"
	    "logtype = \"file\"\n"
	    "logfile = \"/var/log/dns01d.log\"\n"
	    "logformat = \"json\"\n";
	struct config cfg;

	if (parse(text, &cfg) != 0) {
		fprintf(stderr, "    %s\n", errbuf);
		return 1;
	}
	CHECK_STR(cfg.listen, "[::1]:5353");
	CHECK(cfg.protocol == (CONFIG_PROTO_UDP | CONFIG_PROTO_V6));
	CHECK_STR(cfg.domain, "auth.example.org");
	CHECK_STR(cfg.nsname, "ns1.auth.example.org");
	CHECK_STR(cfg.nsadmin, "hostmaster.example.org");
	CHECK(cfg.dns_threads == 3);
	CHECK(cfg.txt_ttl == 300);
	CHECK(cfg.negative_ttl == 2147483647u);
	CHECK(cfg.tcp_idle_timeout == 30);
	CHECK(cfg.tcp_max_clients == 65536);
	CHECK_STR(cfg.db_engine, "sqlite");
	CHECK_STR(cfg.db_connection, "C:\\data\\x.db");
	CHECK_STR(cfg.api_ip, "::1");
	CHECK(cfg.api_port == 0);
	CHECK(cfg.disable_registration && cfg.use_header);
	CHECK_STR(cfg.header_name, "X-Real-IP");
	CHECK(cfg.trusted_proxies.n == 3);
	CHECK_STR(cfg.trusted_proxies.v[2], "2001:db8::/32");
	CHECK(cfg.trusted_proxies.line[0] == 21 && cfg.trusted_proxies.line[2] == 22);
	/* parsed once here into what the modules take: a sockaddr, CIDRs, the listen address */
	CHECK(cfg.api_addr.ss_family == AF_INET6);
	CHECK(IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&cfg.api_addr)->sin6_addr));
	CHECK(cfg.ntrusted == 3 && cfg.trusted[1].family == AF_INET && cfg.trusted[1].prefix == 8 &&
	    cfg.trusted[2].family == AF_INET6 && cfg.trusted[2].prefix == 32);
	CHECK(cfg.listen_addr.family == AF_INET6 && cfg.listen_addr.port == 5353 &&
	    cfg.listen_addr.addr[15] == 1);
	CHECK(cfg.txt_values == 16);
	CHECK(cfg.max_body == 1048576);
	CHECK(cfg.api_threads == 8);
	CHECK(cfg.connection_timeout == 5);
	CHECK(cfg.loglevel == LOG_LEVEL_WARN);
	CHECK_STR(cfg.logtype, "file");
	CHECK_STR(cfg.logfile, "/var/log/dns01d.log");
	CHECK(cfg.logformat == LOG_FORMAT_JSON);
	config_free(&cfg);
	return 0;
}

static int
test_port_string_or_integer(void)
{
	static const struct { const char *line; int ok; unsigned port; } cases[] = {
		{ "port = \"443\"", 1, 443 },
		{ "port = 443", 1, 443 },
		{ "port = \"8080\"", 1, 8080 },
		{ "port = +8443", 1, 8443 },
		{ "port = \"0\"", 1, 0 },
		{ "port = 0", 1, 0 },
		{ "port = 65535", 1, 65535 },
		{ "port = \"65535\"", 1, 65535 },
		{ "port = 65536", 0, 0 },
		{ "port = \"65536\"", 0, 0 },
		{ "port = -1", 0, 0 },
		{ "port = \"-1\"", 0, 0 },
		{ "port = \"\"", 0, 0 },
		{ "port = \"44 3\"", 0, 0 },
		{ "port = \"123456\"", 0, 0 },
		{ "port = true", 0, 0 },
		{ "port = [\"443\"]", 0, 0 },
	};
	char text[1024];
	struct config cfg;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = replace(MINIMAL, "port = \"443\"", cases[i].line);

		CHECK(t != NULL);
		snprintf(text, sizeof(text), "%s", t);
		free(t);
		if (cases[i].ok) {
			CHECK(parse(text, &cfg) == 0);
			CHECK(cfg.api_port == cases[i].port);
			config_free(&cfg);
		} else {
			CHECK(parse(text, &cfg) == -1);
			CHECK(strncmp(errbuf, "t.cfg:9: [api] port: ", 21) == 0);
		}
	}
	return 0;
}

/* [api] metrics_listen: off by default and when "", else a literal address and port. */
static int
test_metrics_listen(void)
{
	static const struct { const char *line; int ok; int family; unsigned port; } cases[] = {
		{ "metrics_listen = \"127.0.0.1:9153\"", 1, AF_INET, 9153 },
		{ "metrics_listen = \"[::1]:9153\"", 1, AF_INET6, 9153 },
		{ "metrics_listen = \"0.0.0.0:0\"", 1, AF_INET, 0 },
		{ "metrics_listen = \"\"", 1, AF_UNSPEC, 0 },
		{ "metrics_listen = \":9153\"", 0, 0, 0 },
		{ "metrics_listen = \"localhost:9153\"", 0, 0, 0 },
		{ "metrics_listen = \"127.0.0.1\"", 0, 0, 0 },
		{ "metrics_listen = \"::1:9153\"", 0, 0, 0 },
		{ "metrics_listen = \"127.0.0.1:65536\"", 0, 0, 0 },
		{ "metrics_listen = 9153", 0, 0, 0 },
	};
	char text[1024];
	struct config cfg;
	size_t i;

	CHECK(parse(MINIMAL, &cfg) == 0);
	CHECK(!cfg.metrics_on && cfg.metrics_listen == NULL);	/* the default: off */
	config_free(&cfg);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = replace(MINIMAL, "port = \"443\"", cases[i].line);

		CHECK(t != NULL);
		snprintf(text, sizeof(text), "%s\nport = \"443\"\n", t);
		free(t);
		if (!cases[i].ok) {
			CHECK(parse(text, &cfg) == -1);
			CHECK(strstr(errbuf, "[api] metrics_listen") != NULL);
			continue;
		}
		CHECK(parse(text, &cfg) == 0);
		CHECK(cfg.metrics_on == (cases[i].family != AF_UNSPEC));
		if (cfg.metrics_on) {
			CHECK(cfg.metrics_addr.ss_family == cases[i].family);
			CHECK(ntohs(cases[i].family == AF_INET ?
			    ((struct sockaddr_in *)&cfg.metrics_addr)->sin_port :
			    ((struct sockaddr_in6 *)&cfg.metrics_addr)->sin6_port) == cases[i].port);
		}
		config_free(&cfg);
	}
	return 0;
}

static int
test_listen_forms(void)
{
	static const char *const ok[] = { "127.0.0.1:53", "0.0.0.0:5353", "[::1]:53", "[::]:53",
		":53", "127.0.0.1:0", "[::1]:0", ":0", "[2001:db8::1]:65535" };
	char text[1024];
	struct config cfg;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "[general]\nlisten = \"%s\"\n"
		    "domain = \"a.example\"\nnsname = \"a.example\"\nnsadmin = \"h.a.example\"\n"
		    "[database]\nconnection = \"x.db\"\n[api]\nport = 1\n", ok[i]);
		if (parse(text, &cfg) != 0) {
			fprintf(stderr, "    %s: %s\n", ok[i], errbuf);
			return 1;
		}
		CHECK_STR(cfg.listen, ok[i]);
		config_free(&cfg);
	}
	return 0;
}

/* engine = "postgres" or "postgresql" (any case) is stored as "postgres"; the URI as given. */
static int
test_engine_postgres(void)
{
	static const char *const names[] = { "postgres", "postgresql", "PostgreSQL" };
	char text[1024];
	struct config cfg;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(text, sizeof(text), "[general]\nlisten = \":53\"\n"
		    "domain = \"a.example\"\nnsname = \"a.example\"\nnsadmin = \"h.a.example\"\n"
		    "[database]\nengine = \"%s\"\n"
		    "connection = \"postgres://u:p@db:5432/acmedns?sslmode=disable\"\n"
		    "[api]\nport = 1\n", names[i]);
		CHECK(parse(text, &cfg) == 0);
		CHECK_STR(cfg.db_engine, "postgres");
		CHECK_STR(cfg.db_connection, "postgres://u:p@db:5432/acmedns?sslmode=disable");
		config_free(&cfg);
	}
	return 0;
}

static int
test_protocols(void)
{
	static const struct { const char *name; unsigned bits; } cases[] = {
		{ "both", CONFIG_PROTO_UDP | CONFIG_PROTO_TCP | CONFIG_PROTO_V4 | CONFIG_PROTO_V6 },
		{ "both4", CONFIG_PROTO_UDP | CONFIG_PROTO_TCP | CONFIG_PROTO_V4 },
		{ "both6", CONFIG_PROTO_UDP | CONFIG_PROTO_TCP | CONFIG_PROTO_V6 },
		{ "udp", CONFIG_PROTO_UDP | CONFIG_PROTO_V4 | CONFIG_PROTO_V6 },
		{ "udp4", CONFIG_PROTO_UDP | CONFIG_PROTO_V4 },
		{ "udp6", CONFIG_PROTO_UDP | CONFIG_PROTO_V6 },
		{ "tcp", CONFIG_PROTO_TCP | CONFIG_PROTO_V4 | CONFIG_PROTO_V6 },
		{ "tcp4", CONFIG_PROTO_TCP | CONFIG_PROTO_V4 },
		{ "tcp6", CONFIG_PROTO_TCP | CONFIG_PROTO_V6 },
	};
	char text[1024];
	struct config cfg;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* ":53" (every address) suits every family. */
		snprintf(text, sizeof(text), "[general]\nlisten = \":53\"\nprotocol = \"%s\"\n"
		    "domain = \"a.example\"\nnsname = \"a.example\"\nnsadmin = \"h.a.example\"\n"
		    "[database]\nconnection = \"x.db\"\n[api]\nport = 1\n", cases[i].name);
		CHECK(parse(text, &cfg) == 0);
		CHECK(cfg.protocol == cases[i].bits);
		config_free(&cfg);
	}
	return 0;
}

static int
test_strings_and_arrays(void)
{
	static const char text[] =
	    "# leading comment\r\n"
	    "[general]   # table comment\r\n"
	    "  listen=\"127.0.0.1:53\"\t# no spaces around '='\r\n"
	    "domain = \"auth.example.org\"\n"
	    "nsname = \"auth.example.org\"\n"
	    "nsadmin = \"admin.example.org\"\n"
	    "records = [ # comment after [\n"
	    "\n"
	    "  \"auth.example.org. TXT \\\"v=DKIM1; k=rsa; p=MIGf\\\"\", # keep case\n"
	    "  'auth.example.org. CAA 0 issue \"letsencrypt.org\"',\n"
	    "  \"x.auth.example.org. TXT \\\"\\u00e9\\U0001F600 \\\\ #notacomment\\\"\"\n"
	    "  ,\n"
	    "]\n"
	    "[database]\n"
	    "connection = \"a#b.db\" # the '#' inside quotes is data\n"
	    "[api]\n"
	    "port = 1_443\n"
	    "corsorigins = []\n";
	struct config cfg;

	if (parse(text, &cfg) != 0) {
		fprintf(stderr, "    %s\n", errbuf);
		return 1;
	}
	CHECK(cfg.records.n == 3);
	CHECK_STR(cfg.records.v[0], "auth.example.org. TXT \"v=DKIM1; k=rsa; p=MIGf\"");
	CHECK_STR(cfg.records.v[1], "auth.example.org. CAA 0 issue \"letsencrypt.org\"");
	CHECK_STR(cfg.records.v[2], "x.auth.example.org. TXT \"\xc3\xa9\xf0\x9f\x98\x80 \\ #notacomment\"");
	CHECK(cfg.records.line[0] == 9 && cfg.records.line[1] == 10 && cfg.records.line[2] == 11);
	CHECK_STR(cfg.db_connection, "a#b.db");
	CHECK(cfg.api_port == 1443);
	CHECK(cfg.corsorigins.n == 0);
	config_free(&cfg);
	return 0;
}

static int
test_names_normalised(void)
{
	char *t1 = replace(MINIMAL, "domain = \"auth.example.org\"", "domain = \"AUTH.Example.Org.\"");
	char *t2 = replace(t1, "nsadmin = \"admin.example.org\"", "nsadmin = \"Admin@Example.org.\"");
	struct config cfg;
	int r;

	CHECK(t1 != NULL && t2 != NULL);
	r = parse(t2, &cfg);
	free(t1);
	free(t2);
	CHECK(r == 0);
	CHECK_STR(cfg.domain, "auth.example.org");
	CHECK_STR(cfg.nsadmin, "admin.example.org");
	config_free(&cfg);
	return 0;
}

struct err_case {
	const char *text;
	const char *want;
};

/* Every error path, with its exact message and line. */
static const struct err_case err_cases[] = {
	/* syntax */
	{ "[general]\nlisten \"127.0.0.1:53\"\n", "t.cfg:2: expected '=' after key" },
	{ "[general]\n= 1\n", "t.cfg:2: expected a key" },
	{ "[general]\n\"listen\" = 1\n", "t.cfg:2: quoted keys are not supported" },
	{ "[general]\na.b = 1\n", "t.cfg:2: dotted keys are not supported" },
	{ "[general]\nlisten =\n", "t.cfg:2: expected a value after '='" },
	{ "[general]\nlisten = # x\n", "t.cfg:2: expected a value after '='" },
	{ "[general]\ndomain = auth.example.org\n", "t.cfg:2: invalid value (strings must be quoted)" },
	{ "\n\n[general]\ndomain = \"abc\n", "t.cfg:4: unterminated string" },
	{ "[general]\ndomain = 'abc\n", "t.cfg:2: unterminated string" },
	{ "[general]\ndomain = \"a\\qb\"\n", "t.cfg:2: invalid escape '\\q' in string" },
	{ "[general]\ndomain = \"a\\u12\"\n", "t.cfg:2: \\u needs 4 hex digits" },
	{ "[general]\ndomain = \"a\\u0000\"\n", "t.cfg:2: \\u escape is not a valid, non-NUL Unicode scalar value" },
	{ "[general]\ndomain = \"a\\ud800\"\n", "t.cfg:2: \\u escape is not a valid, non-NUL Unicode scalar value" },
	{ "[general]\ndomain = \"a\\U00110000\"\n", "t.cfg:2: \\U escape is not a valid, non-NUL Unicode scalar value" },
	{ "[general]\ndomain = \"\"\"x\"\"\"\n", "t.cfg:2: multi-line strings are not supported" },
	{ "[general]\ndomain = \"a\" \"b\"\n", "t.cfg:2: expected end of line after value" },
	{ "[general]\ndebug = true false\n", "t.cfg:2: expected end of line after value" },
	{ "[general]\ndebug = truex\n", "t.cfg:2: invalid value (strings must be quoted)" },
	{ "[general] x\n", "t.cfg:1: expected end of line after table header" },
	{ "[general\n", "t.cfg:1: expected ']' after table name" },
	{ "[]\n", "t.cfg:1: expected a table name" },
	{ "[a.b]\n", "t.cfg:1: dotted table names are not supported" },
	{ "[[api]]\n", "t.cfg:1: arrays of tables are not supported" },
	{ "[general]\n[api]\n[General]\n", "t.cfg:3: duplicate table [General] (first at line 1)" },
	{ "[general]\nlisten = \":53\"\n\nlisten = \":54\"\n",
	  "t.cfg:4: duplicate key 'listen' in [general] (first at line 2)" },
	{ "[general]\nlisten = \":53\"\nListen = \":54\"\n",
	  "t.cfg:3: duplicate key 'Listen' in [general] (first at line 2)" },
	{ "x = 1\nx = 2\n", "t.cfg:2: duplicate key 'x' (first at line 1)" },
	{ "[general]\nx = { a = 1 }\n", "t.cfg:2: inline tables are not supported" },
	{ "[general]\nx = 1.5\n", "t.cfg:2: floats and dates are not supported" },
	{ "[general]\nx = 1e3\n", "t.cfg:2: floats and dates are not supported" },
	{ "[general]\nx = 1979-05-27\n", "t.cfg:2: floats and dates are not supported" },
	{ "[general]\nx = 0x1f\n", "t.cfg:2: hexadecimal, octal and binary integers are not supported" },
	{ "[general]\nx = 012\n", "t.cfg:2: leading zeros are not allowed in integers" },
	{ "[general]\nx = 1__2\n", "t.cfg:2: '_' must sit between digits" },
	{ "[general]\nx = _1\n", "t.cfg:2: invalid value (strings must be quoted)" },
	{ "[general]\nx = 9223372036854775808\n", "t.cfg:2: integer out of range" },
	{ "[general]\nx = -\n", "t.cfg:2: invalid value" },
	{ "[general]\nrecords = [\n  \"a\",\n  \"b\"\n", "t.cfg:2: unterminated array" },
	{ "[general]\nrecords = [\n  \"a\",\n  1,\n]\n", "t.cfg:4: arrays may hold only strings" },
	{ "[general]\nrecords = [\n  \"a\"\n  \"b\"\n]\n", "t.cfg:4: expected ',' or ']' in array" },
	{ "[general]\nrecords = [\"a\",,]\n", "t.cfg:2: arrays may hold only strings" },
	{ "[general]\nrecords = [\"a\"] x\n", "t.cfg:2: expected end of line after value" },
	/* bytes */
	{ "[general]\n\x01x = 1\n", "t.cfg:2: control character 0x01 in file" },
	{ "[general]\r\rx = 1\n", "t.cfg:1: control character 0x0d in file" },
	{ "[general]\n# caf\xc3\n", "t.cfg:2: invalid UTF-8" },
	{ "[general]\n# \xc0\xaf overlong\n", "t.cfg:2: invalid UTF-8" },
	{ "[general]\n# \xed\xa0\x80 surrogate\n", "t.cfg:2: invalid UTF-8" },
	/* types and values */
	{ MINIMAL "disable_registration = 1\n", "t.cfg:10: [api] disable_registration: expected true or false" },
	{ "[general]\ndebug = \"false\"\n", "t.cfg:2: [general] debug: expected true or false" },
	{ "[general]\ndomain = 5\n", "t.cfg:2: [general] domain: expected a string" },
	{ "[general]\nrecords = \"a\"\n", "t.cfg:2: [general] records: expected an array of strings" },
	{ "[general]\ntxt_ttl = \"1\"\n", "t.cfg:2: [general] txt_ttl: expected an integer" },
	{ "[general]\ntxt_ttl = 2147483648\n",
	  "t.cfg:2: [general] txt_ttl: 2147483648 is out of range (0..2147483647)" },
	{ "[general]\nnegative_ttl = -1\n",
	  "t.cfg:2: [general] negative_ttl: -1 is out of range (0..2147483647)" },
	{ "[general]\ntcp_idle_timeout = 0\n",
	  "t.cfg:2: [general] tcp_idle_timeout: 0 is out of range (1..3600)" },
	{ "[general]\ntcp_max_clients = 0\n",
	  "t.cfg:2: [general] tcp_max_clients: 0 is out of range (1..65536)" },
	{ "[general]\nrrl_rate = 1000001\n",
	  "t.cfg:2: [general] rrl_rate: 1000001 is out of range (0..1000000)" },
	{ "[general]\nrrl_slip = 11\n",
	  "t.cfg:2: [general] rrl_slip: 11 is out of range (0..10)" },
	{ "[general]\ncookie_rotation = 60\n",
	  "t.cfg:2: [general] cookie_rotation: 60 is out of range (3600..2592000)" },
	{ "[general]\ncookies = 1\n", "t.cfg:2: [general] cookies: expected true or false" },
	{ "[general]\ndns_threads = 257\n",
	  "t.cfg:2: [general] dns_threads: 257 is out of range (0..256)" },
	{ "[api]\ntxt_values = 0\n", "t.cfg:2: [api] txt_values: 0 is out of range (1..16)" },
	{ "[api]\ntxt_values = 17\n", "t.cfg:2: [api] txt_values: 17 is out of range (1..16)" },
	{ "[api]\nmax_body = 1048577\n", "t.cfg:2: [api] max_body: 1048577 is out of range (256..1048576)" },
	{ "[api]\napi_threads = 0\n", "t.cfg:2: [api] api_threads: 0 is out of range (1..256)" },
	{ "[api]\nconnection_timeout = 0\n",
	  "t.cfg:2: [api] connection_timeout: 0 is out of range (1..3600)" },
	{ "[general]\nprotocol = \"sctp\"\n", "t.cfg:2: [general] protocol: \"sctp\" is not one of "
	  "both, both4, both6, udp, udp4, udp6, tcp, tcp4, tcp6" },
	{ "[general]\nlisten = \"127.0.0.1\"\n", "t.cfg:2: [general] listen: \"127.0.0.1\" is not "
	  "\"IPv4:port\", \"[IPv6]:port\" or \":port\"" },
	{ "[general]\nlisten = \"::1:53\"\n", "t.cfg:2: [general] listen: \"::1:53\" is not "
	  "\"IPv4:port\", \"[IPv6]:port\" or \":port\"" },
	{ "[general]\nlisten = \"[::1]53\"\n", "t.cfg:2: [general] listen: \"[::1]53\" is not "
	  "\"IPv4:port\", \"[IPv6]:port\" or \":port\"" },
	{ "[general]\nlisten = \"[127.0.0.1]:53\"\n", "t.cfg:2: [general] listen: \"[127.0.0.1]:53\" is not "
	  "\"IPv4:port\", \"[IPv6]:port\" or \":port\"" },
	{ "[general]\nlisten = \"localhost:53\"\n", "t.cfg:2: [general] listen: \"localhost:53\" is not "
	  "\"IPv4:port\", \"[IPv6]:port\" or \":port\"" },
	{ "[general]\nlisten = \"127.0.0.1:\"\n", "t.cfg:2: [general] listen: \"127.0.0.1:\" is not "
	  "\"IPv4:port\", \"[IPv6]:port\" or \":port\"" },
	{ "[general]\nlisten = \"127.0.0.1:+53\"\n", "t.cfg:2: [general] listen: \"127.0.0.1:+53\" is not "
	  "\"IPv4:port\", \"[IPv6]:port\" or \":port\"" },
	{ "[general]\nlisten = \"127.0.0.1:65536\"\n", "t.cfg:2: [general] listen: \"127.0.0.1:65536\" is not "
	  "\"IPv4:port\", \"[IPv6]:port\" or \":port\"" },
	{ "[general]\ndomain = \"-bad.example\"\n",
	  "t.cfg:2: [general] domain: \"-bad.example\" is not a valid domain name" },
	{ "[general]\ndomain = \"a..example\"\n",
	  "t.cfg:2: [general] domain: \"a..example\" is not a valid domain name" },
	{ "[general]\ndomain = \"exa mple.org\"\n",
	  "t.cfg:2: [general] domain: \"exa mple.org\" is not a valid domain name" },
	{ "[general]\ndomain = \"\"\n", "t.cfg:2: [general] domain: \"\" is not a valid domain name" },
	{ "[general]\ndomain = \".\"\n", "t.cfg:2: [general] domain: \".\" is not a valid domain name" },
	{ "[general]\ndomain = \"a\\n.example\"\n", "t.cfg:2: [general] domain: control character in string" },
	{ "[general]\nrecords = [\"ok\",\n\"a\\nb\"]\n", "t.cfg:3: [general] records: control character in string" },
	{ "[database]\nengine = \"mysql\"\n",
	  "t.cfg:2: [database] engine: \"mysql\" is not \"sqlite3\" or \"postgres\"" },
	{ "[api]\ntls = \"https\"\n", "t.cfg:2: [api] tls: \"https\" is not \"none\", \"cert\", "
	  "\"letsencrypt\", \"letsencryptstaging\" or \"acme\"" },
	{ "[api]\nip = \"localhost\"\n", "t.cfg:2: [api] ip: \"localhost\" is not an IP address" },
	{ "[api]\nheader_name = \"X Real IP\"\n",
	  "t.cfg:2: [api] header_name: \"X Real IP\" is not an HTTP header name" },
	{ "[api]\ntrusted_proxies = [\n  \"10.0.0.0/8\",\n  \"fd00::/8\",\n  \"10.0.0.0/33\",\n]\n",
	  "t.cfg:5: [api] trusted_proxies: \"10.0.0.0/33\" is not an IP address or CIDR" },
	{ "[api]\ntrusted_proxies = [\"proxy.example\"]\n",
	  "t.cfg:2: [api] trusted_proxies: \"proxy.example\" is not an IP address or CIDR" },
	{ "[logconfig]\nloglevel = \"verbose\"\n",
	  "t.cfg:2: [logconfig] loglevel: \"verbose\" is not debug, info, warning or error" },
	{ "[logconfig]\nlogtype = \"journal\"\n",
	  "t.cfg:2: [logconfig] logtype: \"journal\" is not \"stdout\", \"file\" or \"syslog\"" },
	{ "[general]\nuser = \"no-such-user-dns01d\"\n",
	  "t.cfg:2: [general] user: no such user \"no-such-user-dns01d\"" },
	{ "[general]\n\ngroup = \"no-such-group-dns01d\"\n",
	  "t.cfg:3: [general] group: no such group \"no-such-group-dns01d\"" },
	{ "[general]\nuser = \"\"\n", "t.cfg:2: [general] user is empty" },
	{ "[logconfig]\nlogformat = \"xml\"\n",
	  "t.cfg:2: [logconfig] logformat: \"xml\" is not \"text\" or \"json\"" },
	/* missing keys and cross-key checks */
	{ "", "t.cfg: missing key [general] listen" },
	{ "[general]\nlisten = \":53\"\n", "t.cfg: missing key [general] domain" },
	{ "[general]\nlisten = \":53\"\ndomain = \"a.example\"\n", "t.cfg: missing key [general] nsname" },
	{ "[general]\nlisten = \":53\"\ndomain = \"a.example\"\nnsname = \"a.example\"\n",
	  "t.cfg: missing key [general] nsadmin" },
	{ "[general]\nlisten = \":53\"\ndomain = \"a.example\"\nnsname = \"a.example\"\n"
	  "nsadmin = \"h.a.example\"\n", "t.cfg: missing key [database] connection" },
	{ "[general]\nlisten = \":53\"\ndomain = \"a.example\"\nnsname = \"a.example\"\n"
	  "nsadmin = \"h.a.example\"\n[database]\nconnection = \"x\"\n",
	  "t.cfg: missing key [api] port" },
	{ "[general]\nlisten = \":53\"\ndomain = \"a.example\"\nnsname = \"a.example\"\n"
	  "nsadmin = \"h.a.example\"\n[database]\nconnection = \"\"\n[api]\nport = 1\n",
	  "t.cfg: [database] connection is empty" },
	{ MINIMAL "tls = \"cert\"\n", "t.cfg: missing key [api] tls_cert_privkey (tls = \"cert\" needs it)" },
	{ MINIMAL "tls = \"cert\"\ntls_cert_privkey = \"k.pem\"\n",
	  "t.cfg: missing key [api] tls_cert_fullchain (tls = \"cert\" needs it)" },
	{ MINIMAL "[logconfig]\nlogtype = \"file\"\n",
	  "t.cfg: missing key [logconfig] logfile (logtype = \"file\" needs it)" },
	{ GENERAL "group = \"root\"\n" REST,
	  "t.cfg: [general] group is set but user is not (group needs user)" },
	{ "[general]\nprotocol = \"udp6\"\nlisten = \"127.0.0.1:53\"\ndomain = \"a.example\"\n"
	  "nsname = \"a.example\"\nnsadmin = \"h.a.example\"\n[database]\nconnection = \"x\"\n"
	  "[api]\nport = 1\n",
	  "t.cfg: [general] protocol does not serve the IPv4 address in listen \"127.0.0.1:53\"" },
	{ "[general]\nprotocol = \"tcp4\"\nlisten = \"[::]:53\"\ndomain = \"a.example\"\n"
	  "nsname = \"a.example\"\nnsadmin = \"h.a.example\"\n[database]\nconnection = \"x\"\n"
	  "[api]\nport = 1\n",
	  "t.cfg: [general] protocol does not serve the IPv6 address in listen \"[::]:53\"" },
	/* rates, registration control, HTTP limits (MINIMAL is 9 lines) */
	{ MINIMAL "auth_fail_rate = \"10/fortnight\"\n",
	  "t.cfg:10: [api] auth_fail_rate: \"10/fortnight\" is not \"N/second\", \"N/minute\", "
	  "\"N/hour\" (N in 1..1000000) or 0" },
	{ MINIMAL "register_rate = \"0/minute\"\n",
	  "t.cfg:10: [api] register_rate: \"0/minute\" is not \"N/second\", \"N/minute\", "
	  "\"N/hour\" (N in 1..1000000) or 0" },
	{ MINIMAL "register_rate = \"1000001/hour\"\n",
	  "t.cfg:10: [api] register_rate: \"1000001/hour\" is not \"N/second\", \"N/minute\", "
	  "\"N/hour\" (N in 1..1000000) or 0" },
	{ MINIMAL "register_rate = \"-1/hour\"\n",
	  "t.cfg:10: [api] register_rate: \"-1/hour\" is not \"N/second\", \"N/minute\", "
	  "\"N/hour\" (N in 1..1000000) or 0" },
	{ MINIMAL "register_rate = \"/minute\"\n",
	  "t.cfg:10: [api] register_rate: \"/minute\" is not \"N/second\", \"N/minute\", "
	  "\"N/hour\" (N in 1..1000000) or 0" },
	{ MINIMAL "register_rate = 10\n",
	  "t.cfg:10: [api] register_rate: expected \"N/second\", \"N/minute\", \"N/hour\" "
	  "(N in 1..1000000) or 0" },
	{ MINIMAL "auth_fail_rate = true\n",
	  "t.cfg:10: [api] auth_fail_rate: expected \"N/second\", \"N/minute\", \"N/hour\" "
	  "(N in 1..1000000) or 0" },
	{ MINIMAL "register_allowfrom = [\n  \"10.0.0.0/8\",\n  \"10.0.0.0/33\",\n]\n",
	  "t.cfg:12: [api] register_allowfrom: \"10.0.0.0/33\" is not an IP address or CIDR" },
	{ MINIMAL "register_allowfrom = \"10.0.0.0/8\"\n",
	  "t.cfg:10: [api] register_allowfrom: expected an array of strings" },
	{ MINIMAL "register_token = \"short-secret\"\n",
	  "t.cfg:10: [api] register_token: must be 16 to 256 characters of A-Z a-z 0-9 - . _ ~ + / "
	  "(the value is not shown: it is a secret)" },
	{ MINIMAL "register_token = \"a-long-secret-with space\"\n",
	  "t.cfg:10: [api] register_token: must be 16 to 256 characters of A-Z a-z 0-9 - . _ ~ + / "
	  "(the value is not shown: it is a secret)" },
	{ MINIMAL "register_token = 12345678901234567\n",
	  "t.cfg:10: [api] register_token: expected a string" },
	{ MINIMAL "request_timeout = 0\n",
	  "t.cfg:10: [api] request_timeout: 0 is out of range (1..3600)" },
	{ MINIMAL "max_conns_per_ip = 65537\n",
	  "t.cfg:10: [api] max_conns_per_ip: 65537 is out of range (0..65536)" },
};

static int
test_errors(void)
{
	struct config cfg;
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		memset(errbuf, 0, sizeof(errbuf));
		if (parse(err_cases[i].text, &cfg) != -1) {
			fprintf(stderr, "    case %zu parsed: %s\n", i, err_cases[i].want);
			config_free(&cfg);
			bad++;
		} else if (strcmp(errbuf, err_cases[i].want) != 0) {
			fprintf(stderr, "    case %zu:\n      got  %s\n      want %s\n", i, errbuf,
			    err_cases[i].want);
			bad++;
		} else if (strchr(errbuf, '\n') != NULL)
			bad++;
		CHECK(cfg.path == NULL && cfg.domain == NULL);
	}
	CHECK(bad == 0);
	return 0;
}

/* The hardening keys: rates in every accepted form, CIDRs parsed once, the token. */
static int
test_limit_keys(void)
{
	static const struct { const char *text; unsigned count, period; } rates[] = {
		{ "\"5/second\"", 5, 1 }, { "\"30/minute\"", 30, 60 }, { "\"100/hour\"", 100, 3600 },
		{ "\"7/MINUTE\"", 7, 60 }, { "\"1000000/Second\"", 1000000, 1 },
		{ "\"0\"", 0, 60 }, { "0", 0, 60 },
	};
	struct config cfg;
	char text[1024];
	size_t i;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		snprintf(text, sizeof(text), MINIMAL "auth_fail_rate = %s\nregister_rate = %s\n",
		    rates[i].text, rates[i].text);
		if (parse(text, &cfg) != 0) {
			fprintf(stderr, "    %s: %s\n", rates[i].text, errbuf);
			return 1;
		}
		CHECK(cfg.auth_fail_rate.count == rates[i].count);
		CHECK(cfg.auth_fail_rate.period == rates[i].period);
		CHECK(cfg.register_rate.count == rates[i].count);
		CHECK(cfg.register_rate.period == rates[i].period);
		config_free(&cfg);
	}
	CHECK(parse(MINIMAL "register_allowfrom = [\"192.0.2.0/24\", \"2001:db8::/32\", "
	    "\"198.51.100.7\"]\nregister_token = \"s3cr3t-t0ken_abcdef==\"\n"
	    "request_timeout = 4\nmax_conns_per_ip = 0\n", &cfg) == 0);
	CHECK(cfg.nregister_allowfrom == 3);
	CHECK(cfg.register_allowfrom[0].family == AF_INET && cfg.register_allowfrom[0].prefix == 24);
	CHECK(cfg.register_allowfrom[1].family == AF_INET6 && cfg.register_allowfrom[1].prefix == 32);
	CHECK(cfg.register_allowfrom[2].prefix == 32);
	CHECK_STR(cfg.register_token, "s3cr3t-t0ken_abcdef==");
	CHECK(cfg.request_timeout == 4 && cfg.max_conns_per_ip == 0);
	config_free(&cfg);
	CHECK(cfg.register_allowfrom == NULL && cfg.register_token == NULL);
	/* An empty list is "anyone", as if the key were absent. */
	CHECK(parse(MINIMAL "register_allowfrom = []\n", &cfg) == 0);
	CHECK(cfg.nregister_allowfrom == 0);
	config_free(&cfg);
	/* A bad token is never echoed. */
	CHECK(parse(MINIMAL "register_token = \"hunter2 hunter2 hunter2\"\n", &cfg) == -1);
	CHECK(strstr(errbuf, "hunter2") == NULL);
	return 0;
}

/* user and group resolve to ids; syslog is a log type; nobody is on every Debian. */
static int
test_user_group_syslog(void)
{
	struct config cfg;

	CHECK(parse(GENERAL "user = \"nobody\"\n" REST "[logconfig]\nlogtype = \"SysLog\"\n",
	    &cfg) == 0);
	CHECK_STR(cfg.user, "nobody");
	CHECK(cfg.group == NULL);
	CHECK(cfg.run_uid == 65534 && cfg.run_gid == 65534);
	CHECK_STR(cfg.logtype, "syslog");
	config_free(&cfg);
	/* group wins over the user's primary group, in either order */
	CHECK(parse(GENERAL "group = \"root\"\nuser = \"nobody\"\n" REST, &cfg) == 0);
	CHECK(cfg.run_uid == 65534 && cfg.run_gid == 0);
	config_free(&cfg);
	CHECK(parse(GENERAL "user = \"nobody\"\ngroup = \"root\"\n" REST, &cfg) == 0);
	CHECK(cfg.run_uid == 65534 && cfg.run_gid == 0 && cfg.has_group);
	config_free(&cfg);
	/* no user key: nothing to switch to */
	CHECK(parse(MINIMAL, &cfg) == 0);
	CHECK(cfg.user == NULL && cfg.run_uid == 0);
	config_free(&cfg);
	return 0;
}

/* config_diff names exactly the keys that changed (SIGHUP reports them). */
static int
test_diff(void)
{
	struct config a, b;
	char out[256];

	CHECK(parse(MINIMAL "txt_values = 2\n", &a) == 0);
	CHECK(parse(MINIMAL "txt_values = 2\n", &b) == 0);
	CHECK(config_diff(&a, &b, NULL, out, sizeof(out)) == 0);
	CHECK_STR(out, "");
	config_free(&b);
	CHECK(parse("[general]\nlisten = \"127.0.0.1:54\"\n" "domain = \"auth.example.org\"\n"
	    "nsname = \"auth.example.org\"\n" "nsadmin = \"admin.example.org\"\n" REST
	    "txt_values = 3\ncorsorigins = [\"*\"]\n[logconfig]\nloglevel = \"debug\"\n", &b) == 0);
	CHECK(config_diff(&a, &b, NULL, out, sizeof(out)) == 4);
	CHECK_STR(out, "[general] listen, [api] corsorigins, [api] txt_values, [logconfig] loglevel");
	CHECK(config_diff(&a, &b, "logconfig", out, sizeof(out)) == 3);
	CHECK(config_diff(&a, &b, NULL, out, 10) == 4);	/* cut, still terminated */
	CHECK(strlen(out) < 10);
	config_free(&a);
	config_free(&b);
	/* kinds that are not strings: rates and parsed CIDR lists */
	CHECK(parse(MINIMAL "register_rate = \"5/minute\"\nregister_allowfrom = [\"192.0.2.0/24\"]\n", &a) == 0);
	CHECK(parse(MINIMAL "register_rate = \"5/hour\"\nregister_allowfrom = [\"192.0.2.0/25\"]\n", &b) == 0);
	CHECK(config_diff(&a, &b, NULL, out, sizeof(out)) == 2);
	CHECK_STR(out, "[api] register_rate, [api] register_allowfrom");
	config_free(&b);
	CHECK(parse(MINIMAL "register_rate = \"5/minute\"\nregister_allowfrom = [\"192.0.2.0/24\"]\n", &b) == 0);
	CHECK(config_diff(&a, &b, NULL, out, sizeof(out)) == 0);
	config_free(&a);
	config_free(&b);
	return 0;
}

static int
test_nul_byte(void)
{
	static const char text[] = "[general]\nlisten = \":53\"\n\0\n";
	struct config cfg;

	CHECK(config_parse("t.cfg", text, sizeof(text) - 1, &cfg, errbuf, sizeof(errbuf)) == -1);
	CHECK_STR(errbuf, "t.cfg:3: NUL byte in file");
	return 0;
}

static int
test_limits(void)
{
	struct config cfg;
	size_t n = CONFIG_MAX_FILE + 1, i, o;
	char *big = malloc(n + 64);
	int r;

	CHECK(big != NULL);
	/* One byte over the file cap. */
	memset(big, '\n', n);
	r = config_parse("t.cfg", big, n, &cfg, errbuf, sizeof(errbuf));
	CHECK(r == -1);
	CHECK_STR(errbuf, "t.cfg: file larger than 1048576 bytes");

	/* A line of CONFIG_MAX_LINE bytes is fine, one more is not. */
	o = (size_t)snprintf(big, 512, MINIMAL "# ");
	memset(big + o, 'x', CONFIG_MAX_LINE - 2);
	big[o + CONFIG_MAX_LINE - 2] = '\n';
	big[o + CONFIG_MAX_LINE - 1] = '\0';
	CHECK(config_parse("t.cfg", big, strlen(big), &cfg, errbuf, sizeof(errbuf)) == 0);
	config_free(&cfg);
	big[o + CONFIG_MAX_LINE - 2] = 'x';
	big[o + CONFIG_MAX_LINE - 1] = '\n';
	big[o + CONFIG_MAX_LINE] = '\0';
	CHECK(config_parse("t.cfg", big, strlen(big), &cfg, errbuf, sizeof(errbuf)) == -1);
	CHECK_STR(errbuf, "t.cfg:10: line longer than 8192 bytes");

	/* CONFIG_MAX_ARRAY entries are fine, one more is not. */
	o = (size_t)snprintf(big, 512, MINIMAL "corsorigins = [");
	for (i = 0; i < CONFIG_MAX_ARRAY + 1; i++)
		o += (size_t)snprintf(big + o, 16, "\"a\",\n");
	snprintf(big + o, 8, "]\n");
	CHECK(config_parse("t.cfg", big, strlen(big), &cfg, errbuf, sizeof(errbuf)) == -1);
	CHECK_STR(errbuf, "t.cfg:4106: array has more than 4096 entries");
	o = (size_t)snprintf(big, 512, MINIMAL "corsorigins = [");
	for (i = 0; i < CONFIG_MAX_ARRAY; i++)
		o += (size_t)snprintf(big + o, 16, "\"a\",\n");
	snprintf(big + o, 8, "]\n");
	CHECK(config_parse("t.cfg", big, strlen(big), &cfg, errbuf, sizeof(errbuf)) == 0);
	CHECK(cfg.corsorigins.n == CONFIG_MAX_ARRAY);
	CHECK(cfg.corsorigins.line[CONFIG_MAX_ARRAY - 1] == 10 + CONFIG_MAX_ARRAY - 1);
	config_free(&cfg);

	/* Too many keys. */
	o = (size_t)snprintf(big, 64, "[extra]\n");
	for (i = 0; i < TOML_MAX_KEYS; i++)
		o += (size_t)snprintf(big + o, 32, "k%zu = 1\n", i);
	CHECK(config_parse("t.cfg", big, strlen(big), &cfg, errbuf, sizeof(errbuf)) == -1);
	CHECK_STR(errbuf, "t.cfg:4097: more than 4096 keys and tables");
	free(big);
	return 0;
}

static int
test_unknown_keys_warn(void)
{
	char path[64];
	struct config cfg;
	const char *log;
	int r;

	CHECK(capture_log(path, sizeof(path)) == 0);
	r = parse(MINIMAL "color = \"blue\"\n[future]\nx = 1\n[general2]\n", &cfg);
	log_close();
	log = slurp(path);
	unlink(path);
	CHECK(r == 0);
	config_free(&cfg);
	CHECK(log != NULL);
	CHECK(strstr(log, " warning t.cfg:10: unknown key 'color' ignored\n") != NULL);
	CHECK(strstr(log, " warning t.cfg:11: unknown table [future] ignored\n") != NULL);
	CHECK(strstr(log, " warning t.cfg:13: unknown table [general2] ignored\n") != NULL);
	CHECK(strstr(log, "'x'") == NULL);	/* keys of an unknown table: one warning for the table */
	return 0;
}

static int
test_use_header_without_proxies_warns(void)
{
	char path[64];
	struct config cfg;
	const char *log;
	int r;

	CHECK(capture_log(path, sizeof(path)) == 0);
	r = parse(MINIMAL "use_header = true\n", &cfg);
	log_close();
	log = slurp(path);
	unlink(path);
	CHECK(r == 0);
	CHECK(cfg.use_header);
	config_free(&cfg);
	CHECK(log != NULL && strstr(log, "trusted_proxies is empty") != NULL);
	return 0;
}

static int
test_load_file(void)
{
	char path[64], err[256];
	struct config cfg;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/dns01d-test-cfg-XXXXXX");
	CHECK((fd = mkstemp(path)) != -1);
	CHECK((f = fdopen(fd, "w")) != NULL);
	fputs(MINIMAL "port = 5\n", f);
	fclose(f);
	CHECK(config_load(path, &cfg, err, sizeof(err)) == -1);
	CHECK(strstr(err, ":10: duplicate key 'port' in [api] (first at line 9)") != NULL);
	CHECK(strncmp(err, path, strlen(path)) == 0);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs(MINIMAL, f);
	fclose(f);
	CHECK(config_load(path, &cfg, err, sizeof(err)) == 0);
	CHECK_STR(cfg.path, path);
	CHECK(cfg.api_port == 443);
	config_free(&cfg);
	unlink(path);
	CHECK(config_load(path, &cfg, err, sizeof(err)) == -1);
	CHECK(strstr(err, ": No such file or directory") != NULL);
	CHECK(config_load("/tmp", &cfg, err, sizeof(err)) == -1);
	CHECK_STR(err, "/tmp: not a regular file");
	return 0;
}

/* A small deterministic PRNG, so a failure can be replayed. */
static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Mutate the shipped config (bytes flipped, deleted, duplicated, TOML
 * punctuation inserted) and parse each result: no crash, no leak (under
 * ASan), and every failure is one line "t.cfg:..." or "t.cfg: ...".
 */
static int
test_fuzz_mutations(void)
{
	static const char punct[] = "\"'[]=#\\,\n\r\t _-.0u";
	size_t base = sizeof(acme_dns_cfg) - 1;
	char *buf = malloc(base * 2 + 64);
	uint32_t seed = 0x2545f491;
	struct config cfg;
	int i, parsed = 0;

	CHECK(buf != NULL);
	log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT, NULL);	/* silence unknown-key warnings */
	for (i = 0; i < 3000; i++) {
		size_t len = base, k, nmut = 1 + xorshift(&seed) % 6;

		memcpy(buf, acme_dns_cfg, base);
		for (k = 0; k < nmut; k++) {
			size_t pos = xorshift(&seed) % (len + 1);
			uint32_t op = xorshift(&seed) % 4;

			if (op == 0 && pos < len)
				buf[pos] = (char)xorshift(&seed);
			else if (op == 1 && pos < len) {
				memmove(buf + pos, buf + pos + 1, len - pos - 1);
				len--;
			} else if (op == 2 && len < base * 2 + 32) {
				memmove(buf + pos + 1, buf + pos, len - pos);
				buf[pos] = punct[xorshift(&seed) % (sizeof(punct) - 1)];
				len++;
			} else if (op == 3 && pos < len) {
				size_t cut = xorshift(&seed) % (len - pos + 1);

				len = pos + cut < len ? len - cut : pos;
			}
		}
		errbuf[0] = '\0';
		if (config_parse("t.cfg", buf, len, &cfg, errbuf, sizeof(errbuf)) == 0) {
			parsed++;
			config_free(&cfg);
		} else {
			CHECK(strncmp(errbuf, "t.cfg:", 6) == 0);
			CHECK(strchr(errbuf, '\n') == NULL);
		}
	}
	log_init(LOG_LEVEL_INFO, LOG_FORMAT_TEXT, NULL);
	free(buf);
	CHECK(parsed < 3000);	/* the mutations really broke things */
	return 0;
}

/* [general] listen as an array (dns01d), and txt_expiry. */
static int
test_listen_array(void)
{
	static const char text[] =
	    "[general]\n"
	    "listen = [\"192.0.2.53:53\", \"[2001:db8::53]:53\",\n  \"127.0.0.1:53\"]\n"
	    "domain = \"auth.example.org\"\n"
	    "nsname = \"auth.example.org\"\n"
	    "nsadmin = \"admin.example.org\"\n"
	    "txt_expiry = 86400\n"
	    REST;
	static const char negative[] = GENERAL "txt_expiry = -1\n" REST;
	struct config cfg;

	CHECK(config_parse("t.cfg", text, strlen(text), &cfg, errbuf, sizeof(errbuf)) == 0);
	CHECK(cfg.nlisten == 3);
	CHECK(cfg.listen_addrs[0].family == AF_INET && cfg.listen_addrs[1].family == AF_INET6);
	CHECK(cfg.listen_addrs[2].port == 53 && cfg.listen_addr.family == AF_INET);
	CHECK(strcmp(cfg.listen, "192.0.2.53:53, [2001:db8::53]:53, 127.0.0.1:53") == 0);
	CHECK(cfg.txt_expiry == 86400);
	config_free(&cfg);
	/* acme-dns's single string: one address; txt_expiry defaults to 0. */
	CHECK(config_parse("t.cfg", MINIMAL, strlen(MINIMAL), &cfg, errbuf, sizeof(errbuf)) == 0);
	CHECK(cfg.nlisten == 1 && cfg.txt_expiry == 0);
	config_free(&cfg);
	CHECK(config_parse("t.cfg", negative, strlen(negative), &cfg, errbuf, sizeof(errbuf)) == -1);
	CHECK(strstr(errbuf, "t.cfg:6:") != NULL);
	return 0;
}

static const struct test_case tests[] = {
	{ "acme_dns_shipped_letsencryptstaging", test_acme_dns_shipped_letsencryptstaging },
	{ "tls_acme_keys", test_tls_acme_keys },
	{ "acme_dns_shipped_with_tls_none", test_acme_dns_shipped_with_tls_none },
	{ "acme_dns_shipped_tls_cert", test_acme_dns_shipped_tls_cert },
	{ "defaults", test_defaults },
	{ "user_group_syslog", test_user_group_syslog },
	{ "diff", test_diff },
	{ "dns01d_keys", test_dns01d_keys },
	{ "dns_limit_keys", test_dns_limit_keys },
	{ "port_string_or_integer", test_port_string_or_integer },
	{ "listen_forms", test_listen_forms },
	{ "metrics_listen", test_metrics_listen },
	{ "listen_array", test_listen_array },
	{ "engine_postgres", test_engine_postgres },
	{ "protocols", test_protocols },
	{ "strings_and_arrays", test_strings_and_arrays },
	{ "names_normalised", test_names_normalised },
	{ "errors", test_errors },
	{ "limit_keys", test_limit_keys },
	{ "nul_byte", test_nul_byte },
	{ "limits", test_limits },
	{ "unknown_keys_warn", test_unknown_keys_warn },
	{ "use_header_without_proxies_warns", test_use_header_without_proxies_warns },
	{ "load_file", test_load_file },
	{ "fuzz_mutations", test_fuzz_mutations },
};

TEST_MAIN(tests)
