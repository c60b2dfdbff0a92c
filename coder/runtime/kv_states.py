"""KV states of earlier prompts kept in memory, so that a prompt resumes from the one it shares the longest prefix with.

llama-cpp-python reuses only what the live KV cache holds: the prefix shared with the previous request. Guided repair
cycles through several views of the code (the stable head of the prompt, then one view), and a feedback round asks
again about each view: with only the previous request cached, each of those prompts prefills its view anew. Keeping
the KV cells of sequence 0 after each request (llama.cpp's per-sequence state, a copy of the used cells only) lets
such a prompt restore the earlier state and prefill only what is new.
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

MIN_GAIN = 16  # tokens a saved state must add to the live cache's prefix to be worth restoring


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens A and B share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class KVStates:
    """Saved states of sequence 0, least recently used dropped first once their bytes pass BUDGET."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._states: OrderedDict[tuple[int, ...], bytes] = OrderedDict()
        self.restored = 0  # how many prompts resumed from a saved state (for tests and benchmarks)

    @property
    def held(self) -> int:
        return sum(len(data) for data in self._states.values())

    def __len__(self) -> int:
        return len(self._states)

    def best(self, tokens: Sequence[int], live: int) -> tuple[tuple[int, ...], int] | None:
        """The saved state whose tokens share the longest prefix with TOKENS (the last token excluded: it is evaluated
        again for fresh logits), when that beats the LIVE cache's prefix by MIN_GAIN tokens or more."""
        found: tuple[tuple[int, ...], int] | None = None
        for key in self._states:
            shared = common_prefix(key, tokens[:-1])
            if shared >= live + MIN_GAIN and (found is None or shared > found[1]):
                found = (key, shared)
        return found

    def restore(self, llm: Any, key: tuple[int, ...]) -> None:
        """Put the state saved under KEY into LLM's KV cache and token history, replacing what it holds."""
        import llama_cpp

        data = self._states[key]
        self._states.move_to_end(key)
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        if llama_cpp.llama_state_seq_set_data(llm._ctx.ctx, buffer, len(data), 0) != len(data):
            llm.reset()  # nothing usable is left: the prompt is prefilled whole
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            return
        llm.input_ids[: len(key)] = key  # the whole history array: _input_ids is a view of the first n_tokens
        llm.n_tokens = len(key)
        llm._requires_eval = True
        self.restored += 1

    def save(self, llm: Any) -> None:
        """Keep LLM's sequence 0 as it is now (the last prompt and its reply), unless it alone would take more than a
        quarter of the budget; a saved state that is a prefix of it is dropped (this one holds all it did)."""
        import llama_cpp

        n = int(llm.n_tokens)
        if n == 0 or self.budget <= 0:
            return
        size = int(llama_cpp.llama_state_seq_get_size(llm._ctx.ctx, 0))
        if size > self.budget // 4:
            return
        buffer = (ctypes.c_uint8 * size)()
        written = int(llama_cpp.llama_state_seq_get_data(llm._ctx.ctx, buffer, size, 0))
        if written <= 0 or written > size:
            return
        key = tuple(int(t) for t in llm._input_ids[:n])
        for old in [k for k in self._states if len(k) <= n and key[: len(k)] == k]:
            del self._states[old]
        self._states[key] = bytes(buffer)[:written]
        while self.held > self.budget and len(self._states) > 1:
            self._states.popitem(last=False)
