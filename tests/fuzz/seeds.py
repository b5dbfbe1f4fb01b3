#!/usr/bin/env python3
# tests/fuzz/seeds.py -- write the seed corpora in tests/fuzz/corpus/<target>/ (run once;
# the files are committed). Each seed is a real message of the kind the target reads.
# SPDX-License-Identifier: ISC
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
UUID1 = "0c8b1f0e-4c5d-4e1a-9a7b-2f3e4d5c6b7a"
TXT = "LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM"   # a real-looking key authorization digest

def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"

def query(name, qtype, qclass=1, qid=0x1234, flags=0x0100, edns=None, qd=1, extra=b""):
    """A DNS query (RFC 1035 §4.1); edns=(payload, do, options) adds an OPT RR (RFC 6891)."""
    ar = 1 if edns else 0
    msg = struct.pack(">HHHHHH", qid, flags, qd, 0, 0, ar)
    msg += wire_name(name) + struct.pack(">HH", qtype, qclass) + extra
    if edns:
        payload, do, opts = edns
        rdata = b"".join(struct.pack(">HH", c, len(v)) + v for c, v in opts)
        msg += b"\0" + struct.pack(">HHIH", 41, payload, 0x8000 if do else 0, len(rdata)) + rdata
    return msg

def dns_seeds():
    z = "auth.example.org"
    cookie = (10, bytes.fromhex("2464c4abcf10c957"))   # RFC 7873 client cookie
    seeds = {
        "txt_challenge": query(UUID1 + "." + z, 16),
        "txt_challenge_edns_do": query(UUID1 + "." + z, 16, edns=(1232, True, [])),
        "txt_challenge_cookie": query(UUID1.upper() + "." + z, 16, edns=(4096, False, [cookie])),
        "txt_0x20": query("0C8b1F0e-4c5D-4E1a-9A7b-2F3e4D5c6B7a.AuTh.ExAmPlE.oRg", 16),
        "soa_apex": query(z, 6),
        "ns_apex": query(z, 2, edns=(512, False, [])),
        "a_apex": query(z, 1),
        "aaaa_ns1": query("ns1." + z, 28),
        "any_apex": query(z, 255),
        "caa": query("caa." + z, 257),
        "mx": query("mail." + z, 15),
        "cname_www": query("www." + z, 1),
        "cname_ext": query("ext." + z, 1),
        "cname_loop": query("loop1." + z, 16),
        "cname_chal": query("_acme-challenge." + z, 16),
        "delegation": query("host.sub." + z, 1),
        "ent": query("b.deep." + z, 1),
        "srv": query("_sip._udp." + z, 33),
        "nxdomain": query("nope." + z, 16),
        "outside": query("www.example.net", 1),
        "axfr": query(z, 252),
        "ixfr": query(z, 251),
        "chaos_version": query("version.bind", 16, qclass=3),
        "notify": query(z, 6, flags=0x2000),
        "two_questions": query(z, 6, qd=2, extra=wire_name("www." + z) + struct.pack(">HH", 1, 1)),
        "edns_v1": query(z, 6, edns=(1232, False, [])).replace(b"\x00\x00\x29\x04\xd0\x00\x00",
                                                                b"\x00\x00\x29\x04\xd0\x00\x01"),
        "response_bit": query(z, 6, flags=0x8100),
        "compressed_qname": struct.pack(">HHHHHH", 7, 0x100, 1, 0, 0, 0) + b"\xc0\x0c\x00\x06\x00\x01",
        "truncated": query(z, 6)[:20],
    }
    for k, v in seeds.items():
        put("dns", k, v)

TOKEN = "fuzz-register-token-0123456789"   # fuzz_api.c's register_token

def api_seed(method, path, user="", key="", origin="", acr="", peer="127.0.0.1", fwd="", body="",
             auth="Bearer " + TOKEN):
    return "\0".join([method, path, user, key, origin, acr, auth, peer, fwd, body])

