/* dnsd/dnsd.h -- the authoritative DNS server: sockets, query -> answer, from memory */
/* SPDX-License-Identifier: ISC */
#ifndef DNS01D_DNSD_H
#define DNS01D_DNSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

#define DNSD_MAX_UDP_PAYLOAD 1232	/* EDNS0 payload we advertise and honour (DNS flag day 2020) */
#define DNSD_MIN_UDP_PAYLOAD 512	/* RFC 1035 §4.2.1, and the floor for a smaller EDNS0 size */
#define DNSD_MAX_TCP_MSG 65535		/* RFC 1035 §4.2.2 two-byte length prefix */
#define DNSD_MAX_TXT_VALUES 16		/* values per challenge name */
#define DNSD_DEFAULT_TXT_TTL 1
#define DNSD_MAX_PERSIST_VALUES 8	/* persist records per name (STORAGE_PERSIST_MAX) */
#define DNSD_PERSIST_LABEL "_validation-persist"	/* dns-persist-01's owner prefix */
#define DNSD_DEFAULT_NEG_TTL 60		/* RFC 2308 §5 */
#define DNSD_RRL_MAX_RATE 1000000	/* rrl_rate ceiling (responses per second per bucket) */
#define DNSD_RRL_MAX_SLIP 10		/* rrl_slip ceiling (BIND's) */
#define DNSD_COOKIE_MIN_ROTATION 3600	/* a server cookie lives 1 hour (RFC 9018 §4.3) */
#define DNSD_COOKIE_MAX_ROTATION (30 * 86400)	/* secret rotation interval ceiling */

/* Transport/family bits; the same values as CONFIG_PROTO_* in common.h. */
#define DNSD_PROTO_UDP 0x1
#define DNSD_PROTO_TCP 0x2
#define DNSD_PROTO_V4 0x4
#define DNSD_PROTO_V6 0x8

struct dnsd;

/* Everything dnsd needs from the config. All strings are borrowed during dnsd_new(). */
struct dnsd_params {
	const char *config_path;	/* for "file:line: message" errors */
	struct config_listen listen;	/* the address and port, parsed by common/config.c */
	const struct config_listen *listens;	/* or nlisten of them (they share one port), */
	size_t nlisten;			/* parsed and checked by config.c; 0: listen alone */
	unsigned protocol;		/* DNSD_PROTO_* bits */
	const char *domain;		/* zone apex, no trailing dot */
	const char *nsname;		/* SOA MNAME */
	const char *nsadmin;		/* SOA RNAME in dotted form */
	const char *const *records;	/* zone-file lines; relative names are below domain */
	const unsigned *record_lines;	/* config line of each record, for errors */
	size_t nrecords;
	unsigned threads;		/* UDP worker threads; 0 = number of cores */
	uint32_t txt_ttl;
	uint32_t persist_ttl;		/* TTL of the _validation-persist TXT answers */
	uint32_t negative_ttl;		/* SOA minimum and the TTL of the SOA in negative answers */
	unsigned tcp_idle_timeout;	/* seconds, RFC 7766 §6.2.3 */
	unsigned tcp_max_clients;
	unsigned rrl_rate;		/* UDP responses/s per prefix and kind; 0 = RRL off */
	unsigned rrl_slip;		/* every Nth limited answer goes out TC=1; 0 = drop all */
	bool cookies;			/* answer DNS cookies (RFC 7873, RFC 9018) */
	unsigned cookie_rotation;	/* seconds between server secret rotations */
	bool stats;			/* count queries per worker for dnsd_stats_read() */
};

