"""coder_tools: the tools that run inside the sandbox, served warm over JSON-RPC (see server.py)."""

__all__ = ["__version__"]
__version__ = "0.1.0"
