"""Model benchmark: BG/NBD + Gamma-Gamma on 1,000,000 customers, Keepwell beside `lifetimes`.

One command: `.venv/bin/python bench/models.py [--customers N] [--no-write]`.

The customers are drawn from BG/NBD and Gamma-Gamma with the CDNOW parameters over a
39-week window, with times in whole days (as a summary of real orders has them), and
saved once. Keepwell (this venv) and `lifetimes` 0.11.3 (its own venv,
bench/.venv-lifetimes, created on first run: lifetimes needs numpy<2, pandas<2,
scipy<1.12) then each fit BG/NBD and Gamma-Gamma and predict, for every customer,
P(alive), the expected purchases of the next 13 weeks and the expected average order
value. Both are timed in their own process on the same file; the parameters must agree
to 4 significant digits. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, WORK, stamp, write_section

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
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"summary_{args.customers}.npz"
    if not path.exists():
        synthetic(args.customers, path)
    started = time.perf_counter()
    ours = keepwell_run(path)
    theirs = lifetimes_run(path)
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
        ]
    )
    print(body)
    print(f"(benchmark ran in {time.perf_counter() - started:.0f} s)")
    if not args.no_write:
        write_section("models", body)


if __name__ == "__main__":
    main()