/* Label values of struct dnsd_stats (docs/operations.md, "## Metrics"). */
enum dnsd_stat_transport { DNSD_STAT_UDP, DNSD_STAT_TCP, DNSD_STAT_NTRANSPORT };
enum dnsd_stat_qtype {
	DNSD_STAT_Q_TXT, DNSD_STAT_Q_SOA, DNSD_STAT_Q_NS,
	DNSD_STAT_Q_ADDR,	/* A and AAAA */
	DNSD_STAT_Q_ANY,
	DNSD_STAT_Q_OTHER,	/* every other QTYPE, and a query with no readable question */
	DNSD_STAT_NQTYPE
};
enum dnsd_stat_rcode {
	/* 0..5 are RCODEs NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED */
	DNSD_STAT_RC_BADVERS = 6,	/* extended RCODE 16 (RFC 6891 §6.1.3) */
	DNSD_STAT_RC_BADCOOKIE = 7,	/* extended RCODE 23 (RFC 7873 §8) */
	DNSD_STAT_RC_OTHER = 8,
	DNSD_STAT_NRCODE = 9
};
enum dnsd_stat_cookie {
	DNSD_STAT_CK_CLIENT,	/* a client cookie alone: a server cookie was made */
	DNSD_STAT_CK_VALID,	/* a server cookie of ours: the client is not spoofed, no RRL */
	DNSD_STAT_CK_INVALID,	/* a server cookie not ours or too old: a new one was made */
	DNSD_STAT_CK_MALFORMED,	/* a bad COOKIE option: FORMERR (RFC 7873 §5.2.2) */
	DNSD_STAT_NCOOKIE
};

/* The DNS counters, summed over the workers by dnsd_stats_read(). */
struct dnsd_stats {
	uint64_t queries[DNSD_STAT_NTRANSPORT][DNSD_STAT_NQTYPE][DNSD_STAT_NRCODE];	/* answered */
	uint64_t truncated;		/* UDP answers sent with TC=1 (RRL slips included) */
	uint64_t malformed[DNSD_STAT_NTRANSPORT];	/* dropped unanswered: no header, a
						 * response, or longer than any query */
	uint64_t rrl_dropped;		/* UDP answers RRL dropped */
	uint64_t rrl_slipped;		/* UDP answers RRL cut to TC=1 or BADCOOKIE */
	uint64_t cookies[DNSD_STAT_NCOOKIE];	/* queries with a COOKIE option (cookies on) */
	uint64_t tcp_accepted;		/* TCP connections accepted */
	uint64_t tcp_open;		/* TCP connections open now */
	uint64_t names;			/* challenge names held in memory */
	uint64_t values;		/* TXT values held in memory */
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

/*
 * Make _validation-persist.<subdomain> answer TXT with the n persistent
 * validation records (dns-persist-01), each one TXT RR of up to
 * DNSD_MAX_TXT_VALUE bytes, split into 255-byte character-strings, with
 * the persist_ttl TTL. Kept apart from dnsd_publish's values. n = 0 makes
 * the name answer NODATA if it had records, and changes nothing otherwise.
 * Same concurrency as dnsd_publish. Returns 0, or -1.
 */
int dnsd_publish_persist(struct dnsd *d, const char *subdomain, const char *const *values,
    size_t n);

/*
 * Make subdomain answer NXDOMAIN again (its account was deleted): a
 * tombstone replaces its entry, so the table never deletes (see table.c).
 * Same guarantees as dnsd_publish. Returns 0, or -1 on allocation failure
 * or a bad label.
 */
int dnsd_unpublish(struct dnsd *d, const char *subdomain);

/*
 * A full resynchronisation (the storage feed lost track and hands every
 * account over again): dnsd_mark() starts a round and returns its mark;
 * once every name that still has an account was published again,
 * dnsd_sweep(d, mark) unpublishes (NXDOMAIN) every name not published
 * since the mark. Returns the number of names swept, or -1 on allocation
 * failure. Same concurrency as dnsd_publish.
 */
uint32_t dnsd_mark(struct dnsd *d);
long dnsd_sweep(struct dnsd *d, uint32_t mark);

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
 * Sum the workers' counters into *out (zeroed first). With params.stats
 * off only names and values are filled. Safe from
 * any thread while dnsd runs: each worker counts in its own cache lines,
 * and this reads them with relaxed loads (a count may lag by one query).
 */
void dnsd_stats_read(struct dnsd *d, struct dnsd_stats *out);

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

/* ------------------------------------------------------------------ */
/*
 * Internals shared by the files of dnsd/ only. Other modules must not define
 * DNSD_INTERNAL; everything below may change without notice.
 */
#ifdef DNSD_INTERNAL
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#define DNSD_DEFAULT_RR_TTL 3600	/* static records written without a TTL */
#define DNSD_SOA_REFRESH 28800		/* SOA timers (RFC 1912 §2.2 ranges) */
#define DNSD_SOA_RETRY 7200
#define DNSD_SOA_EXPIRE 1209600
#define DNSD_MAX_LABEL 63		/* RFC 1035 §2.3.4 */
#define DNSD_MAX_NAME 255		/* wire length, RFC 1035 §2.3.4 */
#define DNSD_MAX_TXT_VALUE 1024		/* bytes in one published TXT value */
#define DNSD_MAX_CNAME_CHAIN 8		/* CNAMEs followed inside the zone */
#define DNSD_MAX_TYPE_TOKEN 32		/* bytes of a TTL, class or type token in a records line */
#define DNSD_MAX_COMP 128		/* name offsets remembered for compression */
#define DNSD_MAX_UDP_THREADS 64		/* UDP workers per address family */
#define DNSD_MAX_ADDRS CONFIG_MAX_LISTEN	/* sockets per role: one per listen address (a
					 * wildcard, alone, takes one IPv4 and one IPv6) */
