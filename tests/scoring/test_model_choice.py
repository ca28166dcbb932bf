"""Which purchase model scoring uses: pinned, else the holdout check's verdict, else BG/NBD."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from keepwell import db
from keepwell.accounts.models import AuditEntry
from keepwell.ingest.orders_import import import_orders
from keepwell.scoring.choice import CHECKED, PINNED
from keepwell.settings import service as settings
from tests.conftest import CDNOW
from tests.scoring.test_scoring import run, url_of


@pytest.fixture
def cdnow(engine: Engine) -> Engine:
    import_orders(engine, CDNOW)
    return engine


def scored(url: str, *extra: str) -> dict[str, object]:
    code, out, err = run("score", "--date", "1997-09-30", "-d", url, "--json", *extra)
    assert code == 0, err
    result: dict[str, object] = json.loads(out)
    return result


def stored_models(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT DISTINCT model FROM scores")).scalars())


def test_the_check_decides_until_an_admin_pins_a_model(cdnow: Engine) -> None:
    url = url_of(cdnow)
    first = scored(url)
    assert first["model"] == "bgnbd" and "default" in str(first["model_reason"])

    code, out, err = run("model", "check", "--calibration-end", "1997-09-30", "-d", url, "--json")
    assert code == 0, err
    verdict = json.loads(out)
    with Session(cdnow) as session:
        recorded = settings.get(session, CHECKED)
    assert recorded["better"] == verdict["better"]
    assert recorded["errors"] == {
        m["name"]: pytest.approx(m["mean_absolute_error"]) for m in verdict["models"]
    }
    # the verdict is the model with the smaller error per customer
    errors = {m["name"]: m["mean_absolute_error"] for m in verdict["models"]}
    assert verdict["better"] == min(errors, key=errors.__getitem__)

    after_check = scored(url)
    assert after_check["model"] == verdict["better"]
    assert "holdout" in str(after_check["model_reason"])
    assert stored_models(cdnow) == {verdict["better"]}

    other = "pareto" if verdict["better"] == "bgnbd" else "bgnbd"
    code, out, err = run("model", "pin", other, "-d", url)
    assert code == 0, err
    pinned = scored(url)
    assert pinned["model"] == other and "pinned" in str(pinned["model_reason"])
    assert stored_models(cdnow) == {other}  # the day's rows were replaced, not added to
    # asking by name still wins over the pin
    assert scored(url, "--model", verdict["better"])["model"] == verdict["better"]

    assert run("model", "pin", "auto", "-d", url)[0] == 0
    assert scored(url)["model"] == verdict["better"]
    with Session(cdnow) as session:
        assert settings.get(session, PINNED) is None
        trail = session.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.table_name == "settings")
        ).all()
    assert trail.count("insert") >= 2 and "delete" in trail  # check + pin, then unpinned


def test_pinning_an_unknown_model_is_refused_and_changes_nothing(engine: Engine) -> None:
    code, _, err = run("model", "pin", "weibull", "-d", url_of(engine))
    assert code == 1 and "use one of bgnbd, pareto" in err
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM settings")).scalar() == 0


def test_parameters_from_a_file_name_their_model(cdnow: Engine, tmp_path: object) -> None:
    from pathlib import Path

    params = Path(str(tmp_path)) / "pareto.json"
    params.write_text(
        json.dumps({"pareto": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}})
    )
    result = scored(url_of(cdnow), "--params", str(params))
    assert result["model"] == "pareto" and result["fitted"] is False
    both = Path(str(tmp_path)) / "both.json"
    both.write_text(
        json.dumps(
            {
                "pareto": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
                "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
            }
        )
    )
    code, _, err = run("score", "-d", url_of(cdnow), "--params", str(both))
    assert code == 1 and "--model" in err
    assert db.SCHEMA_REVISION >= "0008"
