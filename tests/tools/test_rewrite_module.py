"""rewrite_functions and a reply's top-level statements: constants replace the file's by name (or are added), imports
the file lacks are added after its own."""

from __future__ import annotations

from coder_tools.rewrite import rewrite_functions

PY = '''"""Settings."""

import os

TRUE_WORDS = {"1", "true"}


def is_true(text):
    return text.lower() in TRUE_WORDS
'''


def test_a_python_constant_alone_replaces_the_files() -> None:
    result = rewrite_functions(PY, "python", 'TRUE_WORDS = {"1", "true", "yes"}\n')
    assert result.problem is None
    assert result.text == PY.replace('{"1", "true"}', '{"1", "true", "yes"}')
    assert result.replaced == ("TRUE_WORDS",) and result.added == ()


def test_an_import_the_file_lacks_goes_after_its_imports_and_known_ones_are_not_repeated() -> None:
    code = "import os\nimport re\n\n\ndef is_true(text):\n    return re.match(r'^(1|true)$', text) is not None\n"
    result = rewrite_functions(PY, "python", code)
    assert result.problem is None, result.problem
    assert result.text.count("import os") == 1
    assert result.text.startswith('"""Settings."""\n\nimport os\nimport re\n\nTRUE_WORDS')
    assert "re.match" in result.text and result.replaced == ("is_true",)


def test_without_imports_they_go_below_the_docstring() -> None:
    source = '"""Doc."""\n\n\ndef f():\n    return 1\n'
    result = rewrite_functions(source, "python", "import math\n\ndef f():\n    return math.floor(1.5)\n")
    assert result.text == '"""Doc."""\nimport math\n\n\ndef f():\n    return math.floor(1.5)\n'
    bare = rewrite_functions("def f():\n    return 1\n", "python", "import math\n\ndef f():\n    return math.pi\n")
    assert bare.text == "import math\n\ndef f():\n    return math.pi\n"


def test_an_unchanged_constant_is_no_change_and_a_new_one_is_added() -> None:
    same = rewrite_functions(PY, "python", 'TRUE_WORDS = {"1", "true"}\n')
    assert same.problem is not None and same.text == PY
    code = 'YES = {"yes"}\n\n\ndef is_true(text):\n    return text.lower() in TRUE_WORDS | YES\n'
    added = rewrite_functions(PY, "python", code)
    assert added.problem is None and added.added == ("YES",)
    assert 'import os\nYES = {"yes"}\n' in added.text


def test_a_reply_with_only_imports_changes_nothing() -> None:
    result = rewrite_functions(PY, "python", "import re\n")
    assert result.problem is not None and "no function or class definition" in result.problem and result.text == PY


JS = """import { round } from './math.js';

export const LIMIT = 3;
const helper = () => 1;

export function total(items) {
  return round(items.slice(0, LIMIT).length);
}
"""


def test_javascript_constants_keep_their_export_and_functions_are_not_constants() -> None:
    result = rewrite_functions(JS, "javascript", "const LIMIT = 5;\nconst helper = () => 2;\n")
    assert result.problem is None, result.problem
    assert "export const LIMIT = 5;" in result.text and result.replaced[-1] == "LIMIT"
    assert "const helper = () => 2;" in result.text  # a function bound to a name is a definition, replaced as one


def test_javascript_imports_of_a_module_already_imported_are_left_out() -> None:
    code = ("import { round, floor } from './math.js';\nimport { sum } from './sum.js';\n\n"
            "function total(items) {\n  return sum(items);\n}\n")
    result = rewrite_functions(JS, "javascript", code)
    assert result.problem is None, result.problem
    assert result.text.startswith("import { round } from './math.js';\nimport { sum } from './sum.js';\n\n")
    assert "export function total(items) {\n  return sum(items);\n}" in result.text


def test_a_go_constant_is_replaced() -> None:
    source = 'package wordfreq\n\nconst punctuation = ".,;"\n\nfunc Words(s string) []string {\n\treturn nil\n}\n'
    result = rewrite_functions(source, "go", 'const punctuation = ".,;\\t"\n')
    assert result.problem is None, result.problem
    assert 'const punctuation = ".,;\\t"' in result.text and result.replaced == ("punctuation",)
