from pager import Paginator, page_links


def test_links_for_many_pages():
    p = Paginator(range(200), per_page=10)
    assert page_links(p, 10) == [1, None, 8, 9, 10, 11, 12, None, 20]


def test_links_include_partial_last_page():
    p = Paginator(range(45), per_page=10)
    assert page_links(p, 1) == [1, 2, 3, None, 5]
