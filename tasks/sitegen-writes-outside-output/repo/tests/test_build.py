import os

import pytest

from sitegen import Page, output_path, plan_site, write_site


def test_home_page_goes_to_the_output_root():
    assert output_path("public", "/") == os.path.join("public", "index.html")


def test_nested_page_stays_under_output_dir():
    assert output_path("public", "/blog/first-post/") == os.path.join("public", "blog", "first-post", "index.html")


def test_relative_url_is_rejected():
    with pytest.raises(ValueError):
        output_path("public", "about/")


def test_plan_site_paths_are_under_output_dir():
    plan = plan_site([Page("Home", "/"), Page("About", "/about/", "Hi *there*")], "site")
    assert sorted(plan) == [os.path.join("site", "about", "index.html"), os.path.join("site", "index.html")]


def test_plan_site_renders_body():
    plan = plan_site([Page("About", "/about/", "Hi *there*")], "site")
    (text,) = plan.values()
    assert "<title>About</title>" in text and "<p>Hi <em>there</em></p>" in text


def test_duplicate_urls_are_an_error():
    with pytest.raises(ValueError):
        plan_site([Page("A", "/same/"), Page("B", "/same/")], "site")


def test_write_site_creates_folders(tmp_path):
    target = tmp_path / "deep" / "page" / "index.html"
    assert write_site({str(target): "<p>x</p>"}) == 1
    assert target.read_text(encoding="utf-8") == "<p>x</p>"
