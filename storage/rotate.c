/* storage/rotate.c -- the rotation rule both backends apply: which row a new value takes */
/* SPDX-License-Identifier: ISC */

#include <string.h>

#include "internal.h"

/*
 * Plan publishing txt over an account's rows. rows[] holds its newest kept
 * rows (newest first, by Seq then rowid) of count in all; oldest is the
 * rowid of its oldest row. The same value again becomes newest without
 * pushing another out (RFC 2181 §5: no duplicate RRs); otherwise it takes
 * the oldest row once the account holds keep rows, or a new row. The plan
 * gets the Seq to write and the row to overwrite (0: insert); *now gets the
 * values current afterwards, newest first.
 */
void
storage_txt_plan(const struct storage_txt_row *rows, size_t kept, size_t count,
    long long oldest, unsigned keep, const char *txt, struct storage_txt_plan *plan,
    struct storage_txt *now)
{
	size_t i, dup = kept;

	plan->seq = count > 0 ? rows[0].seq + 1 : 1;
	plan->target = 0;
	for (i = 0; i < kept; i++)
		if (strcmp(rows[i].value, txt) == 0) {
			dup = i;
			break;
		}
	if (dup < kept)
		plan->target = rows[dup].rowid;
	else if (count >= keep)
		plan->target = oldest;

	now->n = 0;
	memcpy(now->values[now->n++], txt, strlen(txt) + 1);
	for (i = 0; i < kept && now->n < keep; i++) {
		if (i == dup || rows[i].value[0] == '\0' || rows[i].rowid == plan->target)
			continue;
		memcpy(now->values[now->n++], rows[i].value, sizeof(rows[i].value));
	}
}
