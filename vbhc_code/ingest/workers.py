"""Reading transcripts in worker processes while the calling process alone writes the store.

Parsing and sentence splitting are CPU-bound and independent per file, so a large folder is read on every
core. The workers never open the store: each returns a ``Reading`` and the caller stores the documents one by
one in folder order, so the store is byte-for-byte the one a single process writes. Workers start from a
fork server (a clean process, not a copy of one that runs threads such as the progress bar) and leave when
the calling process dies, even by ``kill -9``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import types
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from vbhc_code.errors import message_style, set_message_style
from vbhc_code.files.sheets import SpeakerMatcher
from vbhc_code.ingest.reading import Reading, Task, read_document

# Below this many files to read, starting the workers (a second or so: each imports spaCy) costs more than
# it saves.
PARALLEL_MIN = 24
MAX_WORKERS = 8
AHEAD = 4  # files handed out per worker ahead of the one being stored: bounds the readings held in memory


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(jobs: int | None, files: int) -> int:
    """Workers for ``files`` files to read: ``jobs`` when given (1: read in this process), else one per
    available core (at most ``MAX_WORKERS``) for a folder of at least ``PARALLEL_MIN`` files. Never more than
    the files, nor than Windows allows (61); none inside a daemonic process (it may not have children)."""
    if multiprocessing.current_process().daemon:
        return 1
    if jobs is not None:
        wanted = max(1, jobs)
    elif files < PARALLEL_MIN:
        return 1
    else:
        wanted = min(available_cpus(), MAX_WORKERS)
    return max(1, min(wanted, files, 61 if sys.platform == "win32" else wanted))


class ReadAhead:
    """Readings of ``tasks`` computed by ``workers`` processes, collected in task order with ``take``."""

    def __init__(self, tasks: Iterable[Task], *, workers: int, rules: Any, matcher: SpeakerMatcher,
                 encoding: str | None) -> None:
        self._pending = deque(tasks)
        self._futures: dict[str, Future[Reading]] = {}
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(["vbhc_code.ingest.workers"])  # not the caller's __main__ either
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_start_worker,
            initargs=(rules, matcher, encoding, message_style()),
        )
        self._window = workers * AHEAD
        self.broken = False
        try:
            self._fill()
        except BaseException:
            self._pool.shutdown(wait=False, cancel_futures=True)
            raise

    def _fill(self) -> None:
        # A submission may start a worker (whenever none is idle): never with the caller's __main__.
        with _main_module_hidden():
            while self._pending and len(self._futures) < self._window:
                task = self._pending.popleft()
                self._futures[task.name] = self._pool.submit(_read_in_worker, task)

    def take(self, name: str) -> Reading | None:
        """The reading of ``name`` (waiting for it), or None when it was not handed to the workers or they
        stopped (then the caller reads the file itself: a reading is the same wherever it is made)."""
        future = self._futures.pop(name, None)
        if future is None or self.broken:
            return None
        try:
            self._fill()
            return future.result()
        except BrokenProcessPool:
            self.broken = True
            return None

    def close(self) -> None:
        self._pending.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start workers without the caller's ``__main__``: a new process otherwise runs the caller's script again
    (a researcher's script without an ``if __name__ == "__main__"`` guard would ingest again in every worker,
    and code read from stdin or a notebook cannot be run again at all). The workers need none of it."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


_WORKER: dict[str, Any] = {}


def _start_worker(rules: Any, matcher: SpeakerMatcher, encoding: str | None, style: str) -> None:
    # Ctrl-C reaches the whole process group: the calling process handles it and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_message_style(style)
    _WORKER.update(rules=rules, matcher=matcher, encoding=encoding)
    caller = multiprocessing.parent_process()  # the process that asked for the worker, not the fork server
    if caller is not None:
        threading.Thread(target=_leave_with, args=(caller,), daemon=True).start()


def _leave_with(caller: Any) -> None:
    """Exit once the calling process is gone: a worker whose caller was killed would otherwise wait for work
    forever (and keep the fork server alive with it)."""
    caller.join()
    os._exit(0)


def _read_in_worker(task: Task) -> Reading:
    return read_document(task, rules=_WORKER["rules"], matcher=_WORKER["matcher"], encoding=_WORKER["encoding"])
