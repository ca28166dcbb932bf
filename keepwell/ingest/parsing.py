"""Parsing one cell at a time: dates, money, counts, yes/no, e-mail addresses.

Each parser returns the value or raises `CellError` with a reason a person can act on.
They are written for speed: an import calls them millions of times.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

MIN_YEAR = 1900
MAX_AMOUNT_MINOR = 10**12  # ten billion in major units: beyond any real order
MAX_QUANTITY = 1_000_000

# Minor-unit digits of currencies that do not use two.
_EXPONENTS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "HUF": 2,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
}
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "CHF": "CHF"}
_CODE = re.compile(r"^[A-Z]{3}$")
_PLAIN = re.compile(r"^\d{1,15}(?:\.\d{1,3})?$")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_TRUE = frozenset({"1", "y", "yes", "true", "t", "on", "opt-in", "opted in", "subscribed", "x"})
_FALSE = frozenset({"0", "n", "no", "false", "f", "off", "opt-out", "opted out", "unsubscribed"})


class CellError(ValueError):
    """A cell's value was rejected; the message is the reason."""


def currency_exponent(code: str) -> int:
    return _EXPONENTS.get(code, 2)


def parse_currency(text: str) -> str:
    code = text.strip().upper()
    code = _SYMBOLS.get(code, code)
    if not _CODE.match(code):
        raise CellError(f"{text!r} is not a currency code (like USD or EUR)")
    return code


def parse_money(text: str, exponent: int = 2) -> tuple[int, str | None]:
    """Parse an amount into integer minor units; returns (minor, currency found in the text).

    Accepts `1234.56`, `1,234.56`, `1.234,56`, `$12.00`, `12,00 €`, `EUR 12`, `(12.00)`.
    A lone separator followed by exactly three digits (`1,234`) could mean a thousand or
    one, so it is rejected rather than guessed.
    """
    s = text.strip()
    if _PLAIN.match(s):  # the common case, kept fast
        whole, _, frac = s.partition(".")
        if len(frac) > exponent:
            if exponent == 2 and len(frac) == 3:
                raise CellError(f"ambiguous amount {text!r}: write it with two decimals")
            raise CellError(f"amount {text!r} has more decimals than the currency allows")
        return int(whole) * 10**exponent + (int(frac.ljust(exponent, "0")) if frac else 0), None
    if not s:
        raise CellError("amount is empty")
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    currency: str | None = None
    for symbol, code in _SYMBOLS.items():
        if s.startswith(symbol) or s.endswith(symbol):
            currency = code
            s = (s[len(symbol) :] if s.startswith(symbol) else s[: -len(symbol)]).strip()
            break
    else:
        m = re.match(r"^([A-Za-z]{3})\s*(.+)$", s) or re.match(r"^(.+?)\s*([A-Za-z]{3})$", s)
        if m:
            a, b = m.groups()
            code_text, s = (a, b) if len(a) == 3 and a.isalpha() else (b, a)
            currency = parse_currency(code_text)
    if s.startswith("-"):
        negative, s = not negative, s[1:].strip()
    s = s.replace(" ", "").replace("\u00a0", "").replace("'", "")
    if not re.fullmatch(r"[\d.,]+", s) or not s[0].isdigit():
        raise CellError(f"{text!r} is not an amount")
    dots, commas = s.count("."), s.count(",")
    if dots and commas:
        decimal_sep = "." if s.rfind(".") > s.rfind(",") else ","
    elif dots + commas == 0:
        decimal_sep = "."
    else:
        sep = "." if dots else ","
        if dots + commas > 1:
            decimal_sep = "," if sep == "." else "."  # 1.234.567 / 1,234,567: thousands
        else:
            tail = s.rsplit(sep, 1)[1]
            if len(tail) == 3:
                raise CellError(
                    f"ambiguous amount {text!r}: could be thousands or decimals; "
                    "write 1234 or 1234.00"
                )
            decimal_sep = sep
    thousands = "," if decimal_sep == "." else "."
    whole, _, frac = s.partition(decimal_sep)
    if decimal_sep in frac:
        raise CellError(f"{text!r} is not an amount")
    groups = whole.split(thousands)
    if len(groups) > 1 and (not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])):
        raise CellError(f"{text!r} is not an amount (misplaced thousands separator)")
    digits = "".join(groups)
    if len(frac) > exponent:
        raise CellError(f"amount {text!r} has more decimals than the currency allows")
    try:
        value = int(digits) * 10**exponent + (int(frac.ljust(exponent, "0")) if frac else 0)
    except ValueError:
        raise CellError(f"{text!r} is not an amount") from None
    return (-value if negative else value), currency


