"""The warm tool server: JSON-RPC 2.0, one JSON object per line on stdin/stdout, state kept between calls.

Methods: initialize, call, patch, snapshot, restore, ping, shutdown. Tool failures come back as results with
ok=false; JSON-RPC errors are reserved for protocol problems (bad JSON, unknown method, bad params) and for workspace
operations that failed (WORKSPACE_ERROR: git failed or was killed; the disk, memory or inodes ran out).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from . import __version__
from .base import ToolError, ToolResult, Workspace, WorkspaceOptions, display, elide, format_validation_error
from .edit import HISTORY_KEY
from .gitops import GitError, WorkspaceGit
from .identity import keep_from_children, separate, separated
from .registry import all_tools

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR = -32700, -32600, -32601, -32602, -32603
WORKSPACE_ERROR = -32000  # initialize, snapshot, restore or patch could not be done; the server itself is fine
_WORKSPACE_HINT = (
    "The workspace may be out of space, memory or inodes (did a command make very many or very large files?): "
    "delete what it made and try again."
)


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def run_tool(ws: Workspace, name: str, arguments: Any) -> ToolResult:
    """Validate arguments and run one tool; every failure becomes ok=False with a helpful message."""
    tools = all_tools()
    spec = tools.get(name)
    if spec is None:
        return ToolResult(ok=False, output=f"unknown tool '{name}'. Available tools: {', '.join(tools)}")
    if not isinstance(arguments, dict):
        return ToolResult(ok=False, output=f"arguments for {name} must be a JSON object")
    try:
        args = spec.args.model_validate(arguments)
    except ValidationError as exc:
        return ToolResult(ok=False, output=f"invalid arguments for {name}: {format_validation_error(exc)}")
    try:
        result = spec.run(args, ws)
    except ToolError as exc:
        return ToolResult(ok=False, output=str(exc))
    except Exception as exc:  # a bug in a tool must not take the run down
        detail = traceback.format_exc(limit=3)
        return ToolResult(ok=False, output=f"{name} failed with an internal error: {exc!r}\n{detail}")
    return result.model_copy(update={"output": elide(display(result.output), ws.options.output_cap)})


class Server:
    """Dispatches JSON-RPC requests against one workspace."""

    def __init__(self, separated: bool = False) -> None:
        self.ws: Workspace | None = None
        self.git: WorkspaceGit | None = None
        self.base: str | None = None
        self.separated = separated

    def handle(self, method: str, params: dict[str, Any]) -> Any:
        """Answer one request; a workspace operation that fails (git killed, disk or memory full) is WORKSPACE_ERROR."""
        try:
            return self._handle(method, params)
        except (GitError, OSError, MemoryError) as exc:
            raise RpcError(WORKSPACE_ERROR, f"{method} failed: {str(exc) or repr(exc)}. {_WORKSPACE_HINT}") from exc

    def _handle(self, method: str, params: dict[str, Any]) -> Any:
        if method == "ping":
            return {"pong": True}
        if method == "initialize":
            if self.ws is not None:  # settings are the host's, once: a second initialize is an attack or a bug
                raise RpcError(INVALID_REQUEST, "already initialized")
            root = Path(params.get("root") or os.getcwd())
            opts = WorkspaceOptions(**params.get("options", {}))
            if self.separated:  # in the sandbox nothing outlives its command, whatever the options say
                opts = replace(opts, kill_strays=True)
            self.ws = Workspace(root, opts)
            self.git = WorkspaceGit(self.ws.root)
            self.base = self.git.init_base()
            tools = all_tools()
            return {"version": __version__, "base": self.base, "tools": [t.schema() for t in tools.values()]}
        if self.ws is None or self.git is None or self.base is None:
            raise RpcError(INVALID_REQUEST, "call initialize first")
        if method == "call":
            name = params.get("name")
            if not isinstance(name, str):
                raise RpcError(INVALID_PARAMS, "params.name must be a string")
            return run_tool(self.ws, name, params.get("arguments", {})).model_dump()
        if method == "patch":
            patch = self.git.diff_against(self.base)
            return {"patch": patch.text, "excluded": patch.excluded}
        if method == "snapshot":
            snap = self.git.snapshot()
            return {"id": snap.tree, "excluded": snap.excluded}
        if method == "restore":
            tree = params.get("id")
            if not isinstance(tree, str) or not tree:
                raise RpcError(INVALID_PARAMS, "params.id must be a snapshot id")
            changed = self.git.restore(tree)
            self.ws.state.pop(HISTORY_KEY, None)  # edit_file's own undo history no longer matches the files
            return {"changed": changed}
        raise RpcError(METHOD_NOT_FOUND, f"unknown method {method}")


def serve(stdin: IO[str], stdout: IO[str], separated: bool = False) -> None:
    """Read requests line by line until EOF or shutdown."""
    server = Server(separated)
    for line in stdin:
        if not line.strip():
            continue
        req_id: Any = None
        try:
            try:
                req = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RpcError(PARSE_ERROR, f"invalid JSON: {exc}") from exc
            if not isinstance(req, dict) or not isinstance(req.get("method"), str):
                raise RpcError(INVALID_REQUEST, "request must be an object with a string 'method'")
            req_id = req.get("id")
            if req["method"] == "shutdown":
                _send(stdout, {"jsonrpc": "2.0", "id": req_id, "result": {"bye": True}})
                return
            params = req.get("params") or {}
            if not isinstance(params, dict):
                raise RpcError(INVALID_PARAMS, "params must be an object")
            response = {"jsonrpc": "2.0", "id": req_id, "result": server.handle(req["method"], params)}
        except RpcError as exc:
            response = {"jsonrpc": "2.0", "id": req_id, "error": {"code": exc.code, "message": str(exc)}}
        except MemoryError:
            response = {"jsonrpc": "2.0", "id": req_id, "error": {"code": INTERNAL_ERROR, "message": "out of memory"}}
        except Exception as exc:
            response = {"jsonrpc": "2.0", "id": req_id, "error": {"code": INTERNAL_ERROR, "message": repr(exc)}}
        _send(stdout, response)


def _send(stdout: IO[str], message: dict[str, Any]) -> None:
    stdout.write(json.dumps(message, ensure_ascii=True) + "\n")
    stdout.flush()


def _protocol_streams() -> tuple[IO[str], IO[str]]:
    """Move the protocol off fds 0 and 1 onto private close-on-exec fds; 0 becomes /dev/null and 1 stderr, so nothing
    the server starts (commands, git) inherits either end of the host's channel."""
    proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8", errors="surrogateescape")
    proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # anything a tool prints by accident goes to stderr, never into the protocol
    sys.stdout = sys.stderr
    keep_from_children(proto_in.fileno(), proto_out.fileno())
    return proto_in, proto_out


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    # Our own import path must not leak into the commands the tools run for the repository.
    os.environ.pop("PYTHONPATH", None)
    proto_in, proto_out = _protocol_streams()
    if "--separate-users" in args:  # the Docker sandbox: commands must not reach the streams above
        separate()
    serve(proto_in, proto_out, separated=separated())


if __name__ == "__main__":
    main()
