# tests/e2e/acmeca.py -- a scripted ACME CA for the end-to-end tests (what Pebble 2.4 lacks).
# SPDX-License-Identifier: MIT
#
# usage: python3 acmeca.py --port P --cert C --key K --dns HOST:PORT [options]
# Prints "ready" once listening on 127.0.0.1:P (HTTPS). Standard library plus Debian's
# python3-cryptography. It speaks enough RFC 8555 for dns01: directory (meta.profiles,
# meta.caaIdentities, meta.issuerDomainNames, meta.accountHashPrefix), nonces, newAccount,
# newOrder (with "profile", draft-aaron-acme-profiles), authorizations, challenges,
# finalize, certificate download. Every POST is a JWS whose signature, nonce and url
# are checked. It validates by real DNS queries (UDP, RD set, TCP on truncation) to the
# resolver given with --dns:
#   dns-01          TXT _acme-challenge.<name> = base64url(SHA-256(keyAuthorization))
#                   (RFC 8555 §8.4)
#   dns-account-01  TXT _<label>._acme-challenge.<name>, same value, where label =
#                   lower(base32(SHA-256(account URL)[0:10])) (draft-ietf-acme-dns-
#                   account-label-03 §3.2)
#   dns-persist-01  TXT _validation-persist.<name>, the character-strings of one record
#                   joined (draft-ietf-acme-dns-persist §9.1), an RFC 8659 issue-value:
#                   "<issuer>; accounturi=<account URL>[; policy=wildcard]
#                   [; persistUntil=<unix time>]" (-01), or the -02 hashed accounturi.
# Test-only endpoints (no JWS): GET /roots/0 (the root), GET /orders (every order as
# JSON, with the profile it was asked for and the challenge type that validated each
# authorization). --challenges limits the types offered (comma-separated);
# --phantom-profile NAME lists NAME in meta.profiles but refuses it in newOrder, so a
# test can see the invalidProfile problem reach the client.
# Listens on 127.0.0.1 only; stopped by PID by the test.
import argparse
import base64
import datetime
import hashlib
import http.server
import json
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

ERR = "urn:ietf:params:acme:error:"
MAX_BODY = 64 * 1024          # bytes of one request body
DNS_TIMEOUT = 2.0             # seconds one DNS query may take
DNS_TRIES = 3                 # attempts of one validation (the resolver may lag)
PROFILES = {                  # name -> (description, certificate lifetime)
    "classic": ("The default: 90-day certificates", datetime.timedelta(days=90)),
    "shortlived": ("About 6 days", datetime.timedelta(hours=160)),
}
DEFAULT_PROFILE = "classic"
LOCK = threading.RLock()


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(s):
    if not isinstance(s, str) or any(c not in
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                                      for c in s):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Problem(Exception):
    def __init__(self, kind, detail, status=400):
        super().__init__(detail)
        self.kind, self.detail, self.status = kind, detail, status


# ---- DNS: a minimal stub query (RFC 1035 §4) ----

def dns_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def skip_name(msg, pos):
    while True:
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            return pos + 2
        if n == 0:
            return pos + 1
        pos += n + 1


def read_name(msg, pos, depth=0):
    labels = []
    while depth < 20:
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            ptr = struct.unpack(">H", msg[pos:pos + 2])[0] & 0x3FFF
            return ".".join(labels + [read_name(msg, ptr, depth + 1)]).strip(".")
        if n == 0:
            return ".".join(labels)
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += n + 1
    raise ValueError("name loop")


