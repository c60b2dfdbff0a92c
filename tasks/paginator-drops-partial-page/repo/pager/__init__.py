"""pager: split a list of items into numbered pages."""

from .paginator import Page, PageNotFound, Paginator
from .links import page_links

__all__ = ["Page", "PageNotFound", "Paginator", "page_links"]
