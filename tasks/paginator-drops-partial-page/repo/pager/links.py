"""Page-number links for templates: 1 2 ... 7 [8] 9 ... 20."""

from __future__ import annotations

from typing import List, Optional

from .paginator import Paginator


def page_links(paginator: Paginator, current: int, window: int = 2) -> List[Optional[int]]:
    """Page numbers to show around current; None marks an ellipsis."""
    last = paginator.num_pages
    shown = {1, last, *range(max(1, current - window), min(last, current + window) + 1)}
    links: List[Optional[int]] = []
    previous = 0
    for number in sorted(shown):
        if number - previous > 1:
            links.append(None)
        links.append(number)
        previous = number
    return links
