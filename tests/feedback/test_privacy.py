"""A person's feedback is in their export, and erasing them clears their words (the
scores stay, anonymous, so the NPS stays true) and disables their survey links."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from keepwell import clock, db
from keepwell.customers.models import Customer
from keepwell.customers.privacy import erase_customer, export_customer
from keepwell.feedback import answers, common, loop, surveys
from keepwell.feedback.models import Feedback, SurveyInvitation
from tests.feedback.conftest import NOW, World

WORDS = "My husband Tomás says the grinder is too loud"


def test_export_has_the_feedback_and_erase_clears_the_words(world: World) -> None:
    with clock.frozen(NOW), db.transaction(world.engine) as session:
        rui = session.get(Customer, world.customers["Rui"])
        assert rui is not None
        _, url = surveys.invite(session, rui, "nps")
        item = surveys.answer_link(session, url.rsplit("/", 1)[1], score=4, verbatim=WORDS)
        loop.tell(session, item, note="Told Tomás we now sell a quieter grinder")
        _, unused = surveys.invite(session, rui, "csat")
        bea = session.get(Customer, world.customers["Bea"])
        assert bea is not None
        answers.record_feedback(session, bea, "nps", score=8, verbatim="Bea's own words")
    with clock.frozen(NOW), db.transaction(world.engine) as session:
        rui = session.get(Customer, world.customers["Rui"])
        assert rui is not None
        data = export_customer(session, rui)
        [exported] = data["feedback"]
        assert (exported["score"], exported["verbatim"]) == (4, WORDS)
        assert exported["told_note"] == "Told Tomás we now sell a quieter grinder"
        assert len(data["survey_invitations"]) == 2
        json.dumps(data)
        done = erase_customer(session, rui)
        assert done.feedback == 1
    everything = dump(world)
    assert "Tomás" not in everything and "grinder is too loud" not in everything
    assert "Bea's own words" in everything  # nobody else's feedback touched
    with db.transaction(world.engine) as session:
        scores = session.execute(
            sa.select(Feedback.customer_id, Feedback.score, Feedback.verbatim).order_by(Feedback.id)
        ).all()
        assert scores == [
            (world.customers["Rui"], 4, ""),
            (world.customers["Bea"], 8, "Bea's own words"),
        ]
        assert (
            session.scalars(
                sa.select(SurveyInvitation).where(
                    SurveyInvitation.customer_id == world.customers["Rui"]
                )
            ).all()
            == []
        )
        with clock.frozen(NOW + timedelta(hours=1)), pytest.raises(common.LinkRefused) as refused:
            surveys.open_link(session, unused.rsplit("/", 1)[1])
        assert refused.value.why == "forged"  # their link opens nothing now


def dump(world: World) -> str:
    """Every row of the tables that hold what was said, as one string."""
    with world.engine.connect() as conn:
        return json.dumps(
            [
                list(map(str, row))
                for table in ("feedback", "touches", "tasks", "survey_invitations")
                for row in conn.exec_driver_sql(f"SELECT * FROM {table}")
            ]
        )
