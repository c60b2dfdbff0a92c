"""The main screen's widgets: transcript entries (text, tool calls), the plan panel and the status bar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Collapsible, Input, Static

from ..render import short_args
from ..visible import visible, visible_line
from .literal import literal_line

OUTPUT_SHOWN = 4000  # characters of a tool's output kept in its transcript entry


class TaskInput(Input):
    """The message box; `?` in an empty box opens the help instead of being typed."""

    async def _on_key(self, event: Any) -> None:  # Textual calls Input's own _on_key too, unless prevented
        if event.key == "question_mark" and not self.value:
            event.prevent_default()
            event.stop()
            await self.app.run_action("help")


class ModelText(Static):
    """What the model says in one step, growing as tokens stream in."""

    def __init__(self, step: int) -> None:
        super().__init__("", classes="model-text", markup=False)
        self.step = step
        self.text = ""

    def append(self, text: str) -> None:
        self.text += text
        self.update(visible(self.text))

    def replace(self, text: str) -> None:
        self.text = text
        self.update(visible(text))


class ToolEntry(Collapsible):
    """One tool call: a title line (state, name, arguments, time) that expands to the call's output."""

    def __init__(self, call_id: str, name: str, arguments: dict[str, Any]) -> None:
        self.call_id, self.tool_name, self.arguments = call_id, name, arguments
        self.body = Static("(running…)", classes="tool-output", markup=False)
        super().__init__(self.body, title=self._caption("⋯", ""), collapsed=True, classes="tool-entry")

    def _caption(self, mark: str, tail: str) -> str:
        return f"{mark} {literal_line(self.tool_name)} {literal_line(short_args(self.arguments, 60, 30))}{tail}"

    def finish(self, ok: bool, output: str, seconds: float) -> None:
        first = visible_line(output.strip().split("\n")[0])[:60] if output.strip() else ""
        self.title = self._caption("✓" if ok else "✗", f"  {seconds:.2f}s  {literal_line(first)}")
        self.add_class("ok" if ok else "failed")
        shown = output if len(output) <= OUTPUT_SHOWN else output[:OUTPUT_SHOWN] + f"\n… ({len(output) - OUTPUT_SHOWN} more characters)"
        self.body.update(Text(visible(shown) or "(no output)"))


class Transcript(VerticalScroll):
    """The conversation as it happens; keeps scrolled to the end unless the user scrolled up."""

    def add_line(self, markup: str, classes: str = "") -> Static:
        """Append a line of markup; text from outside in it must go through literal()/literal_line()."""
        line = Static(markup, classes=f"line {classes}".strip())
        self._add(line)
        return line

    def add_widget(self, widget: Any) -> None:
        self._add(widget)

    def _add(self, widget: Any) -> None:
        follow = self.max_scroll_y - self.scroll_y <= 2
        self.mount(widget)
        if follow:
            self.call_after_refresh(self.scroll_end, animate=False)


class PlanPanel(Static):
    """The agent's current plan, numbered."""

    def show(self, steps: tuple[str, ...], revision: int) -> None:
        title = "[b]Plan[/]" if revision <= 1 else f"[b]Plan[/] [dim](rev. {revision})[/]"
        body = "\n".join(f"{n}. {literal_line(step)}" for n, step in enumerate(steps, 1)) or "[dim](no plan)[/]"
        self.update(f"{title}\n{body}")


@dataclass
class Status:
    """What the status bar shows."""

    model: str
    sandbox: str
    step: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    elapsed: float = 0.0
    state: str = "ready"


class StatusBar(Static):
    """One line: state, model, sandbox, step, tokens, cache hit rate, elapsed."""

    status: reactive[Status | None] = reactive(None, always_update=True)

    def watch_status(self, status: Status | None) -> None:
        if status is None:
            return
        tokens = status.prompt_tokens + status.completion_tokens
        hit = f"{status.cached_tokens / status.prompt_tokens:.0%}" if status.prompt_tokens else "–"
        names = f"{literal_line(status.model)} │ {literal_line(status.sandbox)}"
        self.update(f"[b]{literal_line(status.state)}[/] │ {names} │ "
                    f"step {status.step} │ {tokens} tok │ cache {hit} │ {status.elapsed:.0f}s")
