#!/usr/bin/env python3
# tests/integration/slowhttp.py -- slow HTTP clients against the API, and a probe that times /health
# SPDX-License-Identifier: ISC
"""
  slow     N sockets from --src trickle one byte a second into a request that never
           ends (closed ones are reopened, at most N per second), for --seconds; meanwhile
           GET /health from --probe-src every --every seconds on a new connection.
           Prints "probes=P ok=K max_ms=X median_ms=Y opened=O closed=C".
  trickle  one connection sending a request one byte every --every seconds; prints
           "closed=1 after=S" when the server closes it, or "closed=0" after --max seconds.
Every loop is bounded in count and time; only loopback addresses are used.
"""
import argparse
import resource
import select
import socket
import statistics
import threading
import time

ENDLESS = b"POST /update HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 4000


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


def connect(host, port, src, timeout=None):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def probe(host, port, src):
    """One GET /health on a new connection: (ms, status) or (ms, None) on failure."""
    t0 = time.monotonic()
    status = None
    try:
        s = connect(host, port, src, timeout=2.0)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        buf = b""
        while b"\r\n" not in buf and len(buf) < 4096:
            d = s.recv(4096)
            if not d:
                break
            buf += d
        s.close()
        parts = buf.split(b" ", 2)
        if len(parts) >= 2 and parts[1].isdigit():
            status = int(parts[1])
    except OSError:
        pass
    return (time.monotonic() - t0) * 1000.0, status


def cmd_slow(a):
    raise_nofile(a.n + 256)
    socks = {}      # fd -> [socket, bytes sent]
    opened = closed = 0
    stop = time.monotonic() + a.seconds
    results = []

    def prober():
        time.sleep(1.5)     # let the attack build up first
        while time.monotonic() < stop - 0.5 and len(results) < 1000:
            results.append(probe(a.host, a.port, a.probe_src))
            time.sleep(a.every)

    t = threading.Thread(target=prober)
    t.start()
    ticks = 0
    while time.monotonic() < stop and ticks < a.seconds + 5:
        ticks += 1
        tick_end = time.monotonic() + 1.0
        # Reopen up to N (the server closes what is over its per-IP limit).
        for _ in range(a.n - len(socks)):
            try:
                s = connect(a.host, a.port, a.src, timeout=0.5)
                s.setblocking(False)
                socks[s.fileno()] = [s, 0]
                opened += 1
            except OSError:
                break
        # Closed by the server: readable with end of file, or an error.
        p = select.poll()
        for fd in socks:
            p.register(fd, select.POLLIN)
        for fd, ev in p.poll(0):
            s = socks[fd][0]
            try:
                gone = ev & (select.POLLHUP | select.POLLERR) or s.recv(4096, socket.MSG_DONTWAIT) == b""
            except BlockingIOError:
                gone = False
            except OSError:
                gone = True
            if gone:
                s.close()
                del socks[fd]
                closed += 1
        # One byte each.
        for fd in list(socks):
            s, n = socks[fd]
            try:
                s.send(ENDLESS[n % len(ENDLESS):n % len(ENDLESS) + 1])
                socks[fd][1] = n + 1
            except OSError:
                s.close()
                del socks[fd]
                closed += 1
        time.sleep(max(0.0, tick_end - time.monotonic()))
    t.join()
    for s, _ in socks.values():
        s.close()
    ms = [r[0] for r in results]
    ok = sum(1 for r in results if r[1] == 200)
    print("probes=%d ok=%d max_ms=%.1f median_ms=%.1f opened=%d closed=%d" % (
        len(results), ok, max(ms) if ms else -1, statistics.median(ms) if ms else -1,
        opened, closed))


def cmd_trickle(a):
    data = (ENDLESS if not a.body else
            b"POST /update HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"{" * 1000)
    s = connect(a.host, a.port, a.src, timeout=5.0)
    t0 = time.monotonic()
    sent = 0
    while time.monotonic() - t0 < a.max and sent < len(data):
        try:
            s.send(data[sent:sent + 1])
            sent += 1
        except OSError:
            break
        r, _, _ = select.select([s], [], [], a.every)
        if r:
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            if not d:
                break
    if time.monotonic() - t0 < a.max and sent < len(data):
        print("closed=1 after=%.1f sent=%d" % (time.monotonic() - t0, sent))
    else:
        print("closed=0 sent=%d" % sent)
    s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--src", default="127.0.0.1")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("slow")
    s.add_argument("--n", type=int, default=1000)
    s.add_argument("--seconds", type=float, default=12.0)
    s.add_argument("--probe-src", default="127.0.0.2")
    s.add_argument("--every", type=float, default=0.5)
    t = sub.add_parser("trickle")
    t.add_argument("--every", type=float, default=0.5)
    t.add_argument("--max", type=float, default=15.0)
    t.add_argument("--body", action="store_true", help="complete headers, then trickle the body")
    a = ap.parse_args()
    {"slow": cmd_slow, "trickle": cmd_trickle}[a.cmd](a)


if __name__ == "__main__":
    main()
