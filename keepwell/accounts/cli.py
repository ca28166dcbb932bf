"""`keepwell member …`: the team."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from keepwell import clikit
from keepwell.accounts.audit import AuditFilter
from keepwell.accounts.schemas import AuditEntryPublic

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

member_app = typer.Typer(
    help="Team members: the people who look after customers.", no_args_is_help=True
)


Role = Annotated[str, typer.Option("--role", help="admin, member or viewer.")]
Name = Annotated[str, typer.Option("--name", help="Full name.")]


@member_app.command("add")
@clikit.on_desk
def member_add(
    session: Session,
    email: Annotated[str, typer.Argument(help="The member's e-mail address.")],
    name: Name = "",
    role: Role = "member",
) -> clikit.Shown:
    """Add a team member."""
    from keepwell.accounts.service import add_member

    member = add_member(session, email, name, role)
    return f"Added {member.email} ({member.role}), id {member.id}."


@member_app.command("list")
@clikit.on_desk
def member_list(session: Session, as_json: clikit.JsonOpt = False) -> clikit.Shown:
    """List the team members.

    --json prints what GET /api/members answers."""
    from keepwell.accounts.schemas import MemberPublic
    from keepwell.accounts.service import list_members

    rows = [MemberPublic.model_validate(m) for m in list_members(session)]
    return clikit.listing(
        rows,
        (
            ("id", lambda m: m.id),
            ("name", lambda m: m.name),
            ("e-mail", lambda m: m.email),
            ("role", lambda m: m.role),
        ),
        as_json=as_json,
    )


# --- `keepwell user …`: members who sign in -------------------------------------------

user_app = typer.Typer(help="Sign-in accounts: team members with a password.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens: for scripts and other tools.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: who changed what, and when.", no_args_is_help=True)

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from standard input (else one is generated)."
    ),
]


def _read_password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    import sys

    return sys.stdin.readline().rstrip("\r\n")


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="The member's e-mail address (their sign-in).")],
    role: Role = "member",
    name: Name = "",
    password_stdin: PasswordStdin = False,
    database: clikit.Database = None,
) -> None:
    """Add a team member who signs in with a password (printed once when generated)."""
    from keepwell.accounts.service import add_user

    password = _read_password(password_stdin)  # before the database: stdin may wait
    with clikit.errors(), clikit.session_for(database) as session:
        member, generated = add_user(session, email, name=name, role=role, password=password)
        added = f"Added {member.email} ({member.role}), id {member.id}."
    clikit.say(added)
    if generated:
        clikit.say(f"Password: {generated}\nIt is shown this once; keep it somewhere safe.")


@user_app.command("password")
def user_password(
    email: Annotated[str, typer.Argument(help="The member's e-mail address.")],
    password_stdin: PasswordStdin = False,
    revoke_tokens: Annotated[
        bool | None,
        typer.Option(
            "--revoke-tokens/--keep-tokens",
            help="Revoke the member's API tokens too, or keep them (else you are asked "
            "when they have any).",
            show_default=False,
        ),
    ] = None,
    database: clikit.Database = None,
) -> None:
    """Set a member's password (a generated one, printed once, unless --password-stdin).
    Their browser sessions end; their API tokens too, if you say so."""
    from keepwell import db
    from keepwell.accounts.service import find_member, set_password
    from keepwell.accounts.tokens import list_tokens

    password = _read_password(password_stdin)
    with (
        clikit.errors(),
        clikit.engine_in_use(database) as engine,
        db.transaction(engine) as session,
    ):
        live = len(list_tokens(session, find_member(session, email).id))  # asked outside
    if revoke_tokens is None:  # the write: a question does not hold the database
        revoke_tokens = live > 0 and _ask_revoke(email, live)
    with clikit.errors(), clikit.session_for(database) as session:
        member = find_member(session, email)
        generated = set_password(session, member, password, revoke_tokens=revoke_tokens)
        address = member.email
    kept = "their API tokens revoked" if revoke_tokens else "their API tokens kept"
    clikit.say(f"New password set for {address}; their browser sessions ended, {kept}.")
    if generated:
        clikit.say(f"Password: {generated}")


def _ask_revoke(email: str, live: int) -> bool:
    """Whether to revoke the member's `live` tokens: asked (y/n, no default)."""
    question = (
        f"{email} has {live} API token{'s' if live != 1 else ''}. Whoever knew the old "
        "password may have made one. Revoke them too (scripts using them stop working)?"
    )
    try:
        return bool(typer.confirm(question, default=None))
    except typer.Abort:
        clikit.err.print("error: no answer: give --revoke-tokens or --keep-tokens", highlight=False)
        raise typer.Exit(1) from None


