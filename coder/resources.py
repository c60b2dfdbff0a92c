"""Locate the files that live outside the coder package: prompts/, sandbox/ and the tool server (tools/)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """prompts/ or sandbox/: from the installed wheel (coder/_data/NAME) first, else the source checkout."""
    installed = _PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    checkout = _PACKAGE_DIR.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"coder resource directory '{name}' not found (looked in {installed} and {checkout})")


def tools_path() -> Path:
    """The directory to put on PYTHONPATH so that `python -m coder_tools.server` runs."""
    import coder_tools

    return Path(coder_tools.__file__).resolve().parent.parent
