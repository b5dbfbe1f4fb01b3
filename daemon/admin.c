/* daemon/admin.c -- `dns01d admin`: list, show, delete, clear, note, prune, rotate-key */
/* SPDX-License-Identifier: ISC */

/*
 * An operator's tool that runs beside the daemon, on the same database,
 * through storage.h alone (SQLite or PostgreSQL). Deletes and clears reach
 * a running daemon's DNS through the change log (storage_watch). Exit
 * status: 0 done, 1 an error (no such account, database failure), 2 bad
 * usage; every failure is one line on stderr.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../common/common.h"
#include "../storage/storage.h"
#include "daemon.h"

#define ADMIN_MAX_DAYS 36500		/* --stale and --unused-days ceiling (100 years) */
#define ADMIN_PRUNE_MAX 100000		/* accounts one prune run deletes at most (run again) */
#define ADMIN_MAX_ERR 512		/* bytes in one error line */
#define ADMIN_EXIT_ERROR 1
#define ADMIN_EXIT_USAGE 2

static const char admin_usage[] =
    "usage: dns01d admin -c FILE list [--json] [--stale DAYS]\n"
    "       dns01d admin -c FILE show SUBDOMAIN [--json]\n"
    "       dns01d admin -c FILE delete SUBDOMAIN\n"
    "       dns01d admin -c FILE clear SUBDOMAIN\n"
    "       dns01d admin -c FILE note SUBDOMAIN TEXT\n"
    "       dns01d admin -c FILE prune --unused-days N [--dry-run | --yes]\n"
    "       dns01d admin -c FILE rotate-key SUBDOMAIN\n";

/* What one run was asked to do. */
struct admin_cmd {
	const char *name;		/* list, show, ... */
	const char *sub;		/* SUBDOMAIN, lower-cased into subbuf */
	const char *text;		/* note TEXT */
	bool json;
	bool yes;
	long days;			/* --stale / --unused-days; -1 when not given */
	char subbuf[STORAGE_ID_LEN + 1];
};

/* Print one line (the full usage is `dns01d admin --help`); return the usage exit status. */
static int
usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "dns01d admin: %s%s%s (see dns01d admin --help)\n", msg, arg ? ": " : "",
	    arg ? arg : "");
	return ADMIN_EXIT_USAGE;
}

/* Parse a day count 0..ADMIN_MAX_DAYS; -1 if s is not one. */
static long
parse_days(const char *s)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > ADMIN_MAX_DAYS)
		return -1;
	return v;
}

/* The command's SUBDOMAIN: a UUID, compared lower-case (DNS names ignore case). */
static int
take_subdomain(struct admin_cmd *c, const char *s)
{
	size_t i;

	if (s == NULL || !is_uuid(s))
		return usage_error("not a subdomain (a UUID)", s ? s : "(missing)");
	for (i = 0; i <= STORAGE_ID_LEN; i++)
		c->subbuf[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	c->sub = c->subbuf;
	return 0;
}

/* Parse the words after the command name into c. Returns 0 or the usage exit status. */
static int
parse_command(int argc, char **argv, struct admin_cmd *c)
{
	static const char *const with_sub[] = { "show", "delete", "clear", "note", "rotate-key" };
	int i, pos = 0, rc;
	size_t k;
	bool needs_sub = false, dry = false;

	c->name = argv[0];
	c->days = -1;
	for (k = 0; k < sizeof(with_sub) / sizeof(with_sub[0]); k++)
		needs_sub |= strcmp(c->name, with_sub[k]) == 0;
	if (!needs_sub && strcmp(c->name, "list") != 0 && strcmp(c->name, "prune") != 0)
		return usage_error("unknown command", c->name);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0 && (strcmp(c->name, "list") == 0 ||
		    strcmp(c->name, "show") == 0))
			c->json = true;
		else if ((strcmp(a, "--stale") == 0 && strcmp(c->name, "list") == 0) ||
		    (strcmp(a, "--unused-days") == 0 && strcmp(c->name, "prune") == 0)) {
			if ((c->days = parse_days(i + 1 < argc ? argv[i + 1] : NULL)) == -1)
				return usage_error("not a number of days (0..36500)", a);
			i++;
		} else if (strcmp(a, "--dry-run") == 0 && strcmp(c->name, "prune") == 0)
			dry = true;
		else if (strcmp(a, "--yes") == 0 && strcmp(c->name, "prune") == 0)
			c->yes = true;
		else if (a[0] == '-' && a[1] != '\0')
			return usage_error("unknown option", a);
		else if (pos == 0 && needs_sub) {
			if ((rc = take_subdomain(c, a)) != 0)
				return rc;
			pos++;
		} else if (pos == 1 && strcmp(c->name, "note") == 0) {
			c->text = a;
			pos++;
		} else
			return usage_error("unexpected argument", a);
	}
	if (needs_sub && c->sub == NULL)
		return usage_error("missing SUBDOMAIN", NULL);
	if (strcmp(c->name, "note") == 0 && c->text == NULL)
		return usage_error("missing TEXT", NULL);
	if (c->text != NULL && !storage_note_valid(c->text))
		return usage_error("TEXT must be at most 256 bytes of UTF-8 without control "
		    "characters", NULL);
	if (strcmp(c->name, "prune") == 0 && c->days == -1)
		return usage_error("prune needs --unused-days N", NULL);
	if (dry && c->yes)
		return usage_error("--dry-run and --yes contradict each other", NULL);
	return 0;
}