#define DNSD_EXT_READERS 8		/* dnsd_answer() callers outside the workers */
/* Reader slots: UDP workers first, then the TCP loop, then dnsd_answer() callers. */
#define DNSD_READER_TCP (DNSD_MAX_UDP_THREADS * DNSD_MAX_ADDRS)
#define DNSD_READER_EXT (DNSD_READER_TCP + 1)
#define DNSD_MAX_READERS (DNSD_READER_EXT + DNSD_EXT_READERS)
#define DNSD_RETIRE_MAX 4096		/* retired objects before a publisher waits */
#define DNSD_TABLE_MIN 1024		/* initial challenge table slots (a power of 2) */
#define DNSD_PTABLE_MIN 64		/* initial persist table slots (a power of 2) */
#define DNSD_CACHE_LINE 64		/* entries and slot arrays are aligned to it */
#define DNSD_UDP_BATCH 64		/* messages per recvmmsg/sendmmsg */
#define DNSD_UDP_RECV_SIZE 2048		/* a larger UDP query is dropped */
#define DNSD_WAKE_MS 200		/* workers check the stop flag this often */
#define DNSD_HEALTH_TIMEOUT_MS 500	/* dnsd_healthy() waits this long for its answer */
#define DNSD_HEALTH_PROBE_SLOTS 16	/* concurrent self-probes remembered for the RRL exemption */
#define DNSD_TCP_INBUF 8192		/* per connection; a longer query closes it */
#define DNSD_TCP_OUT_HIGH 32768		/* stop reading a connection above this much unsent */
#define DNSD_TCP_OUT_MAX (DNSD_TCP_OUT_HIGH + DNSD_MAX_TCP_MSG + 2)	/* hard cap */
#define DNSD_TCP_BACKLOG 1024
#define DNSD_TCP_EVENTS 256		/* epoll events per wakeup */
#define DNSD_RRL_BUCKETS 65536		/* RRL table slots, 8 bytes each (a power of 2) */
#define DNSD_COOKIE_SECRET 16		/* SipHash-2-4 key bytes (RFC 9018 §4.4) */
#define DNSD_COOKIE_SLOTS 4		/* secrets kept in the ring: current, previous, spare */
#define DNSD_DEFAULT_COOKIE_ROTATION 86400	/* rotate the server secret daily */

/* RR types, classes, opcodes and rcodes used by the answer path (RFC 1035 §3.2). */
enum {
	DNSD_T_A = 1, DNSD_T_NS = 2, DNSD_T_CNAME = 5, DNSD_T_SOA = 6, DNSD_T_PTR = 12,
	DNSD_T_HINFO = 13, DNSD_T_MX = 15, DNSD_T_TXT = 16, DNSD_T_AAAA = 28,
	DNSD_T_SRV = 33, DNSD_T_DS = 43, DNSD_T_OPT = 41, DNSD_T_IXFR = 251,
	DNSD_T_AXFR = 252, DNSD_T_ANY = 255, DNSD_T_CAA = 257,
	DNSD_C_IN = 1,
	DNSD_RC_NOERROR = 0, DNSD_RC_FORMERR = 1, DNSD_RC_SERVFAIL = 2, DNSD_RC_NXDOMAIN = 3,
	DNSD_RC_NOTIMP = 4, DNSD_RC_REFUSED = 5, DNSD_RC_BADVERS = 16,
	DNSD_RC_BADCOOKIE = 23,	/* RFC 7873 §8 */
	DNSD_OPT_COOKIE = 10,	/* EDNS option code, RFC 7873 §4 */
};

