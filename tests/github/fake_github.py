"""A fake GitHub REST API on 127.0.0.1 that checks every request and answer against GitHub's OpenAPI description.

Each request must match an operation of tests/github/github-rest.openapi.json (path, method, declared query
parameters only, JSON body valid for the request schema) and carry the expected token; each answer is built to satisfy
the operation's response schema and is validated too. Problems land in ``violations`` (tests assert it stays empty).
State: one repository, its issues, comments and pull requests; ``faults`` queues canned error answers per operation.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from schema_fill import instance, resolve
from werkzeug.datastructures import Headers, ImmutableMultiDict
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

SPEC_PATH = Path(__file__).with_name("github-rest.openapi.json")
BOT = {"login": "github-actions[bot]", "type": "Bot", "id": 41898282}


@dataclass
class Recorded:
    method: str
    path: str
    operation: str
    query: dict[str, str]
    body: Any


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class SpecRequest:
    """openapi-core's request protocol for one HTTP request, as if it had been sent to api.github.com."""

    host_url = "https://api.github.com"

    def __init__(self, method: str, path: str, query: ImmutableMultiDict, headers: Mapping[str, str],
                 body: bytes | None, content_type: str | None) -> None:
        self.path, self.method, self.body = path, method.lower(), body or None
        self.content_type = content_type or "application/json"
        self.parameters = RequestParameters(query=query, header=Headers(dict(headers)), cookie=ImmutableMultiDict())


