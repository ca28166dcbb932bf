"""Model benchmark: BG/NBD + Gamma-Gamma on 1,000,000 customers, Keepwell beside `lifetimes`.

One command: `.venv/bin/python bench/models.py [--customers N] [--runs R] [--no-write]`.

The customers are drawn from BG/NBD and Gamma-Gamma with the CDNOW parameters over a
39-week window, with times in whole days (as a summary of real orders has them), and
saved once. Keepwell (this venv) and `lifetimes` 0.11.3 (its own venv,
bench/.venv-lifetimes, created on first run: lifetimes needs numpy<2, pandas<2,
scipy<1.12) then each fit BG/NBD and Gamma-Gamma and predict, for every customer,
P(alive), the expected purchases of the next 13 weeks and the expected average order
value. Both are timed in their own process on the same file; the parameters must agree
to 4 significant digits.

End to end, as a user runs them, on the same customers written once as a summary CSV:
`keepwell model fit --summary FILE` (a process that starts, reads the file, fits BG/NBD
and Gamma-Gamma and prints) beside a Python process with lifetimes that reads the file
with pandas and fits BetaGeoFitter; R runs of each, interleaved, the median. A third
process times the parts of Keepwell's run (start-up and imports, reading, fitting).
Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, VENV_BIN, WORK, stamp, write_section

LIFETIMES_VENV = ROOT / "bench" / ".venv-lifetimes"
LIFETIMES_PACKAGES = [
    "lifetimes==0.11.3",
    "numpy<2",
    "pandas<2",
    "scipy<1.12",
    "autograd",
    "dill",
    "setuptools",
]
HORIZON_WEEKS = 13.0

LIFETIMES_RUN = r"""
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from lifetimes import BetaGeoFitter, GammaGammaFitter
d = np.load(sys.argv[1])
x, t, T, m = d["frequency"], d["recency"], d["T"], d["monetary_value"]
out = {}
start = time.perf_counter()
bg = BetaGeoFitter().fit(x, t, T)
out["fit_bgnbd"] = time.perf_counter() - start
rep = x > 0
start = time.perf_counter()
gg = GammaGammaFitter().fit(x[rep], m[rep])
out["fit_gamma_gamma"] = time.perf_counter() - start
start = time.perf_counter()
pa = bg.conditional_probability_alive(x, t, T)
e = bg.conditional_expected_number_of_purchases_up_to_time(HORIZON, x, t, T)
v = gg.conditional_expected_average_profit(x, m)
out["predict"] = time.perf_counter() - start
out["params"] = {k: float(bg.params_[k]) for k in ("r", "alpha", "a", "b")}
out["gg_params"] = {k: float(gg.params_[k]) for k in ("p", "q", "v")}
out["nan_predictions"] = int(np.isnan(np.asarray(pa)).sum() + np.isnan(np.asarray(e)).sum())
out["expected_total"] = float(np.nansum(np.asarray(e)))
print(json.dumps(out))
"""


# lifetimes as its users run it on a summary file: pandas reads it, BetaGeoFitter fits
LIFETIMES_END_TO_END = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import pandas as pd
from lifetimes import BetaGeoFitter
d = pd.read_csv(sys.argv[1])
bg = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
print(json.dumps({k: float(bg.params_[k]) for k in ("r", "alpha", "a", "b")}))
"""

# Keepwell's run in parts: the same command, run by keepwell.cli.main in this process,
# with the reading and the fitting marked (wall and CPU seconds of each part)
KEEPWELL_PARTS = r"""
import json, os, sys, time
parts = {}
def now():
    times = os.times()
    return time.perf_counter(), times.user + times.system
last = [now()]
def mark(name):
    t = now()
    parts[name] = [t[0] - last[0][0], t[1] - last[0][1]]
    last[0] = t
import numpy
mark("numpy")
from keepwell.cli import main
import keepwell.scoring.cli
mark("command line")
import pyarrow.csv
from keepwell.scoring import fitting, summary_csv
mark("models and reader")
read, fit = summary_csv.read_summary_csv, fitting.fit
def timed_read(*args):
    mark("dispatch")
    result = read(*args)
    mark("read")
    return result
def timed_fit(*args, **kwargs):
    result = fit(*args, **kwargs)
    mark("fit")
    return result
summary_csv.read_summary_csv, fitting.fit = timed_read, timed_fit
sys.argv = ["keepwell", "model", "fit", "--summary", sys.argv[1], "--json"]
try:
    main()
except SystemExit:
    pass
mark("output")
print(json.dumps(parts), file=sys.stderr)
"""