# --- `keepwell token …` ----------------------------------------------------------------


@token_app.command("create")
@clikit.on_desk
def token_create(
    session: Session,
    member: Annotated[
        clikit.TheMember, typer.Argument(metavar="EMAIL", help="The member the token acts as.")
    ],
    name: Annotated[str, typer.Option("--name", help="What it is for, e.g. 'shop sync'.")] = "",
) -> clikit.Shown:
    """Make an API token acting as a member; the secret is printed once."""
    from keepwell.accounts.tokens import create_token

    token, secret = create_token(session, member, name)
    return (
        f"Token #{token.id} for {member.email}:\n{secret}\n"
        "Shown this once. Send it as the header 'Authorization: Bearer <token>'."
    )


@token_app.command("list")
@clikit.on_desk
def token_list(
    session: Session,
    member: Annotated[
        clikit.MemberId,
        typer.Option("--member", metavar="EMAIL", help="Only this member's tokens."),
    ] = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked tokens.")] = False,
    as_json: clikit.JsonOpt = False,
) -> clikit.Shown:
    """List API tokens (never their secrets): who, what for, when last used.

    --json prints what GET /api/tokens answers."""
    from keepwell.accounts.schemas import TokenPublic
    from keepwell.accounts.tokens import list_tokens

    found = list_tokens(session, member, include_revoked=revoked)
    rows = [TokenPublic.model_validate(t) for t in found]
    who = clikit.names(session, rows)
    return clikit.listing(
        rows,
        (
            ("id", lambda t: t.id),
            ("member", lambda t: who.member(t.member_id)),
            ("name", lambda t: t.name),
            ("starts with", lambda t: f"{t.prefix}…"),
            ("created", lambda t: t.created_at),
            ("last used", lambda t: t.last_used_at or "never"),
            ("revoked", lambda t: t.revoked_at),
        ),
        as_json=as_json,
    )


@token_app.command("revoke")
@clikit.on_desk
def token_revoke(
    session: Session,
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's id.")],
) -> clikit.Shown:
    """Revoke an API token: it stops working at once."""
    from keepwell.accounts.tokens import get_token, revoke_token

    revoke_token(session, get_token(session, token_id))
    return f"Token #{token_id} revoked."


# --- `keepwell audit …` ----------------------------------------------------------------


@audit_app.command("list")
@clikit.lists(
    AuditFilter,
    customer_id=clikit.CustomerRef,
    member_id=Annotated[
        clikit.MemberId,
        typer.Option("--member", metavar="EMAIL", help="Changes made by this member."),
    ],
)
def audit_list(session: Session, filters: AuditFilter) -> clikit.Listing[AuditEntryPublic]:
    """Who changed what, newest first.

    --json prints what GET /api/audit answers."""
    from keepwell.accounts.audit import list_entries

    rows = [AuditEntryPublic.model_validate(e) for e in list_entries(session, filters)]
    who = clikit.names(session, rows)

    def change(entry: AuditEntryPublic) -> str:
        shown = entry.before if entry.action == "delete" else entry.after
        return json.dumps(shown, ensure_ascii=False, default=str)[:120] if shown else ""

    columns: list[clikit.Column[AuditEntryPublic]] = [
        ("when", lambda e: e.at.strftime("%Y-%m-%d %H:%M:%S")),
        ("who", lambda e: who.member(e.member_id) or e.via or "—"),
        ("what", lambda e: f"{e.action} {e.table_name}"),
        ("record", lambda e: e.record_id),
        ("change", change),
    ]
    return clikit.Listing(rows, columns)
