/* acme/http.c -- HTTP(S) requests on libcurl, with capped bodies and the ACME headers */
/* SPDX-License-Identifier: ISC */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "../common/common.h"
#include "internal.h"

struct http {
	CURL *curl;
	char *ca_file;
};

/* What the callbacks fill while a transfer runs. */
struct http_xfer {
	struct http_response *resp;
	const char *url;
	bool too_big;
};

/* Resolve ref against base (RFC 3986 §5) into a new absolute http(s) URL. */
static char *
url_resolve(const char *base, const char *ref)
{
	CURLU *u = NULL;
	char *s = NULL, *out = NULL;

	u = curl_url();
	if (u == NULL)
		goto out;
	if (base != NULL && curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
		goto out;
	if (curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		goto out;
	if (is_http_url(s))
		out = strdup(s);
out:
	curl_free(s);
	curl_url_cleanup(u);
	return out;
}

/* RFC 8288 §3: Link = #( "<" URI-Reference ">" *( OWS ";" OWS link-param ) ). */
void
http_parse_link(const char *base_url, const char *value, struct http_response *resp)
{
	const char *p = value, *lt, *gt, *next, *params;
	char *ref, *abs;
	size_t plen;

	while (p != NULL && *p != '\0') {
		lt = strchr(p, '<');
		if (lt == NULL)
			return;
		gt = strchr(lt, '>');
		if (gt == NULL)
			return;
		params = gt + 1;
		next = strchr(params, ',');
		plen = next != NULL ? (size_t)(next - params) : strlen(params);
		/* Look for rel="alternate" or rel=alternate among the params. */
		{
			char pbuf[256];
			char *q;
			bool alt = false;
			size_t i;

			if (plen >= sizeof(pbuf))
				plen = sizeof(pbuf) - 1;
			for (i = 0; i < plen; i++)
				pbuf[i] = (char)tolower((unsigned char)params[i]);
			pbuf[plen] = '\0';
			for (q = pbuf; (q = strstr(q, "rel")) != NULL; q += 3) {
				const char *v = q + 3;
				while (*v == ' ')
					v++;
				if (*v != '=')
					continue;
				v++;
				while (*v == ' ')
					v++;
				if (*v == '"')
					v++;
				/* A rel may list several types separated by spaces. */
				while (*v != '\0' && *v != '"' && *v != ';') {
					if (strncmp(v, "alternate", 9) == 0 &&
					    (v[9] == '"' || v[9] == ';' || v[9] == ' ' ||
					    v[9] == '\0'))
						alt = true;
					while (*v != '\0' && *v != ' ' && *v != '"' && *v != ';')
						v++;
					while (*v == ' ')
						v++;
				}
			}
			if (alt && resp->nalternate < ACME_MAX_LINKS) {
				ref = strndup(lt + 1, (size_t)(gt - lt - 1));
				abs = ref != NULL ? url_resolve(base_url, ref) : NULL;
				free(ref);
				if (abs != NULL)
					resp->alternate[resp->nalternate++] = abs;
			}
		}
		p = next != NULL ? next + 1 : NULL;
	}
}

/* Keep a copy of a header value, trimmed of surrounding whitespace. */
static char *
header_value(const char *v, size_t n)
{
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' ||
	    v[n - 1] == '\n'))
		n--;
	return strndup(v, n);
}

/* True if the header line starts with name followed by ':'; *v is the value. */
static bool
header_is(const char *line, size_t n, const char *name, const char **v, size_t *vn)
{
	size_t l = strlen(name);

	if (n <= l || strncasecmp(line, name, l) != 0 || line[l] != ':')
		return false;
	*v = line + l + 1;
	*vn = n - l - 1;
	return true;
}

