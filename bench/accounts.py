#!/usr/bin/env python3
# bench/accounts.py -- create the benchmark's accounts, through the API or straight into an acme-dns database
# SPDX-License-Identifier: ISC
"""Create N accounts with two TXT values each and print them as TSV lines:

    username <TAB> key <TAB> subdomain <TAB> value1 <TAB> value2

  accounts.py register PORT N   POST /register then two POST /update per account
                                on http://127.0.0.1:PORT (8 keep-alive connections)
  accounts.py acmedb PATH N     write a fresh acme-dns SQLite database at PATH
                                (tables acmedns, records, txt) in one transaction;
                                the key column is "-" (the stored hash is a dummy)
"""

import base64
import http.client
import json
import os
import sqlite3
import sys
import threading
import time
import uuid

MAX_ACCOUNTS = 1_000_000
CONNECTIONS = 8
HTTP_TIMEOUT = 10  # seconds per request


def txt_value():
    """A random valid TXT value: 43 base64url characters (as a SHA-256 digest is)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()[:43]


def post(conn, path, body, headers=None):
    """POST on a keep-alive connection; returns (status, parsed JSON or None)."""
    conn.request("POST", path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    try:
        return resp.status, json.loads(data)
    except ValueError:
        return resp.status, None


def register_some(port, count, out, errors):
    """Register count accounts and publish two values each; append rows to out."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    try:
        for _ in range(count):
            status, acc = post(conn, "/register", b"")
            if status != 201 or not acc:
                errors.append("register: HTTP %d" % status)
                return
            hdr = {"X-Api-User": acc["username"], "X-Api-Key": acc["password"]}
            values = []
            for _ in range(2):
                v = txt_value()
                body = json.dumps({"subdomain": acc["subdomain"], "txt": v})
                status, res = post(conn, "/update", body.encode(), hdr)
                if status != 200 or not res or res.get("txt") != v:
                    errors.append("update: HTTP %d %r" % (status, res))
                    return
                values.append(v)
            out.append((acc["username"], acc["password"], acc["subdomain"], *values))
    except (OSError, http.client.HTTPException) as e:
        errors.append("api: %s" % e)
    finally:
        conn.close()


def cmd_register(port, n):
    rows, errors, threads = [], [], []
    share = [n // CONNECTIONS + (1 if i < n % CONNECTIONS else 0) for i in range(CONNECTIONS)]
    for count in share:
        t = threading.Thread(target=register_some, args=(port, count, rows, errors))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    if errors or len(rows) != n:
        sys.stderr.write("accounts.py: %d of %d accounts created; first error: %s\n"
                         % (len(rows), n, errors[0] if errors else "?"))
        return 1
    for r in rows:
        print("\t".join(r))
    return 0


def dummy_hash(i):
    """A distinct string shaped like a bcrypt $2a$10$ hash (it verifies nothing)."""
    tail = base64.b64encode(os.urandom(34)).decode()[:45].replace("+", ".")
    return "$2a$10$%08d%s" % (i, tail)


def cmd_acmedb(path, n):
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE acmedns(Name TEXT, Value TEXT);
        CREATE TABLE records(Username TEXT UNIQUE NOT NULL PRIMARY KEY,
            Password TEXT UNIQUE NOT NULL, Subdomain TEXT UNIQUE NOT NULL,
            AllowFrom TEXT);
        CREATE TABLE txt(Subdomain TEXT NOT NULL, Value TEXT NOT NULL DEFAULT '',
            LastUpdate INT);
    """)
    now = int(time.time())
    accounts = []
    for i in range(n):
        accounts.append((str(uuid.uuid4()), dummy_hash(i), str(uuid.uuid4()),
                         txt_value(), txt_value()))
    with db:  # one transaction
        db.execute("INSERT INTO acmedns(Name, Value) VALUES ('db_version', '1')")
        db.executemany("INSERT INTO records(Username, Password, Subdomain, AllowFrom)"
                       " VALUES (?, ?, ?, '[]')", ((a[0], a[1], a[2]) for a in accounts))
        db.executemany("INSERT INTO txt(Subdomain, Value, LastUpdate) VALUES (?, ?, ?)",
                       ((a[2], a[k], now - 4 + k) for a in accounts for k in (3, 4)))
    db.close()
    for a in accounts:
        print("\t".join((a[0], "-", a[2], a[3], a[4])))
    return 0


def main(argv):
    if len(argv) != 4 or argv[1] not in ("register", "acmedb"):
        sys.stderr.write(__doc__)
        return 2
    n = int(argv[3])
    if not 1 <= n <= MAX_ACCOUNTS:
        sys.stderr.write("accounts.py: N must be 1..%d\n" % MAX_ACCOUNTS)
        return 2
    if argv[1] == "register":
        return cmd_register(int(argv[2]), n)
    return cmd_acmedb(argv[2], n)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
