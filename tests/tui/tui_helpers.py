"""Helpers for TUI tests: waiting for the agent, typing a message, the scripted calls."""

from __future__ import annotations

import asyncio
from typing import Any

from coder.testing import call

LINES = "".join(f"value_{i} = {i}\n" for i in range(3, 31))
CALC = "def add(a, b):\n    return a - b\n\n\n" + LINES  # a bug at the top, room for an unrelated second hunk
TESTS = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
FIX = call("edit_file", path="calc.py", command="replace", old="return a - b", new="return a + b")
TIDY = call("edit_file", path="calc.py", command="replace", old="value_29 = 29", new="value_29 = 29  # checked")


async def settle(pilot: Any, timeout: float = 60.0) -> None:
    """Wait until the agent is idle and every queued event reached the screen."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        await pilot.pause(0.05)
        if not app.bridge.busy and app.bridge._items.empty():
            await pilot.pause(0.1)
            if app.bridge._items.empty():
                await pilot.pause()
                return
    raise AssertionError("the agent did not become idle")


async def type_text(pilot: Any, text: str) -> None:
    """Type into the message box and press Enter."""
    pilot.app.query_one("#task").value = text
    await pilot.press("enter")