def api_seeds():
    upd1 = '{"subdomain":"@S1","txt":"%s"}' % TXT
    upd2 = '{"subdomain":"@S2","txt":"%s"}' % TXT
    seeds = {
        "register_empty": api_seed("POST", "/register"),
        "register_allowfrom": api_seed("POST", "/register",
                                       body='{"allowfrom":["192.0.2.0/24","[2001:db8::]/32"]}'),
        "register_bad_cidr": api_seed("POST", "/register", body='{"allowfrom":["1.2.3.4/33"]}'),
        "register_null": api_seed("POST", "/register", body="null"),
        "register_case": api_seed("POST", "/register", body='{"AllowFrom":["10.0.0.1"],"x":[1,{}]}'),
        "update_ok": api_seed("POST", "/update", "@U1", "@K1", body=upd1),
        "update_urn_user": api_seed("POST", "/update", "urn:uuid:@U1", "@K1", body=upd1),
        "update_wrong_key": api_seed("POST", "/update", "@U1", "x" * 40, body=upd1),
        "update_bad_txt": api_seed("POST", "/update", "@U1", "@K1",
                                   body='{"subdomain":"@S1","txt":"short"}'),
        "update_foreign_sub": api_seed("POST", "/update", "@U1", "@K1", body=upd2),
        "update_allowfrom_xff": api_seed("POST", "/update", "@U2", "@K2", peer="127.0.0.1",
                                         fwd="198.51.100.7, 192.0.2.5", body=upd2),
        "update_allowfrom_v6": api_seed("POST", "/update", "@U2", "@K2", peer="2001:db8::5",
                                        body=upd2),
        "update_allowfrom_denied": api_seed("POST", "/update", "@U2", "@K2", peer="203.0.113.9",
                                            body=upd2),
        "update_xff_garbage": api_seed("POST", "/update", "@U2", "@K2", peer="::1",
                                       fwd="unknown, ::ffff:192.0.2.1", body=upd2),
        "persist_post": api_seed("POST", "/persist", "@U1", "@K1",
                                 body='{"subdomain":"@S1","value":"ca.example; accounturi=https://ca.example/a/1; policy=wildcard"}'),
        "persist_post_bad": api_seed("POST", "/persist", "@U1", "@K1",
                                     body='{"subdomain":"@S1","value":"ca.example; accounturi=a; AccountURI=b; persistUntil=x"}'),
        "persist_delete": api_seed("DELETE", "/persist", "@U1", "@K1",
                                   body='{"subdomain":"@S1","issuer":"CA.example"}'),
        "persist_get": api_seed("GET", "/persist", "@U1", "@K1"),
        "health": api_seed("GET", "/health"),
        "health_head": api_seed("HEAD", "/health"),
        "preflight": api_seed("OPTIONS", "/update", origin="https://app.example.com", acr="POST"),
        "options": api_seed("OPTIONS", "/register", origin="https://exact.example.org"),
        "method_get_update": api_seed("GET", "/update", origin="https://evil.example.net"),
        "not_found": api_seed("POST", "/update/"),
        "deep_json": api_seed("POST", "/register", body="[" * 40 + "]" * 40),
        "register_no_token": api_seed("POST", "/register", auth=""),
        "register_wrong_token": api_seed("POST", "/register", auth="Bearer wrong"),
        "redirect_trailing_slash": api_seed("POST", "/update/", "@U1", "@K1",
                                            body='{"subdomain":"@S1","txt":"%s"}' % TXT),
        "redirect_double_slash": api_seed("GET", "//health"),
        "redirect_case": api_seed("POST", "/Register"),
    }
    for k, v in seeds.items():
        put("api", k, v)