/* RRL answer kinds, after Knot's classes (docs/dns.md). */
enum dnsd_rrl_kind {
	DNSD_RRL_POSITIVE,	/* NOERROR with answers: keyed by QNAME */
	DNSD_RRL_ANY,		/* QTYPE ANY: keyed by QNAME */
	DNSD_RRL_EMPTY,		/* NOERROR without answers (NODATA, referral): keyed by zone */
	DNSD_RRL_NXDOMAIN,	/* keyed by zone */
	DNSD_RRL_ERROR,		/* every other RCODE: keyed by the prefix alone */
};

/* What the RRL decides for one UDP answer. */
enum dnsd_rrl_verdict { DNSD_RRL_PASS, DNSD_RRL_DROP, DNSD_RRL_SLIP };

/* The response-rate limit table: one packed 64-bit word per bucket (rrl.c). */
struct dnsd_rrl {
	uint32_t rate;		/* tokens per second per bucket */
	unsigned slip;		/* 0 = drop every limited answer */
	uint64_t seed;		/* keys the bucket hash, so buckets cannot be aimed at */
	_Atomic uint64_t *bucket;	/* DNSD_RRL_BUCKETS words, allocated once */
};

struct dnsd_mac;	/* one thread's SipHash-2-4 context (cookie.c) */

/*
 * One answering thread's counters (struct dnsd_stats's fields). Only that
 * thread writes them, with a relaxed load and store (a plain add: no locked
 * instruction); dnsd_stats_read() reads them from another thread. Each
 * block starts on its own cache line and is a whole number of lines long,
 * so two workers never write the same line.
 */
struct dnsd_counters {
	_Alignas(DNSD_CACHE_LINE) _Atomic uint64_t
	    queries[DNSD_STAT_NTRANSPORT][DNSD_STAT_NQTYPE][DNSD_STAT_NRCODE];
	_Atomic uint64_t truncated;
	_Atomic uint64_t malformed[DNSD_STAT_NTRANSPORT];
	_Atomic uint64_t rrl_dropped;
	_Atomic uint64_t rrl_slipped;
	_Atomic uint64_t cookies[DNSD_STAT_NCOOKIE];
	_Atomic uint64_t tcp_accepted;
	_Atomic uint64_t tcp_open;	/* a gauge, stored by the TCP loop */
};

/* Write an RR's fixed part after its owner: TYPE, CLASS IN, TTL, RDLENGTH (RFC 1035 §4.1.3). */
static inline void
dnsd_rr_fixed(uint8_t b[10], uint16_t type, uint32_t ttl, size_t rdlen)
{
	b[0] = (uint8_t)(type >> 8);
	b[1] = (uint8_t)type;
	b[2] = 0;
	b[3] = DNSD_C_IN;
	b[4] = (uint8_t)(ttl >> 24);
	b[5] = (uint8_t)(ttl >> 16);
	b[6] = (uint8_t)(ttl >> 8);
	b[7] = (uint8_t)ttl;
	b[8] = (uint8_t)(rdlen >> 8);
	b[9] = (uint8_t)rdlen;
}

/* Count one event in a counter only this thread writes (see struct dnsd_counters). */
static inline void
dnsd_count(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
	    memory_order_relaxed);
}


/*
 * What one answering thread owns (a UDP worker, the TCP loop, a
 * dnsd_answer() slot), and the context of the query it is answering.
 */
struct dnsd_ctx {
	struct dnsd_mac *mac;	/* NULL when cookies are off */
	uint64_t ck_gen;	/* the secret generation cur/prev were copied at */
	uint8_t ck_cur[DNSD_COOKIE_SECRET];
	uint8_t ck_prev[DNSD_COOKIE_SECRET];
	bool ck_has_prev;
	/* set by the caller before each query (or batch) */
	struct dnsd_counters *cnt;	/* this thread's counters; NULL = not counting */
	const struct sockaddr *from;	/* the client; NULL = unknown, no RRL */
	uint32_t wall;		/* Unix time, for cookie timestamps */
	uint32_t mono;		/* monotonic seconds, for the RRL */
};

