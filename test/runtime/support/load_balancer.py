"""Stands in for the Application Load Balancer in front of a server on loopback.

Callers reach the platform at ``https://<hostname>``: the Host header the server sees is the bare
host name, and the load balancer adds X-Forwarded-*. A client here talks to a loopback port, so
this proxy restores what the load balancer would send; it changes nothing else.
"""

from __future__ import annotations

import http.client
import http.server
import threading

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "host"}


class LoadBalancer:
    def __init__(self, hostname: str, upstream_port: int):
        self.hostname = hostname
        self.upstream_port = upstream_port
        balancer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {key: value for key, value in self.headers.items() if key.lower() not in _HOP_BY_HOP}
                headers.update(
                    {
                        "Host": balancer.hostname,
                        "X-Forwarded-For": self.client_address[0],
                        "X-Forwarded-Proto": "https",
                        "X-Forwarded-Port": "443",
                    }
                )
                upstream = http.client.HTTPConnection("127.0.0.1", balancer.upstream_port, timeout=120)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    content = response.read()
                except OSError:
                    # What ALB answers when no target responds.
                    self.send_response(502)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                finally:
                    upstream.close()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
