"""A client for one service: base URL, optional bearer token, a transport callable."""

from __future__ import annotations

from typing import Callable, List, Optional

from .request import PreparedRequest, RequestBuilder

Transport = Callable[[PreparedRequest], int]


class Client:
    def __init__(self, base_url: str, token: Optional[str] = None,
                 transport: Optional[Transport] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.transport = transport
        self.sent: List[PreparedRequest] = []

    def request(self, method: str, path: str) -> RequestBuilder:
        builder = RequestBuilder(method, f"{self.base_url}/{path.lstrip('/')}")
        if self.token:
            builder.header("Authorization", f"Bearer {self.token}")
        return builder

    def send(self, builder: RequestBuilder) -> int:
        prepared = builder.prepare()
        self.sent.append(prepared)
        return self.transport(prepared) if self.transport else 200

    def get(self, path: str, **params: object) -> int:
        builder = self.request("GET", path)
        for name, value in params.items():
            builder.param(name, value)
        return self.send(builder)

    def post_json(self, path: str, text: str) -> int:
        return self.send(self.request("POST", path).json_body(text))
