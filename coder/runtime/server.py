"""The bundled runtime: an OpenAI-compatible HTTP server on 127.0.0.1 around llama-cpp-python.

Why our own and not llama_cpp.server: it needs no extra web stack, it renders the model's own chat template with the
tools, it constrains tool calls with a grammar built from the tools' schemas (so even a 0.5B model emits only
well-formed calls to real tools), and it reports how many prompt tokens came from the KV cache of the previous
request's common prefix (llama-cpp-python reuses that prefix; only new tokens are prefilled).

Endpoints: GET /health, GET /v1/models, POST /v1/chat/completions (stream or not), POST /tokenize.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import select
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ..models.toolcall_parser import parse_tool_calls
from .chat_template import render_chat
from .kv_states import KVStates, common_prefix

CANCEL_POLL_TOKENS = 8  # how often (in tokens) generation checks that the client is still there


@dataclass(frozen=True)
class RuntimeSettings:
    model_path: Path
    name: str
    n_ctx: int
    threads: int
    host: str = "127.0.0.1"
    port: int = 0
    grammar: bool = True
    prefix_cache: bool = True  # off only to measure what the reuse of the common prefix saves
    max_text_chars: int = 600  # free text (a plan, a thought) allowed before the grammar-forced tool call
    max_string_chars: int | None = None  # cap on each JSON string argument (tests with random weights use one)
    max_array_items: int | None = 32  # cap on each JSON array argument: a small model can list plan steps forever
    prompt_lookup: int = 0  # draft tokens per step for prompt-lookup decoding (0: off)
    kv_states_mb: int = 512  # memory for KV states of earlier prompts, to resume a prompt from (0: off)


def load_llama(path: Path, n_ctx: int, threads: int, prompt_lookup: int = 0) -> Any:
    """The llama-cpp-python model, with prompt-lookup decoding when PROMPT_LOOKUP > 0: draft tokens are copied from
    where the last tokens occurred earlier in the prompt (a rewrite mostly copies its input) and checked in one batch.
    Speculation needs logits for every position: llama-cpp-python 0.3.x sizes that buffer from logits_all, which it
    does not set by itself for a draft model, so it is passed here (n_ctx x vocabulary floats of address space)."""
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    draft = LlamaPromptLookupDecoding(num_pred_tokens=prompt_lookup) if prompt_lookup else None
    return Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, n_batch=512,
                 verbose=False, draft_model=draft, logits_all=draft is not None)


class Engine:
    """One loaded model; requests are served one at a time (the KV cache is shared state)."""

    def __init__(self, settings: RuntimeSettings) -> None:
        self.settings = settings
        self.llm: Any = load_llama(settings.model_path, settings.n_ctx, settings.threads, settings.prompt_lookup)
        self.template = str(self.llm.metadata.get("tokenizer.chat_template", ""))
        self.eos = self.llm.detokenize([self.llm.token_eos()]).decode(errors="ignore")
        self.lock = threading.Lock()
        self._grammars: dict[str, Any] = {}
        on = settings.prefix_cache and settings.kv_states_mb > 0
        self.states = KVStates(settings.kv_states_mb * 2**20) if on else None

    def _grammar(self, tools: list[dict[str, Any]]) -> Any:
        """A fresh fast grammar processor for one generation (the GBNF text is cached per tool set)."""
        from llama_cpp import LogitsProcessorList

        from .grammar import GrammarLogitsProcessor, tool_call_grammar

        key = json.dumps(tools, sort_keys=True)
        if key not in self._grammars:
            # All three call shapes the tolerant parser reads: small Qwen models rarely choose the <tool_call> tags
            # by themselves, and forcing one shape they dislike makes them ramble.
            self._grammars[key] = tool_call_grammar(tools, max_text_chars=self.settings.max_text_chars,
                                                    max_string_chars=self.settings.max_string_chars,
                                                    max_array_items=self.settings.max_array_items,
                                                    styles=("tagged", "fenced", "bare"))
        return LogitsProcessorList([GrammarLogitsProcessor(self.llm, self._grammars[key])])

    def _processors(self, body: dict[str, Any], tools: list[dict[str, Any]], use_tools: bool) -> Any:
        """The grammar a generation runs under: the tool-call grammar when tools are in use, else the GBNF text of
        the request's own `grammar` field (as llama.cpp's server takes it), else none."""
        if use_tools:
            return self._grammar(callable_tools(tools, body.get("tool_choice"))) if self.settings.grammar else None
        grammar = body.get("grammar")
        if not grammar:
            return None
        if not isinstance(grammar, str):
            raise ValueError("grammar must be a GBNF text")
        from llama_cpp import LogitsProcessorList

        from .grammar import GrammarLogitsProcessor

        return LogitsProcessorList([GrammarLogitsProcessor(self.llm, grammar)])

    def cached_prefix(self, tokens: list[int]) -> int:
        """How many leading tokens the KV cache already holds (llama-cpp-python reuses them)."""
        return common_prefix(list(self.llm._input_ids[: self.llm.n_tokens]), tokens[:-1])

    def generate(self, body: dict[str, Any], cancelled: Callable[[], bool] = lambda: False) -> Iterator[dict[str, Any]]:
        """Yield {"text": piece} items, then {"done": True, ...usage and timings}.

        CANCELLED is polled every few tokens: when the client has gone (it timed out), generation stops at once
        instead of holding the model for a reply nobody reads while the client's retry waits behind it."""
        tools = body.get("tools") or []
        use_tools = bool(tools) and body.get("tool_choice") != "none"
        prompt = render_chat(self.template, body.get("messages", []), tools if use_tools else None)
        tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        if len(tokens) >= self.settings.n_ctx:
            raise ValueError(f"the prompt has {len(tokens)} tokens but the context is {self.settings.n_ctx}; "
                             "raise model.context or shorten the conversation")
        max_tokens = min(int(body.get("max_tokens") or 2048), self.settings.n_ctx - len(tokens))
        processors = self._processors(body, tools, use_tools)  # a grammar that does not parse fails here, untouched
        if not self.settings.prefix_cache:
            self.llm.reset()
        cached = self.cached_prefix(tokens)
        found = self.states.best(tokens, cached) if self.states is not None else None
        if found is not None and self.states is not None:
            try:
                self.states.restore(self.llm, found[0])
            except Exception:  # a state that cannot be restored costs a full prefill, never the request
                self.llm.reset()
                self.llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            cached = self.cached_prefix(tokens)
        began = time.perf_counter()
        first: float | None = None
        completion = 0
        stream = self.llm.create_completion(
            prompt=tokens, max_tokens=max_tokens, stream=True, logits_processor=processors,
            temperature=float(body.get("temperature", 0.7)), top_p=float(body.get("top_p", 0.8)),
            top_k=int(body.get("top_k", 20)),
            repeat_penalty=float(body.get("repetition_penalty", body.get("repeat_penalty", 1.05))),
            seed=body.get("seed"), stop=body.get("stop") or None)
        finish = "stop"
        for index, chunk in enumerate(stream):
            if index % CANCEL_POLL_TOKENS == 0 and cancelled():
                finish = "cancelled"
                stream.close()
                break
            choice = chunk["choices"][0]
            if first is None:
                first = time.perf_counter()
            if choice.get("text") or not choice.get("finish_reason"):  # the closing chunk carries no token
                completion += 1
            if choice.get("text"):
                yield {"text": choice["text"]}
            if choice.get("finish_reason"):
                finish = choice["finish_reason"]
        end = time.perf_counter()
        first = first or end
        if self.states is not None and finish != "cancelled":
            self.states.save(self.llm)
        yield {"done": True, "finish_reason": finish, "prompt_tokens": len(tokens), "cached_tokens": cached,
               "completion_tokens": completion,
               "timings": {"prompt_n": len(tokens) - cached, "cache_n": cached, "prompt_ms": (first - began) * 1000,
                           "predicted_n": completion, "predicted_ms": (end - first) * 1000}}