/* libcurl header callback: pick out the headers ACME uses (RFC 8555 §6.5, §7.4.2). */
static size_t
on_header(char *buf, size_t size, size_t nitems, void *arg)
{
	struct http_xfer *x = arg;
	struct http_response *r = x->resp;
	size_t n = size * nitems;
	const char *v;
	size_t vn;
	char *s;

	if (n > ACME_MAX_HEADER)
		return n;	/* ignore absurd lines rather than fail */
	/* A new status line (e.g. after 100 Continue) starts a fresh header set. */
	if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		free(r->nonce);
		free(r->location);
		free(r->retry_after);
		free(r->content_type);
		r->nonce = r->location = r->retry_after = r->content_type = NULL;
		return n;
	}
	if (header_is(buf, n, "Replay-Nonce", &v, &vn)) {
		free(r->nonce);
		r->nonce = header_value(v, vn);
	} else if (header_is(buf, n, "Location", &v, &vn)) {
		s = header_value(v, vn);
		free(r->location);
		r->location = s != NULL ? url_resolve(x->url, s) : NULL;
		free(s);
	} else if (header_is(buf, n, "Retry-After", &v, &vn)) {
		free(r->retry_after);
		r->retry_after = header_value(v, vn);
	} else if (header_is(buf, n, "Content-Type", &v, &vn)) {
		free(r->content_type);
		r->content_type = header_value(v, vn);
		if (r->content_type != NULL) {
			char *semi = strchr(r->content_type, ';');
			if (semi != NULL) {
				*semi = '\0';
				while (semi > r->content_type && semi[-1] == ' ')
					*--semi = '\0';
			}
			for (s = r->content_type; *s != '\0'; s++)
				*s = (char)tolower((unsigned char)*s);
		}
	} else if (header_is(buf, n, "Link", &v, &vn)) {
		s = header_value(v, vn);
		if (s != NULL)
			http_parse_link(x->url, s, r);
		free(s);
	}
	return n;
}

/* libcurl write callback: append, refusing more than ACME_MAX_RESPONSE bytes. */
static size_t
on_body(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	struct http_response *r = x->resp;
	size_t n = size * nmemb;
	char *nb;

	if (n > ACME_MAX_RESPONSE - r->len) {
		x->too_big = true;
		return 0;	/* aborts the transfer with CURLE_WRITE_ERROR */
	}
	nb = realloc(r->body, r->len + n + 1);
	if (nb == NULL)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, buf, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* One handle for the whole run, so TLS sessions and connections are reused. */
struct http *
http_new(const char *ca_file, struct acme_err *err)
{
	struct http *h;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		acme_errf(err, "cannot initialise libcurl");
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		acme_errf(err, "out of memory");
		return NULL;
	}
	h->curl = curl_easy_init();
	if (h->curl == NULL || (ca_file != NULL && (h->ca_file = strdup(ca_file)) == NULL)) {
		acme_errf(err, "cannot initialise libcurl");
		http_free(h);
		return NULL;
	}
	return h;
}

/* Free the handle. Accepts NULL. */
void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->ca_file);
	free(h);
}

/* Free what http_send filled in. */
void
http_response_free(struct http_response *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(r->body);
	free(r->content_type);
	free(r->location);
	free(r->nonce);
	free(r->retry_after);
	for (i = 0; i < r->nalternate; i++)
		free(r->alternate[i]);
	memset(r, 0, sizeof(*r));
}

/* Turn a libcurl failure into a line that says what to do. */
static void
xfer_error(const char *url, CURLcode rc, const char *detail, const struct http_xfer *x,
    struct acme_err *err)
{
	const char *d = detail[0] != '\0' ? detail : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		acme_errf(err, "cannot reach %s (%s): check the URL and that the server is up", url, d);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
		acme_errf(err, "TLS to %s failed (%s): give the server's CA bundle with --ca-file",
		    url, d);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		acme_errf(err, "bad URL %s (%s): use an http:// or https:// URL", url, d);
		break;
	case CURLE_FILESIZE_EXCEEDED:
		acme_errf(err, "%s sent more than %d bytes: refusing it", url, ACME_MAX_RESPONSE);
		break;
	case CURLE_WRITE_ERROR:
		if (x->too_big) {
			acme_errf(err, "%s sent more than %d bytes: refusing it", url,
			    ACME_MAX_RESPONSE);
			break;
		}
		/* FALLTHROUGH */
	default:
		acme_errf(err, "request to %s failed: %s", url, d);
		break;
	}
}

