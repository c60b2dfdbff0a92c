"""The "guided" strategy, for small models: localize from the tests without the model, ask for whole corrected
functions, sample several candidates, and keep only what the tests accept: the first candidate that fixes them all,
or partial fixes, each kept at once and built on by the candidates after it.

A follow-up turn (the TUI) continues in the free tool loop, on the same sandbox and state."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

from coder_tools.rewrite import code_from_reply, fenced_code

from ..events import CandidateTried, Event, ModelReplied
from ..models.base import Message, ModelError, ModelReply
from ..prompts import render
from ..runtime.reply_grammar import fenced_code_grammar
from ..sandboxes.base import ToolResult
from .candidates import Candidate, Target, better, judge, normalized
from .choose import choose_first
from .conversation import failing_ids
from .loop import ToolLoop
from .repair_context import RepairContext, gather, repair_messages
from .repro import ReproTest, gives_repro, reproduce
from .state import RunState, Stop, check_cancel, run_final_tests, turn_limit, wall_time_limit
from .strategy import StrategyContext

# A closing fence and a blank line: the code is done, and what follows is prose no one reads (the reply's unclosed
# block still parses). Stopping there saves decode time on every candidate.
CODE_DONE = "```\n\n"
CODE_GRAMMAR = fenced_code_grammar()


class _OutOfTime(Exception):
    """The model's reply did not come before the turn's wall-time limit."""


class GuidedRepair:
    """See the module docstring and strategy.Strategy."""

    def __init__(self, context: StrategyContext) -> None:
        self.context = context
        self._baseline: str | None = None
        self._loop: ToolLoop | None = None  # follow-ups
        self._base = ""  # the workspace before any candidate
        self._seen: set[str] = set()  # candidates' code, normalized
        self._repro: ReproTest | None = None  # the test the model wrote to reproduce the issue, when kept
        self._notes: list[str] = []  # how the run chose what to show, for the final message
        self._judged: dict[str, str] = {}  # the outcomes candidates are judged against (the base's)
        self._steps: list[Candidate] = []  # accepted partial fixes kept in the base, in order
        self._failing: tuple[str, ...] = ()  # the tests that failed before any change
        self._origin = ""  # the workspace before any change, and its outcomes: to go back past kept partial fixes
        self._origin_outcomes: dict[str, str] = {}

    def begin(self, baseline: str | None) -> None:
        self._baseline = baseline

    def follow_up(self, text: str) -> None:
        if self._loop is None:
            self._loop = ToolLoop(self.context)
            self._loop.begin(self._baseline)
        self._loop.follow_up(text)

    def turn(self, state: RunState) -> Iterator[Event]:
        if self._loop is not None:
            yield from self._loop.turn(state)
            return
        ctx, settings = self.context, self.context.config.guided
        repair = yield from self._context(state)
        targets = repair.targets(settings.functions)
        if not targets:
            self._drop_repro()
            raise Stop("not_resolved", "guided repair found no function to change"
                       + (f" ({repair.notes})" if repair.notes else "") + f"{self._said()}; try --strategy tools")
        self._base = ctx.sandbox.snapshot()
        self._judged, self._failing = dict(state.baseline), repair.failing
        self._origin, self._origin_outcomes = self._base, dict(state.baseline)
        total = settings.candidates * settings.rounds
        best: Candidate | None = None
        near: Candidate | None = None  # a near miss to show at once, in the next candidate's prompt
        index = sample = 0  # candidates tried in all, and in this round
        fresh = True  # the round starts anew: greedy first, no earlier attempt shown
        while index < total:
            if (yield from self._out_of_budget(state, best)):
                break
            index += 1
            target = near.target if near is not None else targets[sample % len(targets)]
            # A later round shows the best attempt so far with its new failure (one that no test accepts).
            feedback = near or (best if not fresh and best is not None else None)
            try:
                candidate = yield from self._candidate(state, repair, target, index, feedback,
                                                       greedy=(fresh and sample == 0) or near is not None)
            except _OutOfTime:  # waiting for the model ran into the wall-time limit
                yield from self._out_of_budget(state, best)
                break
            yield self._event(state, candidate, total, len(failing_ids(self._judged)))  # what it was judged against
            sample, near = sample + 1, None
            if candidate.verdict in ("accepted", "rejected"):
                best = better(best, candidate)
                if best is candidate and candidate.verdict == "rejected" and candidate.fixed:
                    # It fixes failing tests but breaks passing ones: the next candidate is asked to mend it, shown
                    # what it broke, rather than waiting for the round's end.
                    near = candidate
            if best is candidate and candidate.verdict == "accepted":
                if not candidate.still_failing:
                    break
                if self._build_on(candidate):
                    # A partial fix stays, at once: a new round starts from it, localized anew from the tests still
                    # failing, with the rest of the budget.
                    repair = gather(ctx.sandbox, ctx.task.issue or "", self._judged, file_lines=settings.file_lines)
                    targets = repair.targets(settings.functions) or targets
                    best, sample, fresh = None, 0, True
                    continue
            if sample == settings.candidates:  # a round ends without a fix to keep
                sample, fresh = 0, False
        yield from self._finish(state, best, index)

    def _build_on(self, partial: Candidate) -> bool:
        """Keep an accepted candidate that leaves failing tests in the workspace, as the base of what follows; the
        tests it fixed now count as passing ones that nothing may break."""
        if not self._apply(partial).ok:
            self.context.sandbox.restore(self._base)
            return False
        self._steps.append(partial)
        self._base = self.context.sandbox.snapshot()
        self._judged = dict(partial.outcomes)
        return True

    def _apply(self, candidate: Candidate) -> ToolResult:
        """Write a judged candidate into the workspace again, to keep it."""
        return self.context.sandbox.call("rewrite_functions", {"path": candidate.path, "code": candidate.code})

    def _context(self, state: RunState) -> Generator[Event, None, RepairContext]:
        """What to show: localized from the failing tests; with none, from a test the model wrote to reproduce the
        issue (when the issue shows how) or else from the function the model chooses among those the issue names."""
        ctx, settings = self.context, self.context.config.guided
        issue = ctx.task.issue or ""
        repair = gather(ctx.sandbox, issue, state.baseline, file_lines=settings.file_lines)
        if not repair.failing and issue and settings.repro_tries and gives_repro(issue):
            yield from self._out_of_budget(state, None)
            made = yield from reproduce(ctx.sandbox, ctx.config, issue, state.baseline, repair.ranked,
                                        self._ask_text(state), settings.repro_tries)
            if isinstance(made, ReproTest):
                self._repro = made
                state.baseline = {**state.baseline, **made.outcomes}
                self._notes.append(f"{made.path}, a test the model wrote, reproduces the issue")
                return gather(ctx.sandbox, issue, state.baseline, file_lines=settings.file_lines)
            self._notes.append(f"no test written reproduces the issue ({made})")
        if not repair.failing and len(repair.ranked) > 1:
            yield from self._out_of_budget(state, None)
            repair, note = yield from choose_first(repair, ctx.config.prompts.choose, self._ask_tools(state))
            if note:
                self._notes.append(note)
        return repair

    def _ask_text(self, state: RunState) -> Callable[[list[Message], dict[str, Any]], Generator[Event, None, str]]:
        def ask(messages: list[Message], sampling: dict[str, Any]) -> Generator[Event, None, str]:
            yield from self._out_of_budget(state, None)
            return (yield from self._ask(state, messages, sampling)).text
        return ask

    def _ask_tools(self, state: RunState) -> Callable[[list[Message], dict[str, Any], Sequence[dict[str, Any]]],
                                                      Generator[Event, None, ModelReply]]:
        def ask(messages: list[Message], sampling: dict[str, Any],
                tools: Sequence[dict[str, Any]]) -> Generator[Event, None, ModelReply]:
            return (yield from self._ask(state, messages, sampling, tools))
        return ask

    def _out_of_budget(self, state: RunState, best: Candidate | None) -> Generator[Event, None, bool]:
        """Stop sampling at a limit: with an accepted candidate the run still ends with it, else with the limit."""
        check_cancel(state)
        limit = turn_limit(state, self.context.config.limits)
        if limit is None:
            return False
        yield limit
        if (best is not None and best.verdict == "accepted") or self._steps:
            return True
        raise Stop("limit_reached", f"{limit.limit} limit reached ({limit.value:g} of {limit.maximum:g}) with no "
                                    "candidate the tests accept")

    def _candidate(self, state: RunState, repair: RepairContext, target: Target, index: int,
                   feedback: Candidate | None, greedy: bool) -> Generator[Event, None, Candidate]:
        """Ask for one candidate and, unless it is malformed or already seen, let the tests judge it. A reply with no
        code is asked for it once in the same conversation, and the answer is the candidate (small models often stop
        after the diagnosis; the bundled runtime's grammar rules that out). Code copied back unchanged, or functions
        not in the file (the tests, rewritten), are not answered: told so, the 1.5B and 0.5B copied again or fixed
        nothing in all 90 cases measured, each a whole reply's decode time."""
        ctx, settings = self.context, self.context.config.guided
        messages = repair_messages(repair, target, ctx.config, feedback)
        sampling: dict[str, Any] = {"temperature": 0.0} if greedy else \
            {"temperature": settings.temperature, "seed": settings.seed * 1000 + index}
        sampling.update(max_tokens=settings.reply_tokens, stop=[CODE_DONE])
        if settings.code_grammar and ctx.config.model.provider == "local":
            sampling["grammar"] = CODE_GRAMMAR  # the reply always holds a code block: no second request for it
        for asked in range(2):
            reply_text = (yield from self._ask(state, messages, sampling)).text
            code = code_from_reply(reply_text, target.language) if fenced_code(reply_text) else ""
            candidate = self._verdict_on(repair, Candidate(index, target, code))
            if code.strip() or asked or turn_limit(state, ctx.config.limits) is not None:
                return candidate
            messages = [*messages, Message("assistant", reply_text),
                        Message("user", render(ctx.config.prompts.repair_code, language=target.language))]
        return candidate

    def _verdict_on(self, repair: RepairContext, candidate: Candidate) -> Candidate:
        """CANDIDATE discarded without code, marked when seen before, or else judged by the tests."""
        if not candidate.code.strip():
            candidate.reason = "the reply holds no code block"
            return candidate
        key = f"{candidate.target.path}\0{normalized(candidate.code)}"
        if key in self._seen:
            candidate.verdict, candidate.reason = "duplicate", "the same code as an earlier candidate"
            return candidate
        self._seen.add(key)
        sandbox = self.context.sandbox
        others = tuple(dict.fromkeys(r.path for r in repair.ranked if r.path != candidate.target.path))
        judged = judge(candidate, sandbox, self._base, self._judged, others)
        return self._from_origin(judged, others) if judged.verdict == "rejected" and self._steps else judged

    def _from_origin(self, rejected: Candidate, others: tuple[str, ...]) -> Candidate:
        """A candidate rejected on top of the partial fixes kept may be the real fix that a kept one is in the way of
        (a workaround in a caller breaks once the callee is right). Judged again on the original code, when it fixes
        more of the tests that failed there than the kept fixes do, they are dropped and it is taken instead."""
        sandbox = self.context.sandbox
        sandbox.restore(self._origin)
        again = judge(Candidate(rejected.index, rejected.target, rejected.code), sandbox, self._origin,
                      self._origin_outcomes, others)
        kept = len(set(self._failing) - failing_ids(self._judged))
        if again.verdict != "accepted" or len(again.fixed) <= kept:
            sandbox.restore(self._base)
            return rejected
        dropped = " and ".join(str(c.index) for c in self._steps)
        self._notes.append(f"candidate {again.index} fixed more on the original code than the partial fix kept "
                           f"before it (candidate {dropped}), which was dropped")
        self._steps, self._base, self._judged = [], self._origin, dict(self._origin_outcomes)
        return again

    def _ask(self, state: RunState, messages: list[Message], sampling: dict[str, Any],
             tools: Sequence[dict[str, Any]] = ()) -> Generator[Event, None, ModelReply]:
        ctx = self.context
        state.steps += 1
        ctx.trajectory.request(state.steps, [m.to_openai() for m in messages],
                               [str(t["function"]["name"]) for t in tools], None)
        began = time.monotonic()
        left = ctx.config.limits.max_wall_seconds - (began - state.turn_started)
        try:
            reply = ctx.model.complete(messages, tools, timeout=left, sampling=sampling)
        except ModelError:
            if wall_time_limit(state, ctx.config.limits) is None:
                raise
            raise _OutOfTime from None  # the wall-time limit, not a model failure
        check_cancel(state)
        ctx.trajectory.response(state.steps, reply.raw)
        state.usage = state.usage + reply.usage
        calls = tuple({"id": c.id, "name": c.name, "arguments": c.arguments, "parse_error": c.parse_error}
                      for c in reply.tool_calls)
        yield ModelReplied(step=state.steps, text=reply.text, tool_calls=calls, prompt_tokens=reply.usage.prompt_tokens,
                           completion_tokens=reply.usage.completion_tokens, cached_tokens=reply.usage.cached_tokens,
                           seconds=round(time.monotonic() - began, 3))
        return reply

    @staticmethod
    def _event(state: RunState, c: Candidate, total: int, failing: int) -> CandidateTried:
        return CandidateTried(step=state.steps, index=c.index, total=total, verdict=c.verdict, fixed=len(c.fixed),
                              failing=failing, broken=len(c.broken), diff_lines=c.diff_lines,
                              functions=c.rewrote or c.target.names, reason=c.reason)

    def _finish(self, state: RunState, best: Candidate | None, tried: int) -> Iterator[Event]:
        """Apply the winner (on top of any partial fix kept before it) and let the final tests say how the run ends;
        or say what the best attempt did."""
        kept = [*self._steps, *([best] if best is not None and best.verdict == "accepted" else [])]
        before = len(self._failing)
        if not kept:
            detail = (f"the best fixed {len(best.fixed)} of {before} failing test(s)"
                      + (f" and broke {len(best.broken)}" if best.broken else "")) if best else "none could be run"
            self._drop_repro()
            raise Stop("not_resolved", f"no candidate the tests accept after {tried}: {detail}{self._said()}")
        if best is not None and best.verdict == "accepted":
            applied = self._apply(best)
            if not applied.ok:
                raise Stop("error", f"the accepted candidate {best.index} could not be applied again: {applied.output}")
        yield from run_final_tests(self.context.sandbox, state)
        final = state.final or {}
        failing = int(final.get("failed", 0)) + int(final.get("errors", 0)) if final.get("ran") else 0
        what = ", ".join(dict.fromkeys(name for c in kept for name in (c.rewrote or (c.target.path,))))
        numbers = [str(c.index) for c in kept]
        which = (f"candidate {numbers[0]}" if len(kept) == 1
                 else f"candidates {', '.join(numbers[:-1])} and {numbers[-1]}, each built on the one before,")
        state.summary = f"{which.rstrip(',')} of {tried} rewrote {what}"
        if not before:
            raise Stop("resolved" if not failing else "not_resolved",
                       f"{which} of {tried} ({what}) breaks no test, but no test failed before the change, so the "
                       f"fix is untested{self._said()}")
        tail = "all tests pass" if not failing else f"{failing} test(s) still fail"
        raise Stop("resolved" if not failing else "not_resolved",
                   f"{which} of {tried} ({what}) fixed {sum(len(c.fixed) for c in kept)} of {before} failing test(s) "
                   f"and broke none; {tail}{self._said()}")

    def _drop_repro(self) -> None:
        """A reproducing test with no fix to go with it is not a change to offer: take it out again."""
        if self._repro is not None:
            self.context.sandbox.restore(self._repro.before)
            self._notes.append(f"{self._repro.path} removed again")

    def _said(self) -> str:
        return "".join(f"; {note}" for note in self._notes)
