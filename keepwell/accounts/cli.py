"""`keepwell member …`: the team."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from keepwell.clikit import Database, JsonOpt, errors, out, print_json, session_for

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
