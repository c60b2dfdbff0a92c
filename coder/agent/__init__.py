"""The agent room: Agent opens a session, the session drives a strategy, the strategy yields events.

    agent.py          Agent, the public entry point
    session.py        AgentSession: one conversation in one sandbox (turns, follow-ups, undo, interrupt)
    sandbox_check.py  open a sandbox and judge its baseline tests before any model exists
    strategy.py       the strategy seam and the map from `agent.strategy` names to strategies
    loop.py           the "tools" strategy: the free tool loop; tool_calls.py runs one call of it
    state.py          the run's state and the events built from it (tests, verdict, finish)
    conversation.py, context_budget.py, repeats.py, approval.py: what the loop is made of
"""

from __future__ import annotations

from .agent import Agent
from .sandbox_check import CheckedSandbox, open_checked, open_checked_or_refuse, workspace_options
from .session import AgentSession, SessionBusy

__all__ = ["Agent", "AgentSession", "CheckedSandbox", "SessionBusy", "open_checked", "open_checked_or_refuse",
           "workspace_options"]