/* Unix time as "2026-12-04T17:00:00Z", or "-" for 0 (unknown or never). */
static const char *
stamp(long long t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ",
	    &tm) == 0)
		snprintf(buf, len, "-");
	return buf;
}

/*
 * Unused for days: the last update (or, never updated, the creation) is at
 * least days days old. Times have 1 s resolution, so "at least" (<=): with 0
 * days every account qualifies, even one written in this very second.
 */
static bool
is_idle(const struct storage_info *info, long days, time_t now)
{
	long long last = info->last_update > 0 ? info->last_update : info->created;

	return last <= (long long)now - (long long)days * 86400;
}

/* One account as a JSON object (no secrets). Caller decrefs. */
static json_t *
info_json(const struct storage_info *info, bool values)
{
	char b1[32], b2[32];
	json_t *o, *a;
	size_t i;

	o = json_pack("{s:s, s:s, s:s?, s:s?, s:s}", "subdomain", info->subdomain,
	    "username", info->username,
	    "created", info->created > 0 ? stamp(info->created, b1, sizeof(b1)) : NULL,
	    "last_update", info->last_update > 0 ? stamp(info->last_update, b2, sizeof(b2)) : NULL,
	    "note", info->note);
	if (o == NULL)
		return NULL;
	if ((a = json_array()) != NULL)
		for (i = 0; i < info->nallowfrom; i++)
			json_array_append_new(a, json_string(info->allowfrom[i]));
	json_object_set_new(o, "allowfrom", a);
	if (values && (a = json_array()) != NULL) {
		for (i = 0; i < info->txt.n; i++)
			json_array_append_new(a, json_string(info->txt.values[i]));
		json_object_set_new(o, "txt", a);
	}
	return o;
}

/* State of a list run. */
struct lister {
	const struct admin_cmd *cmd;
	time_t now;
	json_t *array;			/* --json */
	size_t shown;
};

/* The allowfrom list as "a,b" or "-". */
static void
allow_text(const struct storage_info *info, char *buf, size_t len)
{
	size_t i, o = 0;

	snprintf(buf, len, "-");
	for (i = 0; i < info->nallowfrom && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : "", info->allowfrom[i]);
}

/* storage_list callback: one line (or one JSON object) per account shown. */
static int
list_one(void *arg, const struct storage_info *info)
{
	struct lister *l = arg;
	char b1[32], b2[32], allow[STORAGE_MAX_ALLOWFROM * STORAGE_CIDR_LEN];

	if (l->cmd->days >= 0 && !is_idle(info, l->cmd->days, l->now))
		return 0;
	l->shown++;
	if (l->array != NULL)
		return json_array_append_new(l->array, info_json(info, false));
	allow_text(info, allow, sizeof(allow));
	printf("%s\t%s\t%s\t%s\t%s\n", info->subdomain, stamp(info->created, b1, sizeof(b1)),
	    stamp(info->last_update, b2, sizeof(b2)), allow, info->note[0] ? info->note : "-");
	return 0;
}

