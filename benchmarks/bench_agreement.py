"""Agreement statistics speed against the ``krippendorff`` package, measured in the same run.

    python benchmarks/bench_agreement.py [--turns 100000] [--codes 15] [--repeat 3] [--nltk-turns 20000]
                                         [--end-to-end]

Data: ``--turns`` turns x ``--codes`` codes x 2 coders, presence/absence (about 15% prevalence, 85%
agreement on present cells). vbhc-code computes, per code and pooled over all turn x code cells, everything
``vbhc-code agreement`` reports (counts, percent agreement, Cohen's kappa + SE + 95% CI, Krippendorff's alpha
+ 1000-resample bootstrap CI, Gwet's AC1, Brennan-Prediger, positive agreement, macro means), starting from
the two coders' 0/1 matrices. The baseline is ``krippendorff.alpha`` (nominal) on the same data: one call per
code plus one pooled call. NLTK's ``AnnotationTask.alpha`` is timed on one code of ``--nltk-turns`` turns
and scaled linearly to the full size, for scale only. Target: vbhc-code <= 1.5x the krippendorff time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def make_data(turns: int, codes: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.random((turns, codes)) < 0.15
    a = np.where(rng.random((turns, codes)) < 0.9, truth, rng.random((turns, codes)) < 0.15)
    b = np.where(rng.random((turns, codes)) < 0.9, truth, rng.random((turns, codes)) < 0.15)
    return a.astype(np.int8), b.astype(np.int8)


def ours(a: np.ndarray, b: np.ndarray) -> dict:
    from vbhc_code.agreement.report import statistics_from_patterns
    from vbhc_code.agreement.units import pattern_counts_per_code

    codes = [f"C{k + 1}" for k in range(a.shape[1])]
    patterns = pattern_counts_per_code(np.stack([a, b], axis=2))
    reasons: dict[str, str] = {}
    per_code, pooled, macro = statistics_from_patterns(patterns, codes, 2, reasons)
    return {"per_code": per_code, "pooled": pooled, "macro": macro}


def baseline(a: np.ndarray, b: np.ndarray) -> list[float]:
    import krippendorff

    out = [krippendorff.alpha(reliability_data=np.stack([a[:, k], b[:, k]]), level_of_measurement="nominal")
           for k in range(a.shape[1])]
    out.append(krippendorff.alpha(reliability_data=np.stack([a.ravel(), b.ravel()]), level_of_measurement="nominal"))
    return out


def nltk_one_code(a: np.ndarray, b: np.ndarray) -> float:
    from nltk.metrics.agreement import AnnotationTask

    data = [("A", str(i), int(v)) for i, v in enumerate(a)] + [("B", str(i), int(v)) for i, v in enumerate(b)]
    return AnnotationTask(data=data).alpha()


def end_to_end(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Seconds to build a store holding the data (one document per 1,000 turns) and to run agreement_report."""
    import hashlib
    import tempfile
    from pathlib import Path

    from vbhc_code.agreement.report import agreement_report
    from vbhc_code.models import Coding, Document, Turn
    from vbhc_code.store.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        st = Store.open(Path(tmp) / "bench.sqlite")
        docs = []
        for d in range(0, a.shape[0], 1000):
            name = f"doc{d // 1000:04d}"
            text, turns = "", []
            for i in range(min(1000, a.shape[0] - d)):
                start = len(text)
                text += f"turn {i}.\n"
                turns.append(Turn(turn_index=i + 1, start=start, end=len(text) - 1, text=f"turn {i}.", document=name))
            st.save_document(Document(name, "txt", "utf-8", hashlib.sha256(text.encode()).hexdigest(), text,
                                      tuple(turns)))
            docs.append(name)
        t0 = time.perf_counter()
        for coder, m in (("A", a), ("B", b)):
            rows = np.argwhere(m == 1)
            st.replace_codings(coder, [Coding(f"doc{r // 1000:04d}", int(r % 1000) + 1, f"C{k + 1}", coder)
                                       for r, k in rows], coded_documents=docs)
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        agreement_report(st, coders=["A", "B"])
        t_report = time.perf_counter() - t0
        st.close()
    return t_load, t_report


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--codes", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nltk-turns", type=int, default=20_000)
    parser.add_argument("--end-to-end", action="store_true", help="Also time agreement_report on a study store.")
    args = parser.parse_args()
    a, b = make_data(args.turns, args.codes)
    ours(a[:100], b[:100])  # import and warm up outside the timing
    baseline(a[:100], b[:100])
    t_ours, report = best_of(lambda: ours(a, b), args.repeat)
    t_kripp, alphas = best_of(lambda: baseline(a, b), args.repeat)
    n_small = min(args.nltk_turns, args.turns)
    t0 = time.perf_counter()
    nltk_alpha = nltk_one_code(a[:n_small, 0], b[:n_small, 0])
    t_nltk = (time.perf_counter() - t0) * (args.turns / n_small) * (args.codes + 1)

    # Same numbers as the baseline (a benchmark of wrong results would be worthless).
    mine = [report["per_code"][f"C{k + 1}"]["krippendorff_alpha"] for k in range(args.codes)]
    mine.append(report["pooled"]["krippendorff_alpha"])
    worst = max(abs(x - y) for x, y in zip(mine, alphas))
    from vbhc_code.agreement.statistics import coefficients_from_patterns
    from vbhc_code.agreement.units import pattern_counts_per_code

    small = pattern_counts_per_code(np.stack([a[:n_small, :1], b[:n_small, :1]], axis=2))[0]
    nltk_diff = abs(coefficients_from_patterns(small, 2)["krippendorff_alpha_nominal"] - nltk_alpha)

    print(f"data: {args.turns:,} turns x {args.codes} codes x 2 coders ({args.turns * args.codes:,} cells)")
    print(f"vbhc-code, all statistics per code + pooled + macro (bootstrap CIs incl.): {t_ours:8.3f} s")
    print(f"krippendorff.alpha, nominal, {args.codes} codes + pooled:                     {t_kripp:8.3f} s")
    print(f"nltk AnnotationTask.alpha, scaled from {n_small:,} turns x 1 code:            {t_nltk:8.1f} s")
    print(f"ratio vbhc-code / krippendorff: {t_ours / t_kripp:.2f}x (target <= 1.5x)")
    print(f"ratio nltk / vbhc-code: {t_nltk / t_ours:,.0f}x")
    print(f"largest alpha difference vs krippendorff: {worst:.2e}; vs nltk on the small sample: {nltk_diff:.2e}")
    print(f"pooled: kappa {report['pooled']['cohen_kappa']:.4f}, alpha {report['pooled']['krippendorff_alpha']:.4f}"
          f" CI {report['pooled']['krippendorff_alpha_ci95']}")
    if args.end_to_end:
        t_load, t_report = end_to_end(a, b)
        print(f"end to end: storing both coders' codings {t_load:.1f} s; agreement_report from the store "
              f"(SQLite read + units + statistics) {t_report:.2f} s = {t_report / t_kripp:.1f}x krippendorff")


if __name__ == "__main__":
    main()
