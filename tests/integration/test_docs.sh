#!/usr/bin/env bash
# tests/integration/test_docs.sh -- every config key of common/config.c is documented in
# dns01d.conf(5), under its table, and in the sample deploy/config.cfg
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

keys=$(sed -n 's/^\s*{ "\([a-z]*\)", "\([a-z0-9_]*\)", K_.*/\1 \2/p' common/config.c)
check "config.c key table read" [ "$(printf '%s\n' "$keys" | grep -c .)" -ge 30 ]
missing_man="" missing_cfg=""
while read -r table key; do
	# The key's entry must sit in the man page's section for its table.
	sect=$(awk -v t=".SH [$table]" '$0 == t { on = 1; next } /^\.SH / { on = 0 } on' docs/dns01d.conf.5)
	printf '%s\n' "$sect" | grep -q "^\.BR $key \" = \"" || missing_man="$missing_man [$table] $key"
	# The sample config names it (set, or commented out with its default).
	grep -Eq "^(# ?)?$key = " deploy/config.cfg || missing_cfg="$missing_cfg [$table] $key"
done <<<"$keys"
check_eq every_key_in_dns01d_conf_5 "${missing_man# }" ""
check_eq every_key_in_sample_config "${missing_cfg# }" ""
t_done
