"""The host's package index configuration (pip, npm, Go, proxies, CA bundle) turned into a build container's settings."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from coder.sandboxes.docker_image import HOST_CA_CANDIDATES, HOST_CA_PATH

PIP_KEYS = {"index-url": "PIP_INDEX_URL", "extra-index-url": "PIP_EXTRA_INDEX_URL", "find-links": "PIP_FIND_LINKS",
            "trusted-host": "PIP_TRUSTED_HOST", "timeout": "PIP_DEFAULT_TIMEOUT", "default-timeout": "PIP_DEFAULT_TIMEOUT",
            "retries": "PIP_RETRIES", "proxy": "PIP_PROXY"}
GO_KEYS = ("GOPROXY", "GONOSUMDB", "GONOSUMCHECK", "GOSUMDB", "GOPRIVATE", "GONOPROXY", "GOINSECURE")
PROXY_KEYS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
CA_VARS = ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE",
           "GIT_SSL_CAINFO", "CARGO_HTTP_CAINFO", "npm_config_cafile")
_LOOPBACK = re.compile(r"^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$", re.IGNORECASE)


@dataclass
class IndexConfig:
    """What a build container gets from the host: variables, read-only mounts, network mode, a CA bundle."""

    env: dict[str, str] = field(default_factory=dict)
    mounts: list[str] = field(default_factory=list)  # host directories bind-mounted read-only at the same path
    network: str = "bridge"  # "host" when an index or proxy is on the host's loopback
    ca_bundle: bytes | None = None
    said: list[str] = field(default_factory=list)  # lines for the progress display

    def volumes(self) -> dict[str, dict[str, str]]:
        """docker-py `volumes` for the mounts."""
        return {path: {"bind": path, "mode": "ro"} for path in self.mounts}


def pip_config_list(python: str | None = None) -> dict[str, str]:
    """pip's effective settings ({key: value}, later sources win, PIP_* variables last) from `pip config list`."""
    for exe in [python or sys.executable, shutil.which("python3") or ""]:
        if not exe:
            continue
        try:
            proc = subprocess.run([exe, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=30,
                                  env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
        except (OSError, subprocess.SubprocessError):
            continue
        if proc.returncode == 0:
            return parse_pip_config(proc.stdout)
    return {}


def parse_pip_config(text: str) -> dict[str, str]:
    """`global.index-url='https://...'` lines -> {"index-url": "https://..."}; :env: lines override files."""
    files: dict[str, str] = {}
    env: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"^([^.=\s]*)\.([\w-]+)='(.*)'$", line.strip())
        if not match:
            continue
        section, key, value = match.groups()
        if section not in ("global", "install", "download", ":env:"):
            continue
        (env if section == ":env:" else files)[key] = value
    return {**files, **env}


def _tool_output(argv: list[str]) -> str:
    if not shutil.which(argv[0]):
        return ""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def npm_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """npm's registry and CA file: NPM_CONFIG_* variables first, else `npm config get`."""
    out: dict[str, str] = {}
    for key in ("registry", "cafile"):
        value = environ.get(f"NPM_CONFIG_{key.upper()}") or environ.get(f"npm_config_{key}")
        if not value:
            value = _tool_output(["npm", "config", "get", key])
        if value and value not in ("undefined", "null"):
            out[key] = value
    return out


def go_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """GOPROXY and the checksum settings: the environment first, else `go env` (values the user changed)."""
    out = {key: environ[key] for key in GO_KEYS if environ.get(key)}
    missing = [key for key in GO_KEYS if key not in out]
    if missing:
        values = _tool_output(["go", "env", *missing]).splitlines()
        defaults = {"GOPROXY": "https://proxy.golang.org,direct", "GOSUMDB": "sum.golang.org"}
        for key, value in zip(missing, values):
            if value and value != defaults.get(key):
                out[key] = value
    return out


def _local_dir(location: str) -> Path | None:
    """The host directory behind a file:// URL or a plain path, else None."""
    if "://" in location:
        parsed = urlparse(location)
        if parsed.scheme != "file":
            return None
        location = unquote(parsed.path)
    path = Path(location)
    return path if path.is_absolute() and path.exists() else None


def _mount_for(path: Path) -> str:
    """A PEP 503 `simple/` folder links to its sibling files (../../files/...): mount its parent, unless that is
    the root or the home folder."""
    path = path if path.is_dir() else path.parent
    parent = path.parent
    if path.name == "simple" and parent != Path("/") and parent != Path.home():
        return str(parent)
    return str(path)


def _loopback(location: str) -> bool:
    if "://" not in location:
        return False
    host = urlparse(location).hostname or ""
    return bool(_LOOPBACK.match(host))


def host_ca_bundle(extra_files: list[str]) -> bytes | None:
    """The host's CA bundle plus the CA files pip/npm are configured with, each once."""
    seen: set[bytes] = set()
    chunks: list[bytes] = []
    candidates = [c for c in HOST_CA_CANDIDATES if Path(c).is_file()][:1] + extra_files
    for name in candidates:
        try:
            data = Path(name).read_bytes()
        except OSError:
            continue
        if data and data not in seen:
            seen.add(data)
            chunks.append(data if data.endswith(b"\n") else data + b"\n")
    return b"".join(chunks) or None


def index_config(languages: tuple[str, ...], pip: Mapping[str, str], npm: Mapping[str, str],
                 go: Mapping[str, str], environ: Mapping[str, str]) -> IndexConfig:
    """The build container's settings from already-read host settings (pure; see host_index_config)."""
    cfg = IndexConfig()
    locations: list[str] = []
    if "python" in languages:
        for key, value in pip.items():
            if key in PIP_KEYS and value:
                cfg.env[PIP_KEYS[key]] = value
                if key in ("index-url", "extra-index-url", "find-links", "proxy"):
                    locations += value.split()
        if cfg.env.get("PIP_INDEX_URL"):
            cfg.env["UV_INDEX_URL"] = cfg.env["PIP_INDEX_URL"]
        if cfg.env.get("PIP_EXTRA_INDEX_URL"):
            cfg.env["UV_EXTRA_INDEX_URL"] = cfg.env["PIP_EXTRA_INDEX_URL"]
    if "node" in languages and npm.get("registry"):
        cfg.env["npm_config_registry"] = npm["registry"]
        locations.append(npm["registry"])
    if "go" in languages:
        for key, value in go.items():
            cfg.env[key] = value
            if key == "GOPROXY":
                locations += [p for p in re.split(r"[,|]", value) if p not in ("direct", "off")]
    if "rust" in languages:
        cfg.env.update({k: v for k, v in environ.items() if k.startswith(("CARGO_REGISTRIES_", "CARGO_HTTP_"))})
    for key in PROXY_KEYS:
        if environ.get(key):
            cfg.env[key] = environ[key]
            if "proxy" in key.lower() and "no_" not in key.lower():
                locations.append(environ[key])
    for location in locations:
        local = _local_dir(location)
        if local is not None:
            mount = _mount_for(local)
            if mount not in cfg.mounts:
                cfg.mounts.append(mount)
        elif _loopback(location):
            cfg.network = "host"
    extra_ca = [v for v in (pip.get("cert"), npm.get("cafile")) if v]
    cfg.ca_bundle = host_ca_bundle(extra_ca)
    if cfg.ca_bundle is not None:
        cfg.env.update({name: HOST_CA_PATH for name in CA_VARS})
    if cfg.mounts:
        cfg.said.append("package indexes on this machine mounted read-only: " + ", ".join(cfg.mounts))
    if cfg.network == "host":
        cfg.said.append("a configured index or proxy is on this machine's loopback: the build uses the host network")
    return cfg


def host_index_config(languages: tuple[str, ...], environ: Mapping[str, str] | None = None) -> IndexConfig:
    """Read the host's settings for LANGUAGES (pip config, npm config, go env, proxies, CA) into an IndexConfig."""
    env = os.environ if environ is None else environ
    pip = pip_config_list() if "python" in languages else {}
    npm = npm_settings(env) if "node" in languages else {}
    go = go_settings(env) if "go" in languages else {}
    return index_config(languages, pip, npm, go, env)
