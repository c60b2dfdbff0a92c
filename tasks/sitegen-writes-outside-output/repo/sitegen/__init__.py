"""sitegen: turn a list of pages into a folder of HTML files."""

from .build import output_path, plan_site, write_site
from .pages import Page, url_for

__all__ = ["Page", "output_path", "plan_site", "url_for", "write_site"]
