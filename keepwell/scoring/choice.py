"""Which purchase model scoring uses: the one an admin pinned, else the one that
predicted the last holdout check better, else BG/NBD.

`keepwell model check` records its verdict (setting `model.checked`);
`keepwell model pin` records an admin's choice (setting `model.pinned`). Both are desk
settings, so every process and every later run agrees, and each change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.errors import InvalidInput
from keepwell.scoring.fitting import HoldoutCheck
from keepwell.settings import service as settings

ModelName = Literal["bgnbd", "pareto"]
MODELS: tuple[ModelName, ...] = ("bgnbd", "pareto")
DEFAULT: ModelName = "bgnbd"
PINNED = "model.pinned"
CHECKED = "model.checked"
NAMES = {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD"}


@dataclass(frozen=True)
class ModelChoice:
    model: ModelName
    reason: str  # one sentence: why this model


def check_model(name: str) -> ModelName:
    for model in MODELS:
        if name == model:
            return model
    raise InvalidInput("model", f"{name!r}: use one of {', '.join(MODELS)}")


def pin(session: Session, name: str | None) -> None:
    """Make every scoring run use `name`; None lets the holdout check decide again."""
    if name is None:
        settings.remove(session, PINNED)
    else:
        settings.put(session, PINNED, check_model(name))


def record_check(session: Session, check: HoldoutCheck) -> None:
    """Remember which model predicted the holdout better, for later scoring runs."""
    settings.put(
        session,
        CHECKED,
        {
            "better": check.better,
            "checked_on": clock.today().isoformat(),
            "calibration_end": check.calibration_end,
            "observation_end": check.observation_end,
            "customers": check.customers,
            "errors": {m.name: m.mean_absolute_error for m in check.models},
        },
    )


def choose(session: Session, explicit: str | None = None) -> ModelChoice:
    """The model to score with, and why (shown by `keepwell score` and stored per run)."""
    if explicit is not None:
        return ModelChoice(check_model(explicit), "asked for by name")
    pinned = settings.get(session, PINNED)
    if isinstance(pinned, str) and pinned in MODELS:
        return ModelChoice(check_model(pinned), "pinned by an admin (`keepwell model pin`)")
    checked: Any = settings.get(session, CHECKED)
    if isinstance(checked, dict) and checked.get("better") in MODELS:
        better = check_model(str(checked["better"]))
        errors = checked.get("errors") or {}
        detail = ", ".join(f"{NAMES.get(k, k)} {float(v):.3f}" for k, v in sorted(errors.items()))
        return ModelChoice(
            better,
            f"predicted the holdout after {checked.get('calibration_end')} better "
            f"(error per customer: {detail}; checked {checked.get('checked_on')})",
        )
    return ModelChoice(DEFAULT, "the default; run `keepwell model check` to compare")
