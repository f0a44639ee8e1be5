"""A client that speaks the push protocol to a live server the way a ZKTeco terminal does.

Real request lines over `http.client`, `Content-Type: text/plain` bodies, and a choice of
source address (any 127.x.y.z on Linux loopback), so tests can be several terminals — or
an attacker — on different addresses.
"""

from __future__ import annotations

import http.client
from urllib.parse import quote, urlsplit

from .conftest import SERIAL


class Terminal:
    def __init__(self, base_url: str, serial: str = SERIAL, *, source: str | None = None) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.serial = serial
        self.source = source

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        conn = http.client.HTTPConnection(
            self.host,
            self.port,
            timeout=30,
            source_address=(self.source, 0) if self.source else None,
        )
        sent = {"User-Agent": "iClock Proxy/1.09", **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "text/plain"
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response, data.decode("utf-8", errors="replace")

    def handshake(self, pushver: str | None = "2.4.1"):
        query = f"SN={self.serial}&options=all&language=83"
        if pushver:
            query += f"&pushver={pushver}"
        return self.request("GET", f"/iclock/cdata?{query}")

    def upload(self, table: str, body: bytes, **params):
        extra = "".join(f"&{k}={quote(str(v), safe='')}" for k, v in params.items())
        return self.request(
            "POST", f"/iclock/cdata?SN={self.serial}&table={quote(table, safe='')}{extra}", body
        )

    def photo(self, body: bytes, *, fdata: bool = False, **params):
        if fdata:
            extra = "".join(f"&{k}={quote(str(v), safe='')}" for k, v in params.items())
            return self.request("POST", f"/iclock/fdata?SN={self.serial}{extra}", body)
        return self.upload("ATTPHOTO", body, **params)

    def poll(self, info: str | None = None):
        query = f"SN={self.serial}"
        if info:
            query += "&INFO=" + quote(info, safe=",")
        return self.request("GET", f"/iclock/getrequest?{query}")

    def command_results(self, body: bytes):
        return self.request("POST", f"/iclock/devicecmd?SN={self.serial}", body)