def synthetic(customers: int, path: Path) -> None:
    from keepwell.analytics.simulate import bgnbd_summary

    s = bgnbd_summary(customers, seed=2005)
    # whole days, as a summary of real orders has them (weeks = days / 7)
    big_t = np.round(s.T * 7.0)
    recency = np.minimum(np.floor(s.recency * 7.0), big_t)
    recency[s.frequency == 0] = 0.0
    np.savez(
        path,
        frequency=s.frequency,
        recency=recency / 7.0,
        T=big_t / 7.0,
        monetary_value=np.round(s.monetary_value, 2),
    )


def keepwell_run(path: Path) -> dict[str, object]:
    code = r"""
import json, sys, time
import numpy as np
from keepwell.analytics import BetaGeoFitter, GammaGammaFitter
d = np.load(sys.argv[1])
x, t, T, m = d["frequency"], d["recency"], d["T"], d["monetary_value"]
out = {}
start = time.perf_counter()
bg = BetaGeoFitter().fit(x, t, T)
out["fit_bgnbd"] = time.perf_counter() - start
start = time.perf_counter()
gg = GammaGammaFitter().fit(x, m)
out["fit_gamma_gamma"] = time.perf_counter() - start
start = time.perf_counter()
pa = bg.conditional_probability_alive(x, t, T)
e = bg.conditional_expected_number_of_purchases_up_to_time(HORIZON, x, t, T)
v = gg.conditional_expected_average_profit(x, m)
out["predict"] = time.perf_counter() - start
out["params"] = bg.params_
out["gg_params"] = gg.params_
out["nan_predictions"] = int(np.isnan(pa).sum() + np.isnan(e).sum())
out["expected_total"] = float(e.sum())
print(json.dumps(out))
""".replace("HORIZON", repr(HORIZON_WEEKS))
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
        cwd=ROOT,
    )  # fmt: skip
    result: dict[str, object] = json.loads(done.stdout)
    return result


