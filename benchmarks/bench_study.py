"""Speed at the shape of a real study: many interview-sized files, whole commands, against spaCy's tokenizer.

    python benchmarks/bench_study.py [--files 1100] [--words N] [--repeat 2] [--seed 7] [--keep DIR]

Generates ``--files`` interviews of 1,000-2,500 words each (or enough of them for ``--words`` in all), in the
five formats mixed as in ``transcripts/`` (3 .txt : 2 .md : 1 .docx : 1 .vtt : 1 .srt), with a participants
sheet, from a Zipf vocabulary (function words, ~20k word forms, codebook terms, Dutch loan words,
contractions, numbers and punctuation). Then, in the same run, each in its own process:

* ``vbhc-code ingest FOLDER --participants F`` - wall time of the whole command (start-up included) and its
  peak RSS;
* the same command again on the unchanged folder (re-ingest);
* ``ingest --jobs 1``: the same in one process (by default a folder this size is read by one worker per core);
* ``vbhc-code autocode`` - wall time of the whole command and its peak RSS;
* the baseline: ``spacy.blank("en").tokenizer.pipe`` over the stored turn texts (all turns for ingest,
  participant turns for autocode: the turns each command works on); its import and ``spacy.blank`` are
  not timed. For comparison it is also timed with the 500k-chunk tokenizer cache that ingest and autocode
  set (spaCy's default holds 10,000 chunks; part of the speed-up comes from that alone).

Targets (issue 17): ingest >= 0.5x and autocode >= 0.3x the baseline's words/s, re-ingest <= 5% of the
first ingest, peak RSS <= 500 MB at 10M words (``--words 10000000``; takes several minutes).
Every figure is the best of ``--repeat`` runs (RSS: the largest of any one process, workers included); runs are interleaved so that both sides
see the same machine load.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("txt", "md", "txt", "docx", "md", "vtt", "txt", "srt")  # the mix of transcripts/ (3:2:1:1:1)
FUNCTION = (  # noqa: SIM905
    "the a and of to in that it is was we they I you for on with as at this but be have not are or by from so "
    "what if there their our them he she his her all would can just like about very really then also"
).split()
EXTRA = ["don't", "it's", "we're", "I'd", "e.g.", "2024", "3.5%", "(", ")", '"', "-", "UWV", "\u2014", "\u2019s",
         "uh", "hm", "etc.", "i.e.", "10", "P01's"]  # fmt: skip
LOANS = ["UWV", "bedrijfsarts", "arbo", "WIA", "AVG", "EPD", "verzekeringsarts"]


class Vocabulary:
    """Zipf-distributed words: a large vocabulary, so the tokenizer's cache is no free lunch for either side."""

    def __init__(self, rng: random.Random, size: int = 20_000) -> None:
        from vbhc_code.codebook.load import load_codebook

        letters = "etaoinshrdlucmfwypvbgk"
        forms: set[str] = set()
        while len(forms) < size:
            forms.add("".join(rng.choice(letters) for _ in range(rng.randint(2, 11))))
        self.words = sorted(forms)
        rng.shuffle(self.words)
        cum, total = [], 0.0
        for i in range(len(self.words)):
            total += 1.0 / (i + 1)
            cum.append(total)
        self.cum = cum
        self.terms = sorted({t for c in load_codebook().codes for t in c.terms.get("en", ())})

    def sentence(self, rng: random.Random) -> str:
        n = rng.randint(5, 24)
        words: list[str] = []
        while len(words) < n:
            r = rng.random()
            if r < 0.45:
                words.append(rng.choice(FUNCTION))
            elif r < 0.975:
                words.append(rng.choices(self.words, cum_weights=self.cum)[0])
            elif r < 0.99:
                words.extend(rng.choice(self.terms).split())
            elif r < 0.995:
                words.append(rng.choice(LOANS))
            else:
                words.append(rng.choice(EXTRA))
            if rng.random() < 0.06:
                words[-1] += ","
        words[0] = words[0][:1].upper() + words[0][1:]
        return " ".join(words) + rng.choice([".", ".", ".", ".", "?", "!", "..."])


