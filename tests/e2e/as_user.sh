#!/usr/bin/env bash
# tests/e2e/as_user.sh WANT_PASSED WANT_FAILED WANT_SKIPPED -- the e2e stage again, as the
# README's normal user: a fresh unprivileged account with password-less sudo, a login
# PATH without /usr/sbin, a copy of tests/ and the binaries it owns. Its counts must be
# root's (the arguments), with nothing failed. tests/run.sh runs this after the e2e stage
# when it runs as root; it is not a test_*.sh, so the stage does not run it twice.
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/../integration/lib.sh"

WANT="$1 passed, $2 failed, $3 skipped"
B=${B:-build}
E2E_USER=dns01d-e2e	# created here, removed at exit
SUDOERS=/etc/sudoers.d/dns01d-e2e-test
USER_PATH=/usr/local/bin:/usr/bin:/bin	# Debian's PATH for a normal user's login

for t in useradd userdel sudo visudo; do
	if ! command -v "$t" >/dev/null; then
		fail "e2e as a normal user: $t" "missing (Debian packages passwd, sudo)"
		t_done
	fi
done
if id "$E2E_USER" >/dev/null 2>&1; then
	fail "e2e as a normal user: account" "$E2E_USER exists already (a run killed midway?); userdel -r $E2E_USER"
	t_done
fi

# as_user_cleanup: remove the account and its sudo rule, then lib.sh's cleanup.
as_user_cleanup() {
	local rc=$?
	rm -f "$SUDOERS"
	# The user's run stops what it started (by PID); a leftover makes userdel refuse.
	userdel "$E2E_USER" 2>/dev/null || echo "# userdel $E2E_USER failed: $(ps -o pid=,args= -u "$E2E_USER" | head -n 3 | tr '\n' ' ')"
	(exit "$rc")
	t_cleanup
}
trap as_user_cleanup EXIT

HOMEDIR=$T_DIR/home
if ! useradd --home-dir "$HOMEDIR" --create-home --shell /bin/bash --user-group "$E2E_USER"; then
	fail "e2e as a normal user: useradd" "cannot create $E2E_USER"
	t_done
fi
printf '%s ALL=(ALL) NOPASSWD: ALL\n' "$E2E_USER" >"$SUDOERS.tmp" && chmod 0440 "$SUDOERS.tmp" &&
	visudo -cqf "$SUDOERS.tmp" && mv "$SUDOERS.tmp" "$SUDOERS" ||
	{ fail "e2e as a normal user: sudo rule" "visudo refused it"; t_done; }

# The tree the user runs: the test scripts and the binaries, owned by the user.
TREE=$HOMEDIR/dns01d
mkdir -p "$TREE/$B"
cp -a tests "$TREE/" && cp "$B/dns01d" "$B/dns01" "$TREE/$B/" &&
	chown -R "$E2E_USER:" "$HOMEDIR" && chmod 0711 "$T_DIR" ||
	{ fail "e2e as a normal user: copy" "cannot copy tests/ and the binaries"; t_done; }

OUT=$T_DIR/user-run.log
# The user's session as a login gives it: env -i, the login PATH, its own HOME.
(cd "$TREE" && timeout -k 10 900 sudo -u "$E2E_USER" env -i HOME="$HOMEDIR" USER="$E2E_USER" \
	LOGNAME="$E2E_USER" SHELL=/bin/bash LANG=C.UTF-8 PATH="$USER_PATH" ONLY=e2e B="$B" \
	bash tests/run.sh) >"$OUT" 2>&1
rc=$?
sed 's/^/# user: /' "$OUT"
check_eq "e2e as a normal user: uid is not 0" "$(sudo -u "$E2E_USER" id -u | grep -vc '^0$')" "1"
check_match "e2e as a normal user: the closing line is the last line" "$(tail -n 1 "$OUT")" \
	'^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$'
check_eq "e2e as a normal user: same counts as root" "$(tail -n 1 "$OUT")" "$WANT"
check_eq "e2e as a normal user: exit status" "$rc" "0"
check_eq "e2e as a normal user: nothing skipped that root ran" \
	"$(grep -c '^SKIPPED - ' "$OUT")" "$3"
t_done
