"""Ingest speed and memory against spaCy's tokenizer, measured in the same run.

    python benchmarks/bench_ingest.py [--shape both|large|study] [--words 1000000] [--formats txt,md,vtt,srt,docx]
                                      [--files 1100]

Two shapes, both printed by default. ``large``: few generated files of ~20k words each (``--words`` in all),
timed inside one process (``--jobs 1`` by default: no worker processes). ``study``: ``--files`` interview-sized files (1,000-2,500 words) in the five formats,
each command timed as a whole process, start-up included (``benchmarks/bench_study.py``, which also times
autocode). For the large shape it prints ingest words/s (read + turns + sentences + store) next to ``spacy.blank("en")`` tokenizer-only
words/s over the same turn texts, their ratio (target >= 0.5), the re-ingest time of the unchanged folder
as a share of the first run (target <= 5%), and the peak RSS of the ingest process (target <= 500 MB at
10M words: run with ``--words 10000000``).
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOMAIN = (
    "the patient outcome value care work disability assessment insurance physician team network we they "
    "measure cost payment bundle region centre platform data culture learning return client employer "
    "benefit reassessment privacy consent record dashboard trajectory rehabilitation occupational function"
).split()
# Interview speech has a large vocabulary, contractions, numbers and punctuation. A 40-word vocabulary
# lets spaCy's tokenizer answer every word from its cache and is not a fair baseline (--vocab small).
EXTRA = ["don't", "it's", "we're", "I'd", "e.g.", "2024", "3.5%", "(", ")", '"', "-", "UWV", "P01", "\u2014", "\u2019s"]


class Vocab:
    def __init__(self, rng: random.Random, kind: str) -> None:
        if kind == "small":
            self.words, self.weights = DOMAIN, None
        else:
            letters = "etaoinshrdlucmfwypvbgk"
            pseudo = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 11))) for _ in range(20_000)]
            self.words = DOMAIN + pseudo
            self.weights = [1 / (i + 1) for i in range(len(self.words))]  # Zipf
        self.kind = kind

    def sentence(self, rng: random.Random) -> str:
        n = rng.randint(6, 22)
        if self.weights is None:
            words = [rng.choice(self.words) for _ in range(n)]
        else:
            words = rng.choices(self.words, self.weights, k=n)
            if rng.random() < 0.3:
                words.insert(rng.randrange(len(words)), rng.choice(EXTRA))
            if rng.random() < 0.4:
                words[rng.randrange(len(words))] += ","
        words[0] = words[0].capitalize()
        return " ".join(words) + rng.choice([".", ".", ".", "?", "!"])


def turn_text(rng: random.Random, words: int, vocab: Vocab) -> str:
    out, count = [], 0
    while count < words:
        s = vocab.sentence(rng)
        out.append(s)
        count += len(s.split())
    return " ".join(out)


def write_corpus(folder: Path, total_words: int, formats: list[str], seed: int = 7, vocab: str = "large") -> list[str]:
    """Documents of ~20k words each, cycling through the formats; all turn texts go to texts.txt (the baseline)."""
    rng = random.Random(seed)
    words = Vocab(rng, vocab)
    per_doc = 20_000
    n_docs = max(1, total_words // per_doc)
    texts_file = folder.parent / "texts.txt"
    with texts_file.open("w", encoding="utf-8") as all_texts:
        for d in range(n_docs):
            fmt = formats[d % len(formats)]
            turns = []
            count = 0
            while count < per_doc:
                t = turn_text(rng, rng.randint(20, 160), words)
                turns.append(t)
                count += len(t.split())
            for t in turns:
                all_texts.write(t + "\n")
            _write_doc(folder / f"doc{d:05d}.{fmt}", fmt, turns)
    return [str(texts_file)]


def _write_doc(path: Path, fmt: str, turns: list[str]) -> None:
    speakers = ["Interviewer", "P01", "P02", "P03"]
    if fmt == "txt":
        path.write_text(
            "\n\n".join(f"{speakers[i % 4]}: [00:{i // 60 % 60:02d}:{i % 60:02d}] {t}" for i, t in enumerate(turns))
            + "\n",
            encoding="utf-8",
        )
    elif fmt == "md":
        path.write_text(
            "\n\n".join(f"**{speakers[i % 4]}:** {t}" for i, t in enumerate(turns)) + "\n", encoding="utf-8"
        )
    elif fmt in ("vtt", "srt"):
        lines = ["WEBVTT", ""] if fmt == "vtt" else []
        for i, t in enumerate(turns):
            a, b = f"00:{i // 60 % 60:02d}:{i % 60:02d}", f"00:{i // 60 % 60:02d}:{i % 60:02d}"
            if fmt == "vtt":
                lines += [f"{a}.000 --> {b}.900", f"<v {speakers[i % 4]}>{t}</v>", ""]
            else:
                lines += [str(i + 1), f"{a},000 --> {b},900", f"{speakers[i % 4].upper()}: {t}", ""]
        path.write_text("\n".join(lines), encoding="utf-8")
    elif fmt == "docx":
        import docx

        document = docx.Document()
        for i, t in enumerate(turns):
            p = document.add_paragraph()
            p.add_run(f"{speakers[i % 4]}:").bold = True
            p.add_run(f" {t}")
        document.save(str(path))


def run_child(args: list[str]) -> tuple[float, int, float]:
    """Run this script in a child; returns (wall seconds incl. start-up, peak RSS in MB, timed seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        raise SystemExit(f"child {args[1]} failed")
    lines = proc.stdout.strip().splitlines()
    inner = next(float(x.split()[1]) for x in lines if x.startswith("inner "))
    return dt, int(lines[-1]), inner


def child(mode: str, folder: Path, store: Path, jobs: int = 1) -> None:
    """Time the work only: imports and ``spacy.blank`` start-up are excluded on both sides alike."""
    if mode == "tokenize":
        import spacy

        nlp = spacy.blank("en")
        t0 = time.perf_counter()
        texts = (line.rstrip("\n") for line in (folder.parent / "texts.txt").open(encoding="utf-8"))
        for _ in nlp.tokenizer.pipe(texts, batch_size=256):
            pass
        print(f"inner {time.perf_counter() - t0:.6f}")
    else:
        from vbhc_code.ingest.folder import ingest_folder
        from vbhc_code.nlp.segment import blank_nlp
        from vbhc_code.store.store import Store

        blank_nlp("en")
        with Store.open(store) as st:
            t0 = time.perf_counter()
            report = ingest_folder(folder, store=st, jobs=jobs)
            print(f"inner {time.perf_counter() - t0:.6f}")
            assert not report.failed, [d.error for d in report.documents if d.error]
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--words", type=int, default=1_000_000)
    ap.add_argument("--formats", default="txt,md,vtt,srt,docx")
    ap.add_argument("--vocab", choices=["large", "small"], default="large",
                    help="large: Zipf over ~20k word forms with punctuation (default); small: 40 domain words")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each measurement; the best is reported")
    ap.add_argument("--shape", choices=["both", "large", "study"], default="both")
    ap.add_argument("--files", type=int, default=1100, help="study shape: number of interview-sized files")
    ap.add_argument("--child", choices=["tokenize", "ingest"])
    ap.add_argument("--folder", type=Path)
    ap.add_argument("--store", type=Path)
    ap.add_argument("--jobs", type=int, default=1,
                    help="large shape: processes reading files (default 1: one process, so its peak RSS is all; "
                         "the study shape runs the command with its default, one worker per core)")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.folder, args.store, args.jobs)
        return
    if args.shape in ("both", "large"):
        print("== large-file shape")
        large(args)
    if args.shape in ("both", "study"):
        print("== study shape")
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_study import measure

        with tempfile.TemporaryDirectory() as tmp:
            measure(Path(tmp), files=args.files, seed=7, repeat=args.repeat)