def callable_tools(tools: list[dict[str, Any]], tool_choice: Any) -> list[dict[str, Any]]:
    """The tools the grammar admits: all of them, or those an OpenAI tool_choice names (`allowed_tools`, or one
    `function`). The prompt still describes every tool, so narrowing does not change the cached prefix."""
    if not isinstance(tool_choice, dict):
        return tools
    if tool_choice.get("type") == "allowed_tools":
        entries = (tool_choice.get("allowed_tools") or {}).get("tools") or []
    elif tool_choice.get("type") == "function":
        entries = [tool_choice]
    else:
        raise ValueError(f"unsupported tool_choice type {tool_choice.get('type')!r}")
    names = {str((e.get("function") or {}).get("name") or e.get("name") or "") for e in entries if isinstance(e, dict)}
    chosen = [t for t in tools if (t.get("function") or t).get("name") in names]
    if not chosen:
        raise ValueError(f"tool_choice names no tool of this request: {', '.join(sorted(names)) or 'none'}")
    return chosen


def _completion_body(name: str, text: str, done: dict[str, Any], tools_used: bool) -> dict[str, Any]:
    visible, calls = parse_tool_calls(text) if tools_used else (text, [])
    message: dict[str, Any] = {"role": "assistant", "content": visible if calls else text}
    finish = done["finish_reason"]
    if calls:
        message["tool_calls"] = [{"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
                                  "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                                 for c in calls if not c.parse_error]
        finish = "tool_calls" if message["tool_calls"] else finish
        if not message["tool_calls"]:
            del message["tool_calls"]
            message["content"] = text
    return {"id": f"chatcmpl-{uuid.uuid4().hex[:16]}", "object": "chat.completion", "created": int(time.time()),
            "model": name, "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": _usage(done), "timings": done["timings"]}


def _usage(done: dict[str, Any]) -> dict[str, Any]:
    return {"prompt_tokens": done["prompt_tokens"], "completion_tokens": done["completion_tokens"],
            "total_tokens": done["prompt_tokens"] + done["completion_tokens"],
            "prompt_tokens_details": {"cached_tokens": done["cached_tokens"]}}


class Handler(BaseHTTPRequestHandler):
    server: RuntimeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": {"message": message, "type": "invalid_request_error", "code": status}})

    def do_GET(self) -> None:
        engine = self.server.engine
        if self.path.rstrip("/") in ("/health", "/v1/health"):
            self._json(200, {"status": "ok"})
        elif self.path.rstrip("/").endswith("/models"):
            s = engine.settings
            self._json(200, {"object": "list", "data": [{
                "id": s.name, "object": "model", "owned_by": "coder",
                "meta": {"n_ctx": s.n_ctx, "n_ctx_train": engine.llm.n_ctx_train() if hasattr(engine.llm, "n_ctx_train") else None,
                         "threads": s.threads, "path": str(s.model_path), "chat_template": engine.template,
                         "grammar": s.grammar, "prompt_lookup": s.prompt_lookup,
                         "kv_states": {"budget_mb": s.kv_states_mb if engine.states is not None else 0,
                                       "held": len(engine.states or ()), "restored": getattr(engine.states, "restored", 0)}}}]})
        else:
            self._error(404, f"no route {self.path}")

    def _read_body(self) -> dict[str, Any] | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            return body if isinstance(body, dict) else None
        except (ValueError, json.JSONDecodeError):
            return None

    def do_POST(self) -> None:
        body = self._read_body()
        if body is None:
            return self._error(400, "the request body must be a JSON object")
        engine = self.server.engine
        if self.path.rstrip("/").endswith("/tokenize"):
            tokens = engine.llm.tokenize(str(body.get("content", "")).encode(), add_bos=False, special=True)
            return self._json(200, {"tokens": tokens})
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self._error(404, f"no route {self.path}")
        with engine.lock:
            try:
                if body.get("stream"):
                    self._stream(engine, body)
                else:
                    self._complete(engine, body)
            except ValueError as exc:
                self._error(400, str(exc))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client left mid-reply; generation has stopped

    def _client_gone(self) -> bool:
        """The client closed its connection (e.g. it timed out): nothing will read our reply."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _complete(self, engine: Engine, body: dict[str, Any]) -> None:
        text, done = "", {}
        for item in engine.generate(body, self._client_gone):
            if "text" in item:
                text += item["text"]
            else:
                done = item
        if done.get("finish_reason") == "cancelled":
            return  # the client is gone
        self._json(200, _completion_body(engine.settings.name, text, done, bool(body.get("tools"))))

    def _stream(self, engine: Engine, body: dict[str, Any]) -> None:
        items = iter(engine.generate(body, self._client_gone))
        first = next(items)  # errors (e.g. context overflow) surface before the headers are sent
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        base = {"id": f"chatcmpl-{uuid.uuid4().hex[:16]}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": engine.settings.name}

        def send(payload: dict[str, Any]) -> None:
            self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
            self.wfile.flush()

        text, done = "", {}
        for item in itertools.chain([first], items):
            if "text" in item:
                text += item["text"]
                send({**base, "choices": [{"index": 0, "delta": {"content": item["text"]}, "finish_reason": None}]})
            else:
                done = item
        final = _completion_body(engine.settings.name, text, done, bool(body.get("tools")))
        message = final["choices"][0]["message"]
        delta: dict[str, Any] = {}
        if message.get("tool_calls"):
            delta["tool_calls"] = [{"index": i, **call} for i, call in enumerate(message["tool_calls"])]
        send({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": final["choices"][0]["finish_reason"]}]})
        send({**base, "choices": [], "usage": final["usage"], "timings": final["timings"]})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


class RuntimeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, engine: Engine) -> None:
        super().__init__((engine.settings.host, engine.settings.port), Handler)
        self.engine = engine


def _exit_with_parent(parent: int, interval: float = 1.0) -> None:
    """A run killed outright (SIGKILL, an OOM kill) cannot stop its server: the server notices and exits by itself,
    rather than hold a model's memory forever."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="coder's local OpenAI-compatible runtime")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--name", default="local")
    parser.add_argument("--n-ctx", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-grammar", action="store_true")
    parser.add_argument("--no-prefix-cache", action="store_true", help="re-prefill every prompt (benchmarks only)")
    parser.add_argument("--max-text-chars", type=int, default=600, help="free text allowed before a tool call")
    parser.add_argument("--max-string-chars", type=int, default=None, help="cap on each string argument")
    parser.add_argument("--prompt-lookup", type=int, default=0, metavar="N",
                        help="prompt-lookup decoding with N draft tokens per step (0: off)")
    parser.add_argument("--kv-states-mb", type=int, default=512, metavar="MB",
                        help="memory for KV states of earlier prompts, to resume a prompt from (0: off)")
    parser.add_argument("--parent", type=int, default=None, metavar="PID",
                        help="exit when this process (the coder run that started the server) is gone")
    args = parser.parse_args(argv)
    if args.parent is not None:
        _exit_with_parent(args.parent)
    engine = Engine(RuntimeSettings(args.model, args.name, args.n_ctx, args.threads, args.host, args.port,
                                    not args.no_grammar, not args.no_prefix_cache, args.max_text_chars,
                                    args.max_string_chars, prompt_lookup=args.prompt_lookup,
                                    kv_states_mb=args.kv_states_mb))
    server = RuntimeServer(engine)
    host, port = server.server_address[:2]
    print(json.dumps({"ready": True, "url": f"http://{host!s}:{port}/v1", "n_ctx": args.n_ctx,
                      "threads": args.threads}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
