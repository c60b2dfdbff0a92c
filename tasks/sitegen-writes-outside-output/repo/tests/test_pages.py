from sitegen import url_for
from sitegen.markup import render


def test_url_for_home():
    assert url_for("") == "/"


def test_url_for_section_and_title():
    assert url_for("First Post!", section="Blog") == "/blog/first-post/"


def test_render_heading_and_code():
    assert render("## Install\n\nRun `pip install`") == "<h2>Install</h2>\n<p>Run <code>pip install</code></p>"


def test_render_escapes_html():
    assert render("a < b & c") == "<p>a &lt; b &amp; c</p>"
