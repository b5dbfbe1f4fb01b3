#!/usr/bin/env bash
# tests/integration/test_deb.sh -- the Debian packages: dpkg-buildpackage -us -uc -b builds
# dns01d and dns01 in a copy of the tree (no network), lintian reports no error, and
# the packages hold the unit, the config, the man pages and the maintainer scripts
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

for t in dpkg-buildpackage dh lintian dpkg-deb; do
	if ! command -v "$t" >/dev/null; then
		fail "deb: $t installed" "missing (sudo deploy/deps.sh --test installs debhelper, lintian)"
		t_done
	fi
done

before=$(git status --porcelain --ignored 2>/dev/null)
# A copy of the tracked and new files (not build/, not ignored files): the worktree stays clean.
SRC=$T_DIR/deb/src
mkdir -p "$SRC"
if [ -d .git ] || [ -f .git ]; then
	git ls-files -co --exclude-standard -z | tar --null -cf - -T - | tar -xf - -C "$SRC"
else
	tar --exclude=./build --exclude='./build-*' --exclude=./data -cf - . | tar -xf - -C "$SRC"
fi
# The package is built as a user would: none of this run's make settings (make check
# passes B=build-asan and sanitizer flags down through the environment).
(cd "$SRC" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u B -u SAN -u OPT \
	timeout -k 10 600 dpkg-buildpackage -us -uc -b) >"$T_DIR/deb/build.log" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
	fail deb_builds "dpkg-buildpackage exited $rc: $(tail -n 8 "$T_DIR/deb/build.log" | tr '\n' ' ')"
	t_done
fi
ok deb_builds
DEB=$(ls "$T_DIR"/deb/dns01d_*.deb 2>/dev/null | head -n 1)
CLI=$(ls "$T_DIR"/deb/dns01_*.deb 2>/dev/null | head -n 1)
check deb_dns01d_built [ -f "$DEB" ]
check deb_dns01_built [ -f "$CLI" ]

lint=$(lintian "$T_DIR"/deb/*.changes 2>&1)
echo "$lint" | grep -v 'running with root privileges' | sed 's/^/# lintian: /'
check_eq deb_lintian_no_errors "$(echo "$lint" | grep -c '^E: ')" "0"

list=$(dpkg-deb -c "$DEB")
for f in ./lib/systemd/system/dns01d.service ./etc/dns01d/config.cfg ./usr/sbin/dns01d \
	./usr/share/man/man8/dns01d.8.gz ./usr/share/man/man5/dns01d.conf.5.gz; do
	check_match "deb: dns01d holds $f" "$list" " $f\$"
done
check_match "deb: dns01 holds ./usr/bin/dns01" "$(dpkg-deb -c "$CLI")" ' \./usr/bin/dns01$'
check_match "deb: dns01 holds its man page" "$(dpkg-deb -c "$CLI")" ' \./usr/share/man/man1/dns01\.1\.gz$'
check_match "deb: config is a conffile" "$(dpkg-deb -I "$DEB" conffiles)" '^/etc/dns01d/config\.cfg$'
X=$T_DIR/deb/x
mkdir -p "$X"
dpkg-deb -x "$DEB" "$X" && dpkg-deb -e "$DEB" "$X/DEBIAN"
check_eq "deb: unit ExecStart" "$(sed -n 's/^ExecStart=//p' "$X/lib/systemd/system/dns01d.service")" \
	"/usr/sbin/dns01d -c /etc/dns01d/config.cfg"
check_match "deb: postinst creates the dns01d user" "$(cat "$X/DEBIAN/postinst")" 'adduser .*--system .*dns01d'
check_match "deb: config readable by the dns01d group" "$(cat "$X/DEBIAN/postinst")" \
	'dpkg-statoverride --update --add root dns01d 0640 /etc/dns01d/config.cfg'
# Not started or enabled at install: the operator edits the config first.
check_eq "deb: postinst does not start the service" \
	"$(grep -Ec 'deb-systemd-invoke (start|restart)|systemctl .*start' "$X/DEBIAN/postinst")" "0"
# (debhelper's postinst enables it again on upgrade only if the operator had enabled it.)
check_eq "deb: postinst enables the service only if it was enabled" \
	"$(grep -B 2 -E 'deb-systemd-helper enable|systemctl .*enable' "$X/DEBIAN/postinst" |
		grep -c 'was-enabled')" \
	"$(grep -cE 'deb-systemd-helper enable|systemctl .*enable' "$X/DEBIAN/postinst")"
check_eq "deb: the worktree is as it was" "$(git status --porcelain --ignored 2>/dev/null)" "$before"
t_done
