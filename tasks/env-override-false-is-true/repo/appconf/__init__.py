"""appconf: typed settings from defaults plus APP_* environment overrides."""

from .coerce import ConfigError
from .loader import load_config

__all__ = ["ConfigError", "load_config"]
