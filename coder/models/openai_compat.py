"""Any OpenAI-compatible chat endpoint (llama.cpp server, vLLM, Ollama, ...) behind the Model Protocol."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import openai

from .base import DEFAULT_REPLY_TOKENS, Message, ModelDelta, ModelError, ModelReply, TokenCounter, ToolCall, Usage
from .config import ModelConfig
from .scrub import scrub
from .toolcall_parser import loads_lenient, parse_tool_calls

__all__ = ["OpenAICompatModel"]

_TOP_LEVEL = ("temperature", "top_p", "max_tokens")  # the rest of the sampling dict goes in extra_body
_MIN_TIMEOUT = 1.0  # seconds: a request bounded by the run's remaining time still gets this long
_MARKERS = ("<tool_call>", "<function=")
# How servers say "no native tools here": llama.cpp without --jinja, vLLM without a tool parser, Ollama models.
_REJECTS_TOOLS = re.compile(
    r"tool.*(not supported|unsupported|requires|does not support|jinja|not enabled|not allowed)"
    r"|(does not support|unsupported|not supported).*tool",
    re.I | re.S,
)


def _one_line(text: str, limit: int = 240) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _get(obj: Any, key: str) -> Any:
    """obj[key] or obj.key, tolerating dicts, pydantic models with extra fields, and None."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _usage(obj: Any) -> Usage | None:
    """Usage from a completion or chunk: OpenAI `usage` (+ cached tokens), llama.cpp `timings`/`tokens_cached`."""
    usage, timings = _get(obj, "usage"), _get(obj, "timings")
    if usage is None and timings is None and _get(obj, "tokens_cached") is None:
        return None
    cached = _int(_get(_get(usage, "prompt_tokens_details"), "cached_tokens"))
    cached = cached or _int(_get(timings, "cache_n")) or _int(_get(obj, "tokens_cached"))
    if usage is not None:
        prompt, completion = _int(_get(usage, "prompt_tokens")), _int(_get(usage, "completion_tokens"))
    else:
        prompt = _int(_get(timings, "prompt_n")) + _int(_get(timings, "cache_n"))
        completion = _int(_get(timings, "predicted_n"))
    return Usage(prompt_tokens=prompt, completion_tokens=completion, cached_tokens=cached)


