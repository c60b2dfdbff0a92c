"""Tests for rewrite_functions: whole functions replaced by name in all 8 languages, helpers, problems, the tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from coder_tools.base import ToolError, Workspace
from coder_tools.rewrite import RewriteArgs, code_from_reply, fenced_code, rewrite, rewrite_functions
from coder_tools.treesitter import LANGUAGES, parser_for

# ---- one small file per language: two functions and a method (where the language has them) -------------------------

PY = """\
import math


def area(r):
    return math.pi * r


class Shape:
    def scale(self, k):
        return k + 1


def perimeter(r):
    return 2 * math.pi * r
"""

JS = """\
function area(r) {
  return Math.PI * r;
}

class Shape {
  scale(k) {
    return k + 1;
  }
}

function perimeter(r) {
  return 2 * Math.PI * r;
}
"""

TS = """\
export function area(r: number): number {
  return Math.PI * r;
}

export class Shape {
  scale(k: number): number {
    return k + 1;
  }
}

export function perimeter(r: number): number {
  return 2 * Math.PI * r;
}
"""

TSX = """\
export function area(r: number): number {
  return Math.PI * r;
}

export function Label(props: { r: number }) {
  return <span>{props.r}</span>;
}

class Shape {
  scale(k: number): number {
    return k + 1;
  }
}
"""

GO = """\
package geo

import "math"

func Area(r float64) float64 {
\treturn math.Pi * r
}

type Shape struct {
\tk float64
}

func (s *Shape) Scale(k float64) float64 {
\treturn k + 1
}

func Perimeter(r float64) float64 {
\treturn 2 * math.Pi * r
}
"""

RS = """\
pub fn area(r: f64) -> f64 {
    std::f64::consts::PI * r
}

pub struct Shape {
    k: f64,
}

impl Shape {
    pub fn scale(&self, k: f64) -> f64 {
        k + 1.0
    }
}

pub fn perimeter(r: f64) -> f64 {
    2.0 * std::f64::consts::PI * r
}
"""

JAVA = """\
package geo;

public class Geo {
    public static double area(double r) {
        return Math.PI * r;
    }

    public static double perimeter(double r) {
        return 2 * Math.PI * r;
    }

    static class Shape {
        double scale(double k) {
            return k + 1;
        }
    }
}
"""

C = """\
#include <math.h>

double area(double r) {
    return M_PI * r;
}

struct shape { double k; };

double perimeter(double r) {
    return 2 * M_PI * r;
}
"""

CPP = """\
#include <cmath>

double area(double r) {
    return M_PI * r;
}

class Shape {
public:
    double scale(double k) {
        return k + 1;
    }
};

