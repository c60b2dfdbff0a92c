"""Fluent request building: RequestBuilder("GET", url).header(...).param(...).prepare()."""

from __future__ import annotations

from typing import Dict, NamedTuple, Optional
from urllib.parse import urlencode


class PreparedRequest(NamedTuple):
    method: str
    url: str
    headers: Dict[str, str]
    body: Optional[bytes]


class RequestBuilder:
    default_headers = {"Accept": "application/json", "User-Agent": "apiclient/2.3"}

    def __init__(self, method: str, url: str) -> None:
        self.method = method.upper()
        self.url = url
        self.headers = self.default_headers
        self.params: Dict[str, str] = {}
        self.body: Optional[bytes] = None

    def header(self, name: str, value: str) -> "RequestBuilder":
        self.headers[name] = value
        return self

    def param(self, name: str, value: object) -> "RequestBuilder":
        self.params[name] = str(value)
        return self

    def json_body(self, text: str) -> "RequestBuilder":
        self.body = text.encode("utf-8")
        return self.header("Content-Type", "application/json")

    def prepare(self) -> PreparedRequest:
        url = self.url
        if self.params:
            url += ("&" if "?" in url else "?") + urlencode(sorted(self.params.items()))
        return PreparedRequest(self.method, url, dict(self.headers), self.body)
