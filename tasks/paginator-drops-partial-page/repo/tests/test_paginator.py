import pytest

from pager import PageNotFound, Paginator


def test_exact_multiple():
    p = Paginator(range(20), per_page=10)
    assert p.num_pages == 2
    assert p.page(2).object_list == list(range(10, 20))


def test_partial_last_page_is_counted():
    assert Paginator(range(25), per_page=10).num_pages == 3


def test_last_page_holds_the_remainder():
    page = Paginator(range(25), per_page=10).page(3)
    assert page.object_list == [20, 21, 22, 23, 24]
    assert (page.start_index, page.end_index) == (21, 25)


def test_has_next_before_partial_page():
    assert Paginator(range(25), per_page=10).page(2).has_next


def test_fewer_items_than_one_page():
    page = Paginator(["a", "b", "c", "d"]).page(1)
    assert page.object_list == ["a", "b", "c", "d"]
    assert not page.has_next


def test_empty_list_has_one_empty_page():
    page = Paginator([]).page(1)
    assert page.object_list == [] and page.start_index == 0


@pytest.mark.parametrize("number", [0, -1, 3])
def test_out_of_range(number):
    with pytest.raises(PageNotFound):
        Paginator(range(20), per_page=10).page(number)


def test_per_page_must_be_positive():
    with pytest.raises(ValueError):
        Paginator([1], per_page=0)