def _tool_param(tool: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI `tools=` entry; a bare function schema ({"name", "parameters"}) gets wrapped."""
    if "function" in tool:
        return dict(tool)
    return {"type": "function", "function": dict(tool)}


def _tool_name(tool: Mapping[str, Any]) -> str:
    return str(_tool_param(tool)["function"].get("name", ""))


def _native_call(index: int, call_id: str | None, name: str, arguments: Any) -> ToolCall:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    error: str | None = None
    args: Any = arguments
    if isinstance(arguments, str):
        try:
            args = loads_lenient(arguments) if arguments.strip() else {}
        except ValueError as exc:
            error = f"arguments of '{name}' are not valid JSON: {exc}"
    if error is None and not isinstance(args, dict):
        error = f"arguments of '{name}' must be a JSON object, got {type(args).__name__}"
    if error is None and not name:
        error = "the tool call has no function name"
    return ToolCall(call_id or f"call_{index}", name or "", args if error is None else {}, raw, error)


class _MarkupGate:
    """Passes streamed text through until tool-call markup starts, holding back a possible partial marker."""

    def __init__(self) -> None:
        self._buf = ""
        self._closed = False

    def feed(self, piece: str) -> str:
        if self._closed:
            return ""
        self._buf += piece
        hits = [i for i in (self._buf.find(m) for m in _MARKERS) if i >= 0]
        if hits:
            out, self._buf, self._closed = self._buf[: min(hits)], "", True
            return out
        hold = max((n for m in _MARKERS for n in range(1, len(m)) if self._buf.endswith(m[:n])), default=0)
        out, self._buf = self._buf[: len(self._buf) - hold], self._buf[len(self._buf) - hold :]
        return out

    def flush(self) -> str:
        out, self._buf = ("" if self._closed else self._buf), ""
        return out


class OpenAICompatModel:
    """Chat completions over the `openai` client; text-embedded tool calls are parsed when no native ones come."""

    def __init__(self, config: ModelConfig | None = None, *, context_window: int | None = None,
                 token_counter: TokenCounter | None = None) -> None:
        """CONTEXT_WINDOW and TOKEN_COUNTER: what the endpoint reported (see factories.build_model); both or neither."""
        self.config = config or ModelConfig()
        self._context_window = context_window
        self._token_counter = token_counter if context_window else None
        self.name = self.config.name
        self.base_url = self.config.base_url.rstrip("/")
        self._tools_rejected = False
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=self.config.api_key or "none",  # local servers ignore it, but the client requires one
            timeout=self.config.timeout,
            max_retries=self.config.max_retries,
        )

    def __repr__(self) -> str:
        return f"OpenAICompatModel(name={self.name!r}, base_url={self.base_url!r})"

    @property
    def sends_tools(self) -> bool:
        """Whether tool schemas go to the server natively (False after the server rejected them)."""
        return self.config.native_tools and not self._tools_rejected

    @property
    def context_window(self) -> int | None:
        return self._context_window

    @property
    def token_counter(self) -> TokenCounter | None:
        return self._token_counter

    @property
    def max_reply_tokens(self) -> int:
        return self.config.max_tokens or DEFAULT_REPLY_TOKENS

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------ requests

    def request_params(
        self, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]], *, stream: bool,
        allowed: Collection[str] | None = None, sampling: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The keyword arguments for chat.completions.create (exposed for tests and debugging).

        ALLOWED narrows the callable tools: the bundled runtime gets every tool plus OpenAI's `allowed_tools`
        tool_choice (its grammar then admits only those, and the prompt prefix it has cached stays the same); other
        servers, which may not know that tool_choice, get only the allowed tools."""
        sampling = {**self.config.sampling(), **(sampling or {})}
        # Where messages leave for the model: surrogateescape code points (bytes that are not UTF-8, kept exact by the
        # tools) become U+FFFD here, in the request only, so the model never gets invalid UTF-8 (see coder.models.scrub)
        params: dict[str, Any] = {"model": self.name, "messages": [scrub(m.to_openai()) for m in messages]}
        params.update({k: v for k, v in sampling.items() if k in _TOP_LEVEL})
        extra = {k: v for k, v in sampling.items() if k not in _TOP_LEVEL}
        if extra:
            params["extra_body"] = extra
        if tools and self.sends_tools:
            narrowed = [t for t in tools if allowed is None or _tool_name(t) in allowed]
            if allowed is not None and self.config.provider == "local":
                params["tools"] = [_tool_param(t) for t in tools]
                params["tool_choice"] = {"type": "allowed_tools", "allowed_tools": {
                    "mode": "auto", "tools": [{"type": "function", "function": {"name": _tool_name(t)}} for t in narrowed]}}
            else:
                params["tools"] = [_tool_param(t) for t in narrowed]
        if stream:
            params["stream"] = True
            params["stream_options"] = {"include_usage": True}
        return params

    def _bound(self, timeout: float | None) -> float | None:
        """The seconds the run's time left allows this request, when that is sooner than the configured timeout."""
        if timeout is None or timeout >= self.config.timeout:
            return None
        return max(timeout, _MIN_TIMEOUT)

    def _client_within(self, timeout: float | None) -> openai.OpenAI:
        """The client, or one bounded by the run's time left: no retries then, since a retry would only start after
        the run's time is up."""
        bound = self._bound(timeout)
        return self._client if bound is None else self._client.with_options(timeout=bound, max_retries=0)

    def _create(self, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]], stream: bool,
                allowed: Collection[str] | None = None, timeout: float | None = None,
                sampling: Mapping[str, Any] | None = None) -> Any:
        params = self.request_params(messages, tools, stream=stream, allowed=allowed, sampling=sampling)
        client = self._client_within(timeout)
        try:
            return client.chat.completions.create(**params)
        except openai.APIStatusError as exc:
            if "tools" in params and exc.status_code in (400, 422, 500, 501) and _REJECTS_TOOLS.search(str(exc.body)):
                self._tools_rejected = True  # e.g. llama.cpp without --jinja; calls then come back as text
                return client.chat.completions.create(**self.request_params(messages, tools, stream=stream,
                                                                            allowed=allowed, sampling=sampling))
            raise

    @contextmanager
    def _errors(self, timeout: float | None = None) -> Iterator[None]:
        """Turn every client/transport failure into a one-line ModelError naming the endpoint."""
        url = self.base_url
        try:
            yield
        except ModelError:
            raise
        except openai.APITimeoutError as exc:
            if (bound := self._bound(timeout)) is not None:
                raise ModelError(f"model endpoint {url} did not answer within the {bound:.3g}s "
                                 "the run had left (timeout)") from exc
            raise ModelError(
                f"model endpoint {url} did not answer within {self.config.timeout:g}s (timeout)"
                " — is the server overloaded, or should model.timeout be larger?"
            ) from exc
        except openai.APIConnectionError as exc:
            raise ModelError(f"cannot reach model endpoint {url}: {self._why_unreachable(exc)}") from exc
        except openai.APIStatusError as exc:
            raise ModelError(self._status_message(exc)) from exc
        except openai.APIError as exc:  # response validation, error events inside a stream
            raise ModelError(f"model endpoint {url} sent an unusable response: {_one_line(exc.message)}") from exc
        except ValueError as exc:  # json.JSONDecodeError from a non-JSON body
            doc = getattr(exc, "doc", None)
            what = repr(_one_line(doc, 120)) if isinstance(doc, str) and doc.strip() else _one_line(str(exc))
            raise ModelError(f"model endpoint {url} sent a response that is not JSON: {what}") from exc

    @staticmethod
    def _why_unreachable(exc: BaseException) -> str:
        seen: BaseException | None = exc
        reasons: list[str] = []
        while seen is not None and len(reasons) < 10:
            if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
                return "connection refused — is the server running?"
            reasons.append(str(seen))
            seen = seen.__cause__ or seen.__context__
        detail = next((r for r in reversed(reasons) if r), "connection error")
        return f"{_one_line(detail, 160)} — is the server running and is base_url right?"

    def _status_message(self, exc: openai.APIStatusError) -> str:
        detail: Any = exc.body  # the client already unwraps {"error": {...}}; other servers send other shapes
        if isinstance(detail, Mapping):
            detail = detail.get("error", detail)
        if isinstance(detail, Mapping):
            detail = detail.get("message") or detail.get("detail") or json.dumps(detail)
        if not detail:
            detail = exc.response.text if exc.response is not None else exc.message
        hint = {
            401: " — check model.api_key",
            403: " — check model.api_key",
            404: f" — check base_url (usually ends in /v1) and model name {self.name!r}",
        }.get(exc.status_code, "")
        return f"model endpoint {self.base_url} answered HTTP {exc.status_code}: {_one_line(str(detail), 200)}{hint}"

    # ------------------------------------------------------------ replies

    def _reply(
        self,
        text: str,
        native: list[ToolCall],
        usage: Usage | None,
        finish: str | None,
        tools: Sequence[Mapping[str, Any]],
    ) -> ModelReply:
        visible, parsed = parse_tool_calls(text, tools)
        calls = native or parsed
        raw = text
        if native:  # keep the calls in the raw record too, in the Hermes shape the server parsed them from
            raw += "".join(f"\n<tool_call>\n{json.dumps({'name': c.name, 'arguments': c.arguments})}\n</tool_call>"
                           for c in native)
        return ModelReply(
            text=visible, tool_calls=tuple(calls), usage=usage or Usage(), raw=raw, finish_reason=finish
        )

    def complete(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]], *,
                 allowed: Collection[str] | None = None, timeout: float | None = None,
                 sampling: Mapping[str, Any] | None = None) -> ModelReply:
        """One non-streamed chat completion."""
        with self._errors(timeout):
            resp = self._create(messages, tools, stream=False, allowed=allowed, timeout=timeout, sampling=sampling)
        if not hasattr(resp, "choices"):
            raise ModelError(
                f"model endpoint {self.base_url} sent a response that is not a chat completion:"
                f" {_one_line(str(resp), 160)!r}"
            )
        choices = resp.choices or []
        if not choices:
            raise ModelError(f"model endpoint {self.base_url} returned no choices (empty reply)")
        message = choices[0].message
        text = (_get(message, "content") or "") if message is not None else ""
        native = [
            _native_call(i, tc.id, _get(tc.function, "name") or "", _get(tc.function, "arguments") or "")
            for i, tc in enumerate(_get(message, "tool_calls") or [])
        ]
        return self._reply(text, native, _usage(resp), choices[0].finish_reason, tools)

    def stream(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]], *,
               allowed: Collection[str] | None = None, timeout: float | None = None,
               sampling: Mapping[str, Any] | None = None) -> Iterator[ModelDelta]:
        """Stream text deltas (tool-call markup held back); the last delta carries the assembled reply.

        TIMEOUT bounds each wait for the server (the first chunk, then each next one), not the whole stream: the
        caller stops reading when its time is up."""
        parts: list[str] = []
        slots: dict[int, dict[str, Any]] = {}
        usage: Usage | None = None
        finish: str | None = None
        saw_choice = False
        gate = _MarkupGate()
        with self._errors(timeout):
            chunks = self._create(messages, tools, stream=True, allowed=allowed, timeout=timeout, sampling=sampling)
            if not hasattr(chunks, "__iter__") or isinstance(chunks, (str, bytes)):
                raise ModelError(f"model endpoint {self.base_url} did not send an event stream")
            try:
                for chunk in chunks:
                    usage = _usage(chunk) or usage
                    for choice in _get(chunk, "choices") or []:
                        if _get(choice, "index") not in (None, 0):
                            continue
                        saw_choice = True
                        finish = _get(choice, "finish_reason") or finish
                        delta = _get(choice, "delta")
                        piece = _get(delta, "content") or ""
                        parts.append(piece)
                        shown = gate.feed(piece) if piece else ""
                        if shown:
                            yield ModelDelta(text=shown)
                        for tc in _get(delta, "tool_calls") or []:
                            self._merge_tool_delta(slots, tc)
            finally:
                close = getattr(chunks, "close", None)
                if callable(close):
                    close()  # release the connection even when the caller stops early
        if not saw_choice:
            raise ModelError(f"model endpoint {self.base_url} returned no choices (empty stream)")
        ordered = [slots[k] for k in sorted(slots)]
        native = [_native_call(i, s["id"], s["name"], s["arguments"]) for i, s in enumerate(ordered)]
        yield ModelDelta(text=gate.flush(), reply=self._reply("".join(parts), native, usage, finish, tools))

    @staticmethod
    def _merge_tool_delta(slots: dict[int, dict[str, Any]], tc: Any) -> None:
        index, call_id = _get(tc, "index"), _get(tc, "id")
        if index is None:  # some servers omit the index: a new id opens a new call
            last = max(slots, default=-1)
            index = last + 1 if last < 0 or (call_id and slots[last]["id"] not in (None, call_id)) else last
        slot = slots.setdefault(index, {"id": None, "name": "", "arguments": ""})
        slot["id"] = call_id or slot["id"]
        fn = _get(tc, "function")
        name = _get(fn, "name") or ""
        if name and name != slot["name"]:
            slot["name"] += name
        args = _get(fn, "arguments")
        if isinstance(args, str):
            slot["arguments"] += args
        elif args is not None:  # a server that sends the arguments as an object
            slot["arguments"] = json.dumps(args)

    # ------------------------------------------------------------ probing

    def probe(self) -> list[str]:
        """The model ids the endpoint serves (GET /models); raises ModelError when it cannot be reached."""
        with self._errors():
            page = self._client.models.list()
        return [m.id for m in getattr(page, "data", []) or [] if getattr(m, "id", None)]

    def available(self) -> bool:
        """True when the endpoint answers /models."""
        try:
            self.probe()
        except ModelError:
            return False
        return True
