"""Reversed and overlapping cue timings give located warnings (issue 12 class 9)."""

from __future__ import annotations

from vbhc_code.ingest.transcripts.captions import _seconds, parse_captions, timing_warnings
from vbhc_code.ingest.transcripts.labels import SpeakerRules

VTT = """WEBVTT

00:00:05.000 --> 00:00:03.000
<v Anna>Hello there.

00:00:06.000 --> 00:00:09.000
<v Ben>Hi.

00:00:08.000 --> 00:00:10.000
<v Anna>Overlap.

00:00:11.000 --> 00:00:12.000
<v Ben>Fine.
"""


def test_reversed_and_overlapping_cues_are_located():
    turns, warnings = parse_captions(VTT, fmt="vtt", rules=SpeakerRules(), name="FG09.vtt")
    assert warnings == ["FG09.vtt line 3: cue timing ends before it starts",
                        "FG09.vtt line 9: cue starts before the cue before it ends (overlapping timings)"]
    assert [t.speaker for t in turns] == ["Anna", "Ben", "Anna", "Ben"]  # still read, in the file's order
    assert not any("Hello" in w or "Overlap" in w for w in warnings)


def test_srt_times_and_many_cues_fold_into_one_line():
    assert _seconds("01:02:03,500") == 3723.5 and _seconds("02:03.250") == 123.25 and _seconds("1:x") is None
    rows = [(3 + 4 * k, 10.0 - k, 5.0 - k) for k in range(7)]
    assert timing_warnings(rows, "a.srt") == [
        "a.srt line 3: cue timing ends before it starts (7 cues: lines 3, 7, 11, 15, 19 ...)"]
    assert timing_warnings([(3, 0.0, 1.0), (7, 1.0, 2.0), (11, 2.0, 2.0)], "ok.vtt") == []  # touching is fine
