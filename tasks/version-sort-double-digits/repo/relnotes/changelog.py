"""Render a plain-text changelog, newest release first."""

from __future__ import annotations

from typing import Dict, List

from .versions import latest, sort_versions


def render(changes: Dict[str, List[str]]) -> str:
    lines = [f"Latest release: {latest(changes)}", ""]
    for version in reversed(sort_versions(changes)):
        lines.append(version)
        lines.extend(f"  - {item}" for item in changes[version])
    return "\n".join(lines) + "\n"
