"""Per-repository environments: detect what the tests need, build it into a cached image, run the sandbox on it."""

from .build import EnvBuildError, ensure_env_image, env_image_built, env_image_tag, runtime_env
from .detect import describe, detect_environment
from .images import list_env_images, prune_env_images
from .spec import EnvImage, EnvSpec

__all__ = ["EnvBuildError", "EnvImage", "EnvSpec", "describe", "detect_environment", "ensure_env_image",
           "env_image_built", "env_image_tag", "list_env_images", "prune_env_images", "runtime_env"]
