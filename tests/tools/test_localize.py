"""localize on real temp repositories (Python, JavaScript, Go): real test runs with tracing, no mocks."""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from coder_tools.base import Workspace, WorkspaceOptions
from coder_tools.localize import NO_FAILING, TOOLS, LocalizeArgs, localize
from coder_tools.localize_rank import issue_identifiers, ochiai

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
needs_go = pytest.mark.skipif(shutil.which("go") is None, reason="go is not installed")

SHOP = {
    "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n",
    "shop/__init__.py": "",
    "shop/cart.py": (
        "import functools\n\n\n"
        "def _round(x):\n    return round(x, 2)\n\n\n"
        "def item_total(price, qty):\n    return _round(price * qty)\n\n\n"
        "def apply_discount(total, percent):\n    return _round(total - percent)  # bug: percent is not a percentage\n\n\n"
        "@functools.lru_cache(maxsize=None)\ndef tax_rate(region):\n    return {'eu': 0.2, 'us': 0.0}.get(region, 0.0)\n\n\n"
        "class Cart:\n"
        "    def __init__(self):\n        self.items = []\n\n"
        "    def add(self, price, qty=1):\n        self.items.append((price, qty))\n\n"
        "    def subtotal(self):\n        return _round(sum(item_total(p, q) for p, q in self.items))\n\n"
        "    def total(self, percent=0, region='us'):\n"
        "        sub = apply_discount(self.subtotal(), percent) if percent else self.subtotal()\n"
        "        return _round(sub * (1 + tax_rate(region)))\n"
    ),
    "tests/test_cart.py": (
        "from shop.cart import Cart, item_total, tax_rate\n\n\n"
        "def test_item_total():\n    assert item_total(2.5, 4) == 10.0\n\n\n"
        "def test_subtotal():\n    c = Cart()\n    c.add(1.0, 2)\n    c.add(3.0)\n    assert c.subtotal() == 5.0\n\n\n"
        "def test_total_no_discount():\n    c = Cart()\n    c.add(10.0)\n    assert c.total(region='eu') == 12.0\n\n\n"
        "def test_total_with_discount():\n    c = Cart()\n    c.add(200.0)\n    assert c.total(percent=10) == 180.0\n"
    ),
}

PARSER = {
    "setup.cfg": "[tool:pytest]\n",
    "conf/__init__.py": "",
    "conf/parse.py": (
        "def parse_line(line):\n    key, value = line.split('=')\n    return key.strip(), value.strip()\n\n\n"
        "def load(text):\n    return dict(parse_line(ln) for ln in text.splitlines() if ln.strip())\n\n\n"
        "def dump(data):\n    return ''.join(f'{k}={v}\\n' for k, v in data.items())\n"
    ),
    "tests/test_parse.py": (
        "from conf.parse import dump, load\n\n\n"
        "def test_dump():\n    assert dump({'a': '1'}) == 'a=1\\n'\n\n\n"
        "def test_load_value_with_equals():\n    assert load('url = a=b\\n') == {'url': 'a=b'}\n"
    ),
}


def make_repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", "."], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "fixture"], cwd=root, check=True)
    return root


def run(root: Path, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    options = kwargs.pop("options", {})
    result = localize(LocalizeArgs(**kwargs), Workspace(root, WorkspaceOptions(**options)))
    assert result.ok, result.output
    return result.output, result.data


def names(data: dict[str, Any]) -> list[str]:
    return [f["name"] for f in data["functions"]]


def assert_untouched(root: Path) -> None:
    status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=root, capture_output=True, text=True)
    assert status.stdout == ""


def test_python_buggy_function_ranks_first(tmp_path: Path) -> None:
    before = set(glob.glob(str(Path(tempfile.gettempdir()) / "coder-localize-*")))
    output, data = run(make_repo(tmp_path, SHOP))
    assert data["mode"] == "tests" and data["runner"] == "pytest"
    assert data["failing_tests"] == ["tests/test_cart.py::test_total_with_discount"]
    top = data["functions"][0]
    assert (top["path"], top["name"], top["start_line"], top["end_line"]) == ("shop/cart.py", "apply_discount", 12, 13)
    assert top["score"] == 1.0 and top["failing_tests"] == data["failing_tests"]
    assert "Cart.total" in names(data) and "tax_rate" in names(data)  # the decorated function is found too
    assert not any(f["path"].startswith("tests/") for f in data["functions"])
    assert output.splitlines()[1].startswith("shop/cart.py:12 apply_discount 1.000 ochiai 1.00")
    assert_untouched(tmp_path)
    assert set(glob.glob(str(Path(tempfile.gettempdir()) / "coder-localize-*"))) == before


