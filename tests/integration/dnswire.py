#!/usr/bin/env python3
# tests/integration/dnswire.py -- hand-made DNS packets for the integration tests
# SPDX-License-Identifier: ISC
"""Send DNS messages that dig and kdig cannot build, and report the answer.

Subcommands (all print one "key=value ..." line per answer, or "timeout=1"):
  query NAME TYPE [options]   one query over UDP (or --tcp)
  pipeline NAME:TYPE ...      several queries written at once on one TCP connection
  idle                        open a TCP connection, stay silent, report when it closes
  fuzz                        send many malformed datagrams (deterministic from a seed)
  flood NAME TYPE --count N   send N queries over UDP from one socket, count the answers
Only the standard library is used, so it runs on any python3.
"""
import argparse
import hashlib
import socket
import struct
import sys
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "HINFO": 13, "MX": 15, "TXT": 16,
         "AAAA": 28, "OPT": 41, "DS": 43, "RRSIG": 46, "NSEC": 47, "DNSKEY": 48,
         "AXFR": 252, "IXFR": 251, "ANY": 255, "CAA": 257}
TYPENAMES = {v: k for k, v in TYPES.items()}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
          5: "REFUSED", 9: "NOTAUTH", 16: "BADVERS", 23: "BADCOOKIE"}


def encode_name(name):
    """Wire form of a dotted name, case kept (RFC 1035 §3.1)."""
    out = b""
    for label in name.rstrip(".").split("."):
        if label == "":
            continue
        raw = label.encode()
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def opt_rr(owner=".", bufsize=1232, version=0, do=False, ext_rcode=0, cookie=None):
    """An OPT pseudo-RR (RFC 6891 §6.1.2), with a COOKIE option (RFC 7873 §4) if given."""
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0)
    rdata = b"" if cookie is None else struct.pack(">HH", 10, len(cookie)) + cookie
    return encode_name(owner) + struct.pack(">HHIH", 41, bufsize, ttl, len(rdata)) + rdata


def build(args):
    """The query packet the options describe."""
    if args.hex:
        return bytes.fromhex(args.hex)
    flags = (args.opcode & 0xF) << 11
    if args.qr:
        flags |= 0x8000
    if args.rd:
        flags |= 0x0100
    question = encode_name(args.name) + struct.pack(">HH", qtype(args.type), args.qclass)
    nq = 1 if args.qdcount is None else args.qdcount
    additional = b""
    nopt = 0
    if args.edns is not None:
        cookie = bytes.fromhex(args.cookie) if getattr(args, "cookie", None) is not None else None
        additional += opt_rr(args.optowner, args.bufsize, args.edns, args.do, cookie=cookie)
        nopt += 1
        if getattr(args, "opt2", False):
            additional += opt_rr(".", args.bufsize, args.edns, args.do)
            nopt += 1
    header = struct.pack(">HHHHHH", args.id, flags, nq, 0, 0, nopt)
    pkt = header + question + additional
    if args.truncate is not None:
        pkt = pkt[:args.truncate]
    return pkt


def qtype(t):
    if t.upper() in TYPES:
        return TYPES[t.upper()]
    if t.upper().startswith("TYPE"):
        return int(t[4:])
    return int(t)


def read_name(msg, off):
    """Decode a possibly compressed name; returns (text, offset after it)."""
    labels = []
    end = None
    hops = 0
    while True:
        if off >= len(msg):
            raise ValueError("name runs past the end")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            hops += 1
            if hops > 64:
                raise ValueError("compression loop")
            continue
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n].decode("latin-1"))
        off += n
    return ".".join(labels) + ".", (end if end is not None else off)


