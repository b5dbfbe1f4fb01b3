#!/bin/sh
# tests/e2e/uacme-hook.sh -- uacme challenge hook: publish dns-01 values through the acme-dns API.
# SPDX-License-Identifier: MIT
#
# uacme calls: HOOK METHOD TYPE IDENT TOKEN AUTH (METHOD is begin, done or failed).
# For dns-01, AUTH is already the TXT value (base64url SHA-256 of the key authorization).
# Declines every other challenge type (exit 1), so uacme moves to the next one.
# Reads the account from the environment: E2E_API_URL, E2E_API_USER, E2E_API_KEY,
# E2E_API_SUB (the key goes in a header read from stdin, never on a command line).
method=$1 type=$2 auth=$5
[ "$type" = dns-01 ] || exit 1
[ "$method" = begin ] || exit 0
code=$(printf 'X-Api-User: %s\nX-Api-Key: %s\n' "$E2E_API_USER" "$E2E_API_KEY" |
	curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -H @- \
		--data-binary "{\"subdomain\":\"$E2E_API_SUB\",\"txt\":\"$auth\"}" "$E2E_API_URL/update")
[ "$code" = 200 ] || { echo "uacme-hook: POST /update answered $code" >&2; exit 2; }
exit 0
