/* api/api.h -- the acme-dns compatible HTTP API (/register, /update, /health) */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01D_API_H
#define DNS01D_API_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/common.h"
#include "../dnsd/dnsd.h"
#include "../storage/storage.h"

#define API_MAX_BODY_DEFAULT 4096	/* bytes; larger bodies get 413 */
#define API_MAX_BODY_LIMIT (1024 * 1024)	/* the most api.max_body may be set to */
#define API_MAX_HEADER 8192		/* bytes of request headers (MHD memory limit) */
#define API_MAX_CONNECTIONS 1024
#define API_DEFAULT_TIMEOUT 10		/* seconds an idle connection is kept */

struct api;

/*
 * Start serving HTTP (or HTTPS when cfg->tls is "cert") on cfg->api_ip and
 * cfg->api_port, with worker threads of its own. st and d are borrowed and
 * must outlive the api. Returns NULL with a one-line message in err.
 */
struct api *api_start(const struct config *cfg, struct storage *st, struct dnsd *d,
    char *err, size_t errlen);

/* The TCP port actually bound (when the config asked for port 0). */
unsigned api_port(const struct api *a);

/* Stop serving, finish in-flight requests, free everything. Accepts NULL. */
void api_stop(struct api *a);

#endif