def parse(msg):
    """Summarise an answer as an ordered dict of text fields."""
    r = {}
    if len(msg) < 12:
        r["short"] = len(msg)
        return r
    mid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    names = [("qr", 0x8000), ("aa", 0x0400), ("tc", 0x0200), ("rd", 0x0100),
             ("ra", 0x0080), ("ad", 0x0020), ("cd", 0x0010)]
    r["id"] = str(mid)
    r["opcode"] = str((flags >> 11) & 0xF)
    r["flags"] = ",".join(n for n, b in names if flags & b) or "-"
    rcode = flags & 0xF
    r["qd"], r["an"], r["ns"], r["ar"] = str(qd), str(an), str(ns), str(ar)
    off = 12
    qnames = []
    for _ in range(qd):
        name, off = read_name(msg, off)
        t, c = struct.unpack(">HH", msg[off:off + 4])
        off += 4
        qnames.append(name)
        r["qtype"] = TYPENAMES.get(t, str(t))
        r["qclass"] = str(c)
    r["qname"] = ",".join(qnames) or "-"
    sections = {"ans": [], "auth": [], "add": []}
    opt = None
    nopt = 0
    for sec, count in (("ans", an), ("auth", ns), ("add", ar)):
        for _ in range(count):
            name, off = read_name(msg, off)
            t, c, ttl, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
            off += 10
            rdata = msg[off:off + rdlen]
            off += rdlen
            if t == 41:
                nopt += 1
                opt = {"owner": name, "udp": c, "ext": ttl >> 24,
                       "version": (ttl >> 16) & 0xFF, "do": 1 if ttl & 0x8000 else 0,
                       "cookie": "-"}
                o = 0
                while o + 4 <= len(rdata):
                    code, olen = struct.unpack(">HH", rdata[o:o + 4])
                    if code == 10:
                        opt["cookie"] = rdata[o + 4:o + 4 + olen].hex()
                    o += 4 + olen
                continue
            sections[sec].append((name, t, ttl, rdata))
    for sec, rrs in sections.items():
        r[sec + "_types"] = ",".join(TYPENAMES.get(t, str(t)) for _, t, _, _ in rrs) or "-"
        r[sec + "_ttls"] = ",".join(str(ttl) for _, _, ttl, _ in rrs) or "-"
        r[sec + "_names"] = ",".join(n for n, _, _, _ in rrs) or "-"
    soa = [rd for _, t, _, rd in sections["auth"] + sections["ans"] if t == 6]
    if soa:
        rd = soa[0]
        r["soa_minimum"] = str(struct.unpack(">I", rd[-4:])[0])
    if opt is not None:
        rcode |= opt["ext"] << 4
        r["opt_owner"] = opt["owner"]
        r["opt_udp"] = str(opt["udp"])
        r["opt_version"] = str(opt["version"])
        r["opt_do"] = str(opt["do"])
        r["cookie"] = opt["cookie"]
    txts = [rd for _, t, _, rd in sections["ans"] if t == 16]
    if txts:
        # Each TXT RR's <character-string>s (RFC 1035 3.3.14): their lengths, and
        # the SHA-256 (first 16 hex digits) of their concatenation.
        lens, sums = [], []
        for rd in txts:
            o, parts = 0, []
            while o < len(rd):
                n = rd[o]
                parts.append(rd[o + 1:o + 1 + n])
                o += 1 + n
            lens.append("+".join(str(len(x)) for x in parts))
            sums.append(hashlib.sha256(b"".join(parts)).hexdigest()[:16])
        r["txt_lens"] = ",".join(lens)
        r["txt_sha"] = ",".join(sums)
    r["opt_count"] = str(nopt)
    r["rcode"] = RCODES.get(rcode, str(rcode))
    r["size"] = str(len(msg))
    return r


