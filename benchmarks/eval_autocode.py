"""Autocoder quality per evaluation set: pooled precision/recall/F1, Cohen's kappa with a bootstrap
interval over turns, per-code F1, and codings per 10k words on off-topic text.

Sets (benchmarks/autocode_eval/, all synthetic, each written and reference-coded from the codebook's
definitions only; see each folder's README):

- ``tune``      8 transcripts, tuning set (codebook 1.2.0 was tuned on it and on ``dev``)
- ``dev``       4 transcripts, tuning set of codebook 1.1.0
- ``test``      4 transcripts, held out (never tuned on)
- ``heldout``  12 transcripts, held out: THE test set (never looked at while tuning)
- ``offtopic``  6 off-topic transcripts, negative control (reference empty)
- ``realdata``  the real transcripts and captions of ../shared/realdata (off-topic, reference empty)
- ``sample``    the bundled sample transcripts/ against codings/coder-anna.csv

The script ingests each set into a temporary store, runs the autocoder (participant turns, turn unit) and
compares it with the reference turn by turn. Kappa is pooled over all turn x code cells (the figure of
``vbhc-code evaluate``); its interval is a percentile bootstrap that resamples participant turns
(seeded, so the same data give the same interval; ``vbhc_code.agreement.bootstrap``).

    python benchmarks/eval_autocode.py tune dev                 # while tuning
    python benchmarks/eval_autocode.py heldout test offtopic realdata   # the final measurement
    python benchmarks/eval_autocode.py heldout --codebook study.toml --json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vbhc_code.agreement.bootstrap import N_BOOT, SEED
from vbhc_code.agreement.bootstrap import pooled_kappa as kappa
from vbhc_code.agreement.bootstrap import pooled_kappa_interval as kappa_interval
from vbhc_code.autocode.run import autocode
from vbhc_code.codebook.load import load_codebook
from vbhc_code.coding.imports import import_codings
from vbhc_code.ingest.folder import ingest_folder
from vbhc_code.models import Codebook
from vbhc_code.store.store import Store

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EVAL = HERE / "autocode_eval"
SHARED = REPO.parent / "shared"
if not SHARED.is_dir():  # a worktree under /work/wt/<name>: ../shared is beside the main checkout
    SHARED = REPO.parent.parent / "shared"

# name -> (folder, reference csv or None for off-topic text, what it is)
SETS: dict[str, tuple[Path, Path | None, str]] = {
    "tune": (EVAL / "tune", EVAL / "tune" / "reference.csv", "tuning"),
    "dev": (EVAL / "dev", EVAL / "dev" / "reference.csv", "tuning (1.1.0)"),
    "test": (EVAL / "test", EVAL / "test" / "reference.csv", "held out"),
    "heldout": (EVAL / "heldout", EVAL / "heldout" / "reference.csv", "held out (test)"),
    "offtopic": (EVAL / "offtopic", None, "negative control"),
    "realdata": (SHARED / "realdata", None, "negative control (real)"),
    "sample": (REPO / "transcripts", REPO / "codings" / "coder-anna.csv", "bundled sample"),
}
BANDS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.85), (0.85, 1.01))


@dataclass
class TurnTable:
    """Participant turns of a set: the reference's and the autocoder's codes per turn, and words."""

    turns: list[tuple[str, int]]
    words: list[int]
    reference: list[set[str]]
    auto: list[dict[str, float]]  # code -> confidence
    codes: list[str]
    documents: list[str] = field(default_factory=list)

    def subset(self, documents: set[str]) -> TurnTable:
        keep = [i for i, (d, _) in enumerate(self.turns) if d in documents]
        return TurnTable([self.turns[i] for i in keep], [self.words[i] for i in keep],
                         [self.reference[i] for i in keep], [self.auto[i] for i in keep], self.codes,
                         sorted(documents & set(self.documents)))


def build_table(folder: Path, reference: Path | None, codebook: Codebook, *, min_confidence: float = 0.0) -> TurnTable:
    """Ingest ``folder`` into a temporary store, autocode it and collect both codings per participant turn."""
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "eval.sqlite") as store:
        sheets = {}
        if (folder / "participants.csv").is_file():
            sheets = {"participants_file": folder / "participants.csv", "documents_file": folder / "documents.csv"}
        ingest_folder(folder, store=store, **sheets)
        ref: dict[tuple[str, int], set[str]] = {}
        if reference is not None and len(reference.read_text(encoding="utf-8").strip().splitlines()) > 1:
            import_codings(store, [reference], coder="reference", codebook=codebook)
            for c in store.codings("reference"):
                ref.setdefault((c.document, c.turn_index), set()).add(c.code)
        autocode(store, codebook=codebook, coder="auto", min_confidence=min_confidence)
        auto: dict[tuple[str, int], dict[str, float]] = {}
        for c in store.codings("auto"):
            cell = auto.setdefault((c.document, c.turn_index), {})
            cell[c.code] = max(cell.get(c.code, 0.0), c.confidence or 0.0)
        turns = store.turns(scope="participant")
        keys = [(t.document, t.turn_index) for t in turns]
        return TurnTable(keys, [len(t.text.split()) for t in turns], [ref.get(k, set()) for k in keys],
                         [auto.get(k, {}) for k in keys], list(codebook.code_ids), store.document_names())


def _cells(table: TurnTable, min_confidence: float = 0.0) -> np.ndarray:
    """(turns, codes, 4) 0/1 array of TP, FN, FP, TN per turn and code."""
    n, k = len(table.turns), len(table.codes)
    out = np.zeros((n, k, 4), dtype=np.int64)
    for i, (ref, auto) in enumerate(zip(table.reference, table.auto)):
        for j, code in enumerate(table.codes):
            r, a = code in ref, auto.get(code, -1.0) >= min_confidence
            out[i, j, 0 if r and a else 1 if r else 2 if a else 3] = 1
    return out


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def score_table(table: TurnTable, *, n_boot: int = N_BOOT, seed: int = SEED) -> dict:
    """Pooled and per-code figures of a turn table (see the module docstring)."""
    cells = _cells(table)
    tp, fn, fp, tn = (int(x) for x in cells.sum(axis=(0, 1)))
    k = kappa(tp, fn, fp, tn)
    lo, hi = kappa_interval(cells.sum(axis=1), n_boot=n_boot, seed=seed)
    words = sum(table.words)
    per_code = {}
    for j, code in enumerate(table.codes):
        ctp, cfn, cfp, _ = (int(x) for x in cells[:, j].sum(axis=0))
        per_code[code] = {"tp": ctp, "fn": cfn, "fp": cfp, "f1": _ratio(2 * ctp, 2 * ctp + cfp + cfn)}
    bands = []
    for low, high in BANDS:
        n_in = [(code in ref) for ref, auto in zip(table.reference, table.auto)
                for code, conf in auto.items() if low <= conf < high]
        bands.append({"band": [low, min(high, 1.0)], "codings": len(n_in), "precision": _ratio(sum(n_in), len(n_in))})
    return {
        "documents": len(table.documents), "turns": len(table.turns), "words": words,
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn), "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "cohen_kappa": None if math.isnan(k) else k, "kappa_ci95": None if math.isnan(lo) else [lo, hi],
        "codings": tp + fp, "codings_per_10k_words": _ratio(10_000 * (tp + fp), words),
        "per_code": per_code, "confidence_bands": bands,
    }


def _f(value: float | None, width: int, digits: int = 2) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def print_summary(results: dict[str, dict], codebook: Codebook, min_confidence: float) -> None:
    print(f"codebook {codebook.name} {codebook.version} (sha256 {codebook.sha256[:12]}); participant turns, turn unit; "
          f"min confidence {min_confidence:g}; kappa interval: {N_BOOT} bootstrap resamples of turns, seed {SEED}")
    print(f"{'set':9} {'role':24} {'docs':>4} {'turns':>5} {'words':>6} {'TP':>4} {'FP':>4} {'FN':>4} "
          f"{'prec':>5} {'rec':>5} {'F1':>5} {'kappa':>6} {'95% CI':>13} {'/10k w':>6}")
    for name, r in results.items():
        ci = "-" if r["kappa_ci95"] is None else f"{r['kappa_ci95'][0]:.2f} to {r['kappa_ci95'][1]:.2f}"
        print(f"{name:9} {SETS[name][2] if name in SETS else '':24} {r['documents']:>4} {r['turns']:>5} {r['words']:>6} "
              f"{r['tp']:>4} {r['fp']:>4} {r['fn']:>4} {_f(r['precision'], 5)} {_f(r['recall'], 5)} {_f(r['f1'], 5)} "
              f"{_f(r['cohen_kappa'], 6)} {ci:>13} {_f(r['codings_per_10k_words'], 6, 1)}")
    codes = list(codebook.code_ids)
    scored = [n for n, r in results.items() if r["tp"] + r["fn"]]
    if scored:
        print("\nper-code F1 (TP/FP/FN)")
        print(f"{'code':7} " + " ".join(f"{n:>16}" for n in scored))
        for code in codes:
            cells = []
            for n in scored:
                c = results[n]["per_code"][code]
                cells.append(f"{_f(c['f1'], 4)} ({c['tp']}/{c['fp']}/{c['fn']})")
            print(f"{code:7} " + " ".join(f"{x:>16}" for x in cells))
    print("\nprecision by confidence band (codings)")
    for n, r in results.items():
        print(f"{n:9} " + "  ".join(f"[{b['band'][0]:.2f},{b['band'][1]:.2f}): {_f(b['precision'], 4)} ({b['codings']})"
                                  for b in r["confidence_bands"]))
    off = {n: r for n, r in results.items() if SETS.get(n, (None, 1))[1] is None}
    for n, r in off.items():
        fired = {code: c["fp"] for code, c in r["per_code"].items() if c["fp"]}
        print(f"{n}: {r['codings']} codings in {r['words']} words; by code: {fired or 'none'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="*", default=["tune", "dev"], help=f"any of {', '.join(SETS)} (default: tune dev)")
    parser.add_argument("--codebook", type=Path, help="codebook TOML (default: the built-in vbhc-sim)")
    parser.add_argument("--min-confidence", type=float, default=0.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.sets) - SETS.keys())
    if unknown:
        parser.error(f"unknown set {unknown[0]} (choose from {', '.join(SETS)})")
    codebook = load_codebook(args.codebook)
    results = {}
    for name in args.sets:
        folder, reference, _ = SETS[name]
        if not folder.is_dir():
            print(f"skipped {name}: {folder} not found", file=sys.stderr)
            continue
        table = build_table(folder, reference, codebook, min_confidence=args.min_confidence)
        results[name] = score_table(table)
    if args.json:
        print(json.dumps({"codebook": f"{codebook.name} {codebook.version}", "sha256": codebook.sha256,
                          "min_confidence": args.min_confidence, "n_boot": N_BOOT, "seed": SEED, "sets": results},
                         indent=1))
    else:
        print_summary(results, codebook, args.min_confidence)


if __name__ == "__main__":
    main()