static int
cmd_list(struct storage *st, const struct admin_cmd *c)
{
	struct lister l = { .cmd = c, .now = time(NULL) };
	int rc = ADMIN_EXIT_ERROR;

	if (c->json && (l.array = json_array()) == NULL)
		return rc;
	if (!c->json)
		printf("SUBDOMAIN\tCREATED\tLAST_UPDATE\tALLOWFROM\tNOTE\n");
	if (storage_list(st, list_one, &l) == -1) {
		fprintf(stderr, "dns01d admin: list: database error (see above)\n");
		goto out;
	}
	if (c->json && json_dumpf(l.array, stdout, JSON_INDENT(2)) == -1)
		goto out;
	if (c->json)
		printf("\n");
	rc = 0;
out:
	json_decref(l.array);
	return rc;
}

/* Look the command's account up; prints the error. 0, or an exit status. */
static int
get_info(struct storage *st, const struct admin_cmd *c, struct storage_info *info)
{
	switch (storage_info_get(st, c->sub, info)) {
	case 0:
		return 0;
	case 1:
		fprintf(stderr, "dns01d admin: %s: no such account\n", c->sub);
		return ADMIN_EXIT_ERROR;
	default:
		fprintf(stderr, "dns01d admin: %s: database error (see above)\n", c->sub);
		return ADMIN_EXIT_ERROR;
	}
}

static int
cmd_show(struct storage *st, const struct admin_cmd *c)
{
	struct storage_info *info;
	char b1[32], b2[32], allow[STORAGE_MAX_ALLOWFROM * STORAGE_CIDR_LEN];
	json_t *o;
	size_t i;
	int rc;

	if ((info = calloc(1, sizeof(*info))) == NULL)
		return ADMIN_EXIT_ERROR;
	if ((rc = get_info(st, c, info)) != 0)
		goto out;
	if (c->json) {
		rc = (o = info_json(info, true)) == NULL || json_dumpf(o, stdout,
		    JSON_INDENT(2)) == -1 ? ADMIN_EXIT_ERROR : 0;
		printf("\n");
		json_decref(o);
		goto out;
	}
	allow_text(info, allow, sizeof(allow));
	printf("subdomain: %s\nusername: %s\ncreated: %s\nlast_update: %s\nallowfrom: %s\n"
	    "note: %s\n", info->subdomain, info->username, stamp(info->created, b1, sizeof(b1)),
	    stamp(info->last_update, b2, sizeof(b2)), allow, info->note[0] ? info->note : "-");
	for (i = 0; i < info->txt.n; i++)
		printf("txt: %s\n", info->txt.values[i]);
out:
	free(info);
	return rc;
}

/* Report a write verb's result (0 done, 1 no such account, -1 error) as an exit status. */
static int
verb_result(int r, const struct admin_cmd *c, const char *done)
{
	if (r == 0) {
		if (done != NULL)
			printf("%s: %s\n", c->sub, done);
		return 0;
	}
	fprintf(stderr, "dns01d admin: %s: %s\n", c->sub, r == 1 ? "no such account" :
	    "database error (see above)");
	return ADMIN_EXIT_ERROR;
}

static int
cmd_rotate(struct storage *st, const struct admin_cmd *c)
{
	char key[STORAGE_KEY_LEN + 1];
	int r = storage_key_rotate(st, c->sub, key);

	if (r == 0)
		printf("%s\n", key);	/* the operator asked for it: stdout only, never logged */
	explicit_bzero(key, sizeof(key));
	return verb_result(r, c, NULL);
}

/* A growing list of subdomains to prune, capped at ADMIN_PRUNE_MAX. */
struct pruner {
	long days;
	time_t now;
	char (*subs)[STORAGE_ID_LEN + 1];
	size_t n, cap;
	bool full;
};