def show(r):
    print(" ".join("%s=%s" % (k, v) for k, v in r.items()), flush=True)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def cmd_query(args):
    pkt = build(args)
    t0 = time.monotonic()
    try:
        if args.tcp:
            s = socket.socket(family(args.host), socket.SOCK_STREAM)
            s.settimeout(args.timeout)
            s.connect((args.host, args.port))
            s.sendall(struct.pack(">H", len(pkt)) + pkt)
            n = struct.unpack(">H", recv_exact(s, 2))[0]
            msg = recv_exact(s, n)
            s.close()
        else:
            s = socket.socket(family(args.host), socket.SOCK_DGRAM)
            s.settimeout(args.timeout)
            s.sendto(pkt, (args.host, args.port))
            msg = s.recv(65535)
            s.close()
    except socket.timeout:
        print("timeout=1", flush=True)
        return 0
    except ConnectionRefusedError:
        print("refused=1", flush=True)
        return 0
    except EOFError as e:
        print("closed=1 why=%s" % str(e).replace(" ", "_"), flush=True)
        return 0
    rtt = (time.monotonic() - t0) * 1000
    show(parse(msg))
    if args.rtt:
        print("rtt_ms=%d" % rtt, flush=True)
    return 0


def cmd_pipeline(args):
    """Write every query in one sendall(), then read the answers in order."""
    pkts = []
    for i, spec in enumerate(args.queries):
        name, _, t = spec.rpartition(":")
        pkts.append(simple_query(name, t, 1000 + i))
    s = socket.socket(family(args.host), socket.SOCK_STREAM)
    s.settimeout(args.timeout)
    try:
        s.connect((args.host, args.port))
    except ConnectionRefusedError:
        print("refused=1", flush=True)
        return 0
    data = b"".join(struct.pack(">H", len(p)) + p for p in pkts)
    if args.bytewise:
        for b in data:
            s.sendall(bytes([b]))
            time.sleep(0.002)
    else:
        s.sendall(data)
    try:
        for _ in pkts:
            n = struct.unpack(">H", recv_exact(s, 2))[0]
            show(parse(recv_exact(s, n)))
    except socket.timeout:
        print("timeout=1", flush=True)
    except EOFError as e:
        print("closed=1 why=%s" % str(e).replace(" ", "_"), flush=True)
    s.close()
    return 0


def simple_query(name, t, mid):
    ns = argparse.Namespace(hex=None, opcode=0, qr=False, rd=False, name=name, type=t,
                            qclass=1, qdcount=None, edns=None, truncate=None, id=mid)
    return build(ns)


def cmd_fuzz(args):
    """Send --count malformed datagrams (random, or a valid query with bytes flipped),
    deterministic from --seed; count the answers that came back. Never waits long."""
    import random
    rng = random.Random(args.seed)
    valid = simple_query(args.valid, "TXT", 1)
    s = socket.socket(family(args.host), socket.SOCK_DGRAM)
    s.settimeout(0.005)
    answers = 0
    for i in range(args.count):
        if i % 2:
            pkt = bytearray(rng.randbytes(rng.randint(0, 600)))
        else:
            pkt = bytearray(valid)
            for _ in range(rng.randint(1, 6)):
                pkt[rng.randrange(len(pkt))] = rng.randrange(256)
            if rng.random() < 0.3:
                pkt = pkt[:rng.randint(0, len(pkt))]
        if len(pkt) > 2:
            pkt[2] &= 0x7F      # a query, not a response
        s.sendto(bytes(pkt), (args.host, args.port))
        try:
            while True:
                s.recv(65535)
                answers += 1
        except (socket.timeout, BlockingIOError):
            pass
    s.close()
    print("sent=%d answers=%d" % (args.count, answers), flush=True)
    return 0


def cmd_idle(args):
    """Connect, send --send (text) or one --query NAME:TYPE if given, then wait for the
    peer to close the connection."""
    s = socket.socket(family(args.host), socket.SOCK_STREAM)
    try:
        s.connect((args.host, args.port))
    except ConnectionRefusedError:
        print("refused=1", flush=True)
        return 0
    t0 = time.monotonic()
    if args.send:
        s.sendall(args.send.encode())
    if args.query:
        name, _, t = args.query.rpartition(":")
        pkt = simple_query(name, t, 99)
        s.sendall(struct.pack(">H", len(pkt)) + pkt)
    s.settimeout(0.2)
    got = 0
    while time.monotonic() - t0 < args.max:
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        got += len(chunk)
    else:
        print("closed=0 after=%.1f got=%d" % (time.monotonic() - t0, got), flush=True)
        s.close()
        return 0
    print("closed=1 after=%.1f got=%d" % (time.monotonic() - t0, got), flush=True)
    s.close()
    return 0


