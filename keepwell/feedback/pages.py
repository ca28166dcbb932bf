"""The public survey page, GET and POST /s/{token}: the one page open without an account.

The token in the link is the only credential (keepwell/feedback/links.py): it opens one
customer's one survey, once, until it expires. A forged, expired or used link gets a
plain page that says so (404 or 410) and writes nothing; an answer that does not fit
shows the form again with what to fix (422), nothing stored. Small, plain HTML: no
JavaScript, readable on a phone, every input labelled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from keepwell.accounts import audit
from keepwell.errors import InvalidInput
from keepwell.feedback import answers, common, surveys
from keepwell.feedback.models import CUSTOMER_CATEGORIES, SurveyInvitation
from keepwell.web.deps import DbSession

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token must not leave in a Referer header
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
REFUSALS: dict[str, tuple[int, str, list[str]]] = {
    "forged": (
        404,
        "This survey link is not valid",
        [
            "The link may have been cut short or changed on its way to you. Please open it "
            "again from the message we sent, copying the whole address.",
            "If it still does not work, reply to that message and we will send a new one.",
        ],
    ),
    "expired": (
        410,
        "This survey link has expired",
        [
            "The survey was open for a limited time, and that time has passed.",
            "We would still love to hear from you: reply to our message and tell us.",
        ],
    ),
    "used": (
        410,
        "This survey was answered already",
        [
            "Each link can be answered once, and this one has been. Thank you!",
            "If you want to add something, reply to our message and tell us.",
        ],
    ),
}

public = APIRouter(include_in_schema=False)


def _page(name: str, status: int, **context: Any) -> HTMLResponse:
    html = _templates.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _refused(why: str) -> HTMLResponse:
    status, heading, lines = REFUSALS.get(why, REFUSALS["forged"])
    return _page("message.html", status, title=heading, heading=heading, lines=lines)


def _form(
    session: Session,
    invitation: SurveyInvitation,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = surveys.survey_context(session, invitation)
    heading = {
        "nps": "how are we doing?",
        "csat": "how did we do?",
        "scorecard": "how are we doing for you?",
    }[invitation.kind]
    if not context["greeting"]:
        heading = heading[0].upper() + heading[1:]
    return _page(
        "form.html",
        status,
        title="A quick question from us",
        heading=heading,
        values=values or {},
        errors=errors or {},
        max_verbatim=common.MAX_VERBATIM,
        **context,
    )


@public.get("/s/{token}", response_class=HTMLResponse)
def survey_page(token: str, session: DbSession) -> HTMLResponse:
    """The survey a link opens."""
    try:
        invitation = surveys.open_link(session, token)
    except common.LinkRefused as refused:
        return _refused(refused.why)
    return _form(session, invitation)


async def _form_fields(request: Request) -> dict[str, str] | None:
    """The submitted fields, or None when the body is not a plain form of text fields
    (each at most once)."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith(FORM_TYPES):
        return None
    try:
        form = await request.form(max_files=0, max_fields=20)
    except Exception:  # a malformed body is no form
        return None
    fields: dict[str, str] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile) or name in fields:
            return None
        fields[name] = value
    return fields


FormFields = Annotated[dict[str, str] | None, Depends(_form_fields)]


@public.post("/s/{token}", response_class=HTMLResponse)
def answer_survey(token: str, session: DbSession, fields: FormFields) -> HTMLResponse:
    """Store the answer; thank the customer. Nothing is written unless all of it fits."""
    session.info["actor"] = audit.Actor(None, "survey link")
    try:
        invitation = surveys.open_link(session, token)
    except common.LinkRefused as refused:
        return _refused(refused.why)
    if fields is None:
        return _page(
            "message.html",
            400,
            title="That answer could not be read",
            heading="That answer could not be read",
            lines=["Please go back, answer with the form on the page, and send it again."],
        )
    expected = {"score", "verbatim"} if invitation.kind != "scorecard" else set(CUSTOMER_CATEGORIES)
    expected.add("verbatim")
    values = {k: v for k, v in fields.items() if k in expected}
    errors: dict[str, str] = {}
    if set(fields) - expected:
        errors["form"] = "This form has fields it does not expect: please use the form below."
    numbers: dict[str, int | None] = {}
    for name in expected - {"verbatim"}:
        text = fields.get(name, "").strip()
        if text and not (text.isascii() and text.isdigit() and len(text) <= 3):
            errors[name] = f"{text[:20]!r} is not a score: choose one of the numbers."
        numbers[name] = int(text) if text and name not in errors else None
    if not errors:
        try:
            with session.begin_nested():  # all of the answer, or nothing
                feedback = surveys.answer_link(
                    session,
                    token,
                    score=numbers.get("score"),
                    ratings=None
                    if invitation.kind != "scorecard"
                    else {k: v for k, v in numbers.items() if v is not None},
                    verbatim=fields.get("verbatim", ""),
                )
        except common.LinkRefused as refused:
            return _refused(refused.why)
        except InvalidInput as bad:
            errors[bad.field.removeprefix("ratings.")] = _reason(bad)
        else:
            lines = ["Your answer reached the people who look after you. Thank you for it."]
            if answers.needs_follow_up(feedback):
                lines.insert(0, "We are sorry we fell short. Someone from our team will get in "
                             "touch within two days to hear more and put it right.")  # fmt: skip
            return _page("message.html", 200, title="Thank you", heading="Thank you", lines=lines)
    return _form(session, invitation, values=values, errors=errors, status=422)


def _reason(bad: InvalidInput) -> str:
    reason = bad.reason[0].upper() + bad.reason[1:]
    return reason if reason.endswith(".") else reason + "."
