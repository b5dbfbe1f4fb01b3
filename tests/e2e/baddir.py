# tests/e2e/baddir.py -- an HTTPS server that serves malformed ACME directories.
# SPDX-License-Identifier: MIT
#
# usage: python3 baddir.py PORT CERT KEY. Prints "ready" once listening. Serves:
#   /truncated   JSON cut off in the middle
#   /array       valid JSON that is not an object
#   /empty       {} (no newNonce, newAccount or newOrder)
#   /html        an HTML page with status 200
# Anything else is 404. Listens on 127.0.0.1 only; stopped by PID by the test.
import http.server
import ssl
import sys

BODIES = {
    "/truncated": ("application/json", b'{"newNonce": "https://127.0.0.1:1/nonce", "newAccount": '),
    "/array": ("application/json", b'["newNonce", "newAccount", "newOrder"]'),
    "/empty": ("application/json", b"{}"),
    "/html": ("text/html", b"<html><body>Welcome to nginx!</body></html>"),
}


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, head_only):
        kind, body = BODIES.get(self.path.split("?")[0], ("text/plain", None))
        self.send_response(200 if body is not None else 404)
        body = body if body is not None else b"not found"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Replay-Nonce", "not-a-real-nonce")
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def do_GET(self):
        self._answer(False)

    def do_HEAD(self):
        self._answer(True)

    def do_POST(self):
        self._answer(False)

    def log_message(self, fmt, *args):
        sys.stderr.write("baddir: " + (fmt % args) + "\n")


def main():
    port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.timeout = 10
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
