"""De-identification policies: which tagged entities a rule wants removed.

The model tags with Presidio's general meaning (AGE is any age, DATE_TIME any date or time), so
one adapter serves users who want every age and users who follow HIPAA Safe Harbor. A policy
then keeps what its rule lists. Safe Harbor (45 CFR 164.514(b)(2)) removes all elements of dates
except the year, and ages over 89; it does not list times of day, ages of 89 and under, vitals
or doses. Years stay tagged: a year of birth or admission is a date element of the person.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from ..errors import Errors, LLMNERError
from ..tagging.labels import CharSpan

SpanPolicy = Callable[[str, str], bool]  # (entity text, label) -> keep it?

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# A clock time: 14:30, 2:15 p.m., 14:30:05, 0400, 1930h, 0700 hrs, 06h30, 9pm, 7a, noon.
_CLOCK = r"""(?:
    (?:[01]?\d|2[0-3])(?::[0-5]\d){1,2}(?:\s*[ap]\.?\s*m?\.?)?
  | (?:[01]\d|2[0-3])[0-5]\d(?:\s*h(?:rs?|ours)?)?
  | (?:[01]?\d|2[0-3])h[0-5]\d
  | (?:1[0-2]|0?[1-9])\s*[ap]\.?\s*m?\.?
  | noon | midnight | midday
)"""
# A time, or a range of them, with nothing that names a day ("at 0400", "7a-7p", "1900-0700").
_TIME_ONLY = re.compile(
    rf"^\s*(?:at\s+|@\s*)?{_CLOCK}(?:\s*(?:-|–|to|until)\s*{_CLOCK})?\s*$", re.IGNORECASE | re.VERBOSE
)
_SAFE_HARBOR_MAX_AGE = 89


_YEAR_LIKE = re.compile(r"^\s*(?:19|20)\d\d\s*$")


def is_time_of_day(text: str) -> bool:
    """Only a clock time (or a range of them): no day, month or year in it. A bare ``1900``-``2099``
    alone is read as a year (kept), in a range (``1900-0700``) as a time."""
    return _TIME_ONLY.match(text) is not None and _YEAR_LIKE.match(text) is None


def age_value(text: str) -> float | None:
    """The age a span states in years, when it states one number (``54``, ``54yo``, ``(92)``)."""
    numbers = _NUMBER.findall(text)
    if len(numbers) != 1:
        return None
    lowered = text.lower()
    if re.search(r"month|\bmos?\b|week|\bwks?\b|\bdays?\b|[dmw]/o", lowered):
        return 0.0  # an infant's age in months, weeks or days: under a year
    return float(numbers[0])


def safe_harbor(text: str, label: str) -> bool:
    """Keep what HIPAA Safe Harbor removes: ages over 89, dates (and years), every other label;
    leave times of day and ages of 89 and under."""
    if label == "AGE":
        value = age_value(text)
        return value is None or value > _SAFE_HARBOR_MAX_AGE
    if label == "DATE_TIME":
        return not is_time_of_day(text)
    return True


def keep_all(text: str, label: str) -> bool:
    """Presidio's general meaning: every entity the model tags."""
    return True


POLICIES: Mapping[str, SpanPolicy] = {"none": keep_all, "safe_harbor": safe_harbor}


def get_policy(name: str | None) -> SpanPolicy:
    """The policy called ``name`` (``None`` and ``"none"``: keep everything); E030 otherwise."""
    key = "none" if name is None else name
    if key not in POLICIES:
        raise LLMNERError(Errors.E030.format(value=name, policies=", ".join(sorted(POLICIES))))
    return POLICIES[key]


def apply_policy(source: str, spans: Iterable[CharSpan], policy: str | None) -> list[CharSpan]:
    """The spans ``policy`` keeps (text is read from ``source`` by offsets)."""
    keep = get_policy(policy)
    return [span for span in spans if keep(source[span[0] : span[1]], span[2])]
