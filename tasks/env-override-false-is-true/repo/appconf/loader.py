"""Build the effective configuration: defaults, overridden by APP_<NAME> environment variables."""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional

from .coerce import coerce

DEFAULTS: Dict[str, Any] = {
    "debug": False,
    "port": 8000,
    "hosts": ["localhost"],
    "timeout": 2.5,
    "secret_key": None,
}


def load_config(
    defaults: Mapping[str, Any] = DEFAULTS, environ: Optional[Mapping[str, str]] = None, prefix: str = "APP_"
) -> Dict[str, Any]:
    environ = os.environ if environ is None else environ
    config = dict(defaults)
    for name, default in defaults.items():
        raw = environ.get(prefix + name.upper())
        if raw is not None:
            config[name] = coerce(prefix + name.upper(), raw, default)
    return config
