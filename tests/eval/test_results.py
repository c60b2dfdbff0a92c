"""results.jsonl keeps a run's patch exactly, undecodable bytes (surrogateescape code points) included."""

from __future__ import annotations

import json
from pathlib import Path

from coder.eval.results import GradeResult, ResultStore, RunRecord

PATCH = ("diff --git a/caf\udce9.txt b/caf\udce9.txt\n--- a/caf\udce9.txt\n+++ b/caf\udce9.txt\n"
         "@@ -1 +1 @@\n-na\udcefve\n+naïve 🙂 \udcff\n")


def _record() -> RunRecord:
    return RunRecord(config="coder/m", harness="coder", model="m", task="t", patch=PATCH, message="saw \udcff",
                     grade=GradeResult(error="caf\udce9 failed"))


def test_model_dump_json_escapes_surrogates_losslessly() -> None:
    line = _record().model_dump_json()
    assert line.isascii() and "\\udce9" in line
    assert RunRecord.model_validate(json.loads(line)) == _record()
    assert json.loads(_record().grade.model_dump_json()) == {**GradeResult().model_dump(), "error": "caf\udce9 failed"}


def test_the_store_round_trips_a_patch_with_surrogates(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.append(_record())
    store.append(RunRecord(config="coder/m", harness="coder", model="m", task="u", patch="+plain\n"))
    loaded = store.load()
    assert loaded[("coder/m", "t", 0)] == _record() and loaded[("coder/m", "t", 0)].patch == PATCH
    assert loaded[("coder/m", "u", 0)].patch == "+plain\n"
    assert (tmp_path / "results.jsonl").read_bytes().isascii()
