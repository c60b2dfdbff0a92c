"""settings: read `key = value` files with [sections] and check them against a schema."""

from .loader import load_file, load_settings
from .parse import ParseError, parse_text
from .schema import MissingSetting, require

__all__ = ["MissingSetting", "ParseError", "load_file", "load_settings", "parse_text", "require"]