ACMEDNS_CFG = """[general]
# DNS interface. Note that systemd-resolved may reserve port 53 on 127.0.0.53
listen = "127.0.0.1:53"
# protocol, "both", "both4", "both6", "udp", "udp4", "udp6" or "tcp", "tcp4", "tcp6"
protocol = "both"
# domain name to serve the requests off of
domain = "auth.example.org"
# zone name server
nsname = "auth.example.org"
# admin email address, where @ is substituted with .
nsadmin = "admin.example.org"
# predefined records served in addition to the TXT
records = [
    # domain pointing to the public IP of your acme-dns server
    "auth.example.org. A 198.51.100.1",
    # specify that auth.example.org will resolve any *.auth.example.org records
    "auth.example.org. NS auth.example.org.",
]
# debug messages from CORS etc
debug = false

[database]
# Database engine to use, sqlite3 or postgres
engine = "sqlite3"
# Connection string, filename for sqlite3 and postgres://$username:$password@$host/$db_name for postgres
# Please note that the default Docker image uses path /var/lib/acme-dns/acme-dns.db for sqlite3
connection = "/var/lib/acme-dns/acme-dns.db"
# connection = "postgres://user:password@localhost/acmedns_db"

[api]
# listen ip eg. 127.0.0.1
ip = "0.0.0.0"
# disable registration endpoint
disable_registration = false
# listen port, eg. 443 for default HTTPS
port = "443"
# possible values: "letsencrypt", "letsencryptstaging", "cert", "none"
tls = "letsencryptstaging"
# only used if tls = "cert"
tls_cert_privkey = "/etc/tls/example.org/privkey.pem"
tls_cert_fullchain = "/etc/tls/example.org/fullchain.pem"
# only used if tls = "letsencrypt"
acme_cache_dir = "api-certs"
# optional e-mail address to which Let's Encrypt will send expiration notices for the API's cert
notification_email = ""
# CORS AllowOrigins, wildcards can be used
corsorigins = [
    "*"
]
# use HTTP header to get the client ip
use_header = false
# header name to pull the ip address / list of ips from
header_name = "X-Forwarded-For"

[logconfig]
# logging level: "error", "warning", "info" or "debug"
loglevel = "debug"
# possible values: stdout, TODO file & integrations
logtype = "stdout"
# file path for logfile TODO
# logfile = "./acme-dns.log"
# format, either "json" or "text"
logformat = "text"
"""

def config_seeds(repo):
    for name in ("config.cfg", "dev.cfg"):
        with open(os.path.join(repo, "deploy", name), "rb") as f:
            put("config", "deploy_" + name, f.read())
    put("config", "acmedns_config.cfg", ACMEDNS_CFG)
    put("config", "acmedns_tls_cert.cfg", ACMEDNS_CFG.replace('"letsencryptstaging"', '"cert"'))
    put("config", "records_all_types.cfg", ACMEDNS_CFG.replace(
        '"auth.example.org. NS auth.example.org.",',
        '"auth.example.org. NS auth.example.org.",\n    "www CNAME auth.example.org.",\n'
        '    "mail MX 10 auth.example.org.",\n    "ns1 AAAA 2001:db8::53",\n'
        '    "txt TXT \\"v=spf1 -all\\"",\n    "caa CAA 0 issuewild \\";\\"",\n'
        "    'sub NS ns.sub.auth.example.org.',\n    \"ns.sub A 192.0.2.9\",").replace(
        'tls = "letsencryptstaging"', "tls = 'none'\nport = 8_080\ntxt_values = +4\n"
        'trusted_proxies = ["127.0.0.1", "::1",]'))
    put("config", "bad_line.cfg", '[general]\nlisten = "127.0.0.1:53"\nprotocol = "both"\n'
        'domain = "auth.example.org"\nnsname = "ns1"\nnsadmin = "a.example.org"\n'
        'records = [\n  "auth.example.org. A 300.1.1.1",\n]\n')

