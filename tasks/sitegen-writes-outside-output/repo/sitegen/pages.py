"""Pages and their public URLs."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    title: str
    url: str
    body: str = ""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def url_for(title: str, section: str = "") -> str:
    """The public URL of a page: '/', '/about/', '/blog/first-post/'."""
    parts = [_slug(part) for part in (section, title) if part]
    parts = [part for part in parts if part]
    if not parts:
        return "/"
    return "/" + "/".join(parts) + "/"
