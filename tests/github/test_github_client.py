"""The REST client: retries and backoff (through httpx's transport seam, with recorded instead of real sleeps),
rate limits, permission messages, pagination and headers."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from fake_github import FakeGitHub, SpecRequest, checker
from werkzeug.datastructures import ImmutableMultiDict

from coder.github.client import (
    PR_SETTING_MESSAGE,
    GitHubClient,
    GitHubError,
    GitHubPermissionError,
    GitHubRateLimitError,
)
from coder.github.retry import RetryPolicy, retry_delay

Answer = httpx.Response | Exception


def client_for(answers: list[Answer], seen: list[httpx.Request] | None = None,
               policy: RetryPolicy | None = None) -> tuple[GitHubClient, list[float]]:
    """A client whose transport checks each request against the OpenAPI description, then plays ANSWERS in order
    (an exception is raised as a transport error)."""
    sleeps: list[float] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        spec_request = SpecRequest(request.method, request.url.path.removeprefix("/api/v3"),
                                   ImmutableMultiDict(list(request.url.params.multi_items())), dict(request.headers),
                                   request.content, request.headers.get("content-type"))
        assert checker().request_problems(spec_request) == []  # every request, also here, fits GitHub's description
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = GitHubClient("tok", "o/r", "https://api.example.test/api/v3", transport=httpx.MockTransport(handler),
                          sleep=sleeps.append, policy=policy)
    return client, sleeps


def error(status: int, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"message": message, "documentation_url": "https://docs.github.com"},
                          headers=headers)


REPO = httpx.Response(200, json={"full_name": "o/r", "default_branch": "main", "html_url": "https://github.com/o/r"})


def test_5xx_is_retried_with_exponential_backoff() -> None:
    client, sleeps = client_for([error(502, "Bad Gateway"), error(503, "Unavailable"), REPO])
    assert client.get_repository().default_branch == "main"
    assert sleeps == [1.0, 2.0]


def test_5xx_gives_up_after_the_retries_with_a_clear_message() -> None:
    client, sleeps = client_for([error(500, "boom")] * 5)
    with pytest.raises(GitHubError, match=r"repos/get: GitHub answered 500 boom after 4 retries"):
        client.get_repository()
    assert sleeps == [1.0, 2.0, 4.0, 8.0]


def test_connection_errors_are_retried() -> None:
    client, sleeps = client_for([httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), REPO])
    assert client.get_repository().full_name == "o/r"
    assert sleeps == [1.0, 2.0]


def test_connection_errors_give_up_with_the_cause() -> None:
    client, sleeps = client_for([httpx.ConnectError("refused")] * 3, policy=RetryPolicy(max_retries=2))
    with pytest.raises(GitHubError, match="cannot reach the GitHub API .*ConnectError: refused"):
        client.get_repository()
    assert sleeps == [1.0, 2.0]


def test_secondary_rate_limit_waits_for_retry_after() -> None:
    limited = error(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    {"retry-after": "7"})
    client, sleeps = client_for([limited, REPO])
    client.get_repository()
    assert sleeps == [7.0]


def test_secondary_rate_limit_without_headers_waits_a_minute() -> None:
    client, sleeps = client_for([error(403, "You have exceeded a secondary rate limit."), REPO])
    client.get_repository()
    assert sleeps == [60.0]


def test_429_is_retried() -> None:
    client, sleeps = client_for([error(429, "Too Many Requests"), REPO])
    client.get_repository()
    assert sleeps == [60.0]


def test_primary_rate_limit_waits_until_the_reset() -> None:
    reset = int(time.time()) + 30
    limited = error(403, "API rate limit exceeded", {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})
    client, sleeps = client_for([limited, REPO])
    client.get_repository()
    assert len(sleeps) == 1 and 29 <= sleeps[0] <= 32


def test_rate_limit_resetting_too_late_is_not_waited_for() -> None:
    reset = int(time.time()) + 3600
    limited = error(403, "API rate limit exceeded", {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})
    client, sleeps = client_for([limited])
    with pytest.raises(GitHubRateLimitError, match="resets in .* longer than the 300 s coder waits; re-run the job"):
        client.get_repository()
    assert sleeps == []


def test_rate_limit_that_persists_is_reported_as_such() -> None:
    limited = error(429, "secondary rate limit", {"retry-after": "1"})
    client, sleeps = client_for([limited] * 5)
    with pytest.raises(GitHubRateLimitError, match="still rate limited after 4 retries"):
        client.get_repository()
    assert sleeps == [1.0] * 4


def test_missing_permission_is_not_retried_and_names_the_permission() -> None:
    client, sleeps = client_for([error(403, "Resource not accessible by integration")])
    with pytest.raises(GitHubPermissionError) as caught:
        client.create_comment(3, "hi")
    assert str(caught.value) == ("issues/create-comment: the token lacks a permission (Resource not accessible by "
                                 "integration); give the job `permissions: issues: write`")
    assert sleeps == []


def test_actions_may_not_create_pull_requests_names_the_repository_setting() -> None:
    client, _ = client_for([error(403, "GitHub Actions is not permitted to create or approve pull requests.")])
    with pytest.raises(GitHubPermissionError) as caught:
        client.create_pull("t", "coder/issue-3", "main", "b")
    assert PR_SETTING_MESSAGE in str(caught.value)
    assert "Allow GitHub Actions to create and approve pull requests" in str(caught.value)


def test_bad_credentials() -> None:
    client, _ = client_for([error(401, "Bad credentials")])
    with pytest.raises(GitHubPermissionError, match="GitHub rejected the token"):
        client.get_issue(1)


def test_validation_errors_carry_githubs_details() -> None:
    answer = httpx.Response(422, json={"message": "Validation Failed",
                                       "errors": [{"message": "A pull request already exists for o:coder/issue-3."}]})
    client, _ = client_for([answer])
    with pytest.raises(GitHubError, match="422 Validation Failed .*already exists"):
        client.create_pull("t", "coder/issue-3", "main", "b")


def test_requests_carry_token_api_version_and_base_path() -> None:
    seen: list[httpx.Request] = []
    client, _ = client_for([REPO], seen)
    client.get_repository()
    [request] = seen
    assert str(request.url) == "https://api.example.test/api/v3/repos/o/r"
    assert request.headers["authorization"] == "Bearer tok"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"


def test_retry_delay_policy_table() -> None:
    policy = RetryPolicy()
    now = 1000.0

    def delay(status: int, headers: dict[str, str] | None = None, message: str = "x", attempt: int = 0) -> Any:
        return retry_delay(error(status, message, headers), attempt, policy, now)

    assert delay(500) == 1.0 and delay(504, attempt=3) == 8.0 and delay(500, attempt=10) == 60.0
    assert delay(404) is None and delay(422) is None and delay(401) is None
    assert delay(403) is None  # a plain 403 is a permission problem
    assert delay(403, {"retry-after": "12"}) == 12.0
    assert delay(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1010"}) == 11.0
    assert delay(403, {"x-ratelimit-remaining": "5"}) is None
    assert delay(403, message="You have exceeded a secondary rate limit") == 60.0


def test_comments_are_read_page_by_page(fake_github: FakeGitHub) -> None:
    fake_github.add_issue(3, "t", "b")
    for n in range(130):
        fake_github.add_comment(3, f"comment {n}")
    with GitHubClient(fake_github.token, fake_github.repository, fake_github.url) as client:
        comments = client.list_comments(3)
    assert [c.body for c in comments] == [f"comment {n}" for n in range(130)]
    assert [r.query["page"] for r in fake_github.requests] == ["1", "2"]


def test_update_finds_coders_comment_on_a_later_page(fake_github: FakeGitHub) -> None:
    from coder.github.messages import marker
    from coder.github.publish import upsert_comment

    fake_github.add_issue(3, "t", "b")
    for n in range(120):
        fake_github.add_comment(3, f"chatter {n}")
    fake_github.add_comment(3, f"{marker('status', 3)}\nold", login="someone")  # a user copying the marker
    mine = fake_github.add_comment(3, f"{marker('status', 3)}\nold", login="github-actions[bot]", user_type="Bot")
    with GitHubClient(fake_github.token, fake_github.repository, fake_github.url) as client:
        upsert_comment(client, 3, "status", f"{marker('status', 3)}\nnew")
    assert mine["body"].endswith("new") and len(fake_github.comments_on(3)) == 122
    assert fake_github.operations()[-1] == "issues/update-comment"


def test_the_fake_rejects_requests_that_break_the_description(fake_github: FakeGitHub) -> None:
    """The spec check is real: a wrong body or an undeclared parameter is a violation."""
    fake_github.add_issue(3, "t", "b")
    headers = {"Authorization": f"Bearer {fake_github.token}"}
    with httpx.Client(base_url=fake_github.url, headers=headers) as http:
        bad_body = http.post(f"/repos/{fake_github.repository}/issues/3/comments", json={"text": "hi"})
        bad_state = http.get(f"/repos/{fake_github.repository}/pulls", params={"state": "merged"})
        unknown = http.get(f"/repos/{fake_github.repository}/pulls", params={"colour": "red"})
        no_such = http.delete(f"/repos/{fake_github.repository}")
    assert (bad_body.status_code, bad_state.status_code, unknown.status_code, no_such.status_code) == (422, 422, 422, 404)
    found = list(fake_github.violations)
    fake_github.violations.clear()  # the fixture would fail the test otherwise
    assert len(found) == 4, found
    assert "issues/create-comment: invalid request" in found[0] and "'body' is a required property" in found[0]
    assert "pulls/list: invalid request" in found[1] and "undeclared query parameters ['colour']" in found[2]
    assert "no such operation" in found[3]


def test_wrong_token_is_refused_by_the_fake(fake_github: FakeGitHub) -> None:
    with GitHubClient("wrong", fake_github.repository, fake_github.url, sleep=lambda _: None) as client:
        with pytest.raises(GitHubPermissionError, match="rejected the token"):
            client.get_repository()