/* One static record: type, TTL and uncompressed RDATA (names in wire form). */
struct dnsd_rr {
	uint16_t type;
	uint16_t rdlen;
	uint32_t ttl;
	uint8_t *rdata;		/* owned */
	unsigned line;		/* config line, for errors */
};

/* The records of one name and one type (RFC 2181 §5). */
struct dnsd_rrset {
	uint16_t type;
	uint16_t n;
	struct dnsd_rr *rr;	/* points into the zone's record array */
};

/* One static name: the apex, a name from `records`, or an empty non-terminal. */
struct dnsd_node {
	uint64_t hash;		/* dnsd_hash() of the lower-case wire name */
	uint8_t name[DNSD_MAX_NAME];	/* lower-case wire name */
	uint8_t namelen;
	uint8_t shown[DNSD_MAX_NAME];	/* the name in the config's case */
	bool delegation;	/* NS below the apex: a zone cut (RFC 1034 §4.2.1) */
	struct dnsd_rrset *set;	/* owned */
	size_t nset;
};

/* The static part of the zone, immutable after zone_new(). */
struct dnsd_zone {
	uint8_t apex[DNSD_MAX_NAME];	/* lower-case wire name */
	size_t apexlen;
	unsigned apexlabels;
	struct dnsd_node *node;	/* node[0] is the apex */
	size_t nnode;
	uint32_t *index;	/* open addressing: node number + 1, 0 = empty */
	size_t indexmask;
	struct dnsd_rr *rr;	/* every record, grouped by node and type */
	size_t nrr;
	bool has_delegation;
	uint64_t child_lens;	/* bit L set: a node is one label of length L below the apex */
	uint8_t soa_neg[DNSD_MAX_NAME * 2 + 32];	/* SOA RR after its owner, TTL = negative */
	size_t soa_neglen;
	uint64_t seed;
};

/* Objects freed only after a grace period (read-copy-update). */
struct dnsd_retired {
	struct dnsd_retired *next;
	uint64_t epoch;		/* the epoch current when it was unlinked */
	void *base;		/* what to free() */
};

/*
 * A published challenge name: immutable once visible to the workers. It
 * starts on a cache line, so the header, the label and the first bytes of
 * the RRset share one line (two 43-byte values: three lines in all).
 */
struct dnsd_centry {
	struct dnsd_retired retire;
	uint32_t gen;		/* d->gen when published (dnsd_mark/dnsd_sweep) */
	uint16_t ntxt;		/* TXT records in the RRset */
	uint16_t bloblen;	/* bytes of the RRset */
	uint8_t labellen;
	bool gone;		/* a tombstone: the name was deregistered (NXDOMAIN) */
	uint8_t data[];		/* the lower-case label, then the TXT RRset in wire
				   form with every owner a pointer to the question (0xC00C) */
};

/*
 * One slot of the challenge table: the entry and its name's hash side by
 * side, so a probe that does not match reads no entry. A slot's hash is
 * written before its entry is published and never changes after.
 */
struct dnsd_cslot {
	_Atomic(struct dnsd_centry *) e;	/* NULL = empty */
	_Atomic uint64_t hash;
};

/* The challenge hash table (open addressing, linear probing, no deletion). */
struct dnsd_ctable {
	struct dnsd_retired retire;
	size_t mask;
	size_t count;
	struct dnsd_cslot slot[];	/* on cache lines: four slots a line */
};

/* One reader's announcement, alone on its cache line. */
struct dnsd_reader {
	_Alignas(64) _Atomic uint64_t seen;	/* 0 = offline, else the epoch it saw */
};

struct dnsd_udp_worker;
struct dnsd_tcp_loop;

struct dnsd {
	struct dnsd_zone *zone;
	uint32_t txt_ttl;
	uint32_t persist_ttl;
	uint32_t neg_ttl;
	uint64_t seed;

	/* challenge table, persist table (by subdomain label) and read-copy-update state */
	_Atomic(struct dnsd_ctable *) table;
	_Atomic(struct dnsd_ctable *) ptable;
	pthread_mutex_t wlock;		/* publishers only; never taken by a worker */
	struct dnsd_retired *retired;	/* under wlock */
	size_t nretired;
	uint32_t gen;			/* the current dnsd_mark() round, under wlock */
	_Atomic uint64_t epoch;		/* starts at 1 */
	struct dnsd_reader reader[DNSD_MAX_READERS];

