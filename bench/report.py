#!/usr/bin/env python3
# bench/report.py -- parse dnsperf and wrk output into results, and print the bench's one table
# SPDX-License-Identifier: ISC
"""Usage:

  report.py dnsperf LABEL FILE EXPECT_RCODE CPU_TICKS CLK_TCK
      Parse one dnsperf run (FILE) and print result lines for LABEL:
      LABEL.qps, LABEL.lat (average latency, us), LABEL.cpu (server CPU us per
      completed query, from CPU_TICKS clock ticks of utime+stime), LABEL.ok (1 if
      every completed query got EXPECT_RCODE and at least one completed).

  report.py wrk LABEL FILE
      Parse one wrk run that used bench/update.lua or bench/register.lua and
      print LABEL.rps, LABEL.p99 (ms), LABEL.bad (unexpected statuses plus
      socket errors).

  report.py table RESULTS
      RESULTS holds "key value" lines (a key may repeat: one line per round).
      Print the table with the median of each key; exit 0 if every row with a
      target passes, 1 otherwise.
"""

import re
import statistics
import sys

# acme-dns is not packaged for Debian, so its figures are constants: the ones
# published in issue 4 (same 2-core machine; bcrypt on every /update).
ACME_DNS_UPDATE_RPS = 33.0
ACME_DNS_UPDATE_P99_MS = 162.0
ACME_DNS_ISOLATION = 0.12


def num(pattern, text, conv=float):
    m = re.search(pattern, text, re.M)
    return conv(m.group(1)) if m else None


def cmd_dnsperf(label, path, expect, ticks, clk_tck):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    completed = num(r"^\s*Queries completed:\s+(\d+)", text, int)
    qps = num(r"^\s*Queries per second:\s+([\d.]+)", text)
    lat = num(r"^\s*Average Latency \(s\):\s+([\d.]+)", text)  # first one: queries
    codes = re.search(r"^\s*Response codes:\s+(.*)$", text, re.M)
    if completed is None or qps is None or lat is None:
        sys.stderr.write("report.py: %s: no dnsperf statistics in %s\n" % (label, path))
        print("%s.ok 0" % label)
        return 1
    ok = 0
    if codes and completed > 0:
        parts = re.findall(r"([A-Z]+) (\d+)", codes.group(1))
        ok = int(len(parts) == 1 and parts[0][0] == expect and int(parts[0][1]) == completed)
    print("%s.qps %.1f" % (label, qps))
    print("%s.lat %.1f" % (label, lat * 1e6))
    if completed > 0:
        print("%s.cpu %.3f" % (label, float(ticks) / float(clk_tck) * 1e6 / completed))
    print("%s.ok %d" % (label, ok))
    return 0