def cmd_flood(args):
    """Send args.count queries as fast as one socket can, then read answers until 1 s of
    silence (at most args.count answers, at most 10 s): one line of counts."""
    s = socket.socket(family(args.host), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.connect((args.host, args.port))
    counts = {"answered": 0, "tc": 0, "other": 0}
    t0 = time.monotonic()
    for i in range(args.count):
        args.id = i & 0xFFFF
        s.send(build(args))
    sent_s = time.monotonic() - t0
    s.settimeout(1.0)
    got = 0
    sample = None
    while got < args.count and time.monotonic() - t0 < 10:
        try:
            r = parse(s.recv(65535))
        except socket.timeout:
            break
        got += 1
        if "tc" in r["flags"].split(",") and r["an"] == "0":
            counts["tc"] += 1
            sample = sample or r
        elif r["rcode"] == "NOERROR" and r["an"] != "0":
            counts["answered"] += 1
        else:
            counts["other"] += 1
    s.close()
    print("sent=%d answered=%d tc=%d other=%d seconds=%.3f" % (
        args.count, counts["answered"], counts["tc"], counts["other"], sent_s), flush=True)
    if sample is not None:  # the first truncated answer, in full, on a second line
        show(sample)
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--rtt", action="store_true",
                   help="query: also print rtt_ms=N, from the send to the answer (not"
                        " this program's start-up, which a loaded machine can make slow)")
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("query")
    q.add_argument("name", nargs="?", default=".")
    q.add_argument("type", nargs="?", default="SOA")
    q.add_argument("--tcp", action="store_true")
    q.add_argument("--id", type=int, default=4660)
    q.add_argument("--opcode", type=int, default=0)
    q.add_argument("--qr", action="store_true")
    q.add_argument("--rd", action="store_true")
    q.add_argument("--qclass", type=int, default=1)
    q.add_argument("--qdcount", type=int)
    q.add_argument("--edns", type=int, help="add an OPT record of this version")
    q.add_argument("--do", action="store_true")
    q.add_argument("--bufsize", type=int, default=1232)
    q.add_argument("--opt2", action="store_true", help="add a second OPT record")
    q.add_argument("--optowner", default=".")
    q.add_argument("--truncate", type=int, help="cut the packet to this many bytes")
    q.add_argument("--hex", help="send these bytes instead")
    q.add_argument("--cookie", help="a COOKIE option with these bytes (hex), with --edns")
    fl = sub.add_parser("flood")
    fl.add_argument("name")
    fl.add_argument("type")
    fl.add_argument("--count", type=int, default=100)
    fl.set_defaults(opcode=0, qr=False, rd=False, qclass=1, qdcount=None, edns=0, do=False,
                    bufsize=1232, optowner=".", truncate=None, hex=None, cookie=None, id=0)
    pl = sub.add_parser("pipeline")
    pl.add_argument("queries", nargs="+", help="NAME:TYPE")
    pl.add_argument("--bytewise", action="store_true", help="write one byte at a time")
    i = sub.add_parser("idle")
    i.add_argument("--send", default="")
    i.add_argument("--query", help="NAME:TYPE, one DNS query over the connection first")
    i.add_argument("--max", type=float, default=10.0)
    f = sub.add_parser("fuzz")
    f.add_argument("--count", type=int, default=200)
    f.add_argument("--seed", type=int, default=1)
    f.add_argument("--valid", default="auth.example.org", help="the name of the query to mutate")
    args = p.parse_args()
    cmds = {"query": cmd_query, "pipeline": cmd_pipeline, "idle": cmd_idle, "fuzz": cmd_fuzz,
            "flood": cmd_flood}
    return cmds[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
