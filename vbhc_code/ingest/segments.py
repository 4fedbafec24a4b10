"""The ``segments`` export: one row per turn, contract columns first, then role, timestamp, spans and the
participant's attributes."""

from __future__ import annotations

import json
from collections.abc import Iterator

from vbhc_code.models import Participant
from vbhc_code.store.store import Store


def iter_segment_rows(store: Store) -> Iterator[dict[str, object]]:
    """Rows of the ``segments`` export: the contract columns first, then role, timestamp, spans, attributes."""
    participants = store.participants()
    attr_columns = _attribute_columns(participants)
    for turn in store.turns():
        p = participants.get(turn.participant_id or "")
        row: dict[str, object] = {
            "document": turn.document,
            "turn_index": turn.turn_index,
            "speaker": turn.speaker or "",
            "participant_id": turn.participant_id or "",
            "turn_type": turn.turn_type,
            "start": turn.start,
            "end": turn.end,
            "text": turn.text,
            "role": turn.role,
            "timestamp": "; ".join(turn.timestamps),
            "spans": json.dumps([list(s) for s in turn.text_spans]),
        }
        for key, column in attr_columns.items():
            row[column] = p.attributes.get(key, "") if p else ""
        yield row


SEGMENT_COLUMNS = ("document", "turn_index", "speaker", "participant_id", "turn_type", "start", "end", "text",
                   "role", "timestamp", "spans")


def _attribute_columns(participants: dict[str, Participant]) -> dict[str, str]:
    """Participant attribute -> column name; a name that clashes with a turn column gets 'participant_'."""
    columns: dict[str, str] = {}
    for p in participants.values():
        for key in p.attributes:
            if key not in columns:
                columns[key] = f"participant_{key}" if key in SEGMENT_COLUMNS else key
    return columns


def segment_columns(store: Store) -> list[str]:
    return [*SEGMENT_COLUMNS, *_attribute_columns(store.participants()).values()]
