"""Who a turn is counted and quoted as, when the participants sheet does not say.

Without a sheet (or for a speaker the sheet does not list), a participant-style label is normalised so that
``P2``, ``p2`` and ``P02`` are one person (``P02``). A speaker the sheet does not list is named as such in the
quote attribution and in the Methods, and warned about, so a raw label never passes for a participant id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from vbhc_code.models import Turn

__all__ = ["NOT_IN_SHEET", "normalised_label", "unlisted_speakers", "unlisted_warnings"]

NOT_IN_SHEET = "not in the participants sheet"
_P_STYLE = re.compile(r"^([A-Za-z]{1,2})[ _-]?0*(\d{1,3})$")


def normalised_label(label: str) -> str:
    """``P2``/``p2``/``P 2``/``P02`` -> ``P02``; any other label unchanged."""
    m = _P_STYLE.match(label.strip())
    return f"{m.group(1).upper()}{int(m.group(2)):02d}" if m else label


def unlisted_speakers(turns: Iterable[Turn], participants: Mapping[str, object]) -> dict[str, list[str]]:
    """Speaker label -> documents, for participant turns whose speaker the (non-empty) sheet does not list."""
    if not participants:
        return {}
    out: dict[str, set[str]] = {}
    for t in turns:
        if t.role != "interviewer" and not t.participant_id and t.speaker:
            out.setdefault(normalised_label(t.speaker), set()).add(t.document)
    return {label: sorted(docs) for label, docs in sorted(out.items())}


def unlisted_warnings(unlisted: Mapping[str, list[str]]) -> list[str]:
    return [f"speaker '{label}' ({', '.join(docs)}) is {NOT_IN_SHEET}: counted and quoted under that label; add "
            "it to the sheet (as an alias or with speaker_role interviewer) and ingest again"
            for label, docs in unlisted.items()]
