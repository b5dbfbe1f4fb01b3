/* dnsd/dnsd.h -- the authoritative DNS server: sockets, query -> answer, from memory */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01D_DNSD_H
#define DNS01D_DNSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSD_MAX_UDP_PAYLOAD 1232	/* EDNS0 payload we advertise and honour (DNS flag day 2020) */
#define DNSD_MIN_UDP_PAYLOAD 512	/* RFC 1035 §4.2.1, and the floor for a smaller EDNS0 size */
#define DNSD_MAX_TCP_MSG 65535		/* RFC 1035 §4.2.2 two-byte length prefix */
#define DNSD_MAX_TXT_VALUES 16		/* values per challenge name */
#define DNSD_DEFAULT_TXT_TTL 1
#define DNSD_DEFAULT_NEG_TTL 60		/* RFC 2308 §5 */

/* Transport/family bits; the same values as CONFIG_PROTO_* in common.h. */
#define DNSD_PROTO_UDP 0x1
#define DNSD_PROTO_TCP 0x2
#define DNSD_PROTO_V4 0x4
#define DNSD_PROTO_V6 0x8

struct dnsd;

/* Everything dnsd needs from the config. All strings are borrowed during dnsd_new(). */
struct dnsd_params {
	const char *config_path;	/* for "file:line: message" errors */
	const char *listen;		/* "127.0.0.1:53", "[::1]:5353", ":53" (wildcard) */
	unsigned protocol;		/* DNSD_PROTO_* bits */
	const char *domain;		/* zone apex, no trailing dot */
	const char *nsname;		/* SOA MNAME */
	const char *nsadmin;		/* SOA RNAME in dotted form */
	const char *const *records;	/* zone-file lines; relative names are below domain */
	const unsigned *record_lines;	/* config line of each record, for errors */
	size_t nrecords;
	unsigned threads;		/* UDP worker threads; 0 = number of cores */
	uint32_t txt_ttl;
	uint32_t negative_ttl;		/* SOA minimum and the TTL of the SOA in negative answers */
	unsigned tcp_idle_timeout;	/* seconds, RFC 7766 §6.2.3 */
	unsigned tcp_max_clients;
};

/*
 * Build the zone from params: SOA, the static records (parsed with ldns), and
 * an empty challenge table. Binds nothing. Returns NULL with "file:line:
 * message" (or a plain message) in err. Used by `dns01d -n` as the check.
 */
struct dnsd *dnsd_new(const struct dnsd_params *params, char *err, size_t errlen);

/*
 * Make subdomain (a label below the zone apex; any case) answer TXT with the n
 * values (n may be 0: the name exists with no TXT yet, so queries get NODATA).
 * Replaces what the name had. Takes effect for every query that starts after
 * this returns. Safe from any number of threads at once; it never blocks a
 * DNS worker (workers read an RCU-style snapshot and take no lock).
 * Returns 0, or -1 on allocation failure or a bad label.
 */
int dnsd_publish(struct dnsd *d, const char *subdomain, const char *const *values, size_t n);

/* Bind the sockets (UDP per worker with SO_REUSEPORT, and TCP) and start the
 * worker threads. Returns 0, or -1 with a message in err. */
int dnsd_start(struct dnsd *d, char *err, size_t errlen);

/* The UDP and TCP ports actually bound (useful when listen asked for port 0). */
unsigned dnsd_port(const struct dnsd *d);

/* True if the server answers a real SOA query over its own socket right now. */
bool dnsd_healthy(struct dnsd *d);

/* Stop and join the workers, close the sockets, free everything. Accepts NULL. */
void dnsd_free(struct dnsd *d);

/*
 * Answer one DNS message in wire form: the whole query -> answer path, with
 * no I/O. q/qlen is the query; out has room for outcap bytes; tcp selects
 * the size limit (outcap) instead of the UDP/EDNS0 limit. Returns the answer
 * length, 0 to drop the query silently, or -1 on an internal error. Exposed
 * for unit tests and the allocation guard (it must not call malloc on the
 * fast paths: TXT hit, NXDOMAIN, NODATA).
 */
int dnsd_answer(struct dnsd *d, const uint8_t *q, size_t qlen, uint8_t *out, size_t outcap,
    bool tcp);

#endif
