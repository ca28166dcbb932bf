"""The referral columns of `keepwell import customers`: `referral_code` (the referrer's
code) and `referred_by` (the referrer's customer id or e-mail; `#12` for a Keepwell id).

Rows are collected while the file is read and linked once every customer of the file is
written (so a referrer may come later in the same file). The same rules as the API:
an unknown code or referrer, a customer referring themselves, a customer already
referred by someone else, or two customers referring each other is a row error (and,
as with any bad row, nothing is imported unless --skip-invalid). The same referral again
is left as it is, so an import can be run twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.customers.models import Customer
from keepwell.db import UTCDateTime, table_of
from keepwell.errors import InvalidInput
from keepwell.ingest.csvfile import FieldSpec
from keepwell.referrals.models import Referral, ReferralCode, ReferralReward

REFERRAL_FIELDS = [
    FieldSpec("referral_code", ("referral_code", "referred_by_code", "referrer_code", "ref_code")),
    FieldSpec(
        "referred_by",
        ("referred_by", "referrer", "referrer_id", "referred_by_id", "referrer_email"),
    ),
]
CHUNK = 900


@dataclass
class _Row:
    line: int
    row: list[str]
    key: str  # the row's customer: external id, or e-mail in a file without ids
    code: str
    by: str


class ReferralColumns:
    """Collects the referral cells of an import, then links them (or rejects rows)."""

    def __init__(self, by_email: bool) -> None:
        self.by_email = by_email
        self.rows: list[_Row] = []

    def note(self, line: int, row: list[str], cell: dict[str, str], values: dict[str, Any]) -> None:
        code, by = cell.get("referral_code", ""), cell.get("referred_by", "")
        if code or by:
            key = values["email"] if self.by_email else values["external_id"]
            self.rows.append(_Row(line, row, key, code, by))

    def link(self, conn: Connection, state: Any) -> None:
        """Check every collected row; write the links when the import still writes."""
        from keepwell.customers.privacy import TOMBSTONE
        from keepwell.referrals.service import check_code

        if not self.rows:
            return
        c, r = table_of(Customer), table_of(Referral)
        codes: dict[int, str] = {}
        for n, item in enumerate(self.rows):
            if item.code:
                try:
                    codes[n] = check_code(item.code)
                except InvalidInput as exc:
                    state.reject(item.line, item.row, "referral_code", exc.reason)
        by_code = self._lookup(
            conn,
            sa.select(table_of(ReferralCode).c.code, table_of(ReferralCode).c.customer_id),
            table_of(ReferralCode).c.code,
            sorted(set(codes.values())),
        )
        refs = {item.by for item in self.rows if item.by}
        by_ref = self._customers(conn, refs)
        keys = self._customers(conn, {item.key for item in self.rows})
        file_keys = {item.key for item in self.rows}
        erased = {
            cid
            for (cid,) in self._rows(
                conn,
                sa.select(c.c.id).where(c.c.external_id.startswith(TOMBSTONE)),
                c.c.id,
                sorted(set(by_code.values()) | set(by_ref.values())),
            )
        }
        referred_ids = sorted(set(keys.values()))
        existing = dict(
            self._rows(
                conn, sa.select(r.c.customer_id, r.c.referrer_id), r.c.customer_id, referred_ids
            )
        )
        planned: dict[int, int] = {}
        links: list[tuple[int, int, str]] = []
        for n, item in enumerate(self.rows):
            if item.code and n not in codes:
                continue  # rejected above
            referrer = None
            if item.code:
                referrer = by_code.get(codes[n])
                if referrer is None:
                    state.reject(
                        item.line, item.row, "referral_code",
                        f"no customer has the referral code {codes[n]!r}",
                    )  # fmt: skip
                    continue
            if item.by:
                named = by_ref.get(item.by)
                if named is None:
                    if not state.writing and item.by in file_keys:
                        continue  # a customer of this file, not written on a refused import
                    state.reject(item.line, item.row, "referred_by", f"no customer {item.by!r}")
                    continue
                if referrer is not None and named != referrer:
                    state.reject(
                        item.line, item.row, "referred_by",
                        f"names customer #{named}, but the referral code is #{referrer}'s",
                    )  # fmt: skip
                    continue
                referrer = named
            assert referrer is not None
            customer = keys.get(item.key)
            if item.key == item.by or referrer == customer:
                state.reject(
                    item.line, item.row, "referred_by" if item.by else "referral_code",
                    "a customer cannot refer themselves",
                )  # fmt: skip
                continue
            if referrer in erased:
                state.reject(item.line, item.row, "referred_by", f"customer #{referrer} was erased")
                continue
            if customer is None:
                continue  # the row itself was refused (or the import does not write)
            if customer in planned:
                continue  # the row appears twice: refused as such by the import
            before = existing.get(customer)
            if before == referrer:
                continue  # recorded already: an import runs twice without change
            if before is not None:
                state.reject(
                    item.line, item.row, "referred_by" if item.by else "referral_code",
                    f"customer {item.key!r} was referred by #{before} already",
                )  # fmt: skip
                continue
            if existing.get(referrer) == customer or planned.get(referrer) == customer:
                state.reject(
                    item.line, item.row, "referred_by" if item.by else "referral_code",
                    f"customer #{referrer} was referred by {item.key!r}: not both ways",
                )  # fmt: skip
                continue
            planned[customer] = referrer
            links.append((customer, referrer, codes.get(n, "")))
        if links and state.writing:
            self._write(conn, links)

    def _write(self, conn: Connection, links: list[tuple[int, int, str]]) -> None:
        from keepwell.referrals.service import earn_rewards, reward_text

        with Session(bind=conn) as session:
            what = reward_text(session)
        now = clock.now()
        r, w = table_of(Referral), table_of(ReferralReward)
        conn.execute(
            sa.insert(r),
            [
                {
                    "customer_id": customer,
                    "referrer_id": referrer,
                    "code": code,
                    "source": "import",
                    "linked_at": now,
                    "linked_by_id": None,
                    "note": "",
                }
                for customer, referrer, code in links
            ],
        )
        moment = sa.literal(now, UTCDateTime())
        conn.execute(
            sa.insert(w).from_select(
                ["referral_id", "customer_id", "what", "status", "note", "created_at", "version"],
                sa.select(
                    r.c.id,
                    r.c.referrer_id,
                    sa.literal(what),
                    sa.literal("pending"),
                    sa.literal(""),
                    moment,
                    sa.literal(1),
                ).where(
                    r.c.linked_at == moment,
                    r.c.source == "import",
                    ~sa.exists().where(w.c.referral_id == r.c.id),
                ),
            )
        )
        earn_rewards(conn)

    def _customers(self, conn: Connection, refs: set[str]) -> dict[str, int]:
        """Customers named by external id, e-mail, or #id."""
        c = table_of(Customer)
        found: dict[str, int] = {}
        texts = sorted(refs)
        for ref, cid in self._rows(
            conn, sa.select(c.c.external_id, c.c.id), c.c.external_id, texts
        ):
            found[ref] = cid
        emails = {t.lower(): t for t in texts if "@" in t and t not in found}
        for email, cid in self._rows(
            conn, sa.select(c.c.email, c.c.id).order_by(c.c.id.desc()), c.c.email, sorted(emails)
        ):
            found[emails[email]] = cid  # the oldest customer with the e-mail wins
        hashed = {int(t[1:]): t for t in texts if t.startswith("#") and t[1:].isdigit()}
        for (cid,) in self._rows(
            conn, sa.select(c.c.id), c.c.id, sorted(k for k in hashed if k < 2**31)
        ):
            found[hashed[cid]] = cid
        return found

    def _lookup(
        self, conn: Connection, query: Any, column: Any, values: list[Any]
    ) -> dict[Any, int]:
        return {key: value for key, value in self._rows(conn, query, column, values)}

    def _rows(self, conn: Connection, query: Any, column: Any, values: list[Any]) -> list[Any]:
        found: list[Any] = []
        for start in range(0, len(values), CHUNK):
            found += conn.execute(query.where(column.in_(values[start : start + CHUNK]))).all()
        return found
