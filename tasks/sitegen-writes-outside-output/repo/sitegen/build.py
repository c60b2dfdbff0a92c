"""Lay pages out as files: /blog/post/ becomes <out>/blog/post/index.html."""

from __future__ import annotations

import os
from typing import Dict, Iterable

from .markup import render
from .pages import Page

TEMPLATE = "<!doctype html>\n<title>{title}</title>\n{body}\n"


def output_path(out_dir: str, url: str) -> str:
    """Where the HTML file for URL goes under OUT_DIR."""
    if not url.startswith("/"):
        raise ValueError(f"page URLs must start with '/': {url!r}")
    return os.path.join(out_dir, url, "index.html")


def plan_site(pages: Iterable[Page], out_dir: str) -> Dict[str, str]:
    """{file path: HTML} for every page; two pages with the same URL are an error."""
    plan: Dict[str, str] = {}
    for page in pages:
        path = os.path.normpath(output_path(out_dir, page.url))
        if path in plan:
            raise ValueError(f"two pages share the URL {page.url}")
        plan[path] = TEMPLATE.format(title=page.title, body=render(page.body))
    return plan


def write_site(plan: Dict[str, str]) -> int:
    """Write every planned file, creating folders as needed; returns the number of files."""
    for path, text in plan.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    return len(plan)
