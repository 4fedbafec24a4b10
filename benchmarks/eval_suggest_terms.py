"""What `codebook suggest-terms` gives on held-out data: learn terms from the reference coding of one half
of a set's documents, autocode the other half, and compare with the built-in codebook alone.

Two folds (documents sorted by name, alternately to half A and half B; learn on A test on B, then learn on
B test on A); each test half is scored with a study codebook that never saw it. The pooled row scores
every document once. The accept step is automatic (the best ``--accept`` candidates per code with
precision >= ``--min-precision`` on the learning half), i.e. no researcher judgement: a lower bound.
The study codebooks are also run on the off-topic negative controls.

    python benchmarks/eval_suggest_terms.py                 # heldout (the test set)
    python benchmarks/eval_suggest_terms.py tune --accept 3
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_autocode import N_BOOT, SEED, SETS, TurnTable, build_table, score_table  # noqa: E402

from vbhc_code.codebook.load import load_codebook  # noqa: E402
from vbhc_code.codebook.suggest import study_codebook_toml, suggest_terms  # noqa: E402
from vbhc_code.coding.imports import import_codings  # noqa: E402
from vbhc_code.ingest.folder import ingest_folder  # noqa: E402
from vbhc_code.store.store import Store  # noqa: E402


def half_folder(src: Path, names: list[str], dst: Path) -> Path:
    """A copy of ``src`` with only the transcripts ``names`` (and their rows of the sheets and reference)."""
    dst.mkdir(parents=True)
    for name in names:
        shutil.copy2(src / name, dst / name)
    shutil.copy2(src / "participants.csv", dst / "participants.csv")
    for sheet, key in (("documents.csv", "document"), ("reference.csv", "document")):
        with open(src / sheet, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
            fields = list(rows[0].keys()) if rows else []
        with open(dst / sheet, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(r for r in rows if r[key] in names)
    return dst


def learn(folder: Path, out: Path, *, accept: int, min_precision: float) -> Path:
    """Suggest terms from the reference coding of ``folder`` and write the accepted ones as a study codebook."""
    builtin = load_codebook()
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "learn.sqlite") as store:
        ingest_folder(folder, store=store, participants_file=folder / "participants.csv",
                      documents_file=folder / "documents.csv")
        import_codings(store, [folder / "reference.csv"], coder="reference", codebook=builtin)
        found = suggest_terms(store, coder="reference", codebook=builtin, top=10)
    out.write_text(study_codebook_toml(found, coder="reference", name=f"study-{folder.name}", accept=accept,
                                       min_precision=min_precision), encoding="utf-8")
    return out


def _merge(a: TurnTable, b: TurnTable) -> TurnTable:
    return TurnTable(a.turns + b.turns, a.words + b.words, a.reference + b.reference, a.auto + b.auto, a.codes,
                     a.documents + b.documents)


def _row(label: str, r: dict) -> str:
    ci = "-" if r["kappa_ci95"] is None else f"{r['kappa_ci95'][0]:.2f} to {r['kappa_ci95'][1]:.2f}"
    f = lambda v, d=2: "-" if v is None else f"{v:.{d}f}"  # noqa: E731
    return (f"{label:34} {r['turns']:>5} {r['tp']:>4} {r['fp']:>4} {r['fn']:>4} {f(r['precision']):>5} "
            f"{f(r['recall']):>5} {f(r['cohen_kappa']):>6} {ci:>13} {f(r['codings_per_10k_words'], 1):>6}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set", nargs="?", default="heldout", help="the set to split (default: heldout)")
    parser.add_argument("--accept", type=int, default=5, help="candidates accepted per code (default 5)")
    parser.add_argument("--min-precision", type=float, default=0.7, help="least precision on the learning half")
    parser.add_argument("--keep", type=Path, help="folder to keep the study codebooks in")
    args = parser.parse_args(argv)
    src, _, _ = SETS[args.set]
    names = sorted(p.name for p in src.iterdir() if p.suffix in (".txt", ".md", ".docx", ".vtt", ".srt")
                   and p.name != "README.md")
    halves = {"A": names[0::2], "B": names[1::2]}
    builtin = load_codebook()
    print(f"set {args.set}: A = {', '.join(halves['A'])}; B = {', '.join(halves['B'])}")
    print(f"accept the best {args.accept} per code with precision >= {args.min_precision:g} on the learning half; "
          f"kappa interval: {N_BOOT} bootstrap resamples of turns, seed {SEED}")
    print(f"{'test half, codebook':34} {'turns':>5} {'TP':>4} {'FP':>4} {'FN':>4} {'prec':>5} {'rec':>5} {'kappa':>6} "
          f"{'95% CI':>13} {'/10k w':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folders = {h: half_folder(src, n, root / h) for h, n in halves.items()}
        tables: dict[str, list[TurnTable]] = {"built-in": [], "study": []}
        studies = {}
        for learn_on, test_on in (("A", "B"), ("B", "A")):
            path = learn(folders[learn_on], root / f"study-{learn_on}.toml", accept=args.accept,
                         min_precision=args.min_precision)
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, args.keep / path.name)
            study = studies[learn_on] = load_codebook(path)
            added = sum(len(c.terms.get(lang, ())) for c in study.codes for lang in c.terms) - sum(
                len(c.terms.get(lang, ())) for c in builtin.codes for lang in c.terms)
            for label, cb in (("built-in", builtin), ("study", study)):
                table = build_table(folders[test_on], folders[test_on] / "reference.csv", cb)
                tables[label].append(table)
                extra = f" (+{added} terms from {learn_on})" if label == "study" else ""
                print(_row(f"{test_on}: {label}{extra}", score_table(table)))
        for label, (a, b) in tables.items():
            print(_row(f"A+B pooled: {label}", score_table(_merge(a, b))))
    for control in ("offtopic", "realdata"):
        folder, _, _ = SETS[control]
        if folder.is_dir():
            for learn_on, study in studies.items():
                r = score_table(build_table(folder, None, study))
                print(f"{control} with the study codebook learnt on {learn_on}: {r['codings']} codings in {r['words']} words "
                      f"({r['codings_per_10k_words']:.1f} per 10k words)")


if __name__ == "__main__":
    main()
