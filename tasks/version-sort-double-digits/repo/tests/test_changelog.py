from relnotes.changelog import render


def test_render_orders_newest_first():
    text = render({"1.0.0": ["first"], "1.1.0": ["second", "third"]})
    assert text == "Latest release: 1.1.0\n\n1.1.0\n  - second\n  - third\n1.0.0\n  - first\n"


def test_render_after_double_digit_release():
    text = render({"1.9.0": ["a"], "1.10.0": ["b"]})
    assert text.splitlines()[0] == "Latest release: 1.10.0"