	/* network */
	unsigned protocol;
	unsigned threads;
	unsigned tcp_idle_timeout;
	unsigned tcp_max_clients;
	struct sockaddr_storage addr[DNSD_MAX_ADDRS];	/* what to bind */
	socklen_t addrlen[DNSD_MAX_ADDRS];
	bool wildcard[DNSD_MAX_ADDRS];
	size_t naddr;
	unsigned port;
	unsigned nthreads;		/* UDP workers per address */
	int udpfd[DNSD_MAX_ADDRS][DNSD_MAX_UDP_THREADS];	/* -1 = none */
	int udpguard[DNSD_MAX_ADDRS][2];	/* keep others off the UDP port (dnsd.c); -1 = none */
	int tcpfd[DNSD_MAX_ADDRS];	/* listening sockets, -1 = none */
	_Atomic bool stop;
	bool started;
	struct dnsd_udp_worker *udp;	/* naddr * nthreads workers */
	size_t nudp;
	struct dnsd_tcp_loop *tcp;
	struct sockaddr_storage self;	/* where dnsd_healthy() sends its query */
	socklen_t selflen;
	/* local ports of dnsd_healthy()'s recent UDP probes (slot = port % N), exempt from RRL */
	_Atomic uint16_t probe_port[DNSD_HEALTH_PROBE_SLOTS];

	/* response-rate limiting (NULL bucket = off) and cookies */
	struct dnsd_rrl rrl;
	bool cookies;
	unsigned ck_rotation;		/* seconds */
	_Atomic uint64_t ck_secret[DNSD_COOKIE_SLOTS][2];	/* ring of 16-byte secrets */
	_Atomic uint64_t ck_gen;	/* the current secret is slot ck_gen % SLOTS */
	_Atomic int64_t ck_next;	/* monotonic second of the next rotation */
	struct dnsd_ctx ext[DNSD_EXT_READERS];	/* dnsd_answer() slots (never counted) */

	/* metrics */
	bool stats;			/* the workers count (params.stats) */
	_Atomic uint64_t nnames;	/* challenge names in the table, under wlock */
	_Atomic uint64_t nvalues;	/* TXT values in them, under wlock */
};