def test_issue_words_raise_a_function(tmp_path: Path) -> None:
    make_repo(tmp_path, SHOP)
    _, plain = run(tmp_path)
    _, raised = run(tmp_path, issue="The subtotal is off by a cent: `item_total` rounds too early.", limit=30)
    scores = {f["name"]: f["score"] for f in plain["functions"]}
    after = {f["name"]: f for f in raised["functions"]}
    assert raised["words"] == ["item_total"]
    assert after["item_total"]["score"] == pytest.approx(scores["item_total"] + 0.25)
    assert "issue names 'item_total'" in after["item_total"]["reasons"]
    assert any("body uses 'item_total'" in r for r in after["Cart.subtotal"]["reasons"])
    assert names(plain).index("item_total") > names(plain).index("Cart.total")
    assert names(raised).index("item_total") < names(raised).index("Cart.total")
    assert names(raised)[0] == "apply_discount"  # still first: the tests outweigh one issue word


def test_traceback_frame_raises_its_function(tmp_path: Path) -> None:
    output, data = run(make_repo(tmp_path, PARSER))
    assert names(data)[:2] == ["parse_line", "load"]  # both ran only in the failing test; parse_line raised
    first, second = data["functions"][:2]
    assert first["score"] == pytest.approx(1.3) and second["score"] == pytest.approx(1.15)
    assert "raised in tests/test_parse.py::test_load_value_with_equals" in first["reasons"]
    assert any(r.startswith("in the traceback of") for r in second["reasons"])
    assert "dump" not in names(data)  # only a passing test ran it


def test_selected_tests_count_as_failing(tmp_path: Path) -> None:
    make_repo(tmp_path, SHOP)
    _, data = run(tmp_path, tests=["tests/test_cart.py::test_item_total"])
    assert data["failing_tests"] == ["tests/test_cart.py::test_item_total"]
    assert names(data)[:2] == ["item_total", "_round"] or names(data)[:2] == ["_round", "item_total"]
    assert "apply_discount" not in names(data)  # the other failing test is left out, not counted as passing


def test_no_failing_test_ranks_by_issue_words(tmp_path: Path) -> None:
    files = dict(SHOP)
    files["shop/cart.py"] = files["shop/cart.py"].replace("total - percent", "total * (1 - percent / 100)")
    make_repo(tmp_path, files)
    output, data = run(tmp_path, issue="apply_discount() should refuse a negative percent; see Cart.total")
    assert data["mode"] == "issue" and data["failing_tests"] == []
    assert NO_FAILING in output and NO_FAILING in data["notes"]
    assert names(data)[:2] == ["apply_discount", "Cart.total"]
    assert data["functions"][0]["reasons"][0] == "issue names 'apply_discount'"
    _, none = run(tmp_path, issue="it is broken")
    assert none["functions"] == [] and none["mode"] == "issue"
    assert_untouched(tmp_path)


def test_limit_and_tool_spec(tmp_path: Path) -> None:
    _, data = run(make_repo(tmp_path, SHOP), limit=2)
    assert len(data["functions"]) == 2
    spec = TOOLS[0]
    assert spec.name == "localize" and spec.read_only and spec.changes_workspace == "never"
    assert spec.schema()["function"]["parameters"]["properties"]["limit"]["maximum"] == 30
    with pytest.raises(ValueError):
        LocalizeArgs(limit=31)


