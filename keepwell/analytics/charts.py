"""Charts a person can read: titles, labelled axes, legible ticks; PNG or SVG by suffix.

Pure: numbers in, an image file out (matplotlib's Agg backend, no display needed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from keepwell.errors import InvalidInput

FORMATS = (".png", ".svg")
DPI = 120
PALETTE = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#c53030", "#718096")


def _check(path: Path) -> None:
    if path.suffix.lower() not in FORMATS:
        raise InvalidInput("chart", f"{path.name}: the chart must be a .png or .svg file")


def _save(fig: Figure, path: Path, bottom: float = 0.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout(rect=(0.0, bottom, 1.0, 1.0))
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _figure(width: float = 9.0, height: float = 5.5) -> tuple[Figure, Any]:
    fig, ax = plt.subplots(figsize=(width, height))
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def grouped_bars(
    path: Path,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    note: str = "",
) -> Path:
    """Bars side by side per label, one colour per series (e.g. actual vs predicted)."""
    _check(path)
    fig, ax = _figure()
    n = max(len(series), 1)
    width = 0.8 / n
    x = np.arange(len(labels))
    for i, (name, values) in enumerate(series.items()):
        ax.bar(x + (i - (n - 1) / 2) * width, values, width, label=name, color=PALETTE[i % 6])
    ax.set_xticks(x, list(labels))
    ax.set_title(title, fontsize=14, pad=12)
    ax.set_xlabel(xlabel, fontsize=11)
    ax.set_ylabel(ylabel, fontsize=11)
    ax.legend(frameon=False)
    if note:
        fig.text(0.01, 0.015, note, fontsize=9, color="#4a5568")
    return _save(fig, path, bottom=0.04 if note else 0.0)


def lines(
    path: Path,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    percent: bool = False,
) -> Path:
    """One line per series over the labels (periods); None leaves a gap."""
    _check(path)
    fig, ax = _figure()
    x = np.arange(len(labels))
    for i, (name, values) in enumerate(series.items()):
        y = np.array([np.nan if v is None else v for v in values], dtype=float)
        ax.plot(x, y * (100 if percent else 1), marker="o", label=name, color=PALETTE[i % 6])
    step = max(1, len(labels) // 12)
    ax.set_xticks(x[::step], [labels[i] for i in range(0, len(labels), step)], rotation=30)
    ax.set_title(title, fontsize=14, pad=12)
    ax.set_xlabel(xlabel, fontsize=11)
    ax.set_ylabel(ylabel + (" (%)" if percent else ""), fontsize=11)
    if percent:
        ax.set_ylim(0, 100)
    ax.legend(frameon=False)
    return _save(fig, path)


def horizontal_bars(
    path: Path,
    *,
    title: str,
    xlabel: str,
    labels: Sequence[str],
    values: Sequence[float],
    annotations: Sequence[str] | None = None,
) -> Path:
    """One bar per label, top to bottom in the given order (funnels, rankings)."""
    _check(path)
    fig, ax = _figure(9.0, max(3.0, 0.6 * len(labels) + 1.5))
    y = np.arange(len(labels))
    ax.barh(y, values, color=PALETTE[0])
    ax.set_yticks(y, list(labels), fontsize=11)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.grid(axis="y", visible=False)
    ax.set_title(title, fontsize=14, pad=12)
    ax.set_xlabel(xlabel, fontsize=11)
    top = max(values, default=0) or 1
    for i, text in enumerate(annotations or []):
        ax.text(values[i] + top * 0.01, i, text, va="center", fontsize=10)
    ax.set_xlim(0, top * (1.6 if annotations else 1.05))
    return _save(fig, path)


def histogram(
    path: Path, *, title: str, xlabel: str, values: Sequence[float], bins: int = 30
) -> Path:
    _check(path)
    fig, ax = _figure()
    ax.hist(values, bins=bins, color=PALETTE[0], edgecolor="white")
    ax.set_title(title, fontsize=14, pad=12)
    ax.set_xlabel(xlabel, fontsize=11)
    ax.set_ylabel("customers", fontsize=11)
    return _save(fig, path)


def heat_map(
    path: Path,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    percent: bool = True,
    row_notes: Sequence[str] | None = None,
) -> Path:
    """A matrix as coloured cells with their values written in (cohort tables)."""
    _check(path)
    grid = np.array([[np.nan if v is None else v for v in row] for row in values], dtype=float)
    n_rows, n_cols = grid.shape if grid.size else (len(rows), len(columns))
    width = min(22.0, max(8.0, 0.55 * n_cols + 3.5))
    height = min(30.0, max(4.0, 0.38 * n_rows + 2.0))
    fig, ax = plt.subplots(figsize=(width, height))
    shown = grid * (100 if percent else 1)
    finite = shown[np.isfinite(shown)]
    top = float(np.percentile(finite, 98)) if finite.size else 1.0
    cmap = matplotlib.colormaps["YlGnBu"].with_extremes(bad="#f7f7f7")
    image = ax.imshow(
        np.ma.masked_invalid(shown), cmap=cmap, aspect="auto", vmin=0, vmax=max(top, 1e-9)
    )
    ax.set_xticks(np.arange(n_cols), list(columns), fontsize=9)
    labels = list(rows)
    if row_notes:
        labels = [f"{r}  ({note})" for r, note in zip(rows, row_notes, strict=True)]
    ax.set_yticks(np.arange(n_rows), labels, fontsize=9)
    ax.set_xlabel(xlabel, fontsize=11)
    ax.set_ylabel(ylabel, fontsize=11)
    ax.set_title(title, fontsize=14, pad=12)
    if n_rows * n_cols <= 900:
        for i in range(n_rows):
            for j in range(n_cols):
                v = shown[i, j]
                if np.isfinite(v):
                    text = f"{v:.0f}" if percent or abs(v) >= 10 else f"{v:.1f}"
                    dark = v > 0.6 * top
                    ax.text(j, i, text, ha="center", va="center", fontsize=8,
                            color="white" if dark else "#1a202c")  # fmt: skip
    bar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02)
    bar.set_label("%" if percent else "", fontsize=10)
    return _save(fig, path)