double perimeter(double r) {
    return 2 * M_PI * r;
}
"""

# (id, language, source, reply code, old text, new text): the result must be source with old replaced by new.
CASES: list[tuple[str, str, str, str, str, str]] = [
    ("python-function", "python", PY,
     "def area(r):\n    return math.pi * r * r\n",
     "    return math.pi * r\n", "    return math.pi * r * r\n"),
    ("python-method-alone", "python", PY,
     "def scale(self, k):\n    return k * 2\n",
     "        return k + 1\n", "        return k * 2\n"),
    ("python-method-alone-indented", "python", PY,
     "    def scale(self, k):\n        return k * 2\n",
     "        return k + 1\n", "        return k * 2\n"),
    ("python-method-in-class", "python", PY,
     "class Shape:\n    def scale(self, k):\n        return k * 2\n",
     "        return k + 1\n", "        return k * 2\n"),
    ("python-helper", "python", PY,
     "def area(r):\n    return math.pi * square(r)\n\n\ndef square(x):\n    return x * x\n",
     "    return math.pi * r\n",
     "    return math.pi * square(r)\n\n\ndef square(x):\n    return x * x\n"),
    ("javascript-function", "javascript", JS,
     "function area(r) {\n  return Math.PI * r * r;\n}\n",
     "  return Math.PI * r;\n", "  return Math.PI * r * r;\n"),
    ("javascript-method-alone", "javascript", JS,
     "scale(k) {\n  return k * 2;\n}\n",
     "    return k + 1;\n", "    return k * 2;\n"),
    ("javascript-helper", "javascript", JS,
     "function area(r) {\n  return Math.PI * square(r);\n}\n\nfunction square(x) {\n  return x * x;\n}\n",
     "  return Math.PI * r;\n}\n",
     "  return Math.PI * square(r);\n}\n\nfunction square(x) {\n  return x * x;\n}\n"),
    ("typescript-function", "typescript", TS,
     "export function area(r: number): number {\n  return Math.PI * r * r;\n}\n",
     "  return Math.PI * r;\n", "  return Math.PI * r * r;\n"),
    ("typescript-function-export-kept", "typescript", TS,
     "function area(r: number): number {\n  return Math.PI * r * r;\n}\n",
     "  return Math.PI * r;\n", "  return Math.PI * r * r;\n"),
    ("typescript-method-alone", "typescript", TS,
     "scale(k: number): number {\n  return k * 2;\n}\n",
     "    return k + 1;\n", "    return k * 2;\n"),
    ("typescript-helper", "typescript", TS,
     "function square(x: number): number {\n  return x * x;\n}\n\n"
     "export function perimeter(r: number): number {\n  return 2 * Math.PI * square(r);\n}\n",
     "export function perimeter(r: number): number {\n  return 2 * Math.PI * r;\n}\n",
     "function square(x: number): number {\n  return x * x;\n}\n\n"
     "export function perimeter(r: number): number {\n  return 2 * Math.PI * square(r);\n}\n"),
    ("tsx-function", "tsx", TSX,
     "export function Label(props: { r: number }) {\n  return <b>{props.r}</b>;\n}\n",
     "  return <span>{props.r}</span>;\n", "  return <b>{props.r}</b>;\n"),
    ("tsx-method-in-class", "tsx", TSX,
     "class Shape {\n  scale(k: number): number {\n    return k * 2;\n  }\n}\n",
     "    return k + 1;\n", "    return k * 2;\n"),
    ("go-function", "go", GO,
     "func Area(r float64) float64 {\n\treturn math.Pi * r * r\n}\n",
     "\treturn math.Pi * r\n", "\treturn math.Pi * r * r\n"),
    ("go-method", "go", GO,
     "func (s *Shape) Scale(k float64) float64 {\n\treturn k * 2\n}\n",
     "\treturn k + 1\n", "\treturn k * 2\n"),
    ("go-helper", "go", GO,
     "func Area(r float64) float64 {\n\treturn math.Pi * square(r)\n}\n\nfunc square(x float64) float64 {\n"
     "\treturn x * x\n}\n",
     "\treturn math.Pi * r\n}\n",
     "\treturn math.Pi * square(r)\n}\n\nfunc square(x float64) float64 {\n\treturn x * x\n}\n"),
    ("rust-function", "rust", RS,
     "pub fn area(r: f64) -> f64 {\n    std::f64::consts::PI * r * r\n}\n",
     "    std::f64::consts::PI * r\n", "    std::f64::consts::PI * r * r\n"),
    ("rust-method-alone", "rust", RS,
     "pub fn scale(&self, k: f64) -> f64 {\n    k * 2.0\n}\n",
     "        k + 1.0\n", "        k * 2.0\n"),
    ("rust-method-in-impl", "rust", RS,
     "impl Shape {\n    pub fn scale(&self, k: f64) -> f64 {\n        k * 2.0\n    }\n}\n",
     "        k + 1.0\n", "        k * 2.0\n"),
    ("rust-helper-method", "rust", RS,
     "impl Shape {\n    pub fn scale(&self, k: f64) -> f64 {\n        self.twice(k)\n    }\n\n"
     "    fn twice(&self, k: f64) -> f64 {\n        k * 2.0\n    }\n}\n",
     "        k + 1.0\n    }\n",
     "        self.twice(k)\n    }\n\n    fn twice(&self, k: f64) -> f64 {\n        k * 2.0\n    }\n"),
    ("java-method", "java", JAVA,
     "public static double area(double r) {\n    return Math.PI * r * r;\n}\n",
     "        return Math.PI * r;\n", "        return Math.PI * r * r;\n"),
    ("java-nested-class-method", "java", JAVA,
     "double scale(double k) {\n    return k * 2;\n}\n",
     "            return k + 1;\n", "            return k * 2;\n"),
    ("java-helper", "java", JAVA,
     "public static double area(double r) {\n    return Math.PI * square(r);\n}\n\n"
     "private static double square(double x) {\n    return x * x;\n}\n",
     "        return Math.PI * r;\n    }\n",
     "        return Math.PI * square(r);\n    }\n\n    private static double square(double x) {\n"
     "        return x * x;\n    }\n"),
    ("c-function", "c", C,
     "double area(double r) {\n    return M_PI * r * r;\n}\n",
     "    return M_PI * r;\n", "    return M_PI * r * r;\n"),
    ("c-helper-before", "c", C,
     "static double square(double x) {\n    return x * x;\n}\n\ndouble area(double r) {\n    return M_PI * square(r);\n}\n",
     "double area(double r) {\n    return M_PI * r;\n",
     "static double square(double x) {\n    return x * x;\n}\n\ndouble area(double r) {\n    return M_PI * square(r);\n"),
    ("cpp-function", "cpp", CPP,
     "double area(double r) {\n    return M_PI * r * r;\n}\n",
     "    return M_PI * r;\n", "    return M_PI * r * r;\n"),
    ("cpp-method-alone", "cpp", CPP,
     "double scale(double k) {\n    return k * 2;\n}\n",
     "        return k + 1;\n", "        return k * 2;\n"),
    ("cpp-helper", "cpp", CPP,
     "double perimeter(double r) {\n    return 2 * M_PI * radius(r);\n}\n\n"
     "static double radius(double r) {\n    return r;\n}\n",
     "    return 2 * M_PI * r;\n}\n",
     "    return 2 * M_PI * radius(r);\n}\n\nstatic double radius(double r) {\n    return r;\n}\n"),
    ("tsx-helper", "tsx", TSX,
     "export function Label(props: { r: number }) {\n  return <Bold r={props.r} />;\n}\n\n"
     "function Bold(props: { r: number }) {\n  return <b>{props.r}</b>;\n}\n",
     "  return <span>{props.r}</span>;\n}\n",
     "  return <Bold r={props.r} />;\n}\n\nfunction Bold(props: { r: number }) {\n  return <b>{props.r}</b>;\n}\n"),
    ("cpp-method-in-class", "cpp", CPP,
     "class Shape {\npublic:\n    double scale(double k) {\n        return k * 2;\n    }\n};\n",
     "        return k + 1;\n", "        return k * 2;\n"),
]  # fmt: skip


def check(source: str, language: str, code: str, old: str, new: str) -> None:
    assert source.count(old) == 1, "the test's old text must occur once"
    result = rewrite_functions(source, language, code)
    assert result.problem is None
    assert result.text == source.replace(old, new)


@pytest.mark.parametrize(("language", "source", "code", "old", "new"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_replaces_exactly_the_returned_function(language: str, source: str, code: str, old: str, new: str) -> None:
    check(source, language, code, old, new)


def test_every_language_is_covered() -> None:
    assert {c[1] for c in CASES} == set(LANGUAGES)


def test_reports_what_was_replaced_and_added() -> None:
    reply = "def area(r):\n    return math.pi * square(r)\n\n\ndef square(x):\n    return x * x\n"
    result = rewrite_functions(PY, "python", reply)
    assert (result.replaced, result.added) == (("area",), ("square",))
    assert rewrite_functions(PY, "python", "def scale(self, k):\n    return 0\n").replaced == ("Shape.scale",)
    go = rewrite_functions(GO, "go", "func (s *Shape) Scale(k float64) float64 {\n\treturn 0\n}\n")
    assert go.replaced == ("Shape.Scale",)
    rs = rewrite_functions(RS, "rust", "fn scale(&self, k: f64) -> f64 {\n    0.0\n}\n")
    assert rs.replaced == ("Shape::scale",)
    java = "double scale(double k) {\n    return half(k);\n}\n\ndouble half(double k) {\n    return k / 2;\n}\n"
    assert rewrite_functions(JAVA, "java", java).added == ("Shape.half",)


def test_a_reply_in_a_markdown_fence_with_a_diagnosis() -> None:
    reply = "The area uses r instead of r squared.\n```python\ndef area(r):\n    return math.pi * r ** 2\n```\n"
    check(PY, "python", code_from_reply(reply, "python"), "    return math.pi * r\n", "    return math.pi * r ** 2\n")


# ---- Python: decorators, classes, helpers next to methods ------------------------------------------------------------

DECORATED = """\
import functools


