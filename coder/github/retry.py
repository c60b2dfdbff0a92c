"""When to retry a GitHub API response and how long to wait: 5xx backoff, primary and secondary rate limits."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

__all__ = ["RetryPolicy", "retry_delay"]

RETRY_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff from ``base`` seconds (capped at ``cap``), at most ``max_retries`` retries per call.

    A rate limit that resets later than ``max_wait`` seconds from now is not waited for.
    """

    max_retries: int = 4
    base: float = 1.0
    cap: float = 60.0
    max_wait: float = 300.0
    secondary_default: float = 60.0  # GitHub: wait at least a minute when a secondary limit gives no retry-after

    def backoff(self, attempt: int) -> float:
        return float(min(self.cap, self.base * 2**attempt))


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("message", "")).lower() if isinstance(body, dict) else ""


def retry_delay(response: httpx.Response, attempt: int, policy: RetryPolicy, now: float) -> float | None:
    """Seconds to wait before retrying RESPONSE (the ATTEMPT-th retry), or None when it should not be retried.

    Retried: 5xx (backoff); 403/429 with ``retry-after`` (its seconds); 403/429 with ``x-ratelimit-remaining: 0``
    (until ``x-ratelimit-reset``); a 403/429 whose message names a secondary rate limit (a minute, then backoff).
    A plain 403 (a missing permission) is not retried.
    """
    status = response.status_code
    if status in RETRY_STATUSES:
        return policy.backoff(attempt)
    if status not in (403, 429):
        return None
    headers = response.headers
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return policy.secondary_default
    if headers.get("x-ratelimit-remaining") == "0":
        try:
            return max(1.0, float(headers.get("x-ratelimit-reset", "")) - now + 1.0)
        except ValueError:
            return policy.secondary_default
    if "secondary rate limit" in _message(response) or status == 429:
        return max(policy.secondary_default, policy.backoff(attempt))
    return None
