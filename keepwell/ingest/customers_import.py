"""`keepwell import customers`: customer lists from a shop, a CRM or a spreadsheet.

A row is matched to a customer by its id (or by e-mail when the file has no id
column). Cells that are filled in set the field; empty cells leave what Keepwell
already knows (an export that lacks a phone number does not erase one).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers import derived
from keepwell.customers.models import CHANNELS, Customer
from keepwell.db import table_of
from keepwell.ingest.csvfile import FieldSpec, open_csv
from keepwell.ingest.importer import (
    ImportOptions,
    ImportRunState,
    ImportSummary,
    Progress,
    chunks,
    run_import,
)
from keepwell.ingest.ledger import SeenKeys, key_hash
from keepwell.ingest.parsing import CellError, DateParser, future_limit, parse_bool, parse_email
from keepwell.referrals.importing import REFERRAL_FIELDS, ReferralColumns

CUSTOMER_FIELDS = [
    FieldSpec(
        "customer_id",
        (
            "customer_id",
            "id",
            "external_id",
            "customer_number",
            "customer_no",
            "client_id",
            "cust_id",
            "customerid",
            "account_id",
            "user_id",
        ),
    ),
    FieldSpec("name", ("name", "full_name", "customer_name", "display_name", "contact_name")),
    FieldSpec("first_name", ("first_name", "firstname", "given_name")),
    FieldSpec("last_name", ("last_name", "lastname", "surname", "family_name")),
    FieldSpec("email", ("email", "email_address", "e_mail", "mail")),
    FieldSpec("phone", ("phone", "phone_number", "telephone", "tel", "mobile", "cell")),
    FieldSpec(
        "company",
        ("company", "company_name", "organization", "organisation", "business", "account_name"),
    ),
    FieldSpec("segment", ("segment", "customer_segment", "tier", "customer_group", "group")),
    FieldSpec("tags", ("tags", "labels")),
    FieldSpec(
        "owner",
        (
            "owner",
            "owner_email",
            "account_owner",
            "account_manager",
            "point_person",
            "sales_rep",
            "rep",
        ),
    ),
    FieldSpec(
        "first_seen",
        (
            "first_seen",
            "created_at",
            "customer_since",
            "signup_date",
            "created",
            "joined",
            "registered",
            "since",
            "first_order_date",
        ),
    ),
    FieldSpec("personal_notes", ("personal_notes", "notes", "note", "about")),
    FieldSpec(
        "preferred_channel",
        ("preferred_channel", "channel", "contact_preference", "preferred_contact"),
    ),
    FieldSpec("language", ("language", "lang", "locale", "preferred_language")),
    FieldSpec("cultural_notes", ("cultural_notes", "culture")),
    FieldSpec("birthday", ("birthday", "date_of_birth", "dob", "birth_date", "birthdate")),
    FieldSpec(
        "marketing_consent",
        (
            "marketing_consent",
            "accepts_marketing",
            "accepts_email_marketing",
            "consent",
            "opt_in",
            "newsletter",
            "subscribed",
        ),
    ),
    FieldSpec("opted_out", ("opted_out", "opt_out", "unsubscribed", "do_not_contact")),
    *REFERRAL_FIELDS,  # referral_code, referred_by (keepwell/referrals/importing.py)
]

# Fields stored as given (trimmed), with their length limits.
TEXT_FIELDS = {
    "phone": 64,
    "company": 300,
    "personal_notes": 20_000,
    "language": 35,
    "cultural_notes": 20_000,
}
CHANNEL_SYNONYMS = {
    "call": "phone",
    "telephone": "phone",
    "mail": "email",
    "e-mail": "email",
    "text": "sms",
    "letter": "post",
    "meeting": "in_person",
    "visit": "in_person",
}
# Columns an import may set; the rest (ids, timestamps, version) are Keepwell's.
IMPORTED = (
    "external_id",
    "name",
    "email",
    "phone",
    "company",
    "segment",
    "tags",
    "owner_id",
    "first_seen",
    "personal_notes",
    "preferred_channel",
    "language",
    "cultural_notes",
    "birthday",
    "marketing_consent",
    "opted_out_at",
)


def import_customers(
    engine: sa.Engine,
    path: Path,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    options = options or ImportOptions()
    with open_csv(
        path,
        CUSTOMER_FIELDS,
        mapping=options.mapping,
        encoding=options.encoding,
        alternatives=[("customer_id", "email")],
    ) as source:

        def body(conn: Connection, state: ImportRunState, run_id: int) -> None:
            importer = _CustomersImport(conn, state, progress)
            importer.run()
            if state.writing:
                importer.settle()

        return run_import(engine, "customers", source, options, body)


class _CustomersImport:
    def __init__(self, conn: Connection, state: ImportRunState, progress: Progress | None) -> None:
        self.conn = conn
        self.state = state
        self.source = state.source
        self.progress = progress
        self.now = clock.now()
        self.dates = DateParser(state.options.date_format, future_limit(self.now))
        self.by_email = "customer_id" not in self.source.columns
        self.seen = SeenKeys()
        self.referrals = ReferralColumns(self.by_email)
        members = table_of(TeamMember)
        self.members = {
            email.lower(): member_id
            for member_id, email in conn.execute(sa.select(members.c.id, members.c.email))
        }

    def run(self) -> None:
        batch: list[tuple[int, list[str], dict[str, Any]]] = []
        for line, row in self.source:
            values = self.parse(line, row)
            if values is not None:
                batch.append((line, row, values))
            if len(batch) >= self.state.options.batch_rows:
                self.flush(batch)
                batch = []
        self.flush(batch)
        self.referrals.link(self.conn, self.state)  # once every customer of the file is written

    def settle(self) -> None:
        """Derived columns (birthday month-day, next check-in…) of the customers it changed."""
        table = table_of(Customer)
        changed = self.conn.execute(sa.select(table.c.id).where(table.c.updated_at == self.now))
        derived.refresh(self.conn, [row[0] for row in changed])

    def parse(self, line: int, row: list[str]) -> dict[str, Any] | None:
        cols = self.source.columns
        if len(row) != len(self.source.header):
            self.state.width_error(line, row)
            return None
        if self.state.oversized(line, row):
            return None
        cell = {name: row[index].strip() for name, index in cols.items()}
        values: dict[str, Any] = {}
        field_name = ""
        try:
            field_name = "customer_id"
            if not self.by_email:
                if not cell["customer_id"]:
                    raise CellError("the customer id is empty")
                if len(cell["customer_id"]) > 200:
                    raise CellError("the customer id is longer than 200 characters")
                values["external_id"] = cell["customer_id"]
            field_name = "email"
            if cell.get("email"):
                values["email"] = parse_email(cell["email"])
            elif self.by_email:
                raise CellError("the e-mail is empty (the file has no customer id column)")
            field_name = "name"
            name = cell.get("name") or " ".join(
                part for part in (cell.get("first_name"), cell.get("last_name")) if part
            )
            if name:
                if len(name) > 300:
                    raise CellError("the name is longer than 300 characters")
                values["name"] = name
            for field_name, limit in TEXT_FIELDS.items():
                if cell.get(field_name):
                    if len(cell[field_name]) > limit:
                        raise CellError(f"longer than {limit:,} characters")
                    values[field_name] = cell[field_name]
            field_name = "segment"
            if cell.get("segment"):
                values["segment"] = cell["segment"].lower()[:100]
            field_name = "tags"
            if cell.get("tags"):
                tags = [t.strip().lower() for t in re.split(r"[,;|]", cell["tags"]) if t.strip()]
                values["tags"] = sorted(set(tags))
            field_name = "owner"
            if cell.get("owner"):
                owner = cell["owner"].lower()
                if owner not in self.members:
                    raise CellError(
                        f"no team member with e-mail {cell['owner']!r} "
                        "(add them with `keepwell member add`)"
                    )
                values["owner_id"] = self.members[owner]
            field_name = "first_seen"
            if cell.get("first_seen"):
                values["first_seen"] = self.dates.timestamp(cell["first_seen"])
            field_name = "preferred_channel"
            if cell.get("preferred_channel"):
                channel = cell["preferred_channel"].lower().replace(" ", "_")
                channel = CHANNEL_SYNONYMS.get(channel, channel)
                if channel not in CHANNELS:
                    raise CellError(
                        f"unknown channel {cell['preferred_channel']!r}; use one of "
                        + ", ".join(CHANNELS)
                    )
                values["preferred_channel"] = channel
            field_name = "birthday"
            if cell.get("birthday"):
                values["birthday"] = self.dates.day(cell["birthday"])
            field_name = "marketing_consent"
            if cell.get("marketing_consent"):
                values["marketing_consent"] = parse_bool(cell["marketing_consent"])
            field_name = "opted_out"
            if cell.get("opted_out"):
                if parse_bool(cell["opted_out"]):
                    values["opted_out_at"] = self.now
                    values["marketing_consent"] = False
                else:
                    values["opted_out_at"] = None
        except CellError as exc:
            self.state.reject(line, row, field_name, str(exc))
            return None
        self.referrals.note(line, row, cell, values)
        return values

    def flush(self, batch: list[tuple[int, list[str], dict[str, Any]]]) -> None:
        if self.progress is not None:
            self.progress(self.source.bytes_read(), self.source.size)
        if not batch:
            return
        key_field = "email" if self.by_email else "external_id"
        hashes = [key_hash(values[key_field]) for _, _, values in batch]
        before = self.seen.contains(hashes).tolist()
        in_batch: set[int] = set()
        unique = []
        origin = {id(values): (line, row) for line, row, values in batch}
        for (line, row, values), h, dup in zip(batch, hashes, before, strict=True):
            if dup or h in in_batch:
                column = "email" if self.by_email else "customer_id"
                self.state.reject(
                    line, row, column, f"customer {values[key_field]!r} appears twice in the file"
                )
            else:
                unique.append(values)
            in_batch.add(h)
        self.seen.add(hashes)
        existing = self.existing([values[key_field] for values in unique], key_field)
        unique = self.refuse_erased(unique, existing, key_field, origin)
        if not self.state.writing:
            return
        table = table_of(Customer)
        inserts: list[dict[str, Any]] = []
        summary = self.state.summary
        for values in unique:
            old = existing.get(values[key_field])
            if old is None:
                inserts.append(self.new_customer(values))
                continue
            if values.get("opted_out_at") and old["opted_out_at"]:
                values["opted_out_at"] = old["opted_out_at"]  # opted out earlier: keep when
            changed = {k: v for k, v in values.items() if old[k] != v}
            if not changed:
                summary.unchanged += 1
                continue
            self.conn.execute(
                sa.update(table)
                .where(table.c.id == old["id"])
                .values(**changed, updated_at=self.now, version=table.c.version + 1)
            )
            summary.updated += 1
        if inserts:
            self.conn.execute(sa.insert(table), inserts)
            summary.added += len(inserts)

    def refuse_erased(
        self,
        rows: list[dict[str, Any]],
        existing: dict[str, Any],
        key_field: str,
        origin: dict[int, tuple[int, list[str]]],
    ) -> list[dict[str, Any]]:
        """New rows for customers erased at their request stay out (unless allowed)."""
        if self.state.options.allow_erased:
            return rows
        from keepwell.customers.privacy import erased_keys

        new = [r[key_field] for r in rows if r[key_field] not in existing]
        erased = erased_keys(self.conn, new)
        if not erased:
            return rows
        column = "email" if self.by_email else "customer_id"
        kept = []
        for values in rows:
            if values[key_field] in erased:
                line, row = origin[id(values)]
                self.state.reject(
                    line, row, column,
                    f"customer {values[key_field]!r} was erased at their request; leave the row "
                    "out, or pass --allow-erased to import them again as a new customer",
                )  # fmt: skip
            else:
                kept.append(values)
        return kept

    def new_customer(self, values: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = dict.fromkeys(IMPORTED)
        row.update(name="", tags=[], marketing_consent=False)
        row.update(values)
        row.update(created_at=self.now, updated_at=self.now, version=1)
        return row

    def existing(self, keys: list[str], key_field: str) -> dict[str, dict[str, Any]]:
        table = table_of(Customer)
        column = table.c[key_field]
        found: dict[str, dict[str, Any]] = {}
        for part in chunks(keys):
            query = (
                sa.select(table.c.id, *(table.c[name] for name in IMPORTED))
                .where(column.in_(part))
                .order_by(table.c.id)
            )
            for row in self.conn.execute(query).mappings():
                found.setdefault(row[key_field], dict(row))
        return found