def lifetimes_run(path: Path) -> dict[str, object]:
    python = LIFETIMES_VENV / "bin" / "python"
    if not python.exists():
        print("creating bench/.venv-lifetimes …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(LIFETIMES_VENV)], check=True)
        subprocess.run(
            [str(LIFETIMES_VENV / "bin" / "pip"), "install", "-q", *LIFETIMES_PACKAGES], check=True
        )
    code = LIFETIMES_RUN.replace("HORIZON", repr(HORIZON_WEEKS))
    done = subprocess.run(
        [str(python), "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def summary_csv(npz: Path, path: Path) -> None:
    """The customers as a summary CSV (exact decimal forms of the floats)."""
    d = np.load(npz)
    table = np.column_stack([d["frequency"], d["recency"], d["T"], d["monetary_value"]])
    np.savetxt(
        path, table, fmt=["%d", "%.17g", "%.17g", "%.17g"], delimiter=",",
        header="frequency,recency,T,monetary_value", comments="",
    )  # fmt: skip


def end_to_end(path: Path, runs: int) -> dict[str, object]:
    """Both commands end to end, `runs` times each, interleaved; medians."""
    python = str(LIFETIMES_VENV / "bin" / "python")
    ours_cmd = [str(VENV_BIN / "keepwell"), "model", "fit", "--summary", str(path), "--json"]
    theirs_cmd = [python, "-c", LIFETIMES_END_TO_END, str(path)]
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    ours_out = theirs_out = ""
    for _ in range(runs):
        wall, cpu, ours_out, _ = timed_rusage(ours_cmd)
        ours.append((wall, cpu))
        wall, cpu, theirs_out, _ = timed_rusage(theirs_cmd)
        theirs.append((wall, cpu))
    parts = []
    for _ in range(runs):
        wall, cpu, _, err = timed_rusage([sys.executable, "-c", KEEPWELL_PARTS, str(path)])
        found = json.loads(err.strip().splitlines()[-1])
        # the rest of the process: starting Python, and tearing it down at exit
        found["python"] = [wall - sum(w for w, _ in found.values()),
                           cpu - sum(c for _, c in found.values())]  # fmt: skip
        parts.append(found)
    return {
        "keepwell": [statistics.median(w for w, _ in ours), statistics.median(c for _, c in ours)],
        "lifetimes": [
            statistics.median(w for w, _ in theirs), statistics.median(c for _, c in theirs)
        ],
        "keepwell_params": json.loads(ours_out)["bgnbd"],
        "lifetimes_params": json.loads(theirs_out.strip().splitlines()[-1]),
        "parts": {
            name: [statistics.median(p[name][i] for p in parts) for i in (0, 1)]
            for name in parts[0]
        },
    }


def timed_rusage(cmd: list[str]) -> tuple[float, float, str, str]:
    """(wall seconds, CPU seconds of the process, its stdout, its stderr)."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, cwd=ROOT)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        err = errors.read().decode()
        if proc.returncode != 0:
            raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_utime + usage.ru_stime, out.decode(), err


def end_to_end_text(e2e: dict[str, Any], customers: int, path: Path, runs: int) -> list[str]:
    ours_wall, ours_cpu = e2e["keepwell"]
    theirs_wall, theirs_cpu = e2e["lifetimes"]
    ours_p, theirs_p = e2e["keepwell_params"], e2e["lifetimes_params"]
    names = ("r", "alpha", "a", "b")
    agree = all(significant(ours_p[k], theirs_p[k]) for k in names)
    parts = e2e["parts"]
    ratio = theirs_wall / ours_wall
    verdict = "meets" if ratio >= 10 else "misses"
    where = "; ".join(
        f"{label} {parts[key][0]:.2f} s ({parts[key][1]:.2f} s CPU)"
        for key, label in (
            ("python", "starting Python and stopping it"),
            ("numpy", "loading NumPy"),
            ("command line", "the rest of the command line (Typer, Rich, the scoring commands)"),
            ("models and reader", "the models (NumPy only: no SciPy) and the reader (Arrow)"),
            ("dispatch", "Typer finding the command and parsing its options (with pydantic)"),
            ("read", "reading the file"),
            ("fit", "fitting BG/NBD and Gamma-Gamma"),
            ("output", "printing"),
        )
    )  # fmt: skip

    def shown(p: dict[str, float]) -> str:
        return ", ".join(f"{k} = {p[k]:.6g}" for k in names)

    return [
        "### End to end: `keepwell model fit --summary FILE` beside lifetimes reading with pandas",
        "",
        f"The same {customers:,} customers as a summary CSV ({path.stat().st_size / 2**20:.0f} MiB; "
        "frequency, recency, T, monetary_value). Keepwell: `keepwell model fit --summary FILE "
        "--json`, a new process that starts, reads the file with Arrow, fits BG/NBD *and* "
        "Gamma-Gamma and prints the parameters. lifetimes: a new Python process that imports "
        "pandas and lifetimes, reads the file with `pandas.read_csv` and fits BetaGeoFitter "
        f"(BG/NBD only). The median of {runs} runs of each, interleaved; CPU is user + system "
        "time of the process.",
        "",
        "| command | wall (s) | CPU (s) | BG/NBD parameters |",
        "|---|---:|---:|---|",
        f"| keepwell model fit --summary (BG/NBD + Gamma-Gamma) | {ours_wall:.2f} | {ours_cpu:.2f} | {shown(ours_p)} |",
        f"| lifetimes 0.11.3: pandas.read_csv + BetaGeoFitter().fit | {theirs_wall:.2f} | {theirs_cpu:.2f} | {shown(theirs_p)} |",
        "",
        f"Keepwell is {ratio:.1f}× as fast end to end ({theirs_cpu / ours_cpu:.1f}× in CPU time): "
        f"it {verdict} the bar of 10×. Parameters agree to 4 significant digits: "
        f"{'yes' if agree else 'NO'}.",
        "",
        f"Where Keepwell's time goes, timed part by part in one process (median of {runs}): "
        f"{where}.",
    ]


def significant(a: float, b: float, digits: int = 4) -> bool:
    """a and b agree when both are rounded to `digits` significant digits."""

    def rounded(v: float) -> float:
        return round(v, digits - 1 - math.floor(math.log10(abs(v)))) if v else 0.0

    return rounded(a) == rounded(b)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="end-to-end runs of each")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"summary_{args.customers}.npz"
    if not path.exists():
        synthetic(args.customers, path)
    csv_path = WORK / f"summary_{args.customers}.csv"
    if not csv_path.exists():
        summary_csv(path, csv_path)
    started = time.perf_counter()
    load = os.getloadavg()[0]
    ours = keepwell_run(path)
    theirs = lifetimes_run(path)
    e2e = end_to_end(csv_path, args.runs)
    print(json.dumps(e2e, indent=1))
    print(json.dumps({"keepwell": ours, "lifetimes": theirs}, indent=1))
    ours_p: dict[str, float] = {**ours["params"], **ours["gg_params"]}  # type: ignore[dict-item]
    theirs_p: dict[str, float] = {**theirs["params"], **theirs["gg_params"]}  # type: ignore[dict-item]
    agree = {k: significant(ours_p[k], theirs_p[k]) for k in ours_p}
    fit_ours = float(ours["fit_bgnbd"]) + float(ours["fit_gamma_gamma"])  # type: ignore[arg-type]
    fit_theirs = float(theirs["fit_bgnbd"]) + float(theirs["fit_gamma_gamma"])  # type: ignore[arg-type]
    ratio = fit_theirs / fit_ours
    data = np.load(path)
    repeaters = int((data["frequency"] > 0).sum())

    def row(name: str, r: dict[str, object]) -> str:
        p = {**r["params"], **r["gg_params"]}  # type: ignore[dict-item]
        shown = ", ".join(f"{k} = {p[k]:.6g}" for k in ("r", "alpha", "a", "b", "p", "q", "v"))
        return (
            f"| {name} | {r['fit_bgnbd']:.2f} | {r['fit_gamma_gamma']:.2f} | {r['predict']:.2f} | "
            f"{r['nan_predictions']} | {shown} |"
        )

    body = "\n".join(
        [
            "## Models: BG/NBD + Gamma-Gamma on 1,000,000 customers, beside lifetimes (bench/models.py)",
            "",
            stamp(),
            f"The machine is shared: its load average was {load:.1f} on {os.cpu_count()} cores when "
            "the run began, so seconds vary from run to run; the ratios, measured side by side, "
            "vary less.",
            f"{args.customers:,} synthetic customers ({repeaters:,} repeat buyers) drawn from BG/NBD "
            "and Gamma-Gamma with the CDNOW parameters over a 39-week window, times in whole days "
            "(weeks = days / 7). Each library fits both models and predicts, for every customer, "
            f"P(alive), the expected purchases of the next {HORIZON_WEEKS:g} weeks and the expected "
            "order value; each runs in its own process on the same file. lifetimes 0.11.3 runs in "
            "its own venv (numpy<2, pandas<2, scipy<1.12).",
            "",
            "| library | fit BG/NBD (s) | fit Gamma-Gamma (s) | predict (s) | NaN predictions | parameters |",
            "|---|---:|---:|---:|---:|---|",
            row("Keepwell", ours),
            row("lifetimes 0.11.3", theirs),
            "",
            f"Parameters agree to 4 significant digits: "
            f"{'yes, all seven' if all(agree.values()) else 'NO: ' + ', '.join(k for k, ok in agree.items() if not ok)}. "
            f"Keepwell fits {ratio:.0f}× as fast as lifetimes ({fit_ours:.2f} s against {fit_theirs:.2f} s for both fits).",
            "",
            *end_to_end_text(e2e, args.customers, csv_path, args.runs),
        ]
    )
    print(body)
    print(f"(benchmark ran in {time.perf_counter() - started:.0f} s)")
    if not args.no_write:
        write_section("models", body)


if __name__ == "__main__":
    main()