static int
prune_pick(void *arg, const struct storage_info *info)
{
	struct pruner *p = arg;
	void *grown;

	if (!is_idle(info, p->days, p->now))
		return 0;
	if (p->n == ADMIN_PRUNE_MAX) {
		p->full = true;
		return 1;
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		if ((grown = realloc(p->subs, p->cap * sizeof(*p->subs))) == NULL)
			return -1;
		p->subs = grown;
	}
	memcpy(p->subs[p->n++], info->subdomain, STORAGE_ID_LEN + 1);
	return 0;
}

static int
cmd_prune(struct storage *st, const struct admin_cmd *c)
{
	struct pruner p = { .days = c->days, .now = time(NULL) };
	size_t i, done = 0;
	int rc = ADMIN_EXIT_ERROR;

	if (storage_list(st, prune_pick, &p) == -1 && !p.full) {
		fprintf(stderr, "dns01d admin: prune: database error (see above)\n");
		goto out;
	}
	for (i = 0; i < p.n; i++) {
		if (!c->yes) {
			printf("would delete %s\n", p.subs[i]);
			continue;
		}
		if (storage_account_delete(st, p.subs[i]) == -1) {
			fprintf(stderr, "dns01d admin: %s: database error (see above)\n", p.subs[i]);
			goto out;
		}
		printf("deleted %s\n", p.subs[i]);
		done++;
	}
	printf("%zu account%s unused for %ld days%s%s\n", p.n, p.n == 1 ? "" : "s", c->days,
	    c->yes ? ", deleted" : "; dry run, nothing deleted (add --yes)",
	    p.full ? "; more left: run again" : "");
	rc = 0;
out:
	free(p.subs);
	return rc;
}

/* Run the parsed command on the open database. Returns the exit status. */
static int
run(struct storage *st, const struct admin_cmd *c)
{
	if (strcmp(c->name, "list") == 0)
		return cmd_list(st, c);
	if (strcmp(c->name, "show") == 0)
		return cmd_show(st, c);
	if (strcmp(c->name, "delete") == 0)
		return verb_result(storage_account_delete(st, c->sub), c, "deleted");
	if (strcmp(c->name, "clear") == 0)
		return verb_result(storage_txt_clear(st, c->sub), c, "values cleared");
	if (strcmp(c->name, "note") == 0)
		return verb_result(storage_note_set(st, c->sub, c->text), c, "note set");
	if (strcmp(c->name, "rotate-key") == 0)
		return cmd_rotate(st, c);
	return cmd_prune(st, c);
}

/* See daemon.h. */
int
admin_main(int argc, char **argv)
{
	struct admin_cmd cmd;
	struct config cfg;
	struct storage *st = NULL;
	char err[ADMIN_MAX_ERR], name[STORAGE_DESCRIBE_LEN];
	enum storage_engine e;
	const char *path = NULL;
	int i = 1, rc;

	memset(&cmd, 0, sizeof(cmd));
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(admin_usage, stdout);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
		path = argv[2];
		i = 3;
	}
	if (path == NULL)
		return usage_error("-c FILE is needed", NULL);
	if (i >= argc)
		return usage_error("missing command", NULL);
	if ((rc = parse_command(argc - i, argv + i, &cmd)) != 0)
		return rc;
	if (config_load(path, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return ADMIN_EXIT_ERROR;
	}
	(void)log_init(LOG_LEVEL_WARN, LOG_FORMAT_TEXT, NULL);
	e = strcmp(cfg.db_engine, "postgres") == 0 ? STORAGE_POSTGRES : STORAGE_SQLITE;
	storage_describe(e, cfg.db_connection, name, sizeof(name));
	if ((st = storage_open_engine(e, cfg.db_connection, cfg.txt_values, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "%s: %s\n", name, err);
		rc = ADMIN_EXIT_ERROR;
	} else
		rc = run(st, &cmd);
	storage_close(st);
	config_free(&cfg);
	log_close();
	return rc;
}
