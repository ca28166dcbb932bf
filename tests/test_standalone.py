"""The repository stands alone: nothing the tests, docs, README, Makefile or CI read
lies outside it, so a clone in any folder passes `make test` with nothing beside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = [ROOT / "README.md", ROOT / "Makefile", *sorted((ROOT / ".ci").rglob("*"))]
for folder in ("tests", "docs", "bench"):
    CHECKED += sorted(p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".md", ".sh", ""})
# what the benchmarks make for themselves (git ignores it): lifetimes' venv, mutants' copies
MADE_LOCALLY = ("__pycache__", ".venv-lifetimes", ".work")
CHECKED = [p for p in CHECKED if p.is_file() and not set(MADE_LOCALLY) & set(p.parts)]

# Written in two parts so that this file does not match itself.
OUTSIDE = re.compile("|".join([r"\.\./" + "shared", r"(?<![\w.])/" + r"work/", r"\bshared/" + "data"]))
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
# Path(__file__).resolve() followed by .parent / .parents[N] steps
FILE_UP = re.compile(r"Path\(__file__\)\.resolve\(\)((?:\.parent(?!s)|\.parents\[\d+\])+)")


def levels_up(steps: str) -> int:
    up = 0
    for step in re.findall(r"\.parents\[(\d+)\]|\.parent", steps):
        up += int(step) + 1 if step else 1
    return up


def outside_references(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    found = [f"{m.group(0)!r}" for m in OUTSIDE.finditer(text)]
    if path.suffix == ".md":
        for m in MD_LINK.finditer(text):
            target = m.group(1).split("#", 1)[0]
            if not target or re.match(r"^[a-z]+:", target):
                continue
            resolved = (path.parent / target).resolve()
            if not resolved.is_relative_to(ROOT):
                found.append(f"link {m.group(1)!r}")
    if path.suffix == ".py":
        depth = len(path.parent.relative_to(ROOT).parts)
        for m in FILE_UP.finditer(text):
            if levels_up(m.group(1)) > depth + 1:
                found.append(f"{m.group(0)!r} climbs above the repository")
    if path.name in {"Makefile", "run"} or path.suffix == ".sh":
        found += [f"{line.strip()!r}" for line in text.splitlines() if "../" in line]
    return found


def test_levels_up_counts_each_step() -> None:
    assert levels_up(".parent") == 1
    assert levels_up(".parents[1]") == 2
    assert levels_up(".parents[1].parent") == 3


def test_the_checker_sees_what_it_looks_for(tmp_path: Path) -> None:
    # The checker itself must be able to fail: a doc linking beside the repo, a test
    # climbing out of it.
    doc = ROOT / "docs" / "x.md"
    assert (doc.parent / "../../beside.md").resolve().is_relative_to(ROOT) is False
    sample = "Path(__file__).resolve()" + ".parents[1].parent / 'elsewhere'"
    match = FILE_UP.search(sample)
    assert match is not None and levels_up(match.group(1)) == 3
    assert OUTSIDE.search("see ../" + "shared/DESIGN.md")


def test_nothing_refers_to_a_path_outside_the_repository() -> None:
    assert len(CHECKED) > 50
    problems = {
        str(path.relative_to(ROOT)): refs for path in CHECKED if (refs := outside_references(path))
    }
    assert problems == {}


def test_the_test_data_is_in_the_repository() -> None:
    from tests.conftest import CDNOW

    assert CDNOW.is_relative_to(ROOT)
    lines = CDNOW.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "customer_id,order_date,quantity,amount"
    assert len(lines) == 6_919 + 1
