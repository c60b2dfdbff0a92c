"""coder: a Qwen-Coder-driven software agent that fixes bugs in a sandbox and hands back a patch."""

__version__ = "0.1.0"
