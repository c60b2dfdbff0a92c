"""Per-repository environments: detect what the tests need, build it into a cached image, run the sandbox on it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .build import EnvBuildError as EnvBuildError
    from .build import ensure_env_image as ensure_env_image
    from .build import env_image_built as env_image_built
    from .build import env_image_tag as env_image_tag
    from .build import runtime_env as runtime_env
    from .detect import describe as describe
    from .detect import detect_environment as detect_environment
    from .images import list_env_images as list_env_images
    from .images import prune_env_images as prune_env_images
    from .spec import EnvImage as EnvImage
    from .spec import EnvSpec as EnvSpec

# Imported on first use: the local sandbox needs only detection, not the Docker modules behind build/images.
_WHERE = {"EnvBuildError": "build", "ensure_env_image": "build", "env_image_built": "build", "env_image_tag": "build",
          "runtime_env": "build", "describe": "detect", "detect_environment": "detect", "list_env_images": "images",
          "prune_env_images": "images", "EnvImage": "spec", "EnvSpec": "spec"}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
