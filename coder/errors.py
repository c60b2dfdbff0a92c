"""The exceptions coder raises, under one base class, so a library user can catch coder's failures and nothing else.

The tree (where a class is defined elsewhere, its module is named; every class here is importable from it too)::

    CoderError                      anything coder raises on purpose
    ├── UsageError                  a user mistake: the CLI prints one line and exits with code 2
    │   ├── ConfigError             a configuration value that is wrong or missing (coder.config)
    │   ├── ApplyError              the patch cannot be applied to the working tree as asked (coder.apply)
    │   ├── SandboxCliError         `coder sandbox ...` (coder.sandboxes.cli)
    │   ├── EnvCliError             `coder env ...` (coder.env_cli)
    │   ├── EvalUsageError          `coder eval ...` (coder.eval.cli)
    │   └── ModelsCliError          `coder models ...` (coder.runtime.models_cli)
    ├── ModelError                  the model endpoint failed: unreachable, timed out, or answered unusably
    ├── TokenizerError              no real tokenizer could be built for the model (coder.models.tokens)
    ├── SandboxError                the sandbox itself failed (tool errors are results, not exceptions)
    │   ├── WorkspaceError          a snapshot, restore or patch failed; the tool server still answers (coder.sandboxes.rpc)
    │   └── ImageBuildError         an image could not be built (coder.sandboxes.docker_image)
    │       └── EnvBuildError       the repository's environment image (coder.envs.build)
    ├── UnsafePatch                 a patch from the sandbox that may not be shown or applied; also a ValueError
    │                               (coder.patch_headers)
    ├── SessionBusy                 a second turn while one runs; also a RuntimeError (coder.agent.session)
    ├── FetchError                  model weights could not be fetched (coder.runtime.fetch)
    │   ├── NotDownloadedError
    │   └── ChecksumError
    ├── UnknownModelError           no such model in the registry; also a KeyError (coder.runtime.registry)
    ├── GGUFError                   a GGUF file that cannot be read; also a ValueError (coder.models.gguf_meta)
    ├── TaskSpecError               a task folder that does not validate; also a ValueError (coder.eval.taskspec)
    ├── GradingError                an eval run could not be graded (coder.eval.grade)
    └── GitHubError                 the GitHub API failed (coder.github.client), with GitHubPermissionError and
                                    GitHubRateLimitError; the Action's own: AgentJobError, ArtifactError,
                                    PatchRejected, ContextError (coder.github.*)

ScriptError (coder.testing) is an AssertionError on purpose: a scripted test that goes wrong is a failed test.
"""

from __future__ import annotations

__all__ = ["CoderError", "UsageError", "ConfigError", "ModelError", "SandboxError"]


class CoderError(Exception):
    """Base of every exception coder raises on purpose."""


class UsageError(CoderError):
    """A user mistake: printed as one line, exit code 2."""


class ConfigError(UsageError):
    """A configuration problem, described in one line."""


class ModelError(CoderError):
    """The model endpoint failed: unreachable, timed out, or answered with something unusable."""


class SandboxError(CoderError):
    """The sandbox itself failed (could not start, tool server died or hung); tool errors are results instead."""
