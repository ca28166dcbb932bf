"""Operations on team members."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell.accounts.models import ROLES, TeamMember
from keepwell.errors import InvalidInput
from keepwell.ingest.parsing import CellError, parse_email


def add_member(session: Session, email: str, name: str = "", role: str = "member") -> TeamMember:
    try:
        address = parse_email(email)
    except CellError as exc:
        raise InvalidInput("email", str(exc)) from None
    if role not in ROLES:
        raise InvalidInput("role", f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if session.scalar(sa.select(TeamMember.id).where(TeamMember.email == address)) is not None:
        raise InvalidInput("email", f"a team member with e-mail {address} exists already")
    member = TeamMember(email=address, name=name.strip(), role=role)
    session.add(member)
    session.flush()
    return member


def list_members(session: Session) -> list[TeamMember]:
    return list(session.scalars(sa.select(TeamMember).order_by(TeamMember.name, TeamMember.id)))


def find_member(session: Session, ref: str | int) -> TeamMember:
    """A member by id or e-mail address."""
    from keepwell.errors import NotFound

    member: TeamMember | None
    if isinstance(ref, int) or str(ref).isdigit():
        member = session.get(TeamMember, int(ref))
    else:
        member = session.scalar(
            sa.select(TeamMember).where(TeamMember.email == str(ref).strip().lower())
        )
    if member is None:
        raise NotFound(f"no team member {ref!r}")
    return member