def parse_decimal(text: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise CellError(f"{text!r} is not a number") from None


def parse_quantity(text: str) -> int:
    s = text.strip()
    if s.isdigit():
        value = int(s)
    else:
        try:
            number = Decimal(s)
        except InvalidOperation:
            raise CellError(f"{text!r} is not a whole number") from None
        if number != number.to_integral_value():
            raise CellError(f"quantity {text!r} is not a whole number")
        value = int(number)
    if value < 0:
        raise CellError(f"negative quantity {text!r}")
    if value > MAX_QUANTITY:
        raise CellError(f"implausible quantity {text!r} (more than {MAX_QUANTITY:,})")
    return value


def parse_bool(text: str) -> bool:
    s = text.strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise CellError(f"{text!r} is not yes/no (use yes, no, true, false, 1 or 0)")


def parse_email(text: str) -> str:
    s = text.strip().lower()
    if s.startswith("mailto:"):
        s = s[7:]
    if not _EMAIL.match(s) or len(s) > 320:
        raise CellError(f"{text!r} is not an e-mail address")
    return s


class DateParser:
    """Parses dates and timestamps of one file, with a cache (exports repeat dates a lot).

    ISO 8601 (`2024-03-05`, `2024-03-05T14:30:00Z`, `2024-03-05 14:30:00+01:00`) and
    `2024/03/05` need no format; anything else needs `--date-format` (strptime codes),
    because `03/05/2024` is March in one country and May in another. Times without a
    zone are read in `tz` (UTC unless told). Dates after `latest` are refused.
    """

    def __init__(self, date_format: str | None, latest: datetime, tz: tzinfo = UTC) -> None:
        self.date_format = date_format
        self.latest = latest
        self.tz = tz
        self._cache: dict[str, datetime] = {}

    def timestamp(self, text: str) -> datetime:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        moment = self._parse(text.strip())
        if moment.year < MIN_YEAR:
            raise CellError(f"implausible date {text!r} (before {MIN_YEAR})")
        if moment > self.latest:
            raise CellError(f"date {text!r} is in the future")
        if len(self._cache) > 200_000:
            self._cache.clear()
        self._cache[text] = moment
        return moment

    def day(self, text: str) -> date:
        return self.timestamp(text).date()

    def _parse(self, s: str) -> datetime:
        if not s:
            raise CellError("date is empty")
        if self.date_format:
            try:
                moment = datetime.strptime(s, self.date_format)
            except ValueError:
                raise CellError(
                    f"{s!r} does not match --date-format {self.date_format!r}"
                ) from None
        else:
            iso = s.replace("/", "-", 2) if len(s) >= 10 and s[4] == "/" and s[7] == "/" else s
            try:
                if len(iso) == 10:
                    moment = datetime.combine(date.fromisoformat(iso), time())
                else:
                    moment = datetime.fromisoformat(iso)
            except ValueError:
                if re.match(r"^\d{4}-\d{1,2}-\d{1,2}", iso):
                    raise CellError(f"{s!r} is not a valid date") from None
                raise CellError(
                    f"{s!r} is not an ISO date (YYYY-MM-DD); give the format with "
                    "--date-format, e.g. --date-format %d/%m/%Y"
                ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.tz)
        return moment.astimezone(UTC)


def future_limit(now: datetime) -> datetime:
    """Latest acceptable event time: a day of slack for time zones and clock skew."""
    return now + timedelta(days=1)
