"""mini-swe-agent as a comparison harness: its DefaultAgent and LitellmModel, unchanged, against the same endpoint,
with its bash commands run inside the same coder sandbox (same image, limits and no network) through our bash tool.

Needs the optional extra `compare` (pip install 'coder-agent[compare]').
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from typing import Any

import yaml

from ..patch_check import UnsafePatch, check_patch
from ..sandboxes.base import Sandbox, SandboxError, SandboxSession, WorkspaceOptions
from .endpoint import Endpoint
from .harness import Attempt, RunLimits, StepCallback
from .tasks import EvalTask

SUBMIT = "COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"
_FOOTER = re.compile(r"\n\[(?:exit code -?\d+[^\]]*|timed out after [^\]]*)\](?:\n\[[^\]]*\])*\s*$")
_STATUS = {"Submitted": "submitted", "LimitsExceeded": "limit_reached", "TimeExceeded": "limit_reached",
           "ContextWindowExceededError": "limit_reached", "RepeatedFormatError": "stuck"}


def available() -> bool:
    return importlib.util.find_spec("minisweagent") is not None


def _quiet_imports() -> None:
    """Before importing mini-swe-agent: no banner, litellm's bundled cost map (no download), no cost errors for local
    models, and retries as few as coder's own."""
    os.environ.setdefault("MSWEA_SILENT_STARTUP", "1")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("MSWEA_COST_TRACKING", "ignore_errors")


class SandboxEnvironment:
    """mini-swe-agent's Environment protocol on a coder sandbox session: each command is one `bash` tool call."""

    def __init__(self, session: SandboxSession, timeout: float, env: dict[str, str] | None = None) -> None:
        self.session, self.timeout, self.env = session, timeout, dict(env or {})
        self.config = {"cwd": "", "timeout": timeout, "env": self.env, "sandbox": session.name}
        self._uname = self._probe_uname()

    def _probe_uname(self) -> dict[str, str]:
        result = self.session.call("bash", {"command": "uname -s; uname -r; uname -v; uname -m"})
        lines = (_FOOTER.sub("", result.output).splitlines() + ["", "", "", ""])[:4]
        return dict(zip(("system", "release", "version", "machine"), (line.strip() for line in lines)))

    def execute(self, action: dict[str, Any], cwd: str = "", *, timeout: int | None = None) -> dict[str, Any]:
        from minisweagent.exceptions import Submitted

        command = str(action.get("command", ""))
        exports = "".join(f"export {k}={_sh_quote(v)}; " for k, v in self.env.items())
        line = exports + (f"cd {_sh_quote(cwd)} && " if cwd else "") + command
        result = self.session.call("bash", {"command": line or "true", "timeout": float(timeout or self.timeout)})
        data = result.data or {}
        text = _FOOTER.sub("", result.output)
        text = "" if text == "(no output)" else text
        code = data.get("exit_code")
        output: dict[str, Any] = {"output": text, "returncode": -1 if code is None else int(code), "exception_info": ""}
        if data.get("timed_out"):
            output["exception_info"] = f"the command timed out after {timeout or self.timeout:g}s and was killed"
        lines = text.lstrip().splitlines(keepends=True)
        if lines and lines[0].strip() == SUBMIT and output["returncode"] == 0:
            submission = "".join(lines[1:])
            raise Submitted({"role": "exit", "content": submission,
                             "extra": {"exit_status": "Submitted", "submission": submission}})
        return output

    def get_template_vars(self, **kwargs: Any) -> dict[str, Any]:
        return {**self.config, **self._uname, **kwargs}

    def serialize(self) -> dict[str, Any]:
        return {"info": {"config": {"environment": self.config,
                                    "environment_type": f"{__name__}.SandboxEnvironment"}}}


def _sh_quote(value: str) -> str:
    return "'" + str(value).replace("'", "'\"'\"'") + "'"


def _checked(patch: str) -> tuple[str, str | None]:
    """(PATCH, None) when it passes the shared check, else ('', why): a patch from the sandbox that names paths
    outside the repository (`copy from /etc/passwd`) never leaves the harness, so neither the grader nor the
    predictions file gets it; the run stays unresolved and its message says why."""
    if not patch.strip():
        return patch, None
    try:
        check_patch(patch)
    except UnsafePatch as exc:
        return "", exc.refusal()
    return patch, None


