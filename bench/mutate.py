"""Mutation testing of the rules people rely on: `make mutate`.

One command: `.venv/bin/python bench/mutate.py [--only NAME …] [--jobs N]`. For each
module listed in bench/mutate.toml it makes deliberate small bugs (mutants) with
Cosmic Ray, one at a time, and runs only the tests the file maps to that module; a
mutant the tests do not notice *survives*. It writes each module's mutation score and
every surviving mutant, with the reason the file gives for it (an equivalent mutant:
why no test can tell it apart; a mutant left alive on purpose: why a test would cost more
than it guards; it still counts against the score), to docs/testing.md between the
`mutate` markers.

How a module is run:

- in a copy of keepwell/ and tests/ of its own under bench/.work/mutate/ (Cosmic Ray
  writes each mutant into the file on disk; the checkout is never touched, and two
  modules run side by side with --jobs);
- the tests once unmutated first (they must pass), then once per mutant with a timeout
  of a few times that run (a mutant that hangs the tests counts as killed);
- on SQLite only (`-k "not postgresql"`): the rules are the same on both databases,
  and the PostgreSQL runs of `make test` check that the two agree;
- the mutation operators are Cosmic Ray's, narrowed as the file's `[operators]` says
  (one counterpart per arithmetic operator and the boundary and negation of each
  comparison, as PIT does), and never inside a type annotation (annotations are not
  evaluated here: such a mutant could never be killed).

A module's tests are listed in two groups: the tests it had, then `added`, the tests
written to kill its survivors. They run in that order and stop at the first failure,
so a mutant whose first failing test is an added one got past every earlier test: it
is counted as killed by an added test.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "bench" / "mutate.toml"
WORK = ROOT / "bench" / ".work" / "mutate"
DOCS = ROOT / "docs" / "testing.md"
PYTHON = Path(sys.executable)
COSMIC_RAY = PYTHON.parent / "cosmic-ray"
BEGIN, END = "<!-- mutate -->", "<!-- /mutate -->"
PYTEST = [
    "-m", "pytest", "-x", "-q", "--no-header", "-rfE", "-p", "no:cacheprovider",
    "-k", "not postgresql",
]  # fmt: skip


@dataclass(frozen=True)
class Equivalent:
    line: str  # the source line, as written
    to: str  # the line as the mutant has it
    why: str
    above: str = ""  # the line just above, as written: for a line the module has twice

    def matches(self, before: str, after: str, above: str) -> bool:
        return (_norm(self.line), _norm(self.to)) == (_norm(before), _norm(after)) and (
            not self.above or _norm(self.above) == _norm(above)
        )


@dataclass(frozen=True)
class Module:
    name: str
    path: str
    rule: str
    scope: tuple[str, ...]
    tests: tuple[str, ...]
    added: tuple[str, ...]
    equivalent: tuple[Equivalent, ...]
    left: tuple[Equivalent, ...] = ()  # not equivalent, left alive on purpose (counted)
    conftest: bool = True  # False: pure tests, run without tests/conftest.py (faster)


@dataclass
class Mutant:
    line: int
    operator: str
    before: str
    after: str
    outcome: str  # killed, survived, incompetent
    killer: str = ""  # the first test that failed
    why: str = ""  # for a survivor: why it is equivalent (empty: not explained)
    left: str = ""  # for a survivor that is not equivalent: why no test kills it


@dataclass
class Result:
    module: Module
    seconds: float = 0.0
    baseline_seconds: float = 0.0
    skipped: int = 0
    mutants: list[Mutant] = field(default_factory=list)
    error: str = ""
    not_run: int = 0  # mutants left when the run was stopped (read back by --from-sessions)
    finished: str = ""  # when the run ended (UTC)

    @property
    def killed(self) -> list[Mutant]:
        return [m for m in self.mutants if m.outcome != "survived"]

    @property
    def survivors(self) -> list[Mutant]:
        return [m for m in self.mutants if m.outcome == "survived"]

    @property
    def equivalent(self) -> list[Mutant]:
        return [m for m in self.survivors if m.why]

    @property
    def left(self) -> list[Mutant]:
        return [m for m in self.survivors if m.left]

    @property
    def unexplained(self) -> list[Mutant]:
        return [m for m in self.survivors if not m.why and not m.left]

    @property
    def by_added(self) -> int:
        added = {t.split("::")[0] for t in self.module.added}
        return sum(1 for m in self.killed if m.killer.split("::")[0] in added)

    @property
    def by_timeout(self) -> int:
        return sum(1 for m in self.killed if m.killer == "(timeout)")

    @property
    def score(self) -> float | None:
        """Killed among the mutants that are not equivalent."""
        counted = len(self.mutants) - len(self.equivalent)
        return len(self.killed) / counted if counted else None


# --- the mapping ----------------------------------------------------------------------


def load(path: Path = CONFIG) -> tuple[dict[str, Any], list[Module]]:
    raw = tomllib.loads(path.read_text())
    modules = [
        Module(
            name=m["name"],
            path=m["path"],
            rule=m["rule"],
            scope=tuple(m.get("scope", ())),
            tests=tuple(m["tests"]),
            added=tuple(m.get("added", ())),
            equivalent=tuple(Equivalent(**e) for e in m.get("equivalent", ())),
            left=tuple(Equivalent(**e) for e in m.get("left", ())),
            conftest=m.get("conftest", True),
        )
        for m in raw["module"]
    ]
    names = [m.name for m in modules]
    if len(set(names)) != len(names):
        raise SystemExit("bench/mutate.toml: two modules have the same name")
    return raw, modules


# --- which mutations count ------------------------------------------------------------


def _char_col(lines: list[str], lineno: int, byte_col: int) -> int:
    return len(lines[lineno - 1].encode()[:byte_col].decode(errors="replace"))


Span = tuple[tuple[int, int], tuple[int, int]]


def _span(lines: list[str], node: ast.AST) -> Span:
    start = (node.lineno, _char_col(lines, node.lineno, node.col_offset))  # type: ignore[attr-defined]
    end_line = node.end_lineno or node.lineno  # type: ignore[attr-defined]
    end = (end_line, _char_col(lines, end_line, node.end_col_offset or 0))  # type: ignore[attr-defined]
    return start, end


def annotation_spans(source: str) -> list[Span]:
    """Where the type annotations are (never evaluated: `from __future__ import
    annotations` is in every module)."""
    lines = source.splitlines()
    spans: list[Span] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.arg) and node.annotation is not None:
            spans.append(_span(lines, node.annotation))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            spans.append(_span(lines, node.returns))
        elif isinstance(node, ast.AnnAssign):
            spans.append(_span(lines, node.annotation))
    return spans


def scope_spans(source: str, scope: tuple[str, ...]) -> list[tuple[int, int]]:
    """The lines of the named top-level definitions (`name`, or `Class.method`)."""
    found: dict[str, tuple[int, int]] = {}
    tree = ast.parse(source)

    def lines_of(node: ast.stmt) -> tuple[int, int]:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        return first, node.end_lineno or node.lineno

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found[node.name] = lines_of(node)
            if isinstance(node, ast.ClassDef):
                for inner in node.body:
                    if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
                        found[f"{node.name}.{inner.name}"] = lines_of(inner)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = lines_of(node)
    missing = [name for name in scope if name not in found]
    if missing:
        raise SystemExit(f"bench/mutate.toml: no {', '.join(missing)} in the module")
    return [found[name] for name in scope]


def _inside(pos: tuple[int, int], span: Span) -> bool:
    return span[0] <= pos < span[1] or pos == span[0]


def parameter_marker(lines: list[str], start: tuple[int, int]) -> bool:
    """Whether `start` is a bare `*` or `/` of a signature (Cosmic Ray takes them for
    operators; a caller passing those arguments by name cannot tell the change)."""
    text = lines[start[0] - 1] if 0 < start[0] <= len(lines) else ""
    if text[start[1] : start[1] + 1] not in ("*", "/"):
        return False
    rest = text[start[1] + 1 :].lstrip()
    return rest[:1] in (",", ")") or (rest == "" and text.rstrip().endswith(("*", "/")))


def skip_reason(
    operator: str,
    start: tuple[int, int],
    allowed: list[re.Pattern[str]],
    annotations: list[Span],
    scope: list[tuple[int, int]] | None,
    lines: list[str] | None = None,
) -> str:
    name = operator.removeprefix("core/")
    if not any(p.fullmatch(name) for p in allowed):
        return "operator not used"
    if any(_inside(start, span) for span in annotations):
        return "in a type annotation"
    if lines is not None and name.startswith("ReplaceBinaryOperator") and parameter_marker(lines, start):
        return "a parameter marker"
    if scope is not None and not any(a <= start[0] <= b for a, b in scope):
        return "outside the rule's functions"
    return ""


def planned(module: Module, settings: dict[str, Any], root: Path = ROOT) -> list[Any]:
    """The mutations of `module` that count (Cosmic Ray's work items, filtered)."""
    from cosmic_ray.commands.init import _all_work_items

    source = (root / module.path).read_text()
    annotations = annotation_spans(source)
    scope = scope_spans(source, module.scope) if module.scope else None
    allowed = [re.compile(p) for p in settings["operators"]]
    return [
        item
        for item in _all_work_items([root / module.path], {})
        if not skip_reason(
            item.mutations[0].operator_name,
            tuple(item.mutations[0].start_pos),
            allowed,
            annotations,
            scope,
            source.splitlines(),
        )
    ]


# --- one module -----------------------------------------------------------------------


def _copy_tree(dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("keepwell", "tests"):
        shutil.copytree(ROOT / part, dest / part, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    # compiled once (checked against the source's hash, so a mutant is never run stale)
    subprocess.run(
        [str(PYTHON), "-m", "compileall", "-q", "--invalidation-mode", "checked-hash",
         "keepwell", "tests"],
        cwd=dest, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # no Schemathesis/Playwright/xdist start-up
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("KEEPWELL_REQUIRE_POSTGRES", None)  # SQLite only, by choice (see the module's doc)
    return env


def _killer(output: str) -> str:
    if output.strip() == "timeout":
        return "(timeout)"
    for line in output.splitlines():
        found = re.match(r"^(FAILED|ERROR) (\S+)", line)
        if found:
            return found.group(2)
    return "(the tests could not run)"


def _changed_lines(diff: str) -> tuple[int, str, str]:
    """The first changed line of a unified diff: (line number, before, after)."""
    line_no, before, after = 0, "", ""
    current = 0
    for text in diff.splitlines():
        hunk = re.match(r"^@@ -(\d+)", text)
        if hunk:
            current = int(hunk.group(1))
            continue
        if text.startswith(("---", "+++")):
            continue
        if text.startswith("-") and not before:
            line_no, before = current, text[1:]
            current += 1
        elif text.startswith("+") and not after:
            after = text[1:]
        elif text.startswith(" "):
            current += 1
    return line_no, before, after


def _norm(text: str) -> str:
    return " ".join(text.split())


def run_module(module: Module, settings: dict[str, Any], log: Any) -> Result:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    result = Result(module)
    start = time.monotonic()
    where = WORK / module.name
    _copy_tree(where)
    tests = [*module.tests, *module.added]
    if not module.conftest:
        tests = ["--noconftest", *tests]
    test_command = " ".join([str(PYTHON), *[f'"{a}"' if " " in a else a for a in PYTEST], *tests])
    env = _env()

    began = time.monotonic()
    baseline = subprocess.run(
        [str(PYTHON), *PYTEST, *tests], cwd=where, env=env, capture_output=True, text=True
    )
    result.baseline_seconds = time.monotonic() - began
    if baseline.returncode != 0:
        result.error = "the tests fail without any mutation:\n" + baseline.stdout[-3000:]
        result.seconds = time.monotonic() - start
        return result
    timeout = max(float(settings["timeout_floor"]), settings["timeout_factor"] * result.baseline_seconds)
    config = where / "cosmic-ray.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(module.path)}\n"
        f"timeout = {timeout:.1f}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(test_command)}\n\n"
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    session = where / "session.sqlite"
    subprocess.run(
        [str(COSMIC_RAY), "init", str(config), str(session)], cwd=where, env=env, check=True
    )

    source = (where / module.path).read_text()
    annotations = annotation_spans(source)
    scope = scope_spans(source, module.scope) if module.scope else None
    allowed = [re.compile(p) for p in settings["operators"]]
    with use_db(str(session), WorkDB.Mode.open) as db:
        skip = []
        for item in db.pending_work_items:
            mutation = item.mutations[0]
            why = skip_reason(
                mutation.operator_name,
                tuple(mutation.start_pos),
                allowed,
                annotations,
                scope,
                source.splitlines(),
            )
            if why:
                skip.append(item.job_id)
        db.set_multiple_results(
            skip, WorkResult(output="skipped", worker_outcome=WorkerOutcome.SKIPPED)
        )
        result.skipped = len(skip)
        pending = db.num_work_items - len(skip)
    log(f"{module.name}: {pending} mutants (tests {result.baseline_seconds:.1f} s unmutated)")

    subprocess.run(
        [str(COSMIC_RAY), "exec", str(config), str(session)],
        cwd=where,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    read_session(result, session, log)
    result.seconds = time.monotonic() - start
    result.finished = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    # the outcomes (each mutant's diff and test output) stay: bench/.work/mutate/NAME.sqlite,
    # with the run's times in NAME.json (--from-sessions reports them again)
    shutil.copy(session, WORK / f"{module.name}.sqlite")
    times = {"seconds": result.seconds, "baseline_seconds": result.baseline_seconds}
    (WORK / f"{module.name}.json").write_text(json.dumps({**times, "finished": result.finished}))
    shutil.rmtree(where, ignore_errors=True)
    return result


def read_session(result: Result, session: Path, log: Any) -> None:
    """The outcomes Cosmic Ray stored in `session` (those run so far), into `result`."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome

    module = result.module
    lines = (ROOT / module.path).read_text().splitlines()
    used: set[Equivalent] = set()

    def explain(entries: tuple[Equivalent, ...], mutant: Mutant) -> str:
        above = lines[mutant.line - 2] if mutant.line >= 2 else ""
        for entry in entries:
            if entry.matches(mutant.before, mutant.after, above):
                used.add(entry)
                return entry.why
        return ""

    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, outcome in db.completed_work_items:
            if outcome.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            mutation = item.mutations[0]
            if mutation.operator_name.startswith("core/ReplaceBinaryOperator") and (
                parameter_marker(lines, tuple(mutation.start_pos))
            ):
                continue  # a session made before such markers were left out
            if outcome.worker_outcome != WorkerOutcome.NORMAL:
                made = Mutant(mutation.start_pos[0], mutation.operator_name, "", "", "incompetent")
                made.killer = "(no mutant made)"
                result.mutants.append(made)
                continue
            line_no, before, after = _changed_lines(outcome.diff or "")
            survived = outcome.test_outcome == "survived"
            mutant = Mutant(
                line=line_no or mutation.start_pos[0],
                operator=mutation.operator_name.removeprefix("core/"),
                before=before.strip(),
                after=after.strip(),
                outcome="survived" if survived else "killed",
                killer="" if survived else _killer(outcome.output or ""),
            )
            if survived:
                mutant.why = explain(module.equivalent, mutant)
                mutant.left = "" if mutant.why else explain(module.left, mutant)
            result.mutants.append(mutant)
    result.mutants.sort(key=lambda m: (m.line, m.operator, m.after))
    for e in (*module.equivalent, *module.left):
        if e in used:
            continue
        log(f"{module.name}: the explained mutant `{e.line}` -> `{e.to}` no longer survives")



# --- the report -----------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def summary_row(r: Result) -> str:
    if r.error:
        return f"| {_code(r.module.path)} | {r.module.rule} | failed: see below | | | | | |"
    return (
        f"| {_code(r.module.path)} | {r.module.rule} | {len(r.mutants)} | {len(r.killed)} "
        f"| {len(r.equivalent)} | {len(r.left)} | {len(r.unexplained)} | {_pct(r.score)} |"
    )


def module_section(r: Result) -> str:
    m = r.module
    tests = ", ".join(_code(t) for t in m.tests)
    added = ", ".join(_code(t) for t in m.added) or "none"
    lines = [
        f"<!-- mutate:{m.name} -->",
        f"#### {_code(m.path)}: {m.rule}",
        "",
    ]
    if m.scope:
        lines.append("Mutated: " + ", ".join(_code(s) for s in m.scope) + ".")
    lines += [f"Tests: {tests}; added: {added}.", ""]
    if r.error:
        lines += ["```", r.error.strip(), "```"]
    else:
        ran = (
            f"{r.seconds / 60:.1f} min (the tests take {r.baseline_seconds:.1f} s unmutated), "
            f"ended {r.finished}."
            if not r.not_run
            else f"**Stopped early: {r.not_run} more mutants not run**; time not recorded."
        )
        timeouts = f", {r.by_timeout} by a timeout" if r.by_timeout else ""
        lines.append(
            f"{len(r.mutants)} mutants, {len(r.killed)} killed ({r.by_added} of them first by an "
            f"added test{timeouts}), {len(r.equivalent)} equivalent, {len(r.left)} left alive "
            f"(why below), {len(r.unexplained)} not explained: score {_pct(r.score)}. {ran}"
        )
        if r.survivors:
            lines += ["", "| line | mutation | why it survives |", "|---|---|---|"]
            for s in r.survivors:
                why = s.why or (
                    f"**left alive** (not equivalent): {s.left}" if s.left else
                    "**not explained**: a test is missing"
                )  # fmt: skip
                change = f"{_code(s.before)} → {_code(s.after)}"
                lines.append(f"| {m.path}:{s.line} | {change} | {why} |")
    lines.append(f"<!-- /mutate:{m.name} -->")
    return "\n".join(lines)


SUMMARY_HEAD = (
    "| module | the rule | mutants | killed | equivalent | left alive | not explained | score |\n"
    "|---|---|---|---|---|---|---|---|"
)


def write_docs(results: list[Result], modules: list[Module], stamp: str) -> None:
    text = DOCS.read_text()
    if BEGIN not in text:
        text = text.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    body, tail = rest.split(END, 1)
    ran = {r.module.name: r for r in results}
    sections = {}
    rows = {}
    for m in modules:
        if m.name in ran:
            sections[m.name] = module_section(ran[m.name])
            rows[m.name] = summary_row(ran[m.name])
            continue
        found = re.search(rf"<!-- mutate:{m.name} -->.*?<!-- /mutate:{m.name} -->", body, re.S)
        sections[m.name] = found.group(0) if found else f"<!-- mutate:{m.name} -->\n#### {_code(m.path)}: not run yet\n<!-- /mutate:{m.name} -->"
        row = re.search(rf"^\| {re.escape(_code(m.path))} \|.*$", body, re.M)
        rows[m.name] = row.group(0) if row else f"| {_code(m.path)} | {m.rule} | not run yet | | | | | |"
    stamps = re.search(r"^_Last run:.*$", body, re.M)
    if not stamp:  # one module as it ends: the run's line comes at its end
        last = stamps.group(0) if stamps else "_Last run: not finished yet._"
    elif len(results) == len(modules) or not stamps:
        last = stamp
    else:
        last = stamp.replace("_Last run:", "_Last run of some modules:")
    new_body = "\n".join(
        [
            "",
            last,
            "",
            SUMMARY_HEAD,
            *[rows[m.name] for m in modules],
            "",
            *[sections[m.name] + "\n" for m in modules],
        ]
    )
    DOCS.write_text(head + BEGIN + new_body + END + tail)


# --- the command ----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", default=None, help="module names (bench/mutate.toml)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATE_JOBS", "2")))
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/testing.md")
    parser.add_argument("--plan", action="store_true", help="count the mutants; run nothing")
    parser.add_argument(
        "--from-sessions", action="store_true",
        help="run nothing: report again what the runs left in bench/.work/mutate (a stopped "
        "run's mutants so far, else the last run that ended: after explaining a survivor)",
    )  # fmt: skip
    args = parser.parse_args()
    raw, modules = load()
    chosen = modules
    if args.only:
        unknown = set(args.only) - {m.name for m in modules}
        if unknown:
            raise SystemExit(f"unknown module(s): {', '.join(sorted(unknown))}")
        chosen = [m for m in modules if m.name in args.only]
    settings = raw["settings"]
    if args.plan:
        for m in chosen:
            print(f"{m.name:14} {len(planned(m, settings)):4} mutants  {m.path}")
        return

    def log(text: str) -> None:
        print(text, flush=True)

    if args.from_sessions:
        from cosmic_ray.work_db import WorkDB, use_db

        salvaged = []
        for m in chosen:
            session = WORK / m.name / "session.sqlite"  # a run that was stopped
            ended = WORK / f"{m.name}.sqlite"  # the last run that ended
            result = Result(m)
            if session.exists():
                read_session(result, session, log)
                with use_db(str(session), WorkDB.Mode.open) as db:
                    result.not_run = len(db.pending_work_items)
            elif ended.exists():
                read_session(result, ended, log)
                times = json.loads((WORK / f"{m.name}.json").read_text())
                result.seconds, result.baseline_seconds = times["seconds"], times["baseline_seconds"]
                result.finished = times["finished"]
            else:
                continue
            salvaged.append(result)
            log(f"{m.name}: {len(result.mutants)} run, {result.not_run} not run")
        if not args.no_docs:
            write_docs(salvaged, modules, "")
        return

    began = time.monotonic()
    lock = threading.Lock()

    def run_one(module: Module) -> Result:
        result = run_module(module, settings, log)
        if not args.no_docs:  # each module as it ends: an interrupted run keeps what it did
            with lock:
                write_docs([result], modules, "")
        log(f"{module.name}: done in {result.seconds / 60:.1f} min, score {_pct(result.score)}")
        return result

    # the largest first, so two jobs end at about the same time
    order = sorted(chosen, key=lambda m: -(ROOT / m.path).stat().st_size)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(run_one, order))
    elapsed = time.monotonic() - began
    results.sort(key=lambda r: [m.name for m in modules].index(r.module.name))

    print()
    print(SUMMARY_HEAD)
    for r in results:
        print(summary_row(r))
    for r in results:
        for s in r.unexplained:
            print(f"SURVIVED {r.module.path}:{s.line} [{s.operator}] {s.before!r} -> {s.after!r}")
        if r.error:
            print(f"FAILED {r.module.name}: {r.error}")
    total = sum(len(r.mutants) for r in results)
    by_added = sum(r.by_added for r in results)
    stamp = (
        f"_Last run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {len(results)} module(s), "
        f"{total} mutants ({by_added} killed first by an added test), {elapsed / 60:.1f} min "
        f"of wall time with {args.jobs} job(s) on {os.cpu_count()} cores._"
    )
    print(stamp)
    if not args.no_docs:
        write_docs(results, modules, stamp)
    below = [
        r for r in results if r.error or (r.score is not None and r.score < settings["required_score"])
    ]
    if below:
        names = ", ".join(r.module.name for r in below)
        raise SystemExit(f"below {settings['required_score']:.0%} (or failed): {names}")


if __name__ == "__main__":
    main()