@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 3)


class Box:
    size = 2

    @property
    def area(self):
        return self.size + self.size

    def grow(self):
        self.size += 1
"""


def test_python_decorators_are_replaced_with_the_function() -> None:
    reply = "@functools.cache\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
    check(DECORATED, "python", reply,
          "@functools.lru_cache(maxsize=None)\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 3)\n",
          reply)  # fmt: skip


def test_python_decorators_stay_when_the_reply_leaves_them_out() -> None:
    check(DECORATED, "python", "def area(self):\n    return self.size * self.size\n",
          "        return self.size + self.size\n", "        return self.size * self.size\n")  # fmt: skip
    check(DECORATED, "python", "    @property\n    def area(self):\n        return self.size ** 2\n",
          "        return self.size + self.size\n", "        return self.size ** 2\n")  # fmt: skip


def test_a_partial_class_replaces_its_methods_one_by_one() -> None:
    reply = "class Box:\n    def grow(self):\n        self.size *= 2\n"  # size and area are left out: they stay
    check(DECORATED, "python", reply, "        self.size += 1\n", "        self.size *= 2\n")


def test_the_whole_class_replaces_the_class() -> None:
    reply = (
        "class Box:\n    size = 3\n\n    @property\n    def area(self):\n        return self.size ** 2\n\n"
        "    def grow(self):\n        self.size += 1\n"
    )
    result = rewrite_functions(DECORATED, "python", reply)
    assert result.problem is None and result.replaced == ("Box",)
    assert result.text == DECORATED[: DECORATED.index("class Box")] + reply


def test_a_new_method_in_a_partial_class_goes_after_the_replaced_one() -> None:
    reply = "class Box:\n    def grow(self):\n        self.size = self._next()\n\n    def _next(self):\n        return 3\n"
    result = rewrite_functions(DECORATED, "python", reply)
    assert result.problem is None and result.added == ("Box._next",)
    assert result.text.endswith(
        "    def grow(self):\n        self.size = self._next()\n\n    def _next(self):\n        return 3\n"
    )


def test_a_new_method_of_a_class_with_nothing_replaced_goes_after_its_last_method() -> None:
    reply = "def fib(n):\n    return n\n\n\nclass Box:\n    def shrink(self):\n        self.size -= 1\n"
    result = rewrite_functions(DECORATED, "python", reply)
    assert result.problem is None and (result.replaced, result.added) == (("fib",), ("Box.shrink",))
    assert result.text.endswith("        self.size += 1\n\n    def shrink(self):\n        self.size -= 1\n")


def test_a_helper_next_to_a_method_alone_goes_after_the_class_unless_it_is_a_method() -> None:
    module_helper = "def grow(self):\n    self.size = bigger(self.size)\n\ndef bigger(n):\n    return n + 1\n"
    result = rewrite_functions(DECORATED, "python", module_helper)
    assert result.problem is None and result.added == ("bigger",)
    assert result.text.endswith("        self.size = bigger(self.size)\n\n\ndef bigger(n):\n    return n + 1\n")
    method_helper = "def grow(self):\n    self.size = self.bigger()\n\ndef bigger(self):\n    return self.size + 1\n"
    result = rewrite_functions(DECORATED, "python", method_helper)
    assert result.problem is None and result.added == ("Box.bigger",)
    assert result.text.endswith(
        "        self.size = self.bigger()\n\n    def bigger(self):\n        return self.size + 1\n"
    )


TWO_CLASSES = """\
class Circle:
    def area(self):
        return 3 * self.r


