"""Start-up time of ``vbhc-code`` against a minimal typer app, measured in the same run.

    python benchmarks/bench_startup.py [--repeat 15]

Each command runs as a fresh ``python`` process (what a user waits for): ``vbhc-code --version``,
``--help`` and ``codings list`` on a small store. The baseline is ``--help`` of a two-command typer app
that prints with rich, written to a temporary file. The runs are interleaved (baseline, then each
command, ``--repeat`` times) so a busy machine slows both alike; the medians are compared.
Target: each command <= 1.5x the baseline. Exit 1 when a command misses it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.5

BASELINE_APP = '''
import typer
from rich.console import Console

app = typer.Typer()
console = Console()


@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    console.print(f"hello {name}")


@app.command()
def bye(name: str = "world") -> None:
    """Say goodbye."""
    console.print(f"bye {name}")


if __name__ == "__main__":
    app()
'''


def make_store(path: Path) -> None:
    """A store with two documents and one coder, so ``codings list`` has a row to print."""
    import hashlib

    from vbhc_code.models import Code, Codebook, Coding, Document, Theme, Turn
    from vbhc_code.store.store import Store

    codebook = Codebook(name="bench", version="1", languages=("en",), themes=(Theme("T", "theme"),),
                        codes=(Code("C1", "T", "one"),))
    text = "P: a turn of text\n"
    with Store.open(path) as st:
        for name in ("a.txt", "b.txt"):
            turn = Turn(turn_index=1, start=3, end=len(text) - 1, text=text[3:-1], speaker="P", role="participant",
                        document=name)
            st.save_document(Document(name=name, format="txt", encoding="utf-8", plain_text=text,
                                      sha256=hashlib.sha256(text.encode()).hexdigest(), turns=(turn,)))
        st.replace_codings("anna", [Coding("a.txt", 1, "C1", "anna")], coded_documents=["a.txt"], codebook=codebook)


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    py = sys.executable
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        baseline_app = Path(tmp) / "baseline_app.py"
        baseline_app.write_text(BASELINE_APP, encoding="utf-8")
        store = Path(tmp) / "s.sqlite"
        make_store(store)
        codings_list = [py, "-m", "vbhc_code", "codings", "list", "--store", str(store)]
        commands = {
            "baseline --help": [py, str(baseline_app), "--help"],
            "vbhc-code --version": [py, "-m", "vbhc_code", "--version"],
            "vbhc-code --help": [py, "-m", "vbhc_code", "--help"],
            "vbhc-code codings list": codings_list,
        }
        for argv in commands.values():  # warm the file cache and the .pyc files once
            timed(argv, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, argv in commands.items():
                times[name].append(timed(argv, env))
    base = statistics.median(times["baseline --help"])
    print(f"start-up, median of {args.repeat} runs (target <= {TARGET}x the baseline)")
    print(f"{'command':<26}{'median ms':>10}{'ratio':>8}")
    worst = 0.0
    for name, values in times.items():
        ratio = statistics.median(values) / base
        if name != "baseline --help":
            worst = max(worst, ratio)
        print(f"{name:<26}{1000 * statistics.median(values):>10.0f}{ratio:>7.2f}x")
    print("ok" if worst <= TARGET else f"over target: {worst:.2f}x > {TARGET}x")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
