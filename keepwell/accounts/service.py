"""Operations on team members."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell.accounts import tokens
from keepwell.accounts.models import ROLES, TeamMember
from keepwell.errors import InvalidInput, check_text
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


def add_user(
    session: Session,
    email: str,
    *,
    name: str = "",
    role: str = "member",
    password: str | None = None,
) -> tuple[TeamMember, str | None]:
    """A member who can sign in: (the member, the generated password when none was given)."""
    from keepwell.accounts.passwords import generate_password, hash_password

    generated = generate_password() if password is None else None
    hashed = hash_password(password if password is not None else generated or "")
    member = add_member(session, email, name, role)
    member.password_hash = hashed
    session.flush()
    return member, generated


def set_password(
    session: Session, member: TeamMember, password: str | None = None, *, revoke_tokens: bool
) -> str | None:
    """Give the member a new password (a generated one, returned, when None is given).

    Their browser sessions end: whoever knew the old password is signed out. Their API
    tokens are revoked too when `revoke_tokens` — the caller must choose: whoever knew
    the old password may have made one, but a script that runs on one stops working."""
    from keepwell.accounts.passwords import generate_password, hash_password

    generated = generate_password() if password is None else None
    member.password_hash = hash_password(password if password is not None else generated or "")
    session.flush()
    tokens.end_member_sessions(session, member.id)
    if revoke_tokens:
        tokens.revoke_member_tokens(session, member.id)
    return generated


def update_member(
    session: Session,
    member: TeamMember,
    *,
    name: str | None = None,
    role: str | None = None,
    active: bool | None = None,
) -> TeamMember:
    """Change a member's name, role or whether they may sign in (and own new work).

    Deactivating ends the member's browser sessions and revokes their API tokens, for
    good: reactivating them later brings neither back (they sign in again and make new
    tokens). The last active admin cannot stop being one: someone must be able to manage
    the team.
    """
    if name is not None:
        member.name = check_text("name", " ".join(name.split()), 200)
    if role is not None and role not in ROLES:
        raise InvalidInput("role", f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    losing_admin = (
        member.role == "admin"
        and member.active
        and ((role is not None and role != "admin") or active is False)
    )
    if losing_admin:
        admins = session.scalar(
            sa.select(sa.func.count())
            .select_from(TeamMember)
            .where(TeamMember.role == "admin", TeamMember.active.is_(True))
        )
        if (admins or 0) <= 1:
            raise InvalidInput("role", f"{member.email} is the last active admin")
    if role is not None:
        member.role = role
    deactivating = active is False and member.active
    if active is not None:
        member.active = active
    session.flush()
    if deactivating:
        tokens.end_member_sessions(session, member.id)
        tokens.revoke_member_tokens(session, member.id)
    return member


DEMO_ADMIN = "admin@keepwell.example"


def demo_admin(session: Session) -> tuple[TeamMember, str]:
    """Someone to sign in as on a demo desk: its first active admin (else a new one,
    DEMO_ADMIN), with a new generated password: (the member, the password)."""
    member = session.scalar(
        sa.select(TeamMember)
        .where(TeamMember.role == "admin", TeamMember.active.is_(True))
        .order_by(TeamMember.id)
        .limit(1)
    )
    if member is None:
        member, password = add_user(session, DEMO_ADMIN, name="Demo Admin", role="admin")
    else:
        password = set_password(session, member, revoke_tokens=False)
    assert password is not None
    return member, password


def member_or_none(session: Session, member_id: int | None) -> TeamMember | None:
    """The member with this id, or None when no id is given."""
    return session.get(TeamMember, member_id) if member_id is not None else None