class Square:
    def area(self):
        return 4 * self.s
"""


def test_the_class_in_the_reply_picks_the_method() -> None:
    reply = "class Square:\n    def area(self):\n        return self.s * self.s\n"
    check(TWO_CLASSES, "python", reply, "        return 4 * self.s\n", "        return self.s * self.s\n")


def test_an_ambiguous_name_is_a_problem() -> None:
    result = rewrite_functions(TWO_CLASSES, "python", "def area(self):\n    return 0\n")
    assert result.problem is not None and "ambiguous" in result.problem
    assert "Circle.area (line 2)" in result.problem and "Square.area (line 7)" in result.problem
    assert result.text == TWO_CLASSES and result.replaced == ()


def test_a_function_given_twice_the_last_one_wins() -> None:
    reply = "def area(r):\n    return 0\n\n\ndef area(r):\n    return math.pi * r * r\n"
    check(PY, "python", reply, "    return math.pi * r\n", "    return math.pi * r * r\n")
    helper_twice = "def area(r):\n    return sq(r)\n\n\ndef sq(x):\n    return x\n\n\ndef sq(x):\n    return x * x\n"
    result = rewrite_functions(PY, "python", helper_twice)
    assert result.added == ("sq",) and result.text.count("def sq") == 1 and "return x * x" in result.text


def test_crlf_files_stay_crlf() -> None:
    source = PY.replace("\n", "\r\n")
    reply = "def area(r):\n    return math.pi * square(r)\n\n\ndef square(x):\n    return x * x\n"
    result = rewrite_functions(source, "python", reply)
    assert result.problem is None
    expected = PY.replace("    return math.pi * r\n", "    return math.pi * square(r)\n\n\ndef square(x):\n    return x * x\n")
    assert result.text == expected.replace("\n", "\r\n")
    assert "\n" not in result.text.replace("\r\n", "")


def test_the_rest_of_the_file_is_kept_byte_for_byte() -> None:
    source = PY.replace("import math\n", "import math  # caf\udce9\t \n") + "\n\n# trailing comment   \n"
    check(source, "python", "def perimeter(r):\n    return math.tau * r\n",
          "    return 2 * math.pi * r\n", "    return math.tau * r\n")  # fmt: skip


# ---- other languages: qualifiers, comments, wrappers -----------------------------------------------------------------


def test_go_receivers_pick_the_method() -> None:
    source = GO + "\ntype Circle struct{}\n\nfunc (c Circle) Scale(k float64) float64 {\n\treturn k + 1\n}\n"
    reply = "func (c Circle) Scale(k float64) float64 {\n\treturn k * 3\n}\n"
    result = rewrite_functions(source, "go", reply)
    assert result.problem is None and result.replaced == ("Circle.Scale",)
    assert result.text == source[: source.rindex("k + 1")] + "k * 3\n}\n"
    plain = rewrite_functions(source, "go", "func Scale(k float64) float64 {\n\treturn k\n}\n")
    assert plain.problem is not None and plain.replaced == ()  # a function is not a method in Go: nothing matches


def test_rust_doc_comments_and_attributes() -> None:
    source = "/// Twice k.\n#[inline]\npub fn twice(k: i32) -> i32 {\n    k + k + 1\n}\n"
    check(source, "rust", "pub fn twice(k: i32) -> i32 {\n    2 * k\n}\n", "    k + k + 1\n", "    2 * k\n")
    reply = "/// Returns twice k.\n#[inline(always)]\npub fn twice(k: i32) -> i32 {\n    2 * k\n}\n"
    check(source, "rust", reply, source, reply)


def test_cpp_out_of_line_method() -> None:
    source = "class Shape {\npublic:\n    double scale(double k);\n};\n\ndouble Shape::scale(double k) {\n    return k + 1;\n}\n"
    reply = "double Shape::scale(double k) {\n    return k * 2;\n}\n"
    check(source, "cpp", reply, "    return k + 1;\n", "    return k * 2;\n")
    alone = "double scale(double k) {\n    return k * 2;\n}\n"  # the reply leaves out 'Shape::': it stays
    check(source, "cpp", alone, "    return k + 1;\n", "    return k * 2;\n")
    in_class = "class Shape {\npublic:\n    double scale(double k) {\n        return k * 2;\n    }\n};\n"
    check(source, "cpp", in_class, "    return k + 1;\n", "    return k * 2;\n")


def test_java_overloads_are_told_apart_by_parameters() -> None:
    source = "class A {\n    int f(int x) {\n        return x;\n    }\n\n    int f(String s) {\n        return 0;\n    }\n}\n"
    reply = "int f(String s) {\n    return s.length();\n}\n"
    check(source, "java", reply, "        return 0;\n", "        return s.length();\n")


def test_javascript_object_and_arrow_functions() -> None:
    source = "const inc = (x) => x + 2;\n\nmodule.exports = {\n  dec: function (x) {\n    return x + 1;\n  },\n};\n"
    check(source, "javascript", "const inc = (x) => x + 1;\n", "x + 2;", "x + 1;")
    reply = "module.exports = {\n  dec: function (x) {\n    return x - 1;\n  },\n};\n"
    check(source, "javascript", reply, "    return x + 1;\n", "    return x - 1;\n")


# ---- replies that cannot be applied ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "source", "code", "problem"),
    [
        ("python", PY, "def area(r:\n    return\n", "does not parse as python (line 1"),
        ("python", PY, "", "no code"),
        ("python", PY, "x = area(2)\nprint(x)\n", "no function or class definition"),
        ("python", PY, "def volume(r):\n    return r ** 3\n", "none of the reply's definitions (volume) is in the file"),
        ("python", PY, "def area(r):\n    return math.pi * r\n", "nothing would change"),
        ("go", GO, "func Area(r float64) float64 {\n\treturn math.Pi * r *\n}\n", "does not parse as go"),
        ("rust", RS, "fn area(r: f64) -> f64 { r * }", "does not parse as rust"),
        ("java", JAVA, "class {", "does not parse as java"),
        ("c", C, "double area(double r) { return M_PI * r * r }\n", "does not parse as c"),
        ("javascript", JS, "area(r) {\n  return r;\n}\n", "would no longer parse"),  # method syntax at top level
        ("typescript", TS, "Here is the fix: use r * r.", "does not parse"),
        ("cobol", PY, "def area(r):\n    return r\n", "unsupported language"),
    ],
)
def test_a_reply_that_cannot_be_applied_is_a_problem(language: str, source: str, code: str, problem: str) -> None:
    result = rewrite_functions(source, language, code)
    assert result.problem is not None and problem in result.problem
    assert result.text == source and result.replaced == () and result.added == ()


@pytest.mark.parametrize(("language", "source", "code"), [c[1:4] for c in CASES], ids=[c[0] for c in CASES])
def test_truncated_replies_never_crash(language: str, source: str, code: str) -> None:
    for cut in range(1, len(code), max(1, len(code) // 12)):
        result = rewrite_functions(source, language, code[:cut])
        assert result.problem is not None or parser_for(language).parse(result.text.encode()).root_node.has_error is False
        if result.problem is not None:
            assert result.text == source and "internal error" not in result.problem


# ---- fenced_code -----------------------------------------------------------------------------------------------------


def test_fenced_code_blocks() -> None:
    assert fenced_code("no code here") == []
    assert fenced_code("Fix:\n```python\ndef f():\n    pass\n```\nDone.") == [("python", "def f():\n    pass\n")]
    assert fenced_code("```\nx = 1\n```") == [(None, "x = 1\n")]
    assert fenced_code("~~~ Rust {.numberLines}\nfn f() {}\n~~~\n") == [("rust", "fn f() {}\n")]
    assert fenced_code("text\n```go\nfunc f() {}\n\n") == [("go", "func f() {}\n")]  # unclosed at the end
    assert fenced_code("```py\na\n```\nand\n```js\nb\n```\n") == [("py", "a\n"), ("js", "b\n")]
    assert fenced_code("````md\n```\ninner\n```\n````") == [("md", "```\ninner\n```\n")]
    assert fenced_code("  ```c\r\n  int x;\r\n  ```\r\n") == [("c", "int x;\n")]
    assert fenced_code("inline ```code``` is not a fence") == []


def test_code_from_reply_keeps_the_file_language() -> None:
    reply = "Fix:\n```bash\npytest\n```\n```python\ndef f():\n    pass\n```\n```\ndef g():\n    pass\n```\n"
    assert code_from_reply(reply, "python") == "def f():\n    pass\n\ndef g():\n    pass\n"
    assert code_from_reply("def f():\n    pass\n", "python") == "def f():\n    pass\n"
    assert code_from_reply("```tsx\nconst a = 1;\n```", "typescript") == "const a = 1;\n"


# ---- the tool --------------------------------------------------------------------------------------------------------


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "repo"
    (root / "geo").mkdir(parents=True)
    (root / "geo" / "shapes.py").write_text(PY)
    (root / "notes.txt").write_text("def area(r):\n    return r\n")
    return Workspace(root)


def test_tool_rewrites_the_file_and_reports_a_diff(ws: Workspace) -> None:
    reply = "Square r.\n```python\ndef area(r):\n    return math.pi * r * r\n```"
    result = rewrite(RewriteArgs(path="geo/shapes.py", code=reply), ws)
    assert result.ok, result.output
    assert (ws.root / "geo" / "shapes.py").read_text() == PY.replace("    return math.pi * r\n", "    return math.pi * r * r\n")
    assert result.data["path"] == "geo/shapes.py"
    assert result.data["replaced"] == ["area"] and result.data["added"] == []
    diff = result.data["diff"]
    assert diff.startswith("--- a/geo/shapes.py\n+++ b/geo/shapes.py\n")
    assert "-    return math.pi * r\n+    return math.pi * r * r\n" in diff
    assert "Rewrote area in geo/shapes.py" in result.output and "return math.pi * r * r" in result.output


def test_tool_reports_a_problem_and_leaves_the_file(ws: Workspace) -> None:
    result = rewrite(RewriteArgs(path="geo/shapes.py", code="```python\ndef area(r:\n```"), ws)
    assert not result.ok and "does not parse" in result.output and "geo/shapes.py unchanged" in result.output
    assert (ws.root / "geo" / "shapes.py").read_text() == PY


def test_tool_refuses_unsupported_missing_and_git_paths(ws: Workspace) -> None:
    with pytest.raises(ToolError, match="not a source file"):
        rewrite(RewriteArgs(path="notes.txt", code="def area(r):\n    return 1\n"), ws)
    with pytest.raises(ToolError, match="does not exist"):
        rewrite(RewriteArgs(path="geo/missing.py", code="def area(r):\n    return 1\n"), ws)
    with pytest.raises(ToolError, match="refusing to write"):
        rewrite(RewriteArgs(path=".git/hooks/x.py", code="def area(r):\n    return 1\n"), ws)


def test_tool_spec_is_for_strategies_only() -> None:
    from coder_tools.rewrite import TOOLS

    (spec,) = TOOLS
    assert spec.name == "rewrite_functions" and not spec.offered and spec.reports == "edit"
    assert spec.may_have_changed(True) and not spec.may_have_changed(False)


def test_a_reply_whose_names_are_all_elsewhere_says_so() -> None:
    """The guided strategy then tries the other ranked files; any other problem is final."""
    from coder_tools.rewrite import rewrite_functions

    elsewhere = rewrite_functions("def a():\n    return 1\n", "python", "def b():\n    return 2\n")
    assert elsewhere.problem is not None and elsewhere.elsewhere
    broken = rewrite_functions("def a():\n    return 1\n", "python", "def a(:\n    return 2\n")
    assert broken.problem is not None and not broken.elsewhere and not broken.same


def test_a_reply_that_copies_the_code_back_says_so() -> None:
    """The guided strategy then tells the model once that nothing would change."""
    from coder_tools.rewrite import rewrite_functions

    same = rewrite_functions("def a():\n    return 1\n", "python", "def a():\n    return 1\n")
    assert same.problem is not None and "same" in same.problem and same.same and not same.elsewhere