def large(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        formats = args.formats.split(",")
        print(f"generating ~{args.words:,} words in {', '.join(formats)} ({args.vocab} vocabulary) ...", flush=True)
        write_corpus(folder, args.words, formats, vocab=args.vocab)
        words = sum(len(line.split()) for line in (Path(tmp) / "texts.txt").open(encoding="utf-8"))
        tok, ing, again = [], [], []
        for r in range(args.repeat):
            store = Path(tmp) / f"bench{r}.sqlite"
            common = ["--folder", str(folder), "--store", str(store)]
            tok.append(run_child(["--child", "tokenize", *common]))
            ing.append(run_child(["--child", "ingest", "--jobs", str(args.jobs), *common]))
            again.append(run_child(["--child", "ingest", "--jobs", str(args.jobs), *common]))
        tok_wall, tok_rss, tok_s = min(tok, key=lambda x: x[2])
        ing_wall, _, ing_s = min(ing, key=lambda x: x[2])
        ing_rss = max(x[1] for x in ing)
        re_wall, _, re_s = min(again, key=lambda x: x[2])
        print(f"words                  {words:>12,}   (best of {args.repeat} runs each)")
        print(
            f"tokenizer-only         {words / tok_s:>12,.0f} words/s  ({tok_s:.2f} s; process incl. start-up {tok_wall:.1f} s)"
        )
        print(
            f"ingest                 {words / ing_s:>12,.0f} words/s  ({ing_s:.2f} s; process incl. start-up {ing_wall:.1f} s)"
        )
        print(f"ratio ingest/tokenizer {tok_s / ing_s:>12.2f}   (target >= 0.5)")
        print(f"re-ingest unchanged    {re_s:>12.2f} s = {100 * re_s / ing_s:.1f}% of the first run (target <= 5%; "
              f"process incl. start-up {re_wall:.1f} s)")
        print(f"peak RSS ingest        {ing_rss:>12} MB  (tokenizer-only: {tok_rss} MB; target <= 500 MB)")


if __name__ == "__main__":
    main()
