#!/usr/bin/env python3
# tests/integration/pgprop.py -- several dns01d instances on one database: propagation and races
# SPDX-License-Identifier: ISC
"""Measure and check what one instance's write does to the others' DNS.

  prop --update-api URL --dns PORT[,PORT...] --user U --key K --sub S --domain D --rounds N
      N rounds: POST /update on one instance, then poll each DNS port (UDP TXT) until it
      serves the new value. Prints one line per round, then "median_ms=... p99_ms=...
      max_ms=... late=K" (late: rounds over --limit-ms, default 1000, or never seen).
  race --api URL[,URL...] --user U --key K --sub S --count N
      Every API gets N updates with distinct values at once (one thread per API).
      Prints "ok=... fail=..." and then the values in commit order as the server saw them
      is the database's business; the caller compares what each instance serves.
Only the standard library is used.
"""
import argparse
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.request

POLL_S = 0.005		# between two DNS polls of one port
GIVE_UP_S = 5.0		# a round that never shows the value stops here


def txt43(seed):
    return base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).decode().rstrip("=")


def update(api, user, key, sub, value, timeout=5):
    body = json.dumps({"subdomain": sub, "txt": value}).encode()
    req = urllib.request.Request(api + "/update", data=body, method="POST",
                                 headers={"X-Api-User": user, "X-Api-Key": key})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def query(sock, port, name):
    """One UDP TXT query to 127.0.0.1:port; the raw answer or b''."""
    qid = int.from_bytes(os.urandom(2), "big")
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"
    sock.sendto(struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + qname + struct.pack(">HH", 16, 1),
                ("127.0.0.1", port))
    try:
        while True:
            data, _ = sock.recvfrom(4096)
            if len(data) >= 2 and int.from_bytes(data[:2], "big") == qid:
                return data
    except socket.timeout:
        return b""


def seen(sock, port, name, value):
    return value.encode() in query(sock, port, name)


def prop(a):
    ports = [int(p) for p in a.dns.split(",")]
    name = "%s.%s" % (a.sub, a.domain)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.5)
    delays, late = [], 0
    for i in range(a.rounds):
        value = txt43("%s-%d-%f" % (a.sub, i, time.time()))
        st = update(a.update_api, a.user, a.key, a.sub, value)
        t0 = time.monotonic()
        if st != 200:
            print("round %d: update status %d" % (i, st))
            late += 1
            continue
        worst = 0.0
        for port in ports:
            while not seen(sock, port, name, value):
                if time.monotonic() - t0 > GIVE_UP_S:
                    break
                time.sleep(POLL_S)
            worst = max(worst, time.monotonic() - t0)
        ms = worst * 1000
        delays.append(ms)
        if ms >= a.limit_ms:
            late += 1
        print("round %d: %.1f ms" % (i, ms))
    delays.sort()
    if delays:
        med = delays[len(delays) // 2]
        p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
        print("median_ms=%.1f p99_ms=%.1f max_ms=%.1f late=%d" % (med, p99, delays[-1], late))
    else:
        print("median_ms=nan p99_ms=nan max_ms=nan late=%d" % late)
    return 0 if late == 0 else 1


def race(a):
    apis = a.api.split(",")
    res = {"ok": 0, "fail": 0}
    lock = threading.Lock()

    def worker(idx, api):
        for i in range(a.count):
            st = update(api, a.user, a.key, a.sub, txt43("race-%d-%d-%s" % (idx, i, a.sub)))
            with lock:
                res["ok" if st == 200 else "fail"] += 1

    ts = [threading.Thread(target=worker, args=(i, api)) for i, api in enumerate(apis)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("ok=%d fail=%d" % (res["ok"], res["fail"]))
    return 0 if res["fail"] == 0 else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["prop", "race"])
    p.add_argument("--update-api")
    p.add_argument("--api")
    p.add_argument("--dns")
    p.add_argument("--user", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--sub", required=True)
    p.add_argument("--domain", default="auth.example.org")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--limit-ms", type=float, default=1000.0)
    a = p.parse_args()
    sys.exit(prop(a) if a.mode == "prop" else race(a))


if __name__ == "__main__":
    main()
