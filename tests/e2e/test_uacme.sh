#!/usr/bin/env bash
# tests/e2e/test_uacme.sh -- a third-party client (Debian's uacme) issues through dns01d.
# SPDX-License-Identifier: MIT
#
# The reference client of ../shared/testbed/README.md item 8: uacme orders example.test
# and *.example.test from Pebble, its hook POSTs each dns-01 value to dns01d's /update,
# and Pebble validates through unbound, which follows the CNAME into dns01d's zone.
# uacme has no option for a private CA, so it runs in a private mount namespace in
# which the throwaway CA is bind-mounted over the system bundle (the real file is
# never changed).
. "$(dirname "$0")/bed.sh"

SYS_BUNDLE=/etc/ssl/certs/ca-certificates.crt

if ! bed_need pebble unbound unbound-checkconf unbound-control dig curl openssl python3 uacme unshare; then
	fail "uacme: test tools" "missing:$BED_MISSING (sudo deploy/deps.sh --test)"
	t_done
fi
if [ ! -f "$SYS_BUNDLE" ]; then
	fail "uacme: CA bundle" "no $SYS_BUNDLE to bind-mount over (Debian package ca-certificates)"
	t_done
fi
# A private mount namespace: as root directly; as a normal user in a user namespace, or
# else through sudo, going back to the user's uid before uacme runs (DROP).
UNSHARE=(unshare -m --propagation private)
DROP=()
if [ "$(id -u)" -ne 0 ]; then
	UNSHARE=(unshare -r -m --propagation private)
	if ! "${UNSHARE[@]}" sh -c "mount --bind /dev/null $SYS_BUNDLE" >/dev/null 2>&1; then
		# The hook's settings pass through sudo's environment reset by name (the key
		# stays off every command line).
		UNSHARE=(sudo -n --preserve-env=E2E_API_URL,E2E_API_USER,E2E_API_KEY,E2E_API_SUB
			unshare -m --propagation private)
		DROP=(setpriv "--reuid=$(id -u)" "--regid=$(id -g)" --init-groups)
	fi
fi
if ! "${UNSHARE[@]}" sh -c "mount --bind /dev/null $SYS_BUNDLE" >/dev/null 2>&1; then
	skip "uacme issues through dns01d" "cannot bind-mount in a private mount namespace (${UNSHARE[*]})"
	t_done
fi
if [ ! -x "$DNS01D_BIN" ]; then
	fail "dns01d is built" "no executable $DNS01D_BIN (run make first)"
	t_done
fi

if ! { bed_make_ca && bed_start_dns01d && bed_start_unbound && bed_start_pebble PEB; }; then
	fail "uacme: test bed starts" "see the lines above"
	t_done
fi
ok "uacme: test bed starts (dns01d, unbound, Pebble)"

# The account at dns01d, and the CNAME delegation in unbound's zone.
register ""
check_match "uacme: register" "$FULLDOMAIN" "^[0-9a-f-]{36}\.auth\.example\.test$"
bed_cname example.test "$FULLDOMAIN" || fail "uacme: CNAME in unbound's zone" "reload failed"
probe=$(txt43 "probe-$$")
check_eq "uacme: POST /update" "$(update "$probe")" "200"
ans=$(bed_dig _acme-challenge.example.test TXT)
check_match "uacme: unbound follows the CNAME to dns01d" "$(printf '%s' "$ans" | tr '\n' ' ')" \
	"CNAME[[:space:]]+$FULLDOMAIN\..*TXT[[:space:]]+\"$probe\""

export E2E_API_URL=$API_URL E2E_API_USER=$USERNAME E2E_API_KEY=$PASSWORD E2E_API_SUB=$SUBDOMAIN
U=$T_DIR/uacme
mkdir -p "$U"
# $1: a uacme command line, run with the throwaway CA as the only trusted root.
uacme_ns() {
	run_cmd "${UNSHARE[@]}" sh -c 'mount --bind "$0" "$1" && shift && exec "$@"' \
		"$BED_CA" "$SYS_BUNDLE" "${DROP[@]}" uacme -v -c "$U" -a "$PEB_DIR_URL" -y -t EC "$@"
}
uacme_ns new
expect_rc "uacme: new account" 0
uacme_ns -h "$BED_HERE/uacme-hook.sh" issue example.test '*.example.test'
if expect_rc "uacme: issue example.test and *.example.test" 0; then
	echo "# uacme issue wall time: $SECS s"
	c=$U/example.test/cert.pem
	v=$(openssl verify -CAfile "$PEB_ROOT" -untrusted "$c" "$c" 2>&1)
	check_match "uacme: chain verifies against Pebble's root" "$v" ": OK$"
	check_eq "uacme: SANs" "$(cert_sans "$c")" "*.example.test example.test"
	check "uacme: key matches" key_matches_cert "$U/private/example.test/key.pem" "$c"
	# Both authorizations (same record name) were validated while both values stood.
	n=$(grep -c 'hook.*begin dns-01' "$ERR")
	check_eq "uacme: two dns-01 challenges answered" "$n" "2"
fi
check "dns01d still running" kill -0 "$DAEMON_PID"
t_done