/* A seeded 64-bit hash of a short byte string, for the name tables. */
static inline uint64_t
dnsd_hash(uint64_t seed, const uint8_t *p, size_t n)
{
	uint64_t h = seed ^ ((uint64_t)n * 0x9e3779b97f4a7c15ULL), v;

	while (n >= 8) {
		memcpy(&v, p, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		p += 8;
		n -= 8;
	}
	v = 0;
	memcpy(&v, p, n);
	h = (h ^ v) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return h;
}

/* zone.c */
/* Build the static zone from params; NULL with "file:line: message" in err. */
struct dnsd_zone *zone_new(const struct dnsd_params *p, uint64_t seed, char *err, size_t errlen);
void zone_free(struct dnsd_zone *z);
/* The node of a lower-case wire name, or NULL. */
const struct dnsd_node *zone_find(const struct dnsd_zone *z, const uint8_t *name, size_t len);
/* The rrset of type at node, or NULL. */
const struct dnsd_rrset *zone_rrset(const struct dnsd_node *n, uint16_t type);

/* table.c */
/* Create the empty challenge table; -1 on allocation failure. */
int table_init(struct dnsd *d);
/* Free the table, every entry and everything retired (no worker may run). */
void table_fini(struct dnsd *d);
/* The entry for a lower-case label, or NULL; the caller is an online reader. */
const struct dnsd_centry *table_find(struct dnsd *d, const uint8_t *label, size_t len);
/* The persist entry of a subdomain label, or NULL; the caller is an online reader. */
const struct dnsd_centry *table_find_persist(struct dnsd *d, const uint8_t *label, size_t len);
/* Prefetch the table slot of the first label of message q; returns its hash, or 0. */
uint64_t table_hint(struct dnsd *d, const uint8_t *q, size_t qlen);
/* Prefetch the entry whose hash table_hint() returned; the caller is an online reader. */
void table_hint_entry(struct dnsd *d, uint64_t h);
/* Mark reader slot online (reading) or offline (holding no pointer). */
void rcu_online(struct dnsd *d, unsigned slot);
void rcu_offline(struct dnsd *d, unsigned slot);

/* answer.c */
/* dnsd_answer() for a caller that is already an online reader, with its context. */
int answer_query(struct dnsd *d, struct dnsd_ctx *c, const uint8_t *q, size_t qlen,
    uint8_t *out, size_t outcap, bool tcp);

/* dnsd.c: true if from is one of dnsd_healthy()'s own UDP probes (loopback or our
   own address, from a port a probe holds), which RRL must never drop. */
bool dnsd_is_own_probe(struct dnsd *d, const struct sockaddr *from);

/* rrl.c */
/* Allocate the table when rate > 0; -1 on allocation failure. */
int rrl_init(struct dnsd_rrl *r, unsigned rate, unsigned slip, uint64_t seed);
void rrl_fini(struct dnsd_rrl *r);
/* The kind of an answer from its RCODE, answer count and QTYPE. */
enum dnsd_rrl_kind rrl_kind(unsigned rcode, unsigned ancount, uint16_t qtype);
/* Account one answer of kind to client from (name: lower-case QNAME for the
   QNAME-keyed kinds) at monotonic second now; never allocates or locks. */
enum dnsd_rrl_verdict rrl_account(struct dnsd_rrl *r, const struct sockaddr *from,
    enum dnsd_rrl_kind kind, const uint8_t *name, size_t namelen, uint32_t now);

/* cookie.c */
/* Set up the secret ring (cookies on); -1 if SipHash is unavailable. */
int cookie_init(struct dnsd *d, char *err, size_t errlen);
/* Give a thread context its SipHash context (no-op when cookies are off); -1 on failure. */
int cookie_ctx_init(struct dnsd *d, struct dnsd_ctx *c);
void cookie_ctx_fini(struct dnsd_ctx *c);
/* Rotate the secret when due, and refresh c's copy of it; mono/wall set in c. */
void cookie_tick(struct dnsd *d, struct dnsd_ctx *c);
/* Start a new secret generation now (rotation; tests call it directly). */
void cookie_rotate(struct dnsd *d);
/* The 16-byte RFC 9018 server cookie for client cookie cc, client address
   (ip, iplen: 4, 16 or 0), timestamp ts and secret; -1 on a MAC failure. */
int cookie_make(struct dnsd_ctx *c, const uint8_t *secret, const uint8_t cc[8],
    const uint8_t *ip, size_t iplen, uint32_t ts, uint8_t out[16]);
/* True if the server cookie sc (sclen bytes) is ours for cc and ip, made
   with the current or the previous secret, and its time is within RFC 9018's
   window (at most 1 hour old, 5 minutes ahead) of c->wall. */
bool cookie_valid(struct dnsd_ctx *c, const uint8_t cc[8], const uint8_t *sc, size_t sclen,
    const uint8_t *ip, size_t iplen);
/* The client address bytes for the cookie hash (IPv4-mapped IPv6 as IPv4). */
size_t cookie_client_ip(const struct sockaddr *from, uint8_t ip[16]);

/* stats.c */
/* A thread's counters (cache-line aligned, zeroed), or NULL on allocation failure. */
struct dnsd_counters *counters_new(void);
/* Add c's counters into out (relaxed loads); c may be NULL. */
void counters_add(struct dnsd_counters *c, struct dnsd_stats *out);

/* udp.c */
/* Add every UDP worker's counters into out (dnsd_stats_read). */
void udp_counters_add(struct dnsd *d, struct dnsd_stats *out);
/* Start one worker per open UDP socket (d->udpfd); -1 with a message in err. */
int udp_start(struct dnsd *d, char *err, size_t errlen);
/* Join the workers (the caller has set d->stop). Sockets stay open. */
void udp_stop(struct dnsd *d);

/* tcp.c */
/* Add the TCP loop's counters into out (dnsd_stats_read). */
void tcp_counters_add(struct dnsd *d, struct dnsd_stats *out);
/* Start the TCP event loop on d->tcpfd; -1 with a message in err. */
int tcp_start(struct dnsd *d, char *err, size_t errlen);
/* Wake and join the loop (the caller has set d->stop); close its connections. */
void tcp_stop(struct dnsd *d);

#endif /* DNSD_INTERNAL */

#endif
