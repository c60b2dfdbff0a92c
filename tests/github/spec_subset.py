"""Cut the operations coder's GitHub client uses (and every component they reference) out of GitHub's OpenAPI file.

    python tests/github/spec_subset.py ../shared/github/rest-subset.openapi.json tests/github/github-rest.openapi.json

The source is GitHub's official REST description for api.github.com (OpenAPI 3.0, from @octokit/openapi 23.0.2,
``x-octokit`` keys removed); the output keeps its operations byte-for-byte apart from dropping the others.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OPERATIONS = ("repos/get", "issues/get", "issues/list-comments", "issues/create-comment", "issues/update-comment",
              "pulls/list", "pulls/create", "pulls/update")


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def subset(spec: dict[str, Any], operations: tuple[str, ...] = OPERATIONS) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        kept = {m: op for m, op in item.items() if isinstance(op, dict) and op.get("operationId") in operations}
        if kept:
            paths[path] = kept
    missing = set(operations) - {op["operationId"] for item in paths.values() for op in item.values()}
    if missing:
        raise SystemExit(f"operations not in the source: {sorted(missing)}")
    components: dict[str, dict[str, Any]] = {}
    todo = _refs(paths)
    seen: set[str] = set()
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        node = spec["components"][section][name]
        components.setdefault(section, {})[name] = node
        todo |= _refs(node)
    info = {**spec["info"], "x-operations": {op: spec["info"].get("x-operations", {}).get(op, "") for op in operations}}
    return {"openapi": spec["openapi"], "info": info, "servers": spec["servers"], "paths": paths,
            "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())}}


if __name__ == "__main__":
    source, dest = Path(sys.argv[1]), Path(sys.argv[2])
    dest.write_text(json.dumps(subset(json.loads(source.read_text())), indent=1) + "\n")