def cmd_wrk(label, path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    rps = num(r"^bench-rps:\s+([\d.]+)", text)
    p99 = num(r"^bench-p99-us:\s+([\d.]+)", text)
    bad = num(r"^bench-bad:\s+(\d+)", text, int)
    if rps is None or p99 is None or bad is None:
        sys.stderr.write("report.py: %s: no bench-* lines in %s\n" % (label, path))
        return 1
    print("%s.rps %.1f" % (label, rps))
    print("%s.p99 %.3f" % (label, p99 / 1000.0))
    print("%s.bad %d" % (label, bad))
    return 0


def load(path):
    vals = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.split()
            if len(p) == 2:
                try:
                    vals.setdefault(p[0], []).append(float(p[1]))
                except ValueError:
                    pass
    return {k: statistics.median(v) for k, v in vals.items()}, vals


def fmt(v, digits):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if digits == 0:
        return "{:,.0f}".format(v)
    return "{:,.{}f}".format(v, digits)


def instr_rows(row, get):
    """Phase 7 (bench/instr.sh): callgrind counts, the same whatever the machine's load."""
    row("RRL on, user-space instructions per UDP answer, callgrind (ref: RRL off)",
        get("instr.rrl_on.per_query"), get("instr.rrl_off.per_query"), 0)
    row("cookies: user-space instructions per UDP answer, callgrind (ref: none)",
        get("instr.cookie.per_query"), get("instr.rrl_off.per_query"), 0)
    row("metrics on, user-space instructions per UDP answer, callgrind (ref: off)",
        get("instr.metrics.per_query"), get("instr.rrl_off.per_query"), 0, "ratio<=", 1.03)


def pg_rows(row, get):
    """Phase 6: dns01d on PostgreSQL, two instances."""
    row("PostgreSQL: API /update, req/s", get("pg.update.rps"), None, 0)
    row("PostgreSQL: API /update, p99 ms", get("pg.update.p99"), None, 2)
    row("PostgreSQL: API /update, non-200 or socket errors", get("pg.update.bad"), None, 0,
        "value==", 0)
    row("PostgreSQL: propagation A's 200 to B's DNS, median ms", get("pg.prop.median"), None, 1)
    row("PostgreSQL: propagation A's 200 to B's DNS, p99 ms", get("pg.prop.p99"), None, 1,
        "value<=", 1000)


def client_rows(row, get):
    """Phase 7: dns01 issue against uacme on the same offline bed (bench/client.sh)."""
    row("client: dns01 issue wildcard + base, s (ref: uacme, same bed)",
        get("client.dns01.secs"), get("client.uacme.secs"), 3, "ratio<=", 1.0)


def rows(m, raw):
    """(figure, value, reference, ratio, target text, verdict) for each row."""
    out = []

    def get(key):
        return m.get(key)

    def paired(on, off):
        """The median of on/off over the rounds, each pair run back to back."""
        a, b = raw.get(on, []), raw.get(off, [])
        if not a or len(a) != len(b) or 0 in b:
            return None
        return statistics.median(x / y for x, y in zip(a, b))

    def row(label, val, ref, digits, kind=None, limit=None, ref_note="", ratio=None):
        if ratio is None:
            ratio = val / ref if val is not None and ref not in (None, 0) else None
        verdict, target = "info", "-"
        if kind == "ratio>=":
            target, verdict = ">= %.2fx" % limit, ratio is not None and ratio >= limit
        elif kind == "ratio<=":
            target, verdict = "<= %.2fx" % limit, ratio is not None and ratio <= limit
        elif kind == "value>=":
            target, verdict = ">= %s" % fmt(limit, 0), val is not None and val >= limit
        elif kind == "value<=":
            target, verdict = "<= %s" % fmt(limit, 0), val is not None and val <= limit
        elif kind == "value==":
            target, verdict = "= %s" % fmt(limit, 0), val is not None and val == limit
        if verdict is not True and verdict is not False:
            verdict = "info"
        else:
            verdict = "PASS" if verdict else "FAIL"
        out.append((label, fmt(val, digits), fmt(ref, digits) + ref_note,
                    fmt(ratio, 2) if ratio is not None else "-", target, verdict))

    def metrics_rows():
        for key, name in (("udp_hits", "UDP"), ("tcp_hits", "TCP")):
            on, off = "metrics.on.%s.dns01d.qps" % key, "metrics.off.%s.dns01d.qps" % key
            row("metrics on, %s TXT hits QPS (ref: metrics off)" % name,
                get(on), get(off), 0, "ratio>=", 0.97, ratio=paired(on, off))
            row("metrics on, server CPU per %s hit, us (ref: metrics off)" % name,
                get("metrics.on.%s.dns01d.cpu" % key), get("metrics.off.%s.dns01d.cpu" % key), 2)
        counted = raw.get("metrics.counted", [])
        out.append(("metrics: every answered query counted", "yes" if counted and
                    min(counted) == 1 else ("n/a" if not counted else "no"), "-", "-", "yes",
                    "PASS" if counted and min(counted) == 1 else "FAIL"))

    if get("only.metrics"):	# BENCH_ONLY=metrics: the metrics rows alone
        metrics_rows()
        return out

    tests = (("udp_hits", "UDP TXT hits"), ("udp_misses", "UDP misses (NXDOMAIN)"),
             ("tcp_hits", "TCP TXT hits, 10 conns pipelined"))
    goal = {"udp_hits": 1.0, "udp_misses": 1.0, "tcp_hits": 0.9}
    for key, name in tests:
        row("DNS %s, QPS (ref: Knot)" % name, get(key + ".dns01d.qps"), get(key + ".knot.qps"),
            0, "ratio>=", goal[key])
        row("DNS %s, avg latency us" % name, get(key + ".dns01d.lat"), get(key + ".knot.lat"), 0)
    row("server CPU per UDP hit, us (ref: Knot)", get("udp_hits.dns01d.cpu"),
        get("udp_hits.knot.cpu"), 2, "ratio<=", 1.0)
    row("server CPU per UDP miss, us (ref: Knot)", get("udp_misses.dns01d.cpu"),
        get("udp_misses.knot.cpu"), 2, "ratio<=", 1.0)
    row("server CPU per TCP hit, us (ref: Knot)", get("tcp_hits.dns01d.cpu"),
        get("tcp_hits.knot.cpu"), 2)
    row("RRL on, every answer accounted, UDP hits QPS (ref: RRL off)",
        get("rrl.on.udp_hits.dns01d.qps"), get("rrl.off.udp_hits.dns01d.qps"), 0,
        "ratio>=", 0.95, ratio=paired("rrl.on.udp_hits.dns01d.qps", "rrl.off.udp_hits.dns01d.qps"))
    row("RRL on, server CPU per UDP hit, us (ref: RRL off)",
        get("rrl.on.udp_hits.dns01d.cpu"), get("rrl.off.udp_hits.dns01d.cpu"), 2)
    row("cookies: UDP hits, client cookie in each query, QPS (ref: none)",
        get("cookie.on.udp_hits.dns01d.qps"), get("cookie.off.udp_hits.dns01d.qps"), 0,
        ratio=paired("cookie.on.udp_hits.dns01d.qps", "cookie.off.udp_hits.dns01d.qps"))
    row("cookies: server CPU per UDP hit, us (ref: no cookie)",
        get("cookie.on.udp_hits.dns01d.cpu"), get("cookie.off.udp_hits.dns01d.cpu"), 2)
    instr_rows(row, get)
    metrics_rows()

    # Correctness of what was measured: each dnsperf run got only the expected
    # rcode, and a sample of answers is identical on both servers.
    def all_ok(server):
        keys = [k for k in raw if k.endswith("%s.ok" % server)]
        if not keys or "answers.agree" not in raw:
            return None
        good = all(v == 1 for k in keys for v in raw[k])
        return 1.0 if good and all(v == 1 for v in raw["answers.agree"]) else 0.0
    d_ok, k_ok = all_ok("dns01d"), all_ok("knot")
    out.append(("DNS answers: expected rcodes, sample = Knot's",
                {None: "n/a", 1.0: "yes", 0.0: "no"}[d_ok],
                {None: "n/a", 1.0: "yes", 0.0: "no"}[k_ok], "-", "yes",
                "PASS" if d_ok == 1.0 and k_ok == 1.0 else "FAIL"))

    row("API /update, req/s (ref: acme-dns, published)", get("update.rps"),
        ACME_DNS_UPDATE_RPS, 0, "value>=", 5000)
    row("API /update, p99 ms (ref: acme-dns, published)", get("update.p99"),
        ACME_DNS_UPDATE_P99_MS, 2, "value<=", 5)
    row("API /update, non-200 or socket errors", get("update.bad"), None, 0, "value==", 0)
    row("API /register, req/s", get("register.rps"), None, 0, "value>=", 1000)
    row("API /register, p99 ms", get("register.p99"), None, 2)
    row("API /register, non-201 or socket errors", get("register.bad"), None, 0, "value==", 0)

    row("isolation: UDP hits QPS under /update load (ref: idle)",
        get("iso.udp_hits.dns01d.qps"), get("iso.idle.dns01d.qps"), 0, "ratio>=", 0.5)
    row("isolation: /update req/s meanwhile", get("iso.update.rps"), None, 0)
    row("isolation: /update non-200 or errors meanwhile", get("iso.update.bad"), None, 0,
        "value==", 0)

    if get("accounts") is None:	# BENCH_ONLY=pg, instr or client: that phase's rows alone
        out.clear()
        if get("instr.rrl_off.per_query") is not None:
            instr_rows(row, get)
            return out
        if get("client.dns01.secs") is not None:
            client_rows(row, get)
            return out
    pg_rows(row, get)
    if get("accounts") is None:
        return out

    n = get("scale.accounts")
    tag = "scale %s accounts" % (fmt(n, 0) if n else "?")
    row(tag + ": first start, acme-dns db migrated, ms", get("scale.migrate_ms"), None, 0)
    row(tag + ": startup, exec to /health 200, ms", get("scale.start_ms"), None, 0,
        "value<=", 2000)
    row(tag + ": RSS after startup, MiB", get("scale.rss_start"), None, 1, "value<=", 64)
    row(tag + ": RSS after dnsperf, MiB", get("scale.rss_after"), None, 1, "value<=", 64)
    row(tag + ": UDP hits QPS (ref: %s accounts)" % fmt(get("accounts"), 0),
        get("scale.udp_hits.dns01d.qps"), get("scale.ref.udp_hits.dns01d.qps"), 0,
        "ratio>=", 0.9)
    oks = raw.get("scale.udp_hits.dns01d.ok", []) + raw.get("scale.agree", [])
    good = None if not oks or "scale.agree" not in raw else min(oks) == 1
    out.append((tag + ": DNS answers as expected", {None: "n/a", True: "yes", False: "no"}[good],
                "-", "-", "yes", "PASS" if good else "FAIL"))
    client_rows(row, get)
    return out


def cmd_table(path):
    m, raw = load(path)
    table = rows(m, raw)
    head = ("figure", "dns01d", "reference", "ratio", "target", "result")
    w = [max(len(r[i]) for r in table + [head]) for i in range(6)]
    line = lambda r: "| " + " | ".join(
        r[i].ljust(w[i]) if i == 0 else r[i].rjust(w[i]) for i in range(6)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w[i] + 2) if i == 0 else "-" * (w[i] + 1) + ":"
                         for i in range(6)) + "|")
    for r in table:
        print(line(r))
    failed = [r[0] for r in table if r[5] == "FAIL"]
    print()
    if failed:
        print("failed rows: %d of %d with a target" % (len(failed),
              sum(1 for r in table if r[5] != "info")))
    print("overall: %s" % ("FAIL" if failed else "PASS"))
    return 1 if failed else 0


def main(argv):
    if len(argv) == 7 and argv[1] == "dnsperf":
        return cmd_dnsperf(argv[2], argv[3], argv[4], argv[5], argv[6])
    if len(argv) == 4 and argv[1] == "wrk":
        return cmd_wrk(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "table":
        return cmd_table(argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