DIRECTORY = """{
  "keyChange": "https://acme-v02.api.letsencrypt.org/acme/key-change",
  "meta": {
    "caaIdentities": ["letsencrypt.org"],
    "termsOfService": "https://letsencrypt.org/documents/LE-SA-v1.4-April-3-2024.pdf",
    "website": "https://letsencrypt.org"
  },
  "newAccount": "https://acme-v02.api.letsencrypt.org/acme/new-acct",
  "newNonce": "https://acme-v02.api.letsencrypt.org/acme/new-nonce",
  "newOrder": "https://acme-v02.api.letsencrypt.org/acme/new-order",
  "renewalInfo": "https://acme-v02.api.letsencrypt.org/draft-ietf-acme-ari-03/renewalInfo",
  "revokeCert": "https://acme-v02.api.letsencrypt.org/acme/revoke-cert",
  "xGp3Tx5ZbQw": "https://community.letsencrypt.org/t/adding-random-entries-to-the-directory/33417"
}"""
PEBBLE_DIRECTORY = """{
   "keyChange": "https://localhost:14000/rollover-account-key",
   "meta": {
      "externalAccountRequired": false,
      "termsOfService": "data:text/plain,Do%20what%20thou%20wilt"
   },
   "newAccount": "https://localhost:14000/sign-me-up",
   "newNonce": "https://localhost:14000/nonce-plz",
   "newOrder": "https://localhost:14000/order-plz",
   "revokeCert": "https://localhost:14000/revoke-cert"
}"""
ORDER = """{
  "status": "pending",
  "expires": "2026-12-11T14:00:00Z",
  "identifiers": [
    {"type": "dns", "value": "example.org"},
    {"type": "dns", "value": "*.example.org"}
  ],
  "authorizations": [
    "https://acme-v02.api.letsencrypt.org/acme/authz-v3/1234567890",
    "https://acme-v02.api.letsencrypt.org/acme/authz-v3/1234567891"
  ],
  "finalize": "https://acme-v02.api.letsencrypt.org/acme/finalize/12345/67890"
}"""
ORDER_VALID = """{"status":"valid","expires":"2026-12-11T14:00:00Z","identifiers":[{"type":"dns","value":"example.org"}],"authorizations":["https://localhost:14000/authZ/abc"],"finalize":"https://localhost:14000/finalize-order/abc","certificate":"https://localhost:14000/certZ/0123"}"""
ORDER_INVALID = """{"status":"invalid","authorizations":[],"finalize":"https://localhost:14000/finalize-order/x","error":{"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"Error creating new order :: Cannot issue for \\"example.invalid\\"","status":400}}"""
AUTHZ = """{
  "identifier": {"type": "dns", "value": "example.org"},
  "status": "pending",
  "expires": "2026-12-11T14:00:00Z",
  "challenges": [
    {"type": "http-01", "status": "pending", "url": "https://acme-v02.api.letsencrypt.org/acme/chall-v3/1/aaa", "token": "DGyRejmCefe7v4NfDGDKfA"},
    {"type": "dns-01", "status": "pending", "url": "https://acme-v02.api.letsencrypt.org/acme/chall-v3/1/bbb", "token": "DGyRejmCefe7v4NfDGDKfA"},
    {"type": "tls-alpn-01", "status": "pending", "url": "https://acme-v02.api.letsencrypt.org/acme/chall-v3/1/ccc", "token": "DGyRejmCefe7v4NfDGDKfA"}
  ],
  "wildcard": true
}"""
AUTHZ_INVALID = """{"identifier":{"type":"dns","value":"example.org"},"status":"invalid","challenges":[{"type":"dns-01","status":"invalid","url":"https://localhost:14000/chalZ/x","token":"tok_-123","error":{"type":"urn:ietf:params:acme:error:unauthorized","detail":"Incorrect TXT record \\"x\\" found at _acme-challenge.example.org","status":403,"subproblems":[{"type":"urn:ietf:params:acme:error:dns","detail":"SERVFAIL","identifier":{"type":"dns","value":"example.org"}}]}}]}"""
PROBLEM = """{"type":"urn:ietf:params:acme:error:badNonce","detail":"JWS has an invalid anti-replay nonce: \\"abc\\"","status":400}"""
PROBLEM_SUB = """{"type":"urn:ietf:params:acme:error:malformed","detail":"Some of the identifiers requested were rejected","status":400,"subproblems":[{"type":"urn:ietf:params:acme:error:malformed","detail":"Invalid underscore in DNS name \\"_example.org\\"","identifier":{"type":"dns","value":"_example.org"}},{"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"This CA will not issue for \\"example.net\\"","identifier":{"type":"dns","value":"example.net"}}]}"""
ACCOUNT = """{"key":{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},"contact":["mailto:admin@example.org","mailto:ops@example.org"],"initialIp":"192.0.2.1","createdAt":"2026-11-22T10:00:00Z","status":"valid","orders":"https://localhost:14000/list-orderz/1"}"""
RENEWAL = """{"suggestedWindow":{"start":"2026-12-01T00:00:00Z","end":"2026-12-03T00:00:00.123456+01:00"},"explanationURL":"https://acme.example.com/docs/ari"}"""
LINK = '<https://acme-v02.api.letsencrypt.org/acme/cert/alt/1>;rel="alternate", <https://acme-v02.api.letsencrypt.org/directory>;rel="index", </acme/cert/alt/2>; rel=alternate'

