"""Excel writer speed and memory against bare xlsxwriter, measured in the same run.

    python benchmarks/bench_excel.py [--rows 100000]

Writes ``--rows`` quote rows (code, quote text, attribution, document, turn_index, start, end)
through ``vbhc_code.files.xlsx_write.write_workbook`` (constant_memory, formatted: widths, wrap, row heights, frozen bold
header, autofilter, every string checked for illegal characters and the cell cap) and with a bare
xlsxwriter ``constant_memory`` workbook, each in its own child process so peak RSS is per writer,
``--repeat`` times alternately (the fastest run of each counts; the machine is shared). A third child
only generates the rows, so the ratio can also be read without that shared cost. Prints seconds, peak
RSS and the ratios (targets: time <= 1.5x, peak RSS <= 150 MB).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = [
    "patient", "outcome", "value", "care", "work", "disability", "assessment", "insurance", "physician",
    "team", "network", "measure", "cost", "payment", "bundle", "region", "platform", "data", "culture",
    "learning", "return", "employer", "benefit",
]
HEADERS = ["code", "quote", "attribution", "document", "turn_index", "start", "end"]


def rows(n: int, seed: int = 3):
    rng = random.Random(seed)
    for i in range(n):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(15, 80))) + "."
        yield (f"C{i % 40}", text, f"P{i % 60}, expert in SIM, focus group", f"INT{i % 90:02d}", i, i * 10,
               i * 10 + len(text))


def child(which: str, n: int, out: Path) -> None:
    t0 = time.perf_counter()
    if which == "gen":
        for _ in rows(n):
            pass
    elif which == "bare":
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
        ws = wb.add_worksheet("Quotes")
        for j, h in enumerate(HEADERS):
            ws.write_string(0, j, h)
        for i, r in enumerate(rows(n), start=1):
            for j, v in enumerate(r):
                if isinstance(v, str):
                    ws.write_string(i, j, v)
                else:
                    ws.write_number(i, j, v)
        wb.close()
    else:
        from vbhc_code.files.xlsx_write import Column, Sheet, write_workbook

        cols = [Column("code"), Column("quote", wrap=True), Column("attribution"), Column("document"),
                Column("turn_index", kind="int"), Column("start", kind="int"), Column("end", kind="int")]
        write_workbook(out, [Sheet("Quotes", cols, rows(n))], constant_memory=True)
    secs = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"seconds": secs, "rss_mb": rss_mb}))


def run(which: str, n: int, folder: Path) -> dict:
    out = folder / f"{which}.xlsx"
    res = subprocess.run([sys.executable, __file__, "--child", which, "--rows", str(n), "--out", str(out)],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.rows, Path(args.out))
        return
    runs: dict[str, list[dict]] = {"gen": [], "bare": [], "vbhc": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for which in runs:
                runs[which].append(run(which, args.rows, Path(tmp)))
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in runs.items()}
    peak = {k: max(r["rss_mb"] for r in v) for k, v in runs.items()}
    gen, bare, ours = best["gen"]["seconds"], best["bare"]["seconds"], best["vbhc"]["seconds"]
    print(f"rows: {args.rows}, fastest of {args.repeat} runs each")
    print(f"generating the rows only:        {gen:.2f} s")
    print(f"bare xlsxwriter constant_memory: {bare:.2f} s, peak RSS {peak['bare']:.0f} MB")
    print(f"vbhc_code.files.xlsx_write.write_workbook:  {ours:.2f} s, peak RSS {peak['vbhc']:.0f} MB")
    print(f"time ratio: {ours / bare:.2f}x (target <= 1.5x); without row generation {(ours - gen) / (bare - gen):.2f}x")
    print(f"RSS ratio: {peak['vbhc'] / peak['bare']:.2f}x; peak RSS {peak['vbhc']:.0f} MB (target <= 150 MB)")

if __name__ == "__main__":
    main()