def _interview(rng: random.Random, vocab: Vocabulary, words: int) -> list[tuple[bool, list[str]]]:
    """Turns as (is_interviewer, sentences): short questions, long answers."""
    turns: list[tuple[bool, list[str]]] = []
    count = 0
    while count < words:
        interviewer = len(turns) % 2 == 0
        target = rng.randint(8, 40) if interviewer else rng.randint(40, 260)
        sentences, n = [], 0
        while n < target:
            s = vocab.sentence(rng)
            sentences.append(s)
            n += len(s.split())
        turns.append((interviewer, sentences))
        count += n
    return turns


def _ts(seconds: int, sep: str = ".") -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{sep}{(seconds * 37) % 1000:03d}"


def write_document(path: Path, fmt: str, turns: list[tuple[bool, list[str]]], pid: str) -> None:
    labels = ["Interviewer" if iv else pid for iv, _ in turns]
    header = [f"# Interview {path.stem} (synthetic benchmark transcript)", "Date: 2025-03-04", "Duration: 48 min", ""]
    if fmt == "txt":
        body = [f"{lab}: [{_ts(i * 40)[:8]}] {' '.join(s)}" for i, (lab, (_, s)) in enumerate(zip(labels, turns))]
        path.write_text("\n".join(header) + "\n" + "\n\n".join(body) + "\n", encoding="utf-8")
    elif fmt == "md":
        body = [f"**{lab}:** {' '.join(s)}" for lab, (_, s) in zip(labels, turns)]
        path.write_text("\n".join(header) + "\n" + "\n\n".join(body) + "\n", encoding="utf-8")
    elif fmt in ("vtt", "srt"):
        out = ["WEBVTT", ""] if fmt == "vtt" else []
        cue, clock = 0, 3
        for lab, (_, sentences) in zip(labels, turns):
            for k in range(0, len(sentences), 2):  # one or two sentences per cue, as captioning tools cut them
                cue += 1
                text = " ".join(sentences[k:k + 2])
                a, b = clock, clock + 4
                clock += 5
                if fmt == "vtt":
                    out += [f"{cue:08x}-5e27-9cf0/{cue}-0", f"{_ts(a)} --> {_ts(b)}", f"<v {lab}>{text}</v>", ""]
                else:
                    out += [str(cue), f"{_ts(a, ',')} --> {_ts(b, ',')}", f"{lab}: {text}", ""]
        path.write_text("\n".join(out), encoding="utf-8")
    elif fmt == "docx":
        import docx

        document = docx.Document()
        for line in header[:-1]:
            document.add_paragraph(line)
        for lab, (_, sentences) in zip(labels, turns):
            p = document.add_paragraph()
            p.add_run(f"{lab}:").bold = True
            p.add_run(" " + " ".join(sentences))
        document.save(str(path))