def acme_seeds():
    seeds = [
        ("directory_letsencrypt", 0, DIRECTORY), ("directory_pebble", 0, PEBBLE_DIRECTORY),
        ("order_pending", 1, ORDER), ("order_valid", 1, ORDER_VALID),
        ("order_invalid", 1, ORDER_INVALID), ("authz_wildcard", 2, AUTHZ),
        ("authz_invalid", 2, AUTHZ_INVALID), ("problem_badnonce", 3, PROBLEM),
        ("problem_subproblems", 3, PROBLEM_SUB), ("account", 4, ACCOUNT),
        ("renewal_info", 5, RENEWAL), ("link", 6, LINK),
        ("retry_after_seconds", 7, "120"), ("retry_after_imf", 7, "Fri, 04 Dec 2026 15:00:00 GMT"),
        ("retry_after_rfc850", 7, "Friday, 04-Dec-26 15:00:00 GMT"),
        ("retry_after_asctime", 7, "Fri Dec  4 15:00:00 2026"),
        ("rfc3339", 8, "2026-11-24T13:00:00.5-07:30"),
    ]
    for name, sel, body in seeds:
        put("acme", name, bytes([sel]) + body.encode())

REGISTER = '{"username":"eabcdb41-d89f-4580-826f-3e62e9755ef2","password":"pbAXVjlIOE01xbut7YnAbkhMQIkcwoHO0ek2j4Q0","fulldomain":"d420c923-bbd7-4056-ab64-c3ca54c9b3cf.auth.example.org","subdomain":"d420c923-bbd7-4056-ab64-c3ca54c9b3cf","allowfrom":[]}'
STORAGE = '{"example.org":{"FullDomain":"d420c923-bbd7-4056-ab64-c3ca54c9b3cf.auth.example.org","SubDomain":"d420c923-bbd7-4056-ab64-c3ca54c9b3cf","Username":"eabcdb41-d89f-4580-826f-3e62e9755ef2","Password":"pbAXVjlIOE01xbut7YnAbkhMQIkcwoHO0ek2j4Q0","ServerURL":"https://auth.example.org"},"other.org":{"fulldomain":"x.auth.example.org","subdomain":"x","username":"u","password":"p"}}'
MAP = '{"https://acme-v02.api.letsencrypt.org/directory":"https://acme-v02.api.letsencrypt.org/acme/acct/123","https://localhost:14000/dir":"https://localhost:14000/my-account/1"}'

def acmedns_seeds():
    seeds = [
        ("register", 0, "", REGISTER),
        ("register_server_url", 0, "", REGISTER[:-1] + ',"server_url":"https://other.example.net"}'),
        ("register_missing", 0, "", '{"username":"u","fulldomain":"x.example.org"}'),
        ("storage_get", 1, "example.org", STORAGE), ("storage_lower", 1, "other.org", STORAGE),
        ("storage_absent", 1, "missing.org", STORAGE), ("storage_bad", 1, "example.org", '{"example.org":[1]}'),
        ("map_get", 2, "https://localhost:14000/dir", MAP), ("map_empty", 2, "k", "{}"),
    ]
    for name, sel, key, body in seeds:
        put("acmedns", name, bytes([sel]) + key.encode() + b"\0" + body.encode())

def stored_seeds():
    txt2 = "w" * 42 + "A"
    seeds = {
        "open_account": ["192.0.2.5", "[]", UUID1, TXT, txt2],
        "acmedns_allowfrom": ["192.0.2.5", '["192.0.2.0/24","2001:db8::/32"]', UUID1, TXT, ""],
        "v6_client": ["2001:db8::1", '["[2001:db8::]/32"]', UUID1.upper(), TXT],
        "mapped_client": ["::ffff:192.0.2.7", '["192.0.2.7"]', UUID1, "", ""],
        "null_column": ["10.0.0.1", "null", UUID1, TXT],
        "not_array": ["10.0.0.1", '{"a":1}', "not-a-uuid", TXT],
        "long_entry": ["10.0.0.1", '["' + "1" * 70 + '"]', UUID1, TXT + "x"],
        "unknown_client": ["", '["0.0.0.0/0"]', UUID1, "bad value"],
    }
    for k, fields in seeds.items():
        put("stored", k, "\0".join(fields))

def main():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    dns_seeds(); api_seeds(); config_seeds(repo); acme_seeds(); acmedns_seeds(); stored_seeds()
    return 0

if __name__ == "__main__":
    sys.exit(main())
