"""The environment and toolchain images on the engine: list them for `coder env show`, remove them for `prune`."""

from __future__ import annotations

import json
from typing import Any

from .build import ENV_LABEL, TOOLCHAIN_LABEL


def _summary(info: dict[str, Any]) -> str:
    langs = ", ".join(info.get("languages") or []) or "no language"
    return f"{langs} via {info.get('manager', '?')}: {info.get('command', '')}"


def list_env_images(client: Any) -> list[dict[str, Any]]:
    """Environment images, newest first: tag, id, created, size, labels (the repo, languages, command, env...)."""
    rows: list[dict[str, Any]] = []
    for image in client.images.list(filters={"label": ENV_LABEL}):
        labels = image.labels or {}
        try:
            info = json.loads(labels.get(ENV_LABEL) or "{}")
        except json.JSONDecodeError:
            info = {}
        info = info if isinstance(info, dict) else {}
        tags = [t for t in image.tags if t.startswith("coder-env:")] or list(image.tags) or [image.short_id]
        rows.append({"tag": tags[0], "id": image.id, "created": image.attrs.get("Created", ""),
                     "size": int(image.attrs.get("Size") or 0), "repo": info.get("repo", ""),
                     "summary": _summary(info), "toolchain": info.get("toolchain", ""),
                     "labels": {**info, "raw": dict(labels)}})
    rows.sort(key=lambda row: str(row["created"]), reverse=True)
    return rows


def _remove(client: Any, ref: str) -> bool:
    try:
        client.images.remove(ref)
        return True
    except Exception:  # in use by a container, already gone, or a child image still needs it
        return False


def prune_env_images(client: Any, keep: set[str] | frozenset[str] = frozenset()) -> int:
    """Remove the environment images whose tag is not in KEEP, then the toolchain images none of the kept ones
    was built on; returns how many images were removed (those in use by a container are left)."""
    removed = 0
    kept_toolchains: set[str] = set()
    for row in list_env_images(client):
        if row["tag"] in keep:
            kept_toolchains.add(str(row["toolchain"]))
        elif _remove(client, row["tag"]):
            removed += 1
        else:
            kept_toolchains.add(str(row["toolchain"]))
    for image in client.images.list(filters={"label": TOOLCHAIN_LABEL}):
        for tag in image.tags:
            if tag.startswith("coder-toolchain:") and tag not in kept_toolchains and tag not in keep:
                removed += _remove(client, tag)
    return removed
