"""Start-up benchmark: `keepwell --help` and `keepwell agenda` on a small desk.

One command: `.venv/bin/python bench/startup.py [--before REV] [--runs N] [--no-write]`.

Builds a small desk (`keepwell demo --no-serve --customers 200`) in bench/.work, then
times, each in a new process: `keepwell --help`, and `keepwell agenda` on that desk (the
whole team's day): the time to its first byte of output and to its end. Also the floor:
Python alone, `import typer`, and typer with its rich help formatter. With --before REV
the same commands run on that git revision's `keepwell/` package (extracted with `git
archive`, run with this venv), interleaved with this tree's runs so both see the same
load. Medians of N runs (wall clock and CPU time, user + system) go to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, WORK, stamp, write_section

HERE = WORK / "startup"
DESK = HERE / "desk.db"
# Runs the `keepwell` entry point from the package found first on sys.path.
ENTRY = "import sys; sys.path.insert(0, sys.argv.pop(1)); sys.argv[0] = 'keepwell'; "
ENTRY += "from keepwell.cli import main; main()"


# Where `keepwell agenda`'s CPU time goes, phase by phase, in one process (this tree).
MODELS = "SQLAlchemy and every model (keepwell.clikit imports keepwell.db)"
QUERIES = "opening the desk and the whole team's agenda (the queries)"
PRINTING = "printing it: rich tables"
PHASES = f"MODELS, QUERIES, PRINTING = {MODELS!r}, {QUERIES!r}, {PRINTING!r}\n"
PHASES += r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
spent, mark = {}, time.process_time()
def phase(name):
    global mark
    now = time.process_time()
    spent[name] = now - mark
    mark = now
import typer, keepwell.cli
phase("typer and the command table")
import keepwell.clikit
phase(MODELS)
from keepwell import clock
from keepwell.agenda.cli import print_agendas
from keepwell.agenda.service import team_agenda
typer.main.get_command(keepwell.cli.app).commands["agenda"]
phase("the agenda's modules, and typer making its command")
with keepwell.clikit.session_for(sys.argv[2]) as session:
    agendas = team_agenda(session, clock.today(), dates_ahead=7)
phase(QUERIES)
print_agendas(agendas, clock.today())
phase(PRINTING)
print(json.dumps(spent), file=sys.stderr)
"""


@dataclass
class Runs:
    first: list[float] = field(default_factory=list)  # to the first byte of output
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def median(self, name: str) -> float:
        return statistics.median(getattr(self, name))


def run_once(command: list[str], into: Runs) -> None:
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    first = proc.stdout.read(1)
    into.first.append(time.perf_counter() - start)
    rest = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    into.wall.append(time.perf_counter() - start)
    into.cpu.append(usage.ru_utime + usage.ru_stime)
    if os.waitstatus_to_exitcode(status) != 0 or not (first + rest):
        raise SystemExit(f"failed: {' '.join(command)}")


def measure_phases() -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", PHASES, str(ROOT), str(DESK)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    spent: dict[str, float] = json.loads(done.stderr.strip().splitlines()[-1])
    return spent


def extract(revision: str) -> Path:
    """The `keepwell/` package of a git revision, in a folder of its own."""
    target = HERE / f"rev-{revision}"
    if not (target / "keepwell").is_dir():
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "keepwell"],
            capture_output=True,
            check=True,
        ).stdout
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    return target


def build_desk() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for leftover in HERE.glob("desk.db*"):
        leftover.unlink()
    subprocess.run(
        [sys.executable, "-m", "keepwell", "demo", "--no-serve", "--customers", "200", "-d", DESK],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", help="a git revision to compare with (e.g. main~3)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    build_desk()
    trees = {"this tree": ROOT}
    if args.before:
        trees = {f"before ({args.before})": extract(args.before), **trees}
    commands = {"keepwell --help": ["--help"], "keepwell agenda": ["agenda", "-d", str(DESK)]}
    floors = {
        "python -c pass": "pass",
        "import typer": "import typer",
        "import typer.rich_utils (typer's rich help)": "import typer.rich_utils",
    }
    results: dict[tuple[str, str], Runs] = {}
    phases: list[dict[str, float]] = []
    for _ in range(args.runs):  # interleaved: every version sees the same load
        for tree, path in trees.items():
            for name, argv in commands.items():
                run_once(
                    [sys.executable, "-c", ENTRY, str(path), *argv],
                    results.setdefault((tree, name), Runs()),
                )
        phases.append(measure_phases())
        for name, code in floors.items():
            run_once(
                [sys.executable, "-c", f"{code}; print()"],
                results.setdefault(("floor", name), Runs()),
            )
    load = os.getloadavg()
    rows = []
    for (tree, name), runs in results.items():
        first = f"{runs.median('first'):.2f} s" if name == "keepwell agenda" else "—"
        rows.append(
            f"| {name} | {tree} | {first} | {runs.median('wall'):.2f} s | "
            f"{runs.median('cpu'):.2f} s | {min(runs.wall):.2f} s |"
        )
    cpu = {key: runs.median("cpu") for key, runs in results.items()}
    formatter = cpu[("floor", "import typer.rich_utils (typer's rich help)")]
    summary = (
        f"`keepwell --help` takes {cpu[('this tree', 'keepwell --help')]:.2f} s of CPU, of "
        f"which importing typer and its rich help formatter alone takes {formatter:.2f} s "
        "(the last floor row): it imports no command."
    )
    if args.before:
        before = f"before ({args.before})"
        summary += (
            f" Before, it imported every command (SQLAlchemy, the models, the services): "
            f"{cpu[(before, 'keepwell --help')] / cpu[('this tree', 'keepwell --help')]:.1f}× "
            "the CPU time."
        )
    spent = {name: statistics.median(p[name] for p in phases) for name in phases[0]}
    before_output = cpu[("floor", "python -c pass")] + sum(spent.values()) - spent[PRINTING]
    share = spent[MODELS] / before_output
    body = "\n".join(
        [
            "## Start-up: `keepwell --help` and `keepwell agenda` (bench/startup.py)",
            "",
            stamp(),
            f"Each command a new process, the median of {args.runs} runs (each version's runs "
            "interleaved, so all see the same load); wall clock and CPU time (user + "
            f"system). The machine is shared: the load average was {load[0]:.1f} at the end "
            "(2 cores), so wall times carry others' work and CPU time is the steadier "
            "figure. `keepwell agenda` is the whole team's day on a desk made by "
            "`keepwell demo --no-serve --customers 200`; first output is the time to its "
            "first byte.",
            "",
            "| command | code | first output | wall | CPU | fastest run (wall) |",
            "|---|---|---:|---:|---:|---:|",
            *rows,
            "",
            summary,
            "",
            "Where `keepwell agenda`'s CPU time goes (this tree, one process, median of "
            f"{args.runs} runs; the interpreter's own start is the `python -c pass` row):",
            "",
            "| phase | CPU |",
            "|---|---:|",
            *(f"| {name} | {seconds:.3f} s |" for name, seconds in spent.items()),
            "",
            f"The first line waits for all but the printing; of the CPU time before it, "
            f"SQLAlchemy and the models take {share:.0%}, the queries "
            f"{spent[QUERIES] / before_output:.0%}.",
        ]
    )
    print(body)
    if not args.no_write:
        write_section("startup", body)


if __name__ == "__main__":
    main()
