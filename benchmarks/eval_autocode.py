"""Autocoder quality on the held-out synthetic evaluation sets (and the bundled sample, for scale).

Each set in benchmarks/autocode_eval/ has transcripts, sheets and a human reference coding
(reference.csv) made from the codebook's definitions only. The script ingests each set into a
temporary store, runs the autocoder with the built-in codebook and scores it against the reference
with ``vbhc_code.agreement.report.evaluate`` (turn unit, participant turns).

    python benchmarks/eval_autocode.py            # dev and test sets, and the bundled sample
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from vbhc_code.agreement.report import evaluate
from vbhc_code.autocode.run import autocode
from vbhc_code.codebook.load import load_codebook
from vbhc_code.coding.imports import import_codings
from vbhc_code.ingest.folder import ingest_folder
from vbhc_code.store.store import Store

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SETS = {
    "dev": (HERE / "autocode_eval" / "dev", HERE / "autocode_eval" / "dev" / "reference.csv"),
    "test": (HERE / "autocode_eval" / "test", HERE / "autocode_eval" / "test" / "reference.csv"),
    "sample": (REPO / "transcripts", REPO / "codings" / "coder-anna.csv"),
}


def score(folder: Path, reference: Path) -> dict:
    codebook = load_codebook(None)
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "eval.sqlite") as store:
        ingest_folder(folder, store=store, participants_file=folder / "participants.csv",
                      documents_file=folder / "documents.csv")  # fmt: skip
        import_codings(store, [reference], coder="reference", codebook=codebook)
        autocode(store, codebook=codebook, coder="auto")
        return evaluate(store, coder="auto", against="reference")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="*", default=list(SETS), help=f"any of {', '.join(SETS)}")
    args = parser.parse_args()
    unknown = sorted(set(args.sets) - SETS.keys())
    if unknown:
        parser.error(f"unknown set {unknown[0]} (choose from {', '.join(SETS)})")
    codebook = load_codebook(None)
    print(f"codebook {codebook.name} {codebook.version}; unit turn, participant turns")
    print(f"{'set':8} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7} {'F1':>5} {'kappa':>6} {'macro F1':>8}")
    for name in args.sets:
        report = score(*SETS[name])
        p, m = report["pooled"], report["macro"]
        print(f"{name:8} {p['tp']:>4} {p['fp']:>4} {p['fn']:>4} {p['precision']:>9.2f} {p['recall']:>7.2f} "
              f"{p['f1']:>5.2f} {p['cohen_kappa']:>6.2f} {m['f1']:>8.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
