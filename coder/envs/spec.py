"""What a repository needs to run its tests (EnvSpec, detected from its own files) and the image built for it (EnvImage)."""

from __future__ import annotations

from dataclasses import dataclass, field

Language = str  # "python" | "node" | "go" | "rust"


@dataclass(frozen=True)
class EnvSpec:
    """The environment a repository's tests need, as detected from the repository's own files.

    install: shell commands run in /workspace at build time, in order, as the unprivileged user (uid 1000) with
    network; setup: the user's own `sandbox.setup` (from their config, never from repo files), which replaces install
    and runs as root like before. The cache key covers the toolchain, the commands and the dependency files' bytes."""

    languages: tuple[Language, ...] = ()
    package_manager: str = "none"  # pip | uv | poetry | pipenv | npm | pnpm | yarn | go | cargo | none
    install: tuple[str, ...] = ()
    setup: str | None = None
    toolchain: tuple[str, ...] = ()  # Debian packages of the toolchain layer (shared by every repo that needs them)
    dependency_files: tuple[str, ...] = ()  # repo-relative paths whose bytes key the cache
    test_runner: str = "unknown"  # pytest | unittest | node | npm | go | cargo | command | unknown (what is expected)
    notes: tuple[str, ...] = ()  # said to the user, e.g. "uv.lock: installed with uv sync --frozen"

    @property
    def setup_command(self) -> str:
        """The command line the build runs, for display: the user's setup, or the detected steps joined (each one runs on
        its own and must succeed, so a step with `||` is shown in parentheses)."""
        steps = [f"({step})" if "||" in step or ";" in step else step for step in self.install]
        return self.setup or " && ".join(steps) or "(nothing to install)"


@dataclass(frozen=True)
class EnvImage:
    """A built (or found in the cache) environment image and how the sandbox must run on it."""

    tag: str
    built: bool  # True when this call built it; False when the cache had it
    env: dict[str, str] = field(default_factory=dict)  # runtime variables for the sandbox (PATH first)
