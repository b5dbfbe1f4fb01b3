/* daemon/privdrop.c -- bind as root, then run as [general] user and group for good */
/* SPDX-License-Identifier: ISC */

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

/* True if this process must change its ids: root, with a user set. */
static bool
must_switch(const struct config *cfg)
{
	return cfg->user != NULL && geteuid() == 0 && cfg->run_uid != 0;
}

/* See daemon.h. */
int
privdrop_check(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->user == NULL) {
		if (geteuid() == 0)
			log_warnx("running as root: set [general] user (e.g. \"dns01d\") in %s to "
			    "drop privileges once the ports are bound", cfg->path);
		return 0;
	}
	if (geteuid() == 0 || (getuid() == cfg->run_uid && geteuid() == cfg->run_uid))
		return 0;
	snprintf(err, errlen, "%s: [general] user = \"%s\" (uid %u) needs dns01d started as root "
	    "or as that user; it runs as uid %u", cfg->path, cfg->user, (unsigned)cfg->run_uid,
	    (unsigned)geteuid());
	return -1;
}

/* See daemon.h: only the supplementary groups are dropped for good here. */
int
privdrop_borrow(const struct config *cfg)
{
	if (!must_switch(cfg))
		return 0;
	if (setgroups(1, &cfg->run_gid) == -1 || setegid(cfg->run_gid) == -1 ||
	    seteuid(cfg->run_uid) == -1)
		return -1;
	return 0;
}

/* See daemon.h. */
int
privdrop_resume(const struct config *cfg)
{
	if (cfg->user == NULL || cfg->run_uid == 0 || getuid() != 0)
		return 0;
	if (seteuid(0) == -1 || setegid(0) == -1)
		return -1;
	return 0;
}

/* See daemon.h. */
int
privdrop_final(const struct config *cfg, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	bool switched = must_switch(cfg);

	if (cfg->user == NULL)
		return 0;
	if (switched) {
		/* Groups first: once the uid is not 0, the groups cannot change. */
		if (setgroups(1, &cfg->run_gid) == -1 ||
		    setresgid(cfg->run_gid, cfg->run_gid, cfg->run_gid) == -1 ||
		    setresuid(cfg->run_uid, cfg->run_uid, cfg->run_uid) == -1) {
			snprintf(err, errlen, "cannot switch to user %s (uid %u, gid %u): %s",
			    cfg->user, (unsigned)cfg->run_uid, (unsigned)cfg->run_gid,
			    strerror(errno));
			return -1;
		}
	}
	/* The drop is for good: none of the ids is 0 and root cannot be taken back. */
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != cfg->run_uid || eu != cfg->run_uid || su != cfg->run_uid ||
	    (switched && (rg != cfg->run_gid || eg != cfg->run_gid || sg != cfg->run_gid)) ||
	    (cfg->run_uid != 0 && setuid(0) != -1)) {
		snprintf(err, errlen, "user %s: the privilege drop did not hold", cfg->user);
		return -1;
	}
	log_info("running as user %s (uid %u, gid %u)", cfg->user, (unsigned)eu, (unsigned)eg);
	return 0;
}
