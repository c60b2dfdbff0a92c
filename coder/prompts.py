"""Prompt templates are data: Jinja files in prompts/, rendered with StrictUndefined."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jinja2

from .resources import resource_dir


def _plain_json(value: Any) -> str:
    """JSON as a model should read it (jinja's own tojson escapes ' < > & for HTML)."""
    return json.dumps(value, ensure_ascii=False)


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("prompts"))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["tojson"] = _plain_json
    return env


def render(template: str, **context: Any) -> str:
    """Render prompts/TEMPLATE with the given context; a missing variable is an error."""
    return _environment().get_template(template).render(**context).strip()
