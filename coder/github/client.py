"""A small typed GitHub REST client on httpx: retries with backoff, clear permission errors, injectable transport.

Exceptions::

    GitHubError               any failed call (status, operation, message for the user)
    +-- GitHubPermissionError  401/403/404 the token is not allowed to do this (says which setting or permission)
    +-- GitHubRateLimitError   rate limited for longer than we are willing to wait
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..errors import CoderError
from .retry import RetryPolicy, retry_delay

__all__ = ["Comment", "GitHubClient", "GitHubError", "GitHubPermissionError", "GitHubRateLimitError", "Issue",
           "PullRequest", "Repository", "DEFAULT_API_URL"]

DEFAULT_API_URL = "https://api.github.com"
PR_SETTING_MESSAGE = ("GitHub Actions is not allowed to create pull requests in this repository: enable "
                      "Settings > Actions > General > Workflow permissions > \"Allow GitHub Actions to create and "
                      "approve pull requests\" (in an organisation, the organisation's setting must allow it too)")


class GitHubError(CoderError):
    """A GitHub API call failed; str() is a message for the user."""

    def __init__(self, message: str, status: int | None = None, operation: str = "") -> None:
        super().__init__(message)
        self.status, self.operation = status, operation


class GitHubPermissionError(GitHubError):
    """The token may not do this; the message names the missing permission or repository setting."""


class GitHubRateLimitError(GitHubError):
    """Still rate limited after the retries (or the limit resets later than we wait)."""


@dataclass(frozen=True)
class Repository:
    full_name: str
    default_branch: str
    html_url: str


@dataclass(frozen=True)
class Issue:
    number: int
    title: str
    body: str
    state: str
    html_url: str
    is_pull_request: bool


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    user_login: str
    user_type: str
    html_url: str


@dataclass(frozen=True)
class PullRequest:
    number: int
    title: str
    body: str
    state: str
    html_url: str
    head_ref: str
    base_ref: str


def _user(data: Mapping[str, Any]) -> Mapping[str, Any]:
    user = data.get("user")
    return user if isinstance(user, Mapping) else {}


def _pull(data: Mapping[str, Any]) -> PullRequest:
    return PullRequest(int(data["number"]), str(data.get("title") or ""), str(data.get("body") or ""),
                       str(data.get("state") or ""), str(data.get("html_url") or ""),
                       str(data.get("head", {}).get("ref", "")), str(data.get("base", {}).get("ref", "")))


def _comment(data: Mapping[str, Any]) -> Comment:
    user = _user(data)
    return Comment(int(data["id"]), str(data.get("body") or ""), str(user.get("login") or ""),
                   str(user.get("type") or ""), str(data.get("html_url") or ""))


class GitHubClient:
    """The calls coder's GitHub Action makes, for one repository OWNER/REPO.

    ``transport`` is httpx's one-method seam (tests pass a MockTransport or point ``api_url`` at a fake server);
    ``sleep`` is what waits between retries (tests pass a recorder instead of really sleeping).
    """

    def __init__(self, token: str | None, repository: str, api_url: str = DEFAULT_API_URL, *,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
                 policy: RetryPolicy | None = None, timeout: float = 30.0) -> None:
        owner, _, name = repository.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repository must be OWNER/NAME, got {repository!r}")
        self.owner, self.name = owner, name
        self.sleep = sleep
        self.policy = policy or RetryPolicy()
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                   "User-Agent": "coder-github-action"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=api_url.rstrip("/"), headers=headers, transport=transport, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _repo_path(self) -> str:
        return f"/repos/{self.owner}/{self.name}"

    # ------------------------------------------------------------------ transport, retries, errors

    def request(self, method: str, path: str, operation: str, permission: str, *,
                params: Mapping[str, Any] | None = None, json: Any = None) -> Any:
        """Send one call, retrying 5xx, connection errors and rate limits; return the decoded JSON (or None)."""
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path, params=params, json=json)
            except httpx.TransportError as exc:
                if attempt >= self.policy.max_retries:
                    raise GitHubError(f"{operation}: cannot reach the GitHub API ({exc.__class__.__name__}: {exc})",
                                      None, operation) from exc
                self.sleep(self.policy.backoff(attempt))
                attempt += 1
                continue
            if response.is_success:
                return response.json() if response.content else None
            delay = retry_delay(response, attempt, self.policy, time.time())
            if delay is None or attempt >= self.policy.max_retries:
                raise self._error(response, operation, permission, retried=attempt)
            if delay > self.policy.max_wait:
                raise GitHubRateLimitError(f"{operation}: GitHub's rate limit resets in {delay:.0f} s, longer than the "
                                           f"{self.policy.max_wait:.0f} s coder waits; re-run the job later",
                                           response.status_code, operation)
            self.sleep(delay)
            attempt += 1

    @staticmethod
    def _error(response: httpx.Response, operation: str, permission: str, retried: int) -> GitHubError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        detail = message or response.reason_phrase
        lowered = message.lower()
        if status == 403 and "not permitted to create or approve pull requests" in lowered:
            return GitHubPermissionError(f"{operation}: {PR_SETTING_MESSAGE}", status, operation)
        if status in (403, 429) and "rate limit" in lowered:
            return GitHubRateLimitError(f"{operation}: still rate limited after {retried} retries ({detail})",
                                        status, operation)
        if status == 401:
            return GitHubPermissionError(f"{operation}: GitHub rejected the token ({detail}); pass a valid "
                                         "github-token", status, operation)
        if status == 403 or (status == 404 and "resource not accessible" in lowered):
            return GitHubPermissionError(f"{operation}: the token lacks a permission ({detail}); give the job "
                                         f"`permissions: {permission}`", status, operation)
        if status >= 500:
            return GitHubError(f"{operation}: GitHub answered {status} {detail} after {retried} retries", status,
                               operation)
        errors = body.get("errors") if isinstance(body, dict) else None
        extra = f" {errors}" if errors else ""
        return GitHubError(f"{operation}: GitHub answered {status} {detail}{extra}", status, operation)

    # ------------------------------------------------------------------ operations

    def get_repository(self) -> Repository:
        data = self.request("GET", self._repo_path, "repos/get", "contents: read")
        return Repository(str(data["full_name"]), str(data["default_branch"]), str(data["html_url"]))

    def get_issue(self, number: int) -> Issue:
        data = self.request("GET", f"{self._repo_path}/issues/{number}", "issues/get", "issues: read")
        return Issue(int(data["number"]), str(data.get("title") or ""), str(data.get("body") or ""),
                     str(data.get("state") or ""), str(data.get("html_url") or ""), data.get("pull_request") is not None)

    def list_comments(self, number: int, max_pages: int = 20) -> list[Comment]:
        """Every comment on issue NUMBER (up to MAX_PAGES pages of 100), oldest first."""
        comments: list[Comment] = []
        for page in range(1, max_pages + 1):
            data = self.request("GET", f"{self._repo_path}/issues/{number}/comments", "issues/list-comments",
                                "issues: read", params={"per_page": 100, "page": page})
            comments.extend(_comment(item) for item in data)
            if len(data) < 100:
                break
        return comments

    def create_comment(self, number: int, body: str) -> Comment:
        data = self.request("POST", f"{self._repo_path}/issues/{number}/comments", "issues/create-comment",
                            "issues: write", json={"body": body})
        return _comment(data)

    def update_comment(self, comment_id: int, body: str) -> Comment:
        data = self.request("PATCH", f"{self._repo_path}/issues/comments/{comment_id}", "issues/update-comment",
                            "issues: write", json={"body": body})
        return _comment(data)

    def find_open_pull(self, branch: str) -> PullRequest | None:
        """The open pull request whose head is BRANCH of this repository, if any."""
        data = self.request("GET", f"{self._repo_path}/pulls", "pulls/list", "pull-requests: read",
                            params={"state": "open", "head": f"{self.owner}:{branch}", "per_page": 100})
        pulls = [_pull(item) for item in data]
        return next((p for p in pulls if p.head_ref == branch), None)

    def create_pull(self, title: str, head: str, base: str, body: str) -> PullRequest:
        data = self.request("POST", f"{self._repo_path}/pulls", "pulls/create", "pull-requests: write",
                            json={"title": title, "head": head, "base": base, "body": body})
        return _pull(data)

    def update_pull(self, number: int, title: str, body: str) -> PullRequest:
        data = self.request("PATCH", f"{self._repo_path}/pulls/{number}", "pulls/update", "pull-requests: write",
                            json={"title": title, "body": body})
        return _pull(data)