UNITTEST_SHOP = {k: v for k, v in SHOP.items() if k != "pyproject.toml"} | {
    "tests/test_cart.py": (
        "import unittest\nfrom shop.cart import Cart, item_total\n\n\n"
        "class CartTest(unittest.TestCase):\n"
        "    def test_item_total(self):\n        self.assertEqual(item_total(2.5, 4), 10.0)\n\n"
        "    def test_total_no_discount(self):\n        c = Cart()\n        c.add(10.0)\n"
        "        self.assertEqual(c.total(region='eu'), 12.0)\n\n"
        "    def test_total_with_discount(self):\n        c = Cart()\n        c.add(200.0)\n"
        "        self.assertEqual(c.total(percent=10), 180.0)\n"
    ),
}


def _pythons_without_pytest() -> list[str]:
    found = []
    for pattern in ("/usr/bin/python3.11", "/root/.pyenv/versions/3.1[2-9]*/bin/python3",
                    "/usr/bin/python3.1[2-9]", "/usr/local/bin/python3.1[2-9]"):
        for python in sorted(glob.glob(pattern))[:1]:
            probe = subprocess.run([python, "-c", "import pytest"], capture_output=True)
            if probe.returncode != 0:
                found.append(python)
    return found


@pytest.mark.parametrize("python", _pythons_without_pytest() or [pytest.param("", marks=pytest.mark.skip(
    reason="no Python without pytest to run the unittest runner with"))])
def test_unittest_runner_is_traced(tmp_path: Path, python: str) -> None:
    """Plain unittest (the repository's Python lacks pytest); on 3.12+ the tracer uses sys.monitoring."""
    _, data = run(make_repo(tmp_path, UNITTEST_SHOP), options={"python": python})
    assert data["runner"] == "unittest"
    assert data["failing_tests"] == ["test_cart.CartTest.test_total_with_discount"]
    assert names(data)[0] == "apply_discount"
    assert_untouched(tmp_path)


def test_unsupported_runner_falls_back_to_the_issue(tmp_path: Path) -> None:
    make_repo(tmp_path, {**SHOP, "Makefile": "test:\n\tfalse\n"})
    output, data = run(tmp_path, issue="`apply_discount` is wrong", options={"test_command": "make test"})
    assert data["runner"] == "command" and data["mode"] == "issue"
    assert "cannot be traced yet" in output and names(data) == ["apply_discount", "Cart.total"]
    assert data["functions"][1]["reasons"] == ["body uses 'apply_discount'"]


JS_SHOP = {
    "package.json": '{"name": "shop", "version": "1.0.0", "scripts": {"test": "node --test"}}\n',
    "src/cart.js": (
        "function round2(x) {\n  return Math.round(x * 100) / 100;\n}\n\n"
        "function itemTotal(price, qty) {\n  return round2(price * qty);\n}\n\n"
        "const applyDiscount = (total, percent) => {\n  return round2(total - percent);\n};\n\n"
        "class Cart {\n  constructor() {\n    this.items = [];\n  }\n\n"
        "  add(price, qty = 1) {\n    this.items.push([price, qty]);\n  }\n\n"
        "  subtotal() {\n    return round2(this.items.reduce((s, [p, q]) => s + itemTotal(p, q), 0));\n  }\n\n"
        "  total(percent = 0) {\n    const sub = this.subtotal();\n"
        "    return percent ? applyDiscount(sub, percent) : sub;\n  }\n}\n\n"
        "module.exports = { round2, itemTotal, applyDiscount, Cart };\n"
    ),
    "test/items.test.js": (
        "const test = require('node:test');\nconst assert = require('node:assert');\n"
        "const { itemTotal } = require('../src/cart.js');\n\n"
        "test('item total', () => {\n  assert.strictEqual(itemTotal(2.5, 4), 10);\n});\n"
    ),
    "test/cart.test.js": (
        "const test = require('node:test');\nconst assert = require('node:assert');\n"
        "const { Cart } = require('../src/cart.js');\n\n"
        "test('total', () => {\n  const c = new Cart();\n  c.add(1, 2);\n  c.add(3);\n"
        "  assert.strictEqual(c.total(), 5);\n});\n\n"
        "test('total with discount', () => {\n  const c = new Cart();\n  c.add(200);\n"
        "  assert.strictEqual(c.total(10), 180);\n});\n"
    ),
}