def dns_txt(server, name):
    """Every TXT record in the answer section (character-strings joined), as Pebble does."""
    host, port = server.rsplit(":", 1)
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack(">HH", 16, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(DNS_TIMEOUT)
    try:
        s.sendto(q, (host, int(port)))
        msg = s.recv(65535)
    finally:
        s.close()
    if struct.unpack(">H", msg[2:4])[0] & 0x0200:      # TC: ask again over TCP
        t = socket.create_connection((host, int(port)), timeout=DNS_TIMEOUT)
        try:
            t.sendall(struct.pack(">H", len(q)) + q)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
                part = t.recv(65535)
                if not part:
                    break
                buf += part
            msg = buf[2:]
        finally:
            t.close()
    rid, flags, qd, an = struct.unpack(">HHHH", msg[:8])
    if rid != qid or flags & 0xF not in (0, 3):
        raise ValueError("DNS rcode %d" % (flags & 0xF))
    pos = 12
    for _ in range(qd):
        pos = skip_name(msg, pos) + 4
    out = []
    for _ in range(an):
        pos = skip_name(msg, pos)
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", msg[pos:pos + 10])
        pos += 10
        rdata = msg[pos:pos + rdlen]
        pos += rdlen
        if rtype != 16:
            continue
        parts, i = [], 0
        while i < len(rdata):
            parts.append(rdata[i + 1:i + 1 + rdata[i]])
            i += 1 + rdata[i]
        out.append(b"".join(parts).decode("utf-8", "replace"))
    return out


# ---- keys and JWS (RFC 7515, RFC 7518, RFC 7638) ----

def jwk_key(jwk):
    if jwk.get("kty") == "EC":
        curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}[jwk["crv"]]
        x = int.from_bytes(unb64u(jwk["x"]), "big")
        y = int.from_bytes(unb64u(jwk["y"]), "big")
        return ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
    if jwk.get("kty") == "RSA":
        n = int.from_bytes(unb64u(jwk["n"]), "big")
        e = int.from_bytes(unb64u(jwk["e"]), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    raise ValueError("unsupported kty")


def thumbprint(jwk):
    req = ["crv", "kty", "x", "y"] if jwk["kty"] == "EC" else ["e", "kty", "n"]
    canon = json.dumps({k: jwk[k] for k in req}, sort_keys=True, separators=(",", ":"))
    return b64u(hashlib.sha256(canon.encode()).digest())


def verify_sig(key, alg, data, sig):
    if alg in ("ES256", "ES384"):
        size = 32 if alg == "ES256" else 48
        if len(sig) != 2 * size or not isinstance(key, ec.EllipticCurvePublicKey):
            raise InvalidSignature()
        der = encode_dss_signature(int.from_bytes(sig[:size], "big"), int.from_bytes(sig[size:], "big"))
        key.verify(der, data, ec.ECDSA(hashes.SHA256() if alg == "ES256" else hashes.SHA384()))
    elif alg == "RS256" and isinstance(key, rsa.RSAPublicKey):
        key.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise InvalidSignature()


# ---- the CA's state ----

class CA:
    def __init__(self, args):
        self.args = args
        self.base = "https://127.0.0.1:%d" % args.port
        self.nonces = set()
        self.accounts = {}        # url -> {"jwk", "thumb", "status", "contact"}
        self.by_thumb = {}
        self.orders = {}          # id -> order dict
        self.authzs = {}          # id -> authz dict
        self.certs = {}           # id -> PEM chain
        self.seq = 0
        self.types = args.challenges.split(",")
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.int_key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.utcnow() - datetime.timedelta(minutes=5)
        self.root = self._ca_cert("acmeca test root", self.root_key, self.root_key, None, now)
        self.inter = self._ca_cert("acmeca test intermediate", self.int_key, self.root_key,
                                   self.root, now)

    def _ca_cert(self, cn, key, signer, issuer, now):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        b = (x509.CertificateBuilder().subject_name(name)
             .issuer_name(issuer.subject if issuer is not None else name)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
             .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                            critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        return b.sign(signer, hashes.SHA256())

    def next_id(self):
        self.seq += 1
        return "%d%s" % (self.seq, b64u(os.urandom(6)))

    def nonce(self):
        n = b64u(os.urandom(16))
        self.nonces.add(n)
        return n

    def directory(self):
        meta = {
            "profiles": dict({k: v[0] for k, v in PROFILES.items()},
                             **({self.args.phantom_profile: "listed, but refused"}
                                if self.args.phantom_profile else {})),
            "caaIdentities": [self.args.issuer],
            "issuerDomainNames": [self.args.issuer],
            "accountHashPrefix": self.base + "/account-hash/",
        }
        return {"newNonce": self.base + "/nonce", "newAccount": self.base + "/new-account",
                "newOrder": self.base + "/new-order", "meta": meta}

    # -- the JWS of one POST (RFC 8555 §6.2) --
    def check_jws(self, url, body, new_account=False):
        try:
            jws = json.loads(body)
            prot = json.loads(unb64u(jws["protected"]))
            payload_raw = unb64u(jws["payload"]) if jws["payload"] != "" else b""
            sig = unb64u(jws["signature"])
        except (ValueError, KeyError, TypeError):
            raise Problem("malformed", "not a flattened JWS")
        if prot.get("url") != url:
            raise Problem("unauthorized", "the JWS url is not the request URL")
        if prot.get("nonce") not in self.nonces:
            raise Problem("badNonce", "unknown or used nonce")
        self.nonces.discard(prot["nonce"])
        if ("jwk" in prot) == ("kid" in prot):
            raise Problem("malformed", "exactly one of jwk and kid")
        if new_account != ("jwk" in prot):
            raise Problem("malformed", "newAccount takes jwk, everything else kid")
        acct = None
        if "jwk" in prot:
            try:
                key = jwk_key(prot["jwk"])
            except (ValueError, KeyError, TypeError):
                raise Problem("badPublicKey", "unusable jwk")
        else:
            acct = self.accounts.get(prot["kid"])
            if acct is None or acct["status"] != "valid":
                raise Problem("accountDoesNotExist", "no such account", 400)
            key = jwk_key(acct["jwk"])
        try:
            verify_sig(key, prot.get("alg"), (jws["protected"] + "." + jws["payload"]).encode(), sig)
        except InvalidSignature:
            raise Problem("malformed", "JWS signature invalid")
        payload = None
        if payload_raw != b"":
            try:
                payload = json.loads(payload_raw)
            except ValueError:
                raise Problem("malformed", "payload is not JSON")
        return prot, payload, acct

    def new_account(self, prot, payload):
        jwk = prot["jwk"]
        th = thumbprint(jwk)
        url = self.by_thumb.get(th)
        if url is not None:
            return 200, self.accounts[url], url
        if payload and payload.get("onlyReturnExisting"):
            raise Problem("accountDoesNotExist", "no account for this key")
        url = "%s/acct/%s" % (self.base, self.next_id())
        self.accounts[url] = {"jwk": jwk, "thumb": th, "status": "valid",
                              "contact": (payload or {}).get("contact", []), "url": url}
        self.by_thumb[th] = url
        return 201, self.accounts[url], url

    def new_order(self, acct, payload):
        ids = (payload or {}).get("identifiers")
        if not isinstance(ids, list) or not ids:
            raise Problem("malformed", "no identifiers")
        profile = payload.get("profile")
        if profile is not None and (profile not in PROFILES or profile == self.args.phantom_profile):
            raise Problem("invalidProfile", "profile %r is not offered here" % profile)
        oid = self.next_id()
        order = {"id": oid, "status": "pending", "account": acct["url"], "authz": [],
                 "identifiers": [], "profile": profile, "requested_profile": profile}
        for ident in ids:
            v = ident.get("value", "") if isinstance(ident, dict) else ""
            if ident.get("type") != "dns" or not v:
                raise Problem("rejectedIdentifier", "dns identifiers only")
            v = v.lower()
            wildcard = v.startswith("*.")
            base = v[2:] if wildcard else v
            aid = self.next_id()
            chs = []
            for i, t in enumerate(self.types):
                c = {"type": t, "url": "%s/chall/%s/%d" % (self.base, aid, i), "status": "pending"}
                if t == "dns-persist-01":
                    c["issuerDomainNames"] = [self.args.issuer]
                else:
                    c["token"] = b64u(os.urandom(32))
                chs.append(c)
            self.authzs[aid] = {"id": aid, "identifier": {"type": "dns", "value": base},
                                "wildcard": wildcard, "status": "pending", "challenges": chs,
                                "order": oid, "account": acct["url"], "validated_by": None,
                                "expires": None}
            order["authz"].append(aid)
            order["identifiers"].append({"type": "dns", "value": v})
        self.orders[oid] = order
        return order

    def order_json(self, o):
        out = {"status": o["status"], "identifiers": o["identifiers"],
               "authorizations": ["%s/authz/%s" % (self.base, a) for a in o["authz"]],
               "finalize": "%s/finalize/%s" % (self.base, o["id"]),
               "expires": (datetime.datetime.utcnow() + datetime.timedelta(hours=1)).strftime(
                   "%Y-%m-%dT%H:%M:%SZ")}
        if o["profile"] is not None:
            out["profile"] = o["profile"]
        if o["status"] == "valid":
            out["certificate"] = "%s/cert/%s" % (self.base, o["id"])
        if o.get("error"):
            out["error"] = o["error"]
        return out

    def authz_json(self, a):
        out = {"status": a["status"], "identifier": a["identifier"], "challenges": a["challenges"],
               "expires": a["expires"] or (datetime.datetime.utcnow() + datetime.timedelta(
                   hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
        if a["wildcard"]:
            out["wildcard"] = True
        return out

    # -- validation (DNS through --dns) --
    def expect(self, a, c, acct):
        """(record name, check function) for challenge c of authorization a."""
        base = a["identifier"]["value"]
        if c["type"] in ("dns-01", "dns-account-01"):
            ka = c["token"] + "." + acct["thumb"]
            want = b64u(hashlib.sha256(ka.encode()).digest())
            if c["type"] == "dns-01":
                name = "_acme-challenge." + base
            else:
                label = base64.b32encode(hashlib.sha256(acct["url"].encode()).digest()[:10]).decode().lower()
                name = "_%s._acme-challenge.%s" % (label, base)
            return name, lambda vals: (want in vals, "no TXT %s at %s (saw %s)" % (want, name, vals))
        name = "_validation-persist." + base
        return name, lambda vals: self.persist_check(vals, a, acct, name)

    def persist_check(self, vals, a, acct, name):
        """draft-ietf-acme-dns-persist §4.1/§4.2: one record must satisfy everything."""
        why = "no TXT at %s" % name
        for v in vals:
            ok, why1, until = self.persist_one(v, a, acct)
            if ok:
                if until is not None:
                    a["expires"] = datetime.datetime.utcfromtimestamp(until).strftime("%Y-%m-%dT%H:%M:%SZ")
                return True, ""
            why = "%s: %s" % (name, why1)
        return False, why

    def persist_one(self, v, a, acct):
        parts = v.split(";")
        issuer = parts[0].strip().lower().rstrip(".")
        if issuer != self.args.issuer:
            return False, "issuer %r is not %r" % (issuer, self.args.issuer), None
        params = {}
        for p in parts[1:]:
            if "=" not in p:
                if p.strip() == "":
                    continue
                return False, "malformed parameter %r" % p.strip(), None
            k, val = p.split("=", 1)
            params[k.strip().lower()] = val.strip()
        uri = params.get("accounturi")
        hashed = set()
        for dn in (a["identifier"]["value"], "*"):
            h = hashlib.sha256(bytes([len(dn)]) + dn.encode() + acct["thumb"].encode() +
                               acct["url"].encode()).digest()
            hashed.add("%s/account-hash/sha-256/%s" % (self.base, b64u(h)))
        if uri != acct["url"] and uri not in hashed:
            return False, "accounturi %r is not this account" % uri, None
        if a["wildcard"] and params.get("policy", "").lower() != "wildcard":
            return False, "a wildcard needs policy=wildcard", None
        until = None
        if "persistuntil" in params:
            if not params["persistuntil"].isdigit():
                return False, "persistUntil is not a base-10 integer", None
            until = int(params["persistuntil"])
            if until < time.time():
                return False, "persistUntil %d has passed" % until, None
        return True, "", until

    def validate(self, a, c, acct):
        name, check = self.expect(a, c, acct)
        why = ""
        for attempt in range(DNS_TRIES):
            try:
                vals = dns_txt(self.args.dns, name)
            except (OSError, ValueError, IndexError, struct.error) as e:
                vals, why = [], "DNS query for %s failed: %s" % (name, e)
            if vals:
                ok, why = check(vals)
                if ok:
                    return True, ""
            elif not why:
                why = "no TXT at %s" % name
            if attempt + 1 < DNS_TRIES:
                time.sleep(0.3)
        return False, why

    def respond(self, aid, idx, acct):
        a = self.authzs[aid]
        c = a["challenges"][idx]
        if a["account"] != acct["url"]:
            raise Problem("unauthorized", "not your authorization", 403)
        if a["status"] != "pending" or c["status"] != "pending":
            return c
        c["status"] = "processing"
        ok, why = self.validate(a, c, acct)
        o = self.orders[a["order"]]
        if ok:
            c["status"] = a["status"] = "valid"
            a["validated_by"] = c["type"]
            c["validated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            if all(self.authzs[x]["status"] == "valid" for x in o["authz"]):
                o["status"] = "ready"
        else:
            c["status"] = a["status"] = o["status"] = "invalid"
            c["error"] = {"type": ERR + "unauthorized", "detail": why, "status": 403}
            o["error"] = c["error"]
        log("validate %s %s %s: %s %s" % (c["type"], a["identifier"]["value"],
                                           "wildcard" if a["wildcard"] else "", "valid" if ok else "invalid", why))
        return c

    def finalize(self, oid, acct, payload):
        o = self.orders.get(oid)
        if o is None or o["account"] != acct["url"]:
            raise Problem("malformed", "no such order", 404)
        if o["status"] != "ready":
            raise Problem("orderNotReady", "order is %s" % o["status"], 403)
        try:
            csr = x509.load_der_x509_csr(unb64u(payload["csr"]))
        except (ValueError, KeyError, TypeError):
            raise Problem("badCSR", "cannot parse the CSR")
        if not csr.is_signature_valid:
            raise Problem("badCSR", "CSR signature invalid")
        try:
            sans = set(n.lower() for n in csr.extensions.get_extension_for_class(
                x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName))
        except x509.ExtensionNotFound:
            sans = set()
        if sans != set(i["value"] for i in o["identifiers"]):
            raise Problem("badCSR", "CSR names %s differ from the order's" % sorted(sans))
        life = PROFILES[o["profile"] or DEFAULT_PROFILE][1]
        now = datetime.datetime.utcnow() - datetime.timedelta(minutes=1)
        names = sorted(sans)
        leaf = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(self.inter.subject).public_key(csr.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + life)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.int_key.public_key()),
                               critical=False)
                .sign(self.int_key, hashes.SHA256()))
        pem = leaf.public_bytes(serialization.Encoding.PEM) + self.inter.public_bytes(serialization.Encoding.PEM)
        self.certs[oid] = pem
        o["status"] = "valid"
        log("issued %s profile=%s for %s" % (oid, o["profile"], ",".join(names)))
        return o


def log(msg):
    sys.stderr.write("acmeca: %s\n" % msg)
    sys.stderr.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    ca = None

    def send(self, status, obj=None, ctype="application/json", location=None, raw=None):
        body = raw if raw is not None else (json.dumps(obj).encode() if obj is not None else b"")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        with LOCK:
            self.send_header("Replay-Nonce", self.ca.nonce())
        self.send_header("Link", "<%s/dir>;rel=\"index\"" % self.ca.base)
        if location:
            self.send_header("Location", location)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def problem(self, p):
        self.send(p.status, {"type": ERR + p.kind, "detail": p.detail, "status": p.status},
                  ctype="application/problem+json")

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        ca, path = self.ca, self.path.split("?")[0]
        if path == "/dir":
            self.send(200, ca.directory())
        elif path == "/nonce":
            self.send(200 if self.command == "HEAD" else 204)
        elif path == "/roots/0":
            self.send(200, raw=ca.root.public_bytes(serialization.Encoding.PEM), ctype="application/x-pem-file")
        elif path == "/orders":
            with LOCK:
                out = [{"id": o["id"], "status": o["status"], "profile": o["requested_profile"],
                        "identifiers": [i["value"] for i in o["identifiers"]],
                        "validated_by": {("*." if ca.authzs[a]["wildcard"] else "") +
                                         ca.authzs[a]["identifier"]["value"]: ca.authzs[a]["validated_by"]
                                         for a in o["authz"]}}
                       for o in ca.orders.values()]
            self.send(200, out)
        else:
            self.send(405 if path.startswith(("/new-", "/acct/", "/authz/", "/chall/", "/finalize/", "/cert/"))
                      else 404, {"type": ERR + "malformed", "detail": "use POST"}, ctype="application/problem+json")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            return self.problem(Problem("malformed", "body too large", 413))
        body = self.rfile.read(n)
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/jose+json":
            return self.problem(Problem("malformed", "Content-Type must be application/jose+json", 415))
        url = self.ca.base + self.path
        try:
            with LOCK:
                self.route(url, body)
        except Problem as p:
            log("%s -> %s: %s" % (self.path, p.kind, p.detail))
            self.problem(p)

    def route(self, url, body):
        ca = self.ca
        parts = self.path.strip("/").split("/")
        if parts == ["new-account"]:
            prot, payload, _ = ca.check_jws(url, body, new_account=True)
            st, acct, loc = ca.new_account(prot, payload)
            return self.send(st, {"status": acct["status"], "contact": acct["contact"]}, location=loc)
        prot, payload, acct = ca.check_jws(url, body)
        if parts[0] == "acct" and url == acct["url"]:
            if payload and payload.get("status") == "deactivated":
                acct["status"] = "deactivated"
            return self.send(200, {"status": acct["status"], "contact": acct["contact"]})
        if parts == ["new-order"]:
            o = ca.new_order(acct, payload)
            log("new-order %s profile=%s %s" % (o["id"], o["profile"], [i["value"] for i in o["identifiers"]]))
            return self.send(201, ca.order_json(o), location="%s/order/%s" % (ca.base, o["id"]))
        if len(parts) == 2 and parts[0] == "order" and parts[1] in ca.orders:
            return self.send(200, ca.order_json(ca.orders[parts[1]]))
        if len(parts) == 2 and parts[0] == "authz" and parts[1] in ca.authzs:
            return self.send(200, ca.authz_json(ca.authzs[parts[1]]))
        if len(parts) == 3 and parts[0] == "chall" and parts[1] in ca.authzs and parts[2].isdigit() \
                and int(parts[2]) < len(ca.authzs[parts[1]]["challenges"]):
            aid, idx = parts[1], int(parts[2])
            if payload is None:
                return self.send(200, ca.authzs[aid]["challenges"][idx])
            c = ca.respond(aid, idx, acct)
            return self.send(200, c, location=None)
        if len(parts) == 2 and parts[0] == "finalize":
            o = ca.finalize(parts[1], acct, payload)
            return self.send(200, ca.order_json(o), location="%s/order/%s" % (ca.base, o["id"]))
        if len(parts) == 2 and parts[0] == "cert" and parts[1] in ca.certs:
            return self.send(200, raw=ca.certs[parts[1]], ctype="application/pem-certificate-chain")
        raise Problem("malformed", "no such resource %s" % self.path, 404)

    def log_message(self, fmt, *args):
        log(fmt % args)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--dns", required=True, help="resolver HOST:PORT")
    ap.add_argument("--issuer", default="acmeca.test", help="the issuer domain name (dns-persist-01)")
    ap.add_argument("--challenges", default="dns-01,dns-account-01,dns-persist-01")
    ap.add_argument("--phantom-profile", default=None,
                    help="a profile listed in meta.profiles that newOrder refuses (invalidProfile)")
    args = ap.parse_args()
    Handler.ca = CA(args)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
