#!/usr/bin/env python3
# bench/zonegen.py -- a Knot zone file and dnsperf query files from the benchmark's accounts
# SPDX-License-Identifier: ISC
"""Usage:

  zonegen.py zone DOMAIN SOA_RR RECORDS_FILE TTL < accounts.tsv > zone
      The zone DOMAIN with the SOA record SOA_RR (as dns01d answers it), the zone-file lines
      of RECORDS_FILE (the same `records` dns01d's config holds), and one TXT
      RRset of TTL seconds per account (accounts.tsv as accounts.py prints it).

  zonegen.py hits DOMAIN SEED [COUNT] < accounts.tsv > queries
      One "<subdomain>.DOMAIN TXT" line per account, in shuffled order, with
      each letter's case picked at random (as resolvers using 0x20 do). With
      COUNT, COUNT lines, going round the accounts again as often as needed
      (so two query files of the same length load dnsperf alike).

  zonegen.py misses DOMAIN COUNT SEED > queries
      COUNT names under DOMAIN that do not exist (NXDOMAIN), type TXT.
"""

import random
import sys
import uuid

MAX_MISSES = 1_000_000  # most lines in a generated query file


def mixed_case(rng, name):
    return "".join(c.upper() if c.isalpha() and rng.random() < 0.5 else c for c in name)


def read_accounts():
    rows = []
    for line in sys.stdin:
        f = line.rstrip("\n").split("\t")
        if len(f) >= 3:
            rows.append(f)
    return rows


def cmd_zone(domain, soa, records_file, ttl):
    out = sys.stdout
    if " SOA " not in soa:
        sys.stderr.write("zonegen.py: %r is not an SOA record\n" % soa)
        return 2
    out.write("$ORIGIN %s.\n" % domain)
    out.write("$TTL 3600\n")
    out.write("%s\n" % soa)
    with open(records_file, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                out.write(line + "\n")
    for f in read_accounts():
        for v in f[3:]:
            out.write('%s.%s. %d IN TXT "%s"\n' % (f[2], domain, ttl, v))
    return 0


def cmd_hits(domain, seed, count=None):
    rng = random.Random(seed)
    rows = read_accounts()
    if not rows or (count is not None and not 1 <= count <= MAX_MISSES):
        sys.stderr.write("zonegen.py: no accounts, or COUNT not 1..%d\n" % MAX_MISSES)
        return 2
    rng.shuffle(rows)
    for i in range(len(rows) if count is None else count):
        name = "%s.%s" % (rows[i % len(rows)][2], domain)
        sys.stdout.write("%s TXT\n" % mixed_case(rng, name))
    return 0


def cmd_misses(domain, count, seed):
    rng = random.Random(seed)
    if not 1 <= count <= MAX_MISSES:
        sys.stderr.write("zonegen.py: COUNT must be 1..%d\n" % MAX_MISSES)
        return 2
    for _ in range(count):
        name = "%s.%s" % (uuid.UUID(int=rng.getrandbits(128), version=4), domain)
        sys.stdout.write("%s TXT\n" % mixed_case(rng, name))
    return 0


def main(argv):
    if len(argv) == 6 and argv[1] == "zone":
        return cmd_zone(argv[2], argv[3], argv[4], int(argv[5]))
    if len(argv) in (4, 5) and argv[1] == "hits":
        return cmd_hits(argv[2], int(argv[3]), int(argv[4]) if len(argv) == 5 else None)
    if len(argv) == 5 and argv[1] == "misses":
        return cmd_misses(argv[2], int(argv[3]), int(argv[4]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
