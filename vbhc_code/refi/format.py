"""How vbhc-code maps its model onto REFI-QDA names, GUIDs, descriptions and typed variables.

GUIDs are uuid5 values, so the same study exports the same GUIDs every time. Codes and themes get GUIDs
from their id alone (the same codebook has the same GUIDs in every project and .qdc), which is also how
an import recognises them: a code named ``VBHC2 outcome_measurement`` whose GUID is the uuid5 of
``VBHC2`` is our code ``VBHC2`` again, even after a trip through another tool that keeps GUIDs.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/vbhc-code/refi-qda")

# Variables written for documents besides their attributes.
DOC_TYPE_VARIABLE = "doc_type"
LANGUAGE_VARIABLE = "language"
FORMAT_VARIABLE = "format"

_PALETTE = (
    "#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B",
    "#E377C2", "#7F7F7F", "#BCBD22", "#17BECF", "#393B79", "#637939",
)
_HEX6 = re.compile(r"^#[0-9A-Fa-f]{6}$")
_SECTIONS = (("label", "Label: "), ("include", "Include: "), ("exclude", "Exclude: "), ("examples", "Examples:\n"))


def make_guid(*parts: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(parts)))


def code_guid(code_id: str) -> str:
    return make_guid("code", code_id)


def theme_guid(theme_id: str) -> str:
    return make_guid("theme", theme_id)


def user_guid(name: str) -> str:
    return make_guid("user", name)


def coded_set_guid(coder: str) -> str:
    return make_guid("coded-by", coder)


def display_name(item_id: str, label: str) -> str:
    """``ID label`` so other tools show both; just the id when the label adds nothing."""
    return item_id if not label or label == item_id else f"{item_id} {label}"


def split_display_name(name: str, guid_key: str, guid_of) -> tuple[str, str] | None:
    """(id, label) when ``name`` is one of our display names, proven by its GUID; else None."""
    from vbhc_code.refi.read import gkey

    if gkey(guid_of(name)) == guid_key:
        return name, name
    for i, ch in enumerate(name):
        if ch == " " and gkey(guid_of(name[:i])) == guid_key:
            return name[:i], name[i + 1 :]
    return None


def color_for(index: int, color: str | None) -> str:
    if color and _HEX6.match(color):
        return color.upper()
    return _PALETTE[index % len(_PALETTE)]


def code_description(definition: str, include: str = "", exclude: str = "", examples: tuple[str, ...] = (),
                     label: str = "") -> str:
    """The definition, then the short label (the name shows the title), include/exclude rules and examples
    as labelled paragraphs."""
    parts = [definition.strip()] if definition.strip() else []
    if label.strip():
        parts.append("Label: " + " ".join(label.split()))
    if include.strip():
        parts.append("Include: " + include.strip())
    if exclude.strip():
        parts.append("Exclude: " + exclude.strip())
    if examples:
        parts.append("Examples:\n" + "\n".join("- " + " ".join(e.split()) for e in examples))
    return "\n\n".join(parts)


def parse_code_description(text: str) -> dict[str, Any]:
    """Inverse of ``code_description`` (a plain description is all definition)."""
    out: dict[str, Any] = {"definition": "", "label": "", "include": "", "exclude": "", "examples": ()}
    paragraphs = text.strip().split("\n\n") if text.strip() else []
    definition: list[str] = []
    current: str | None = None
    for para in paragraphs:
        for key, marker in _SECTIONS:
            if para.startswith(marker):
                current = key
                body = para[len(marker):]
                if key == "examples":
                    out[key] = tuple(line[2:] for line in body.split("\n") if line.startswith("- "))
                else:
                    out[key] = body
                break
        else:
            if current is None:
                definition.append(para)
            elif current != "examples":
                out[current] = out[current] + "\n\n" + para
    out["definition"] = "\n\n".join(definition)
    return out


_INT = re.compile(r"^[+-]?(0|[1-9][0-9]*)$")
_DEC = re.compile(r"^[+-]?([0-9]+\.[0-9]*|\.[0-9]+)$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def value_type(value: str) -> str:
    """The REFI variable type a text value fits without loss (leading zeros stay Text)."""
    if value in ("true", "false"):
        return "Boolean"
    if _INT.match(value):
        return "Integer"
    if _DEC.match(value):
        return "Float"
    if _DATE.match(value):
        try:
            date.fromisoformat(value)
            return "Date"
        except ValueError:
            return "Text"
    return "Text"


def variable_type(values: list[str]) -> str:
    """One type for all values of a variable: the common type, Float for Integer+Float, else Text."""
    types = {value_type(v) for v in values if v != ""}
    if not types:
        return "Text"
    if len(types) == 1:
        return types.pop()
    if types == {"Integer", "Float"}:
        return "Float"
    return "Text"


VALUE_ELEMENT = {
    "Text": "TextValue", "Boolean": "BooleanValue", "Integer": "IntegerValue", "Float": "FloatValue",
    "Date": "DateValue", "DateTime": "DateTimeValue",
}

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """XML 1.0 cannot carry most control characters; replace them (names and descriptions only)."""
    return _XML_BAD.sub("\ufffd", text)