class SpecChecker:
    """Routes requests to the description's operations and reports how a request or an answer breaks it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.api = OpenAPI.from_dict(spec)
        self.routes: list[tuple[str, re.Pattern[str], str, str]] = []
        for template, item in spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")
            for method, op in item.items():
                self.routes.append((method.upper(), pattern, op["operationId"], template))

    def route(self, method: str, path: str) -> tuple[str, str, dict[str, str]] | None:
        for route_method, pattern, operation, template in self.routes:
            match = pattern.match(path)
            if match and route_method == method.upper():
                return operation, template, match.groupdict()
        return None

    def request_problems(self, request: SpecRequest) -> list[str]:
        routed = self.route(request.method, request.path)
        if routed is None:
            return [f"{request.method.upper()} {request.path}: no such operation in the OpenAPI description"]
        operation, template, _ = routed
        problems = []
        try:
            self.api.validate_request(request)
        except Exception as exc:  # noqa: BLE001 - every validation failure is a problem
            problems.append(f"{operation}: invalid request: {exc}")
        declared = {p.get("name") or resolve(p, self.spec)["name"]
                    for p in self.spec["paths"][template][request.method].get("parameters", [])}
        extra = set(request.parameters.query) - declared
        if extra:
            problems.append(f"{operation}: undeclared query parameters {sorted(extra)}")
        return problems

    def response_problems(self, request: SpecRequest, status: int, data: bytes, headers: Mapping[str, str]) -> list[str]:
        routed = self.route(request.method, request.path)
        assert routed is not None
        operation, template, _ = routed
        if str(status) not in self.spec["paths"][template][request.method]["responses"]:
            return []
        try:
            self.api.validate_response(request, _SpecResponse(status, data, headers))
        except Exception as exc:  # noqa: BLE001
            return [f"{operation}: the fake's own {status} answer is invalid: {exc}"]
        return []


@functools.lru_cache(maxsize=1)
def checker() -> SpecChecker:
    return SpecChecker(json.loads(SPEC_PATH.read_text()))


class _SpecResponse:
    def __init__(self, status: int, data: bytes, headers: Mapping[str, str]) -> None:
        self.status_code, self.data, self.headers = status, data, Headers(headers)
        self.content_type = "application/json"


@dataclass
class FakeGitHub:
    owner: str = "octo-org"
    name: str = "widgets"
    default_branch: str = "main"
    token: str = "test-token"
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    faults: dict[str, list[tuple[int, dict[str, str], dict[str, Any]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.checker = checker()
        self.spec = self.checker.spec
        self._ids = iter(range(1000, 10**9))
        self._lock = threading.Lock()
        self._server: Any = None

    # ------------------------------------------------------------------ helpers for tests

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.name}"

    def add_issue(self, number: int, title: str, body: str, pull_request: bool = False) -> None:
        self.issues[number] = {"title": title, "body": body, "state": "open", "pull_request": pull_request}

    def add_comment(self, issue: int, body: str, login: str = "someone", user_type: str = "User") -> dict[str, Any]:
        comment = {"id": next(self._ids), "issue": issue, "body": body, "login": login, "type": user_type}
        self.comments.append(comment)
        return comment

    def comments_on(self, issue: int) -> list[dict[str, Any]]:
        return [c for c in self.comments if c["issue"] == issue]

    def fail(self, operation: str, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        """Answer the next OPERATION call with STATUS and MESSAGE (the GitHub error shape)."""
        self.faults.setdefault(operation, []).append((status, headers or {}, {"message": message}))

    def operations(self) -> list[str]:
        return [r.operation for r in self.requests]

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeGitHub:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ------------------------------------------------------------------ the server

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        with self._lock:
            response = self._handle(request)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        spec_request = SpecRequest(request.method, request.path, ImmutableMultiDict(request.args),
                                   dict(request.headers), request.get_data(), request.content_type)
        problems = self.checker.request_problems(spec_request)
        self.violations.extend(problems)
        routed = self.checker.route(request.method, request.path)
        if routed is None:
            return self._json(404, {"message": "Not Found"})
        operation, _, params = routed
        body = json.loads(request.get_data()) if request.get_data() else None
        self.requests.append(Recorded(request.method, request.path, operation, dict(request.args), body))
        if problems:
            return self._json(422, {"message": f"Validation Failed: {problems[0]}"})
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._json(401, {"message": "Bad credentials"})
        if (params.get("owner"), params.get("repo")) != (self.owner, self.name):
            return self._json(404, {"message": "Not Found"})
        if self.faults.get(operation):
            status, headers, payload = self.faults[operation].pop(0)
        else:
            handler = getattr(self, "_op_" + operation.replace("/", "_").replace("-", "_"))
            (status, payload), headers = handler(params, body, request.args), {}
        data = json.dumps(payload).encode()
        self.violations.extend(self.checker.response_problems(spec_request, status, data, headers))
        return self._json(status, payload, headers)

    @staticmethod
    def _json(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        return Response(json.dumps(payload), status=status, headers=dict(headers or {}), mimetype="application/json")

    def _schema(self, name: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{name}"}

    def _html(self, suffix: str) -> str:
        return f"https://github.com/{self.owner}/{self.name}/{suffix}"

    # ------------------------------------------------------------------ object builders

    def _repo_object(self, schema: str = "repository") -> Any:
        return instance(self._schema(schema), self.spec, {
            "name": self.name, "full_name": self.repository, "default_branch": self.default_branch,
            "html_url": self._html("").rstrip("/"), "owner": {"login": self.owner}})

    def _issue_object(self, number: int) -> Any:
        issue = self.issues[number]
        fields: dict[str, Any] = {"number": number, "title": issue["title"], "body": issue["body"],
                                  "state": issue["state"], "html_url": self._html(f"issues/{number}")}
        if issue["pull_request"]:
            fields["pull_request"] = {"html_url": self._html(f"pull/{number}")}
        return instance(self._schema("issue"), self.spec, fields)

    def _comment_object(self, comment: dict[str, Any]) -> Any:
        return instance(self._schema("issue-comment"), self.spec, {
            "id": comment["id"], "body": comment["body"], "html_url": self._html(f"issues/{comment['issue']}#c"),
            "user": {"login": comment["login"], "type": comment["type"]}})

    def _pull_object(self, pull: dict[str, Any], schema: str = "pull-request") -> Any:
        ref = lambda branch: {"ref": branch, "label": f"{self.owner}:{branch}", "repo": self._repo_object()}  # noqa: E731
        return instance(self._schema(schema), self.spec, {
            "number": pull["number"], "title": pull["title"], "body": pull["body"], "state": pull["state"],
            "html_url": self._html(f"pull/{pull['number']}"), "head": ref(pull["head"]), "base": ref(pull["base"])})

    # ------------------------------------------------------------------ operations

    def _op_repos_get(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any]:
        return 200, self._repo_object("full-repository")

    def _op_issues_get(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any]:
        number = int(params["issue_number"])
        if number not in self.issues:
            return 404, {"message": "Not Found"}
        return 200, self._issue_object(number)

    def _op_issues_list_comments(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any]:
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        mine = self.comments_on(int(params["issue_number"]))
        return 200, [self._comment_object(c) for c in mine[(page - 1) * per_page:page * per_page]]

    def _op_issues_create_comment(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any]:
        comment = self.add_comment(int(params["issue_number"]), body["body"], BOT["login"], BOT["type"])
        return 201, self._comment_object(comment)

    def _op_issues_update_comment(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any]:
        comment = next((c for c in self.comments if c["id"] == int(params["comment_id"])), None)
        if comment is None:
            return 404, {"message": "Not Found"}
        if comment["login"] != BOT["login"]:
            return 403, {"message": "Resource not accessible by integration"}
        comment["body"] = body["body"]
        return 200, self._comment_object(comment)

    def _op_pulls_list(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any]:
        state, head = query.get("state", "open"), query.get("head")
        found = [p for p in self.pulls if (state == "all" or p["state"] == state)
                 and (head is None or f"{self.owner}:{p['head']}" == head)]
        return 200, [self._pull_object(p, "pull-request-simple") for p in found]

    def _op_pulls_create(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any]:
        if any(p["head"] == body["head"] and p["state"] == "open" for p in self.pulls):
            return 422, {"message": "Validation Failed", "errors": [{"message": "A pull request already exists"}]}
        number = max([*self.issues, *(p["number"] for p in self.pulls), 0]) + 1
        pull = {"number": number, "title": body.get("title", ""), "body": body.get("body", ""), "state": "open",
                "head": body["head"], "base": body["base"]}
        self.pulls.append(pull)
        return 201, self._pull_object(pull)

    def _op_pulls_update(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any]:
        pull = next((p for p in self.pulls if p["number"] == int(params["pull_number"])), None)
        if pull is None:
            return 404, {"message": "Not Found"}
        pull.update({k: v for k, v in body.items() if k in ("title", "body", "state")})
        return 200, self._pull_object(pull)
