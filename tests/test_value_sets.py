"""Each set of values (channels, statuses, kinds, roles) is written once: as a Literal in
its concept's models, whose tuple of values builds the table's check constraint and
whose type the API's schemas use. No other module spells the same set out again."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from keepwell import db

ROOT = Path(__file__).resolve().parents[1] / "keepwell"
IN_LIST = re.compile(r"^(\w+) (?:IS NULL OR \w+ )?IN \(((?:'[^']*'(?:, )?)+)\)$")


def constrained_sets() -> dict[str, tuple[str, ...]]:
    """table.column -> the values its check constraint allows."""
    found: dict[str, tuple[str, ...]] = {}
    for table in db.Base.metadata.sorted_tables:
        for constraint in table.constraints:
            text = str(getattr(constraint, "sqltext", ""))
            match = IN_LIST.match(text)
            if match:
                values = tuple(re.findall(r"'([^']*)'", match.group(2)))
                found[f"{table.name}.{match.group(1)}"] = values
    return found


def literals_written_out() -> dict[tuple[str, ...], list[str]]:
    """The values of every `Literal[...]` written in keepwell/, and where."""
    where: dict[tuple[str, ...], list[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Subscript) and getattr(node.value, "id", "") == "Literal":
                items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                values = tuple(i.value for i in items if isinstance(i, ast.Constant))
                where.setdefault(values, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return where


def test_the_constraints_are_found() -> None:
    sets = constrained_sets()
    assert sets["touches.channel"] == (
        "call", "email", "meeting", "chat", "note", "social", "letter", "gift",
    )  # fmt: skip
    assert sets["touches.sentiment"] == ("positive", "neutral", "negative")
    assert len(sets) >= 15


def test_every_constrained_set_is_one_literal_in_its_models() -> None:
    written = literals_written_out()
    twice = {}
    for column, values in constrained_sets().items():
        places = written.get(values, [])
        in_models = [p for p in places if p.split(":")[0].endswith("models.py")]
        if len(places) != 1 or len(in_models) != 1:
            twice[column] = places
    assert twice == {}
