"""`keepwell member …`: the team."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table

from keepwell.clikit import (
    Database,
    JsonOpt,
    engine_in_use,
    err,
    errors,
    out,
    print_json,
    session_for,
)

member_app = typer.Typer(
    help="Team members: the people who look after customers.", no_args_is_help=True
)


@member_app.command("add")
def member_add(
    email: Annotated[str, typer.Argument(help="The member's e-mail address.")],
    name: Annotated[str, typer.Option("--name", help="Full name.")] = "",
    role: Annotated[str, typer.Option("--role", help="admin, member or viewer.")] = "member",
    database: Database = None,
) -> None:
    """Add a team member."""
    from keepwell.accounts.service import add_member

    with errors(), session_for(database) as session:
        member = add_member(session, email, name, role)
        out.print(f"Added {member.email} ({member.role}), id {member.id}.", highlight=False)


@member_app.command("list")
def member_list(database: Database = None, as_json: JsonOpt = False) -> None:
    """List the team members."""
    from keepwell.accounts.service import list_members

    with errors(), session_for(database) as session:
        members = [
            {"id": m.id, "email": m.email, "name": m.name, "role": m.role}
            for m in list_members(session)
        ]
    if as_json:
        print_json(members)
        return
    table = Table("id", "name", "e-mail", "role")
    for m in members:
        table.add_row(str(m["id"]), str(m["name"]), str(m["email"]), str(m["role"]))
    out.print(table)


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
    role: Annotated[str, typer.Option("--role", help="admin, member or viewer.")] = "member",
    name: Annotated[str, typer.Option("--name", help="Full name.")] = "",
    password_stdin: PasswordStdin = False,
    database: Database = None,
) -> None:
    """Add a team member who signs in with a password (printed once when generated)."""
    from keepwell.accounts.service import add_user

    password = _read_password(password_stdin)
    with errors(), session_for(database) as session:
        member, generated = add_user(session, email, name=name, role=role, password=password)
        out.print(f"Added {member.email} ({member.role}), id {member.id}.", highlight=False)
    if generated:
        out.print(f"Password: {generated}", highlight=False)
        out.print("It is shown this once; keep it somewhere safe.", highlight=False)


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
    database: Database = None,
) -> None:
    """Set a member's password (a generated one, printed once, unless --password-stdin).
    Their browser sessions end; their API tokens too, if you say so."""
    from keepwell import db
    from keepwell.accounts.service import find_member, set_password
    from keepwell.accounts.tokens import list_tokens

    password = _read_password(password_stdin)
    with errors(), engine_in_use(database) as engine, db.transaction(engine) as session:
        live = len(list_tokens(session, find_member(session, email).id))  # asked outside
    if revoke_tokens is None:  # the write: a question does not hold the database
        revoke_tokens = live > 0 and _ask_revoke(email, live)
    with errors(), session_for(database) as session:
        member = find_member(session, email)
        generated = set_password(session, member, password, revoke_tokens=revoke_tokens)
        address = member.email
    kept = "their API tokens revoked" if revoke_tokens else "their API tokens kept"
    out.print(f"New password set for {address}; their browser sessions ended, {kept}.",
              highlight=False)  # fmt: skip
    if generated:
        out.print(f"Password: {generated}", highlight=False)


def _ask_revoke(email: str, live: int) -> bool:
    """Whether to revoke the member's `live` tokens: asked (y/n, no default)."""
    question = (
        f"{email} has {live} API token{'s' if live != 1 else ''}. Whoever knew the old "
        "password may have made one. Revoke them too (scripts using them stop working)?"
    )
    try:
        return bool(typer.confirm(question, default=None))
    except typer.Abort:
        err.print("error: no answer: give --revoke-tokens or --keep-tokens", highlight=False)
        raise typer.Exit(1) from None


# --- `keepwell token …` ----------------------------------------------------------------


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="The member the token acts as.")],
    name: Annotated[str, typer.Option("--name", help="What it is for, e.g. 'shop sync'.")] = "",
    database: Database = None,
) -> None:
    """Make an API token acting as a member; the secret is printed once."""
    from keepwell.accounts.service import find_member
    from keepwell.accounts.tokens import create_token

    with errors(), session_for(database) as session:
        token, secret = create_token(session, find_member(session, email), name)
        token_id = token.id
    out.print(f"Token #{token_id} for {email}:", highlight=False)
    out.print(secret, highlight=False, markup=False)
    out.print(
        "Shown this once. Send it as the header 'Authorization: Bearer <token>'.", highlight=False
    )


@token_app.command("list")
def token_list(
    email: Annotated[
        str | None, typer.Option("--member", help="Only this member's tokens (e-mail).")
    ] = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked tokens.")] = False,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """List API tokens (never their secrets): who, what for, when last used."""
    from keepwell.accounts.models import TeamMember
    from keepwell.accounts.service import find_member
    from keepwell.accounts.tokens import list_tokens

    with errors(), session_for(database) as session:
        member_id = find_member(session, email).id if email else None
        emails = {i: e for i, e in session.execute(sa.select(TeamMember.id, TeamMember.email))}
        rows = [
            {
                "id": t.id,
                "member": emails.get(t.member_id, ""),
                "name": t.name,
                "prefix": t.prefix,
                "created_at": t.created_at.isoformat(),
                "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            for t in list_tokens(session, member_id, include_revoked=revoked)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "member", "name", "starts with", "created", "last used", "revoked")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["member"]),
            str(r["name"]),
            f"{r['prefix']}…",
            str(r["created_at"])[:16],
            str(r["last_used_at"] or "never")[:16],
            str(r["revoked_at"] or "")[:16],
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's id.")],
    database: Database = None,
) -> None:
    """Revoke an API token: it stops working at once."""
    from keepwell.accounts.tokens import get_token, revoke_token

    with errors(), session_for(database) as session:
        revoke_token(session, get_token(session, token_id))
    out.print(f"Token #{token_id} revoked.", highlight=False)


# --- `keepwell audit …` ----------------------------------------------------------------


@audit_app.command("list")
def audit_list(
    customer: Annotated[
        str | None, typer.Option("--customer", help="Changes of this customer's records.")
    ] = None,
    member: Annotated[
        str | None, typer.Option("--member", help="Changes made by this member (e-mail).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-500).")] = 50,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """Who changed what, newest first."""
    import json

    from keepwell.accounts.audit import AuditFilter, list_entries
    from keepwell.accounts.models import TeamMember
    from keepwell.accounts.service import find_member
    from keepwell.customers.service import find_customer

    with errors(), session_for(database) as session:
        filters = AuditFilter(
            customer_id=find_customer(session, customer).id if customer else None,
            member_id=find_member(session, member).id if member else None,
            limit=limit,
        )
        emails = {i: e for i, e in session.execute(sa.select(TeamMember.id, TeamMember.email))}
        rows = [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "member": emails.get(e.member_id) if e.member_id is not None else None,
                "via": e.via,
                "action": e.action,
                "table": e.table_name,
                "record": e.record_id,
                "customer_id": e.customer_id,
                "before": e.before,
                "after": e.after,
            }
            for e in list_entries(session, filters)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("when", "who", "what", "record", "change")
    for r in rows:
        change = r["after"] if r["action"] != "delete" else r["before"]
        table.add_row(
            str(r["at"])[:19],
            str(r["member"] or r["via"] or "—"),
            f"{r['action']} {r['table']}",
            str(r["record"]),
            json.dumps(change, ensure_ascii=False, default=str)[:120] if change else "",
        )
    out.print(table)