@needs_node
def test_javascript_v8_coverage(tmp_path: Path) -> None:
    output, data = run(make_repo(tmp_path, JS_SHOP), issue="")
    assert data["runner"] == "node" and data["mode"] == "tests"
    assert data["failing_tests"] == ["test/cart.test.js::total with discount"]
    top = data["functions"][0]
    assert (top["path"], top["name"], top["start_line"], top["end_line"]) == ("src/cart.js", "applyDiscount", 9, 11)
    assert top["score"] == 1.0
    assert "Cart.total" not in names(data)[:1] and "round2" in names(data)
    assert_untouched(tmp_path)


GO_SHOP = {
    "go.mod": "module example.com/shop\n\ngo 1.19\n",
    "util/round.go": "package util\n\nimport \"math\"\n\nfunc Round2(x float64) float64 {\n"
                     "\treturn math.Round(x*100) / 100\n}\n",
    "cart/cart.go": (
        "package cart\n\nimport \"example.com/shop/util\"\n\ntype Cart struct {\n\titems [][2]float64\n}\n\n"
        "func ItemTotal(price, qty float64) float64 {\n\treturn util.Round2(price * qty)\n}\n\n"
        "func ApplyDiscount(total, percent float64) float64 {\n\treturn util.Round2(total - percent)\n}\n\n"
        "func (c *Cart) Add(price, qty float64) {\n\tc.items = append(c.items, [2]float64{price, qty})\n}\n\n"
        "func (c *Cart) Total(percent float64) float64 {\n\ts := 0.0\n\tfor _, it := range c.items {\n"
        "\t\ts += ItemTotal(it[0], it[1])\n\t}\n\tif percent > 0 {\n\t\treturn ApplyDiscount(s, percent)\n\t}\n"
        "\treturn s\n}\n"
    ),
    "cart/cart_test.go": (
        "package cart\n\nimport \"testing\"\n\n"
        "func TestItemTotal(t *testing.T) {\n\tif ItemTotal(2.5, 4) != 10 {\n\t\tt.Fatal(\"item total\")\n\t}\n}\n\n"
        "func TestTotal(t *testing.T) {\n\tc := &Cart{}\n\tc.Add(1, 2)\n\tif c.Total(0) != 2 {\n\t\tt.Fatal(\"total\")\n"
        "\t}\n}\n\n"
        "func TestTotalWithDiscount(t *testing.T) {\n\tc := &Cart{}\n\tc.Add(200, 1)\n"
        "\tif got := c.Total(10); got != 180 {\n\t\tt.Fatalf(\"got %v\", got)\n\t}\n}\n"
    ),
}


@needs_go
def test_go_cover_profiles(tmp_path: Path) -> None:
    output, data = run(make_repo(tmp_path, GO_SHOP))
    assert data["runner"] == "go" and data["mode"] == "tests"
    assert data["failing_tests"] == ["example.com/shop/cart::TestTotalWithDiscount"]
    # how many functions the failing test executed: Add, Total, ItemTotal, ApplyDiscount and Round2
    assert data["failing_scope"] == {"example.com/shop/cart::TestTotalWithDiscount": 5}
    top = data["functions"][0]
    assert (top["path"], top["name"], top["start_line"]) == ("cart/cart.go", "ApplyDiscount", 13)
    assert top["score"] == 1.0
    assert {"Cart.Total", "Round2"} <= set(names(data))
    assert_untouched(tmp_path)


def test_issue_identifiers() -> None:
    text = ("The CSV export in `csvexport.writer` drops the last row: write_rows() calls rowsToCsv and the "
            "Exporter.flush_all method; the test fails. Also `add`.")
    words = issue_identifiers(text)
    assert words == ["csvexport.writer", "csvexport", "writer", "write_rows", "rowsToCsv", "Exporter.flush_all",
                     "Exporter", "flush_all", "add"]
    assert issue_identifiers("the test is failing and it should return None") == []
    assert ochiai(1, 0, 1) == 1.0 and ochiai(0, 3, 1) == 0.0 and ochiai(1, 1, 2) == pytest.approx(0.5)
    assert sys.version_info >= (3, 11)