def load_config(name: str) -> dict[str, Any]:
    """A mini-swe-agent config by builtin name ('mini', 'mini_textbased', ...) or path."""
    _quiet_imports()
    from minisweagent.config import get_config_path

    data = yaml.safe_load(get_config_path(name).read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def usage_of(messages: list[dict[str, Any]]) -> tuple[int, int, int]:
    """(prompt, completion, cached) tokens summed over every model response kept in the messages."""
    prompt = completion = cached = 0
    for message in messages:
        response = (message.get("extra") or {}).get("response")
        usage = response.get("usage") if isinstance(response, dict) else None
        if not isinstance(usage, dict):
            continue
        prompt += int(usage.get("prompt_tokens") or 0)
        completion += int(usage.get("completion_tokens") or 0)
        details = usage.get("prompt_tokens_details") or {}
        cached += int((details.get("cached_tokens") if isinstance(details, dict) else 0) or 0)
    return prompt, completion, cached


class MiniSweAgentHarness:
    """mini-swe-agent's DefaultAgent with its own prompts (config `mini` by default) and LitellmModel."""

    name = "mini-swe-agent"

    def __init__(self, endpoint: Endpoint, limits: RunLimits, trajectory_dir: Path, config: str = "mini") -> None:
        self.endpoint, self.limits, self.trajectory_dir = endpoint, limits, trajectory_dir
        self.config = load_config(config)

    def _model(self) -> Any:
        import litellm
        from minisweagent.models import get_model_class

        # litellm prints banners ("Provider List", "Give Feedback") on every cost lookup it cannot do for a local
        # model name; they would tear the progress display. Errors still reach mini-swe-agent as exceptions.
        litellm.suppress_debug_info = True
        cfg = self.endpoint.config
        sampling = cfg.sampling()
        model_cfg = dict(self.config.get("model") or {})
        model_class = str(model_cfg.pop("model_class", "") or "litellm")
        kwargs = dict(model_cfg.pop("model_kwargs", None) or {})
        kwargs.update({"api_base": cfg.base_url, "api_key": cfg.api_key or "none", "timeout": cfg.timeout,
                       "num_retries": 0})
        kwargs.update({k: sampling[k] for k in ("temperature", "top_p", "max_tokens") if k in sampling})
        extra = {k: sampling[k] for k in ("top_k", "repetition_penalty") if k in sampling}
        if extra:
            kwargs["extra_body"] = extra
        name = f"openai/{cfg.name}"
        model_cfg.pop("model_name", None)
        return get_model_class(name, model_class)(model_name=name, model_kwargs=kwargs, cost_tracking="ignore_errors",
                                                  **model_cfg)

    def attempt(self, task: EvalTask, checkout: Path, sandbox: Sandbox, run: int, on_step: StepCallback) -> Attempt:
        _quiet_imports()
        os.environ.setdefault("MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT", str(self.endpoint.config.max_retries + 1))
        from minisweagent.agents.default import DefaultAgent

        class _Agent(DefaultAgent):
            def query(self) -> dict[str, Any]:
                message: dict[str, Any] = super().query()
                on_step(self.n_calls)
                return message

        agent_cfg = {k: v for k, v in (self.config.get("agent") or {}).items() if k not in ("mode", "confirm_exit")}
        agent_cfg.update({"step_limit": self.limits.max_steps, "cost_limit": 0,
                          "wall_time_limit_seconds": int(self.limits.max_seconds)})
        trajectory = self.trajectory_dir / f"{task.id}.run{run}.traj.json"
        agent_cfg["output_path"] = trajectory
        env_vars = dict((self.config.get("environment") or {}).get("env") or {})
        options = WorkspaceOptions(test_command=task.test_command, bash_timeout=self.limits.bash_timeout)
        with sandbox.open(checkout, options) as session:
            env = SandboxEnvironment(session, self.limits.bash_timeout, env_vars)
            agent = _Agent(self._model(), env, **agent_cfg)
            error: str | None = None
            try:
                info = agent.run(task.issue)
            except SandboxError as exc:
                info, error = {"exit_status": "SandboxError"}, f"sandbox error: {exc}"
            except Exception as exc:  # mini-swe-agent re-raises what it cannot handle (endpoint down, context full)
                info = {"exit_status": type(exc).__name__}
                if type(exc).__name__ not in _STATUS:
                    error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            patch = "" if error is not None and error.startswith("sandbox error") else session.patch()
        patch, refused = _checked(patch)
        prompt, completion, cached = usage_of(agent.messages)
        malformed = sum(1 for m in agent.messages if (m.get("extra") or {}).get("interrupt_type") == "FormatError")
        exit_status = str(info.get("exit_status", ""))
        status = "error" if error else _STATUS.get(exit_status, "error")
        if status == "error" and error is None:
            error = f"mini-swe-agent ended with {exit_status or 'no exit status'}"
        return Attempt(status, error or refused or exit_status, patch, agent.n_calls, prompt, completion, cached,
                       malformed, str(trajectory), error)
