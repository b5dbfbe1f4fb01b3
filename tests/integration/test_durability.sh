#!/usr/bin/env bash
# tests/integration/test_durability.sh -- /register answers 201 only after an fdatasync
# of the -wal file (group commit), seen from outside with strace; kill -9 cannot show it.
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

REGS=3	# registrations traced

start_default || { fail durability_start "dns01d did not start"; t_done; }
if ! command -v strace >/dev/null; then
	skip durability_fdatasync_before_201 "strace is not installed"
	t_done
fi
TR=$T_DIR/strace.out
strace -f -qq -y -s 16 -e trace=fdatasync,sendto,sendmsg,writev,write -o "$TR" -p "$DAEMON_PID" &
SPID=$!
T_PIDS+=("$SPID")
# Wait (at most 5 s) until strace is attached.
for _ in $(seq 1 50); do
	[ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$DAEMON_PID/status")" = "$SPID" ] && break
	sleep 0.1
done
if [ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$DAEMON_PID/status")" != "$SPID" ]; then
	skip durability_fdatasync_before_201 "cannot ptrace here"
	t_done
fi
for i in $(seq 1 "$REGS"); do
	register_ok || fail "durability_register_$i" "no account"
done
sleep 0.3
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
# For each 201 sent, an fdatasync of the -wal file must come before it (and after the
# previous 201: every registration is covered by its own or a shared sync).
res=$(awk -v wal="$(basename "$DB")-wal>" '
	/fdatasync\(/ && index($0, wal) && / = 0$/ { synced = 1 }
	/HTTP\/1\.1 201/ { n++; if (synced) ok++; synced = 0 }
	END { printf "%d %d", n, ok }' "$TR")
echo "# 201 replies traced, and preceded by a WAL fdatasync: $res"
check_eq durability_fdatasync_before_each_201 "$res" "$REGS $REGS"
t_done