def write_study(folder: Path, *, files: int, seed: int) -> int:
    """The corpus and its participants sheet; returns the number of words in turn texts (generator's count)."""
    rng = random.Random(seed)
    vocab = Vocabulary(rng)
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["participant_id,aliases,group"]
    words = 0
    for d in range(files):
        fmt = FORMATS[d % len(FORMATS)]
        pid = f"P{d + 1:04d}"
        rows.append(f"{pid},,{'SIM' if d % 2 else 'VBHC'}")
        turns = _interview(rng, vocab, rng.randint(1_000, 2_500))
        words += sum(len(s.split()) for _, ss in turns for s in ss)
        write_document(folder / f"int{d + 1:05d}.{fmt}", fmt, turns, pid)
    (folder.parent / "participants.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return words


def _tree(root: int) -> set[int]:
    """``root`` and its descendants (the fork server and the workers of an ingest among them)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, grew = {root}, True
    while grew:
        new = {pid for pid, ppid in parents.items() if ppid in tree and pid not in tree}
        tree |= new
        grew = bool(new)
    return tree


def _tree_sample(root: int, cpu: dict[int, float]) -> tuple[float, float]:
    """(PSS of the tree in MB: shared pages counted once, the largest VmHWM of one process in MB); the CPU
    seconds each process has used so far go into ``cpu``."""
    total = hwm = 0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in _tree(root):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    hwm = max(hwm, int(line.split()[1]))
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            continue
    return total / 1024, hwm / 1024


def use_bytecode() -> None:
    """Time commands as an installed package runs them: from compiled bytecode. Some machines set
    PYTHONDONTWRITEBYTECODE, and then every command compiles the package's modules again (~0.2 s); the
    installed dependencies have their bytecode already. The package's modules are compiled here, before any
    timing (into __pycache__ folders, which git ignores), so no timed run pays for it."""
    import compileall

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    compileall.compile_dir(str(ROOT / "vbhc_code"), quiet=1)


def run(cmd: list[str], *, log: Path) -> tuple[float, int, float, float]:
    """Run ``cmd``; (wall seconds incl. start-up, peak RSS in MB of its largest process, peak memory in MB of
    the process with its workers (PSS: pages shared after fork counted once), CPU seconds of all of them).

    Worker processes are sampled every 0.25 s (their last quarter second of CPU may be missed)."""
    import threading

    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    with log.open("w") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=log.parent)
        peak = [0.0, 0.0]
        cpu: dict[int, float] = {}
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.25):
                pss, hwm = _tree_sample(proc.pid, cpu)
                peak[0], peak[1] = max(peak[0], pss), max(peak[1], hwm)

        sampler = threading.Thread(target=sample, daemon=True)
        if Path("/proc/self/smaps_rollup").exists():
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        done.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(log.read_text(errors="replace")[-3000:])
        raise SystemExit(f"{' '.join(cmd[2:4])} failed with exit code {proc.returncode}")
    own = usage.ru_utime + usage.ru_stime
    others = sum(seconds for pid, seconds in cpu.items() if pid != proc.pid)
    return wall, max(usage.ru_maxrss // 1024, int(peak[1])), peak[0], own + others


def dump_texts(store: Path, out: Path, *, participant_only: bool) -> int:
    conn = sqlite3.connect(store)
    sql = "SELECT text FROM turns" + (" WHERE role = 'participant'" if participant_only else "") + " ORDER BY id"
    words = 0
    with out.open("w", encoding="utf-8") as fh:
        for (text,) in conn.execute(sql):
            fh.write(text.replace("\n", " ") + "\n")
            words += len(text.split())
    conn.close()
    return words


def tokenizer_child(texts: Path, cache: int | None = None) -> None:
    import spacy

    nlp = spacy.blank("en")
    if cache:
        nlp.tokenizer.max_cache_size = cache
    t0, c0 = time.perf_counter(), time.process_time()
    lines = (line.rstrip("\n") for line in texts.open(encoding="utf-8"))
    for _ in nlp.tokenizer.pipe(lines, batch_size=256):
        pass
    print(f"inner {time.perf_counter() - t0:.6f} {time.process_time() - c0:.6f}")


def baseline(texts: Path, log: Path, cache: int | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of tokenizing ``texts``, import and ``spacy.blank`` excluded."""
    run([sys.executable, __file__, "--tokenize", str(texts), *(["--cache", str(cache)] if cache else [])], log=log)
    line = next(x for x in log.read_text().splitlines() if x.startswith("inner "))
    return float(line.split()[1]), float(line.split()[2])


def measure(tmp: Path, *, files: int, seed: int, repeat: int) -> dict[str, float]:
    folder = tmp / "study"
    if not (tmp / "participants.csv").exists():
        t0 = time.perf_counter()
        gen_words = write_study(folder, files=files, seed=seed)
        print(f"generated {files:,} files, {gen_words:,} words in turns ({time.perf_counter() - t0:.0f} s)", flush=True)
    use_bytecode()
    cli = [sys.executable, "-m", "vbhc_code"]
    ingest = [*cli, "ingest", str(folder), "--participants", str(tmp / "participants.csv")]
    res: dict[str, list[tuple[float, ...]]] = {k: [] for k in ("tok", "ptok", "ingest", "again", "auto", "big", "one")}
    words = pwords = 0
    for r in range(repeat):
        store = tmp / f"store{r}.sqlite"
        res["ingest"].append(run([*ingest, "--store", str(store)], log=tmp / "ingest.log"))
        res["again"].append(run([*ingest, "--store", str(store)], log=tmp / "reingest.log"))
        single = tmp / f"single{r}.sqlite"
        res["one"].append(run([*ingest, "--jobs", "1", "--store", str(single)], log=tmp / "ingest1.log"))
        single.unlink()
        words = dump_texts(store, tmp / "texts.txt", participant_only=False)
        pwords = dump_texts(store, tmp / "ptexts.txt", participant_only=True)
        res["tok"].append(baseline(tmp / "texts.txt", tmp / "tok.log"))
        res["big"].append(baseline(tmp / "texts.txt", tmp / "tok.log", cache=500_000))
        res["auto"].append(run([*cli, "autocode", "--store", str(store)], log=tmp / "autocode.log"))
        res["ptok"].append(baseline(tmp / "ptexts.txt", tmp / "ptok.log"))
        store.unlink()
    best = {k: min(v) for k, v in res.items()}  # fastest wall time of each
    cpu = {k: min(x[-1] for x in v) for k, v in res.items()}
    rss_i, rss_a = max(x[1] for x in res["ingest"] + res["one"]), max(x[1] for x in res["auto"])
    pss_i, pss_a = max(x[2] for x in res["ingest"]), max(x[2] for x in res["auto"])
    tok, ptok = words / best["tok"][0], pwords / best["ptok"][0]
    ing, auto = words / best["ingest"][0], pwords / best["auto"][0]
    again = best["again"][0] / best["ingest"][0]
    print(f"study shape: {files:,} files, {words:,} words in turns ({pwords:,} in participant turns); "
          f"best of {repeat} runs; wall time (CPU time in brackets)")  # fmt: skip
    print(f"  tokenizer-only, all turns   {tok:>10,.0f} words/s  {best['tok'][0]:7.2f} s ({cpu['tok']:.2f} s)")
    workers = "one per core" if (os.cpu_count() or 1) > 1 else "one core: no workers"
    print(f"  ingest (whole command)      {ing:>10,.0f} words/s  {best['ingest'][0]:7.2f} s ({cpu['ingest']:.2f} s)  "
          f"ratio {ing / tok:.2f}x (target >= 0.5x; {workers}, {os.cpu_count()} cores)")  # fmt: skip
    one = words / best["one"][0]
    print(f"  ingest --jobs 1 (one process) {one:>8,.0f} words/s  {best['one'][0]:7.2f} s ({cpu['one']:.2f} s)  "
          f"ratio {one / tok:.2f}x (on CPU time {cpu['tok'] / cpu['one']:.2f}x)")  # fmt: skip
    big = words / best["big"][0]
    print(f"  (tokenizer-only with the 500k-chunk cache ingest and autocode set: {big:,.0f} words/s; "
          f"ingest {ing / big:.2f}x of that)")  # fmt: skip
    print(f"  re-ingest, unchanged folder {'':>10}          {best['again'][0]:7.2f} s ({cpu['again']:.2f} s)  "
          f"= {100 * again:.1f}% of the first run (target <= 5%)")  # fmt: skip
    print(f"  tokenizer-only, participant {ptok:>10,.0f} words/s  {best['ptok'][0]:7.2f} s ({cpu['ptok']:.2f} s)")
    print(f"  autocode (whole command)    {auto:>10,.0f} words/s  {best['auto'][0]:7.2f} s ({cpu['auto']:.2f} s)  "
          f"ratio {auto / ptok:.2f}x (target >= 0.3x; on CPU time {cpu['ptok'] / cpu['auto']:.2f}x)")  # fmt: skip
    print(f"  peak RSS: ingest {rss_i} MB, autocode {rss_a} MB (largest process; target <= 500 MB at 10M words)")
    print(f"  peak memory with worker processes (PSS, sampled every 0.25 s): ingest {pss_i:.0f} MB, "
          f"autocode {pss_a:.0f} MB")  # fmt: skip
    for log in ("ingest.log", "reingest.log", "autocode.log"):
        last = (tmp / log).read_text(errors="replace").strip().splitlines()[-1:]
        print(f"  last line of {log[:-4]}: {last[0] if last else ''}")
    return {"ingest_ratio": ing / tok, "auto_ratio": auto / ptok, "again": again, "rss": max(rss_i, rss_a)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=1100, help="number of interviews (default 1,100: ~2M words)")
    ap.add_argument("--words", type=int, help="instead of --files: about this many words in all (1,750 per file)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it (default: a temporary one)")
    ap.add_argument("--tokenize", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--cache", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.tokenize:
        tokenizer_child(args.tokenize, args.cache)
        return
    sys.path.insert(0, str(ROOT))
    files = max(1, args.words // 1_750) if args.words else args.files
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        measure(args.keep.resolve(), files=files, seed=args.seed, repeat=args.repeat)
        return
    with tempfile.TemporaryDirectory() as tmp:
        measure(Path(tmp), files=files, seed=args.seed, repeat=args.repeat)


if __name__ == "__main__":
    main()
