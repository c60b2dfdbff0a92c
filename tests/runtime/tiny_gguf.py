"""Write a tiny random-weight qwen2 GGUF that carries a real model's tokenizer and chat template."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

# GGUF value types (gguf.GGUFValueType numbering).
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_GGML_F32 = 0


@dataclass
class _Header:
    """The metadata (key -> (type, sub_type, value)) and tensor shapes (ggml order) of a GGUF file."""

    fields: dict[str, tuple[int, int | None, Any]] = field(default_factory=dict)
    tensors: dict[str, tuple[int, ...]] = field(default_factory=dict)


def _unpack(handle: IO[bytes], fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = handle.read(size)
    if len(data) != size:
        raise ValueError("truncated GGUF header")
    return struct.unpack(fmt, data)[0]


def _string(handle: IO[bytes]) -> str:
    return handle.read(_unpack(handle, "<Q")).decode("utf-8")


def _strings(handle: IO[bytes], count: int) -> list[str]:
    out: list[str] = []
    read, unpack = handle.read, struct.unpack
    for _ in range(count):
        (length,) = unpack("<Q", read(8))
        out.append(read(length).decode("utf-8"))
    return out


def _value(handle: IO[bytes], kind: int) -> tuple[int | None, Any]:
    if kind == _STRING:
        return None, _string(handle)
    if kind == _ARRAY:
        sub, count = _unpack(handle, "<I"), _unpack(handle, "<Q")
        if sub == _STRING:
            return sub, _strings(handle, count)
        if sub in _SCALARS:
            fmt = _SCALARS[sub]
            return sub, np.frombuffer(handle.read(struct.calcsize(fmt) * count), dtype=np.dtype(fmt)).tolist()
        raise ValueError(f"unsupported GGUF array of type {sub}")
    return None, _unpack(handle, _SCALARS[kind])


def read_header(path: Path) -> _Header:
    """Parse a GGUF header (GGUFReader takes ~15 s on a 150k-token vocabulary; this takes well under 1 s)."""
    header = _Header()
    with open(path, "rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        version = _unpack(handle, "<I")
        if version < 2:
            raise ValueError(f"GGUF version {version} is not supported")
        n_tensors, n_kv = _unpack(handle, "<Q"), _unpack(handle, "<Q")
        for _ in range(n_kv):
            key = _string(handle)
            kind = _unpack(handle, "<I")
            sub, value = _value(handle, kind)
            header.fields[key] = (kind, sub, value)
        for _ in range(n_tensors):
            name = _string(handle)
            dims = tuple(_unpack(handle, "<Q") for _ in range(_unpack(handle, "<I")))
            _unpack(handle, "<I")  # ggml type
            _unpack(handle, "<Q")  # data offset
            header.tensors[name] = dims
    return header


def make_tiny_gguf(
    source_gguf: Path,
    dest: Path,
    *,
    layers: int = 2,
    hidden: int = 64,
    heads: int = 4,
    kv_heads: int = 2,
    ff: int = 128,
    ctx: int = 4096,
    seed: int = 0,
) -> Path:
    """Write DEST: a qwen2 model with random f16 weights shaped like SOURCE_GGUF's but tiny, with its real tokenizer.

    All tokenizer.* keys (vocabulary, merges, token types, special ids, chat template) are copied, so tokenization,
    detokenization and chat rendering match the source; the text generated is garbage but comes fast. The embedding
    is tied (no output.weight: llama.cpp's qwen2 falls back to token_embd), which halves the file (~20 MB).
    """
    import gguf

    if hidden % heads or heads % kv_heads:
        raise ValueError("hidden must divide by heads, and heads by kv_heads")
    src = read_header(Path(source_gguf))
    arch = src.fields.get("general.architecture", (0, None, ""))[2]
    if arch != "qwen2":
        raise ValueError(f"{source_gguf} is a {arch!r} model; only qwen2 is supported")

    def meta(key: str) -> int:
        return int(src.fields[f"qwen2.{key}"][2])

    real_hidden, real_heads, real_kv_heads = meta("embedding_length"), meta("attention.head_count"), meta(
        "attention.head_count_kv")
    real_kv = real_hidden // real_heads * real_kv_heads
    n_vocab = len(src.fields["tokenizer.ggml.tokens"][2])
    dims = {real_hidden: hidden, meta("feed_forward_length"): ff, real_kv: hidden // heads * kv_heads,
            n_vocab: n_vocab}
    if len(dims) != 4:
        raise ValueError("the source model's dimensions collide; cannot map its tensor shapes")

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(dest), "qwen2")
    writer.add_name("tiny random qwen2 (test model)")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_block_count(layers)
    writer.add_context_length(ctx)
    writer.add_embedding_length(hidden)
    writer.add_feed_forward_length(ff)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_freq_base(float(src.fields.get("qwen2.rope.freq_base", (0, None, 1e6))[2]))
    writer.add_layer_norm_rms_eps(float(src.fields.get("qwen2.attention.layer_norm_rms_epsilon", (0, None, 1e-6))[2]))
    for key, (kind, sub, value) in src.fields.items():
        if key.startswith("tokenizer."):
            writer.add_key_value(key, value, gguf.GGUFValueType(kind),
                                 sub_type=gguf.GGUFValueType(sub) if sub is not None else None)

    rng = np.random.default_rng(seed)
    wanted = [n for n in src.tensors if not n.startswith("blk.") and n != "output.weight"]
    per_block = [n for n in src.tensors if n.startswith("blk.0.")]
    wanted += [n.replace("blk.0.", f"blk.{i}.", 1) for i in range(layers) for n in per_block]
    for name in wanted:
        template = name.split(".", 2)[-1] if name.startswith("blk.") else name
        shape = src.tensors["blk.0." + template if name.startswith("blk.") else name]
        ne = [dims.get(d, d) for d in shape]
        np_shape = tuple(reversed(ne))  # numpy is row-major; ggml lists the fastest dimension first
        if len(ne) == 1:
            is_norm = name.endswith("norm.weight")
            data = np.ones(np_shape, np.float32) if is_norm else rng.normal(0, 0.02, np_shape).astype(np.float32)
        else:
            std = 0.15 if name == "token_embd.weight" else 1.0 / np.sqrt(ne[0])
            data = rng.normal(0, std, np_shape).astype(np.float16)
        writer.add_tensor(name, data)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return dest