/* The request's header list into *hdrs, which the caller frees even on failure. 0 or -1. */
static int
request_headers(const struct http_request *req, struct curl_slist **hdrs, struct acme_err *err)
{
	struct curl_slist *tmp;
	char line[ACME_MAX_HEADER];
	int ret = -1;

#define HDR(...) do { \
	snprintf(line, sizeof(line), __VA_ARGS__); \
	tmp = curl_slist_append(*hdrs, line); \
	if (tmp == NULL) { acme_errf(err, "out of memory"); goto out; } \
	*hdrs = tmp; \
} while (0)
	if (req->content_type != NULL)
		HDR("Content-Type: %s", req->content_type);
	if (req->accept != NULL)
		HDR("Accept: %s", req->accept);
	if (req->api_user != NULL)
		HDR("X-Api-User: %s", req->api_user);
	if (req->api_key != NULL)
		HDR("X-Api-Key: %s", req->api_key);
	HDR("Expect:");		/* no 100-continue round trip */
#undef HDR
	ret = 0;
out:
	explicit_bzero(line, sizeof(line));
	return ret;
}

/* The options every request shares: headers, limits, callbacks, TLS checks. 0 or -1. */
static int
xfer_setup(const struct http *h, const struct http_request *req, struct curl_slist *hdrs,
    struct http_xfer *x, char *cerr, struct acme_err *err)
{
	CURL *c = h->curl;

	if (curl_easy_setopt(c, CURLOPT_URL, req->url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, ACME_USER_AGENT) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)ACME_HTTP_CONNECT_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)ACME_HTTP_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE, (long)ACME_MAX_RESPONSE) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERDATA, x) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, x) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK) {
		acme_errf(err, "cannot set up the request to %s", req->url);
		return -1;
	}
	if (h->ca_file != NULL && curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file) != CURLE_OK) {
		acme_errf(err, "cannot use --ca-file %s", h->ca_file);
		return -1;
	}
	return 0;
}

/* Send one request; any HTTP status is a response, -1 only when there is none. */
int
http_send(struct http *h, const struct http_request *req, struct http_response *resp,
    struct acme_err *err)
{
	struct curl_slist *hdrs = NULL, *tmp;
	struct http_xfer x;
	char cerr[CURL_ERROR_SIZE];
	CURL *c = h->curl;
	CURLcode rc;
	int ret = -1;

	memset(resp, 0, sizeof(*resp));
	memset(&x, 0, sizeof(x));
	x.resp = resp;
	x.url = req->url;
	cerr[0] = '\0';
	if (!is_http_url(req->url)) {
		acme_errf(err, "refusing URL '%.200s': not an http(s) URL", req->url);
		return -1;
	}
	curl_easy_reset(c);
	if (request_headers(req, &hdrs, err) == -1 ||
	    xfer_setup(h, req, hdrs, &x, cerr, err) == -1)
		goto out;
	if (strcmp(req->method, "HEAD") == 0) {
		rc = curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "POST") == 0) {
		rc = curl_easy_setopt(c, CURLOPT_POST, 1L);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
	} else {
		rc = curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	if (rc != CURLE_OK) {
		acme_errf(err, "cannot set up the request to %s", req->url);
		goto out;
	}
	log_debug("http: %s %s", req->method, req->url);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		xfer_error(req->url, rc, cerr, &x, err);
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status) != CURLE_OK) {
		acme_errf(err, "no HTTP status from %s", req->url);
		goto out;
	}
	if (resp->body == NULL) {
		resp->body = calloc(1, 1);
		if (resp->body == NULL) {
			acme_errf(err, "out of memory");
			goto out;
		}
	}
	log_debug("http: %ld from %s (%zu bytes)", resp->status, req->url, resp->len);
	ret = 0;
out:
	/* Drop the header list now: it may hold the X-Api-Key secret. */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	for (tmp = hdrs; tmp != NULL; tmp = tmp->next)
		explicit_bzero(tmp->data, strlen(tmp->data));
	curl_slist_free_all(hdrs);
	return ret;
}
