"""Dates and times written the many ways people and systems write them.

Day/month order follows the locale (US month-first, elsewhere day-first), as real notes do, so
the model sees ``03/04/2023`` both ways. Every string here is one DATE_TIME entity.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def format_date(rng: random.Random, d: dt.date, locale: str, with_year: bool = False) -> str:
    """One date (day precision) in a randomly chosen style; ``with_year`` drops yearless forms."""
    us = locale == "en_US"
    m, day, y = d.month, d.day, d.year
    month, mon = MONTHS[m - 1], MONTHS[m - 1][:3]
    wd = WEEKDAYS[d.weekday()]
    # (style, weight, has a year)
    styles: list[tuple[Callable[[], str], int, bool]] = [
        (lambda: f"{m:02d}/{day:02d}/{y}" if us else f"{day:02d}/{m:02d}/{y}", 6, True),
        (lambda: f"{m}/{day}/{y}" if us else f"{day}/{m}/{y}", 3, True),
        (lambda: f"{m}/{day}/{y % 100:02d}" if us else f"{day}/{m}/{y % 100:02d}", 3, True),
        (lambda: d.isoformat(), 3, True),
        (lambda: f"{month} {day}, {y}" if us else f"{day} {month} {y}", 5, True),
        (lambda: f"{month} {_ordinal(day)}, {y}" if us else f"{_ordinal(day)} {month} {y}", 1, True),
        (lambda: f"{mon} {day}, {y}" if us else f"{day} {mon} {y}", 3, True),
        (lambda: f"{day:02d}-{mon}-{y}", 2, True),
        (lambda: f"{day:02d}-{mon.upper()}-{y}", 1, True),
        (lambda: f"{day:02d}.{m:02d}.{y}", 1, True),
        (lambda: f"{wd}, {month} {day}, {y}" if us else f"{wd} {day} {month} {y}", 1, True),
        (lambda: f"{m:02d}-{day:02d}-{y}" if us else f"{day:02d}-{m:02d}-{y}", 1, True),
        (lambda: f"{day:02d}-{mon}-{y % 100:02d}", 1, True),
        (lambda: f"{m}-{day}-{y % 100:02d}" if us else f"{day}-{m}-{y % 100:02d}", 1, True),
        (lambda: f"{month.lower()} {day} {y}", 1, True),
        (lambda: f"{y}/{m:02d}/{day:02d}", 1, True),
        (lambda: f"{wd[:3]} {mon} {day}" if us else f"{wd[:3]} {day} {mon}", 1, False),
        (lambda: f"{month} {day}" if us else f"{day} {month}", 2, False),
        (lambda: f"{month} {_ordinal(day)}" if us else f"{_ordinal(day)} {month}", 2, False),
        (lambda: f"{_ordinal(day)} of {month}", 1, False),
        (lambda: f"{mon} {day}" if us else f"{day} {mon}", 1, False),
        (lambda: f"{m}/{day}" if us else f"{day}/{m}", 1, False),
    ]
    weights = [w if has_year or not with_year else 0 for _, w, has_year in styles]
    return rng.choices([f for f, _, _ in styles], weights=weights)[0]()


def format_month_year(rng: random.Random, d: dt.date) -> str:
    """A month-precision date such as ``March 2023`` or ``03/2023``."""
    month = MONTHS[d.month - 1]
    return rng.choice((f"{month} {d.year}", f"{d.month:02d}/{d.year}", f"{month[:3]} {d.year}",
                       f"{month[:3]}-{d.year % 100:02d}"))


def format_time(rng: random.Random, hour: int | None = None, minute: int | None = None) -> str:
    """A clock time: 12- or 24-hour, with or without seconds, ``am``/``p.m.`` variants."""
    h = rng.randint(6, 21) if hour is None else hour
    mi = rng.choice((0, 0, 15, 30, 45, rng.randint(0, 59))) if minute is None else minute
    h12 = h % 12 or 12
    ampm = "AM" if h < 12 else "PM"
    styles = [
        lambda: f"{h:02d}:{mi:02d}",
        lambda: f"{h12}:{mi:02d} {ampm}",
        lambda: f"{h12}:{mi:02d}{ampm.lower()}",
        lambda: f"{h12}:{mi:02d} {ampm[0].lower()}.m.",
        lambda: f"{h:02d}{mi:02d}",
        lambda: f"{h:02d}:{mi:02d}:{rng.randint(0, 59):02d}",
        lambda: f"{h12} {ampm.lower()}" if mi == 0 else f"{h12}:{mi:02d} {ampm.lower()}",
        lambda: f"{h12}{ampm.lower()}" if mi == 0 else f"{h12}:{mi:02d}{ampm.lower()}",
        lambda: f"{h:02d}h{mi:02d}",
    ]
    return rng.choices(styles, weights=(5, 5, 2, 2, 1, 1, 2, 2, 1))[0]()


def format_datetime(rng: random.Random, d: dt.date, locale: str) -> str:
    """A date and time written as one expression (space, comma or ISO ``T`` between them)."""
    style = rng.randrange(5)
    if style == 4:  # database style: "2021-03-04 14:22"
        return f"{d.isoformat()} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    if style == 0:
        t = dt.datetime(d.year, d.month, d.day, rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
        return t.isoformat() + rng.choice(("", "Z"))
    date = format_date(rng, d, locale, with_year=True)
    sep = ", " if style == 1 else " "
    return f"{date}{sep}{format_time(rng)}"
