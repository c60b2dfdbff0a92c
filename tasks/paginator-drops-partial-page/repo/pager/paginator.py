"""A small Django-style paginator over an in-memory sequence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, List, Sequence, TypeVar

T = TypeVar("T")


class PageNotFound(LookupError):
    """Raised for a page number outside 1..num_pages."""


class Paginator(Generic[T]):
    def __init__(self, items: Sequence[T], per_page: int = 10) -> None:
        if per_page < 1:
            raise ValueError("per_page must be at least 1")
        self.items = list(items)
        self.per_page = per_page

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def num_pages(self) -> int:
        """Number of pages; an empty list still has one (empty) page."""
        if self.count == 0:
            return 1
        return self.count // self.per_page

    def page(self, number: int) -> "Page[T]":
        if number < 1 or number > self.num_pages:
            raise PageNotFound(f"page {number} is out of range (1-{self.num_pages})")
        start = (number - 1) * self.per_page
        return Page(self.items[start : start + self.per_page], number, self)


@dataclass
class Page(Generic[T]):
    object_list: List[T]
    number: int
    paginator: Paginator[T]

    @property
    def has_next(self) -> bool:
        return self.number < self.paginator.num_pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        """1-based index of the first item on this page (0 for an empty list)."""
        if not self.object_list:
            return 0
        return (self.number - 1) * self.paginator.per_page + 1

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.object_list) - 1 if self.object_list else 0
