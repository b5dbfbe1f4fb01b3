#!/bin/sh
# deploy/deps.sh -- install the Debian 12 packages that build and run dns01d; with
# --test, also those the tests and benchmarks need. Run as root (sudo). Needs nothing
# but apt-get, so it works before make is installed.
#
# The test tools include servers (knot, unbound). They are tools here, not services:
# while they install, policy-rc.d(8) forbids starting any service, and afterwards every
# unit they ship that was not enabled before is disabled again (systemctl disable works
# without a running systemd; deb-systemd-helper where systemctl is absent).
set -eu
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
lists=debian-packages.txt
test_tools=""
case "${1:-}" in
--test) lists="$lists debian-test-packages.txt"; test_tools=1 ;;
"") ;;
*) echo "usage: deps.sh [--test]" >&2; exit 2 ;;
esac
POLICY=/usr/sbin/policy-rc.d
# Test packages that are part of the system itself: their units are never touched.
SYSTEM_PKGS=" systemd sudo procps iproute2 "
# Packages that a test package pulls in and that ship its service unit
# (postgresql's postgresql.service is in postgresql-common).
UNIT_PKGS="postgresql-common"

# units: the systemd units (not templates) that the installed test packages ship.
units() {
	# shellcheck disable=SC2013
	for p in $(grep -v '^#' debian-test-packages.txt) $UNIT_PKGS; do
		case "$SYSTEM_PKGS" in *" $p "*) ;; *) dpkg -L "$p" 2>/dev/null ;; esac
	done |
		sed -n 's#^/\(usr/\)\{0,1\}lib/systemd/system/\([^/@]*\.\(service\|socket\|timer\|path\)\)$#\2#p' |
		sort -u
}

# enabled UNIT: true if UNIT is enabled (offline: only the symlinks are read).
enabled() {
	if command -v systemctl >/dev/null 2>&1; then
		[ "$(systemctl is-enabled "$1" 2>/dev/null)" = enabled ]
	else
		deb-systemd-helper --quiet is-enabled "$1" 2>/dev/null
	fi
}

apt-get update
was_enabled=" "
if [ -n "$test_tools" ]; then
	for u in $(units); do
		if enabled "$u"; then was_enabled="$was_enabled$u "; fi
	done
	if [ ! -e "$POLICY" ]; then
		printf '#!/bin/sh\n# written by dns01d deploy/deps.sh while it installs; exit 101: no service starts\nexit 101\n' >"$POLICY"
		chmod 0755 "$POLICY"
		trap 'rm -f "$POLICY"' EXIT INT TERM
	fi
fi
# shellcheck disable=SC2046,SC2086
apt-get install -y --no-install-recommends $(cat $lists | grep -v '^#')
if [ -n "$test_tools" ]; then
	for u in $(units); do
		case "$was_enabled" in *" $u "*) continue ;; esac
		enabled "$u" || continue
		echo "deps.sh: $u is a test tool here, not a service: disabling it"
		if command -v systemctl >/dev/null 2>&1; then
			systemctl disable --now "$u" 2>/dev/null || systemctl disable "$u"
		else
			deb-systemd-helper disable "$u"
		fi
		if enabled "$u"; then
			echo "deps.sh: $u is still enabled after disabling it" >&2
			exit 1
		fi
	done
fi
