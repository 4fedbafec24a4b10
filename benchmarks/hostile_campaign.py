"""The hostile-input campaign of issue 12: every case of ``hostile_cases.py`` (all nine classes) run through
the CLI in a subprocess, each in its own copy of a small study, with a 30 s timeout.

For each case it records the exit code, the wall time and the peak RSS of that process (from ``wait4``), and
checks: an acceptable exit code, never 70 (a bug); no traceback; no hang; RSS <= 500 MB; the case's own check
(file untouched, no formula, short output...); and the sentinel string written into every hostile input never
shown on stdout or stderr (no interview text in a message).

    python benchmarks/hostile_campaign.py            # every case at full size (the issue's 2 GB sheet, ...)
    python benchmarks/hostile_campaign.py --quick    # the fast subset that tests/hostile/test_campaign.py runs
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hostile_cases as hc  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 30.0
MAX_RSS = 500 << 20


@dataclass
class Outcome:
    case: hc.Case
    code: int | None
    seconds: float
    rss: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def build_base(root: Path) -> Path:
    """The sample study after ``vbhc-code demo``: transcripts_demo/, codings/ (human work) and out/s.sqlite."""
    base = root / "base"
    base.mkdir()
    shutil.copytree(REPO / "transcripts", base / "transcripts_demo")
    shutil.copytree(REPO / "codings", base / "codings")
    code, _, err, _, _ = hc.h.run_bounded(["demo", "--study", "transcripts_demo", "--codings", "codings",
                                           "--outputs", "out", "--store", "out/s.sqlite"], cwd=base, timeout=600)
    if code != 0:
        raise SystemExit(f"the demo study could not be built:\n{err[-2000:]}")
    return base


def run_case(case: hc.Case, base: Path, work: Path) -> Outcome:
    d = work / f"c{abs(hash((case.cls, case.name))) % 10**8}"
    shutil.copytree(base, d, symlinks=True)
    problems: list[str] = []
    try:
        args = case.build(d)
    except Exception as exc:  # noqa: BLE001 - a broken case is reported, not fatal
        return Outcome(case, None, 0.0, 0, [f"case could not be built: {type(exc).__name__}: {exc}"])
    if not args:
        return Outcome(case, None, 0.0, 0, ["case could not be built"])
    runs = 2 if case.twice else 1
    results: list[tuple] = [None] * runs  # type: ignore[list-item]

    def go(i: int) -> None:
        results[i] = hc.h.run_bounded(args, cwd=d, timeout=TIMEOUT, file_size=case.file_size,
                                      stdout_to=Path(case.stdout_to) if case.stdout_to else None)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for code, out, err, _, rss in results:
        problems += _judge(case, code, out, err, rss)
    if not problems and case.check is not None:
        found = case.check(d, results[0][1], results[0][2])
        if found:
            problems.append(found)
    code, _, _, seconds, _ = max(results, key=lambda r: r[3])
    shutil.rmtree(d, ignore_errors=True)
    return Outcome(case, code, seconds, max(r[4] for r in results), problems)


def _judge(case: hc.Case, code: int | None, out: str, err: str, rss: int) -> list[str]:
    problems = []
    if code is None:
        problems.append(f"hang: still running after {TIMEOUT:.0f} s")
    elif code == 70:
        problems.append("exit 70 (internal error)")
    elif code not in case.exits:
        problems.append(f"exit {code}, expected {' or '.join(map(str, case.exits))}: {err.strip()[-300:]}")
    if "Traceback" in out + err:
        problems.append("a traceback")
    if rss > MAX_RSS:
        problems.append(f"peak RSS {rss >> 20} MB > {MAX_RSS >> 20} MB")
    if hc.S in out or hc.S in err:
        problems.append("interview text (the sentinel) in the output")
    return problems


def campaign(*, full: bool, only: set[int] | None = None) -> list[Outcome]:
    cases = [c for c in hc.all_cases(full=full) if (full or c.quick) and (not only or c.cls in only)]
    with tempfile.TemporaryDirectory(prefix="vbhc-hostile-") as tmp:
        root = Path(tmp)
        base = build_base(root)
        return [run_case(c, base, root) for c in cases]


def report(outcomes: list[Outcome]) -> str:
    lines = [f"{'class':>5}  {'exit':>4}  {'s':>6}  {'MB':>5}  case"]
    for o in outcomes:
        verdict = "" if o.ok else "  FAILED: " + "; ".join(o.problems)
        lines.append(f"{o.case.cls:>5}  {o.code if o.code is not None else '-':>4}  {o.seconds:6.1f}  "
                     f"{o.rss >> 20:5d}  {o.case.name}{verdict}")
    handled = sum(o.ok for o in outcomes)
    worst_t = max((o.seconds for o in outcomes), default=0.0)
    worst_m = max((o.rss for o in outcomes), default=0) >> 20
    lines.append(f"{len(outcomes)} cases in {len({o.case.cls for o in outcomes})} classes: {handled} handled, "
                 f"{len(outcomes) - handled} not; slowest {worst_t:.1f} s, largest peak RSS {worst_m} MB")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the fast subset (small bombs)")
    parser.add_argument("--only", type=int, action="append", help="only this class (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the outcomes as JSON here")
    ns = parser.parse_args()
    started = time.monotonic()
    outcomes = campaign(full=not ns.quick, only=set(ns.only or ()))
    print(report(outcomes))
    print(f"campaign wall time {time.monotonic() - started:.0f} s")
    if ns.json:
        ns.json.write_text(json.dumps([{"class": o.case.cls, "case": o.case.name, "exit": o.code,
                                        "seconds": round(o.seconds, 2), "peak_rss_mb": o.rss >> 20,
                                        "problems": o.problems} for o in outcomes], indent=1), encoding="utf-8")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
