"""Identifier values (cards, IBANs, SSNs, VINs, record numbers ...) in realistic, varied formats.

Each function takes a seeded ``random.Random`` and returns only the value: the words around it
("MRN:", "card ending in") are chosen by the slots, so that spans never include their keys.
Checksummed formats (Luhn, IBAN mod 97, VIN, NHS, DEA) are valid, so a model cannot learn to
reject real numbers by their check digits.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

DIGITS = string.digits
UPPER = string.ascii_uppercase
ALNUM = UPPER + DIGITS


def digits(rng: random.Random, n: int, first_nonzero: bool = False) -> str:
    """``n`` random digits; ``first_nonzero`` avoids values that look zero-padded."""
    out = "".join(rng.choice(DIGITS) for _ in range(n))
    if first_nonzero and out[0] == "0":
        out = rng.choice("123456789") + out[1:]
    return out


def letters(rng: random.Random, n: int, alphabet: str = UPPER) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def group(value: str, sizes: tuple[int, ...], sep: str) -> str:
    """Split ``value`` into groups of ``sizes`` (the last group takes the rest) joined by ``sep``."""
    parts, pos = [], 0
    for size in sizes:
        if pos >= len(value):
            break
        parts.append(value[pos : pos + size])
        pos += size
    if pos < len(value):
        parts.append(value[pos:])
    return sep.join(parts)


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check (cards, IMEIs, NPIs)."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True when the digits of ``number`` (separators ignored) pass the Luhn check."""
    ds = [c for c in number if c.isdigit()]
    return bool(ds) and luhn_check_digit("".join(ds[:-1])) == ds[-1]


_CARD_BRANDS: tuple[tuple[str, tuple[str, ...], int, tuple[int, ...]], ...] = (
    ("visa", ("4",), 16, (4, 4, 4, 4)),
    ("mastercard", ("51", "52", "53", "54", "55", "2221", "2720"), 16, (4, 4, 4, 4)),
    ("amex", ("34", "37"), 15, (4, 6, 5)),
    ("discover", ("6011", "65"), 16, (4, 4, 4, 4)),
)


def credit_card(rng: random.Random) -> str:
    """A Luhn-valid card number of a common brand, grouped with spaces, dashes or nothing."""
    _, prefixes, length, sizes = rng.choices(_CARD_BRANDS, weights=(5, 4, 2, 1))[0]
    payload = rng.choice(prefixes)
    payload += digits(rng, length - 1 - len(payload))
    number = payload + luhn_check_digit(payload)
    sep = rng.choices((" ", "-", ""), weights=(5, 2, 3))[0]
    return group(number, sizes, sep) if sep else number


def card_last4(rng: random.Random) -> str:
    return digits(rng, 4)


# Country code -> BBAN pattern: "n" digit, "a" upper-case letter, "c" alphanumeric.
_IBAN_BBAN: dict[str, str] = {
    "DE": "n" * 18,
    "GB": "aaaa" + "n" * 14,
    "IE": "aaaa" + "n" * 14,
    "FR": "n" * 10 + "c" * 11 + "nn",
    "ES": "n" * 20,
    "NL": "aaaa" + "n" * 10,
    "IT": "a" + "n" * 10 + "c" * 12,
    "BE": "n" * 12,
    "AT": "n" * 16,
    "CH": "n" * 5 + "c" * 12,
    "PL": "n" * 24,
    "PT": "n" * 21,
}


def iban_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits: 98 - (BBAN + country + "00" as a number) mod 97."""
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def iban_valid(iban: str) -> bool:
    compact = iban.replace(" ", "")
    numeric = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
    return int(numeric) % 97 == 1


def iban(rng: random.Random, country: str | None = None) -> str:
    """A checksum-valid IBAN, compact or in the printed groups of four."""
    country = country or rng.choice(sorted(_IBAN_BBAN))
    pools = {"n": DIGITS, "a": UPPER, "c": ALNUM}
    bban = "".join(rng.choice(pools[k]) for k in _IBAN_BBAN[country])
    value = country + iban_check_digits(country, bban) + bban
    return group(value, (4,) * 10, " ") if rng.random() < 0.6 else value


def us_ssn(rng: random.Random) -> str:
    """A US SSN in a valid-looking range (area not 000, 666 or 9xx; group and serial not 0)."""
    area = rng.randint(1, 899)
    while area == 666:
        area = rng.randint(1, 899)
    grp, serial = rng.randint(1, 99), rng.randint(1, 9999)
    sep = rng.choices(("-", " ", ""), weights=(8, 1, 1))[0]
    return f"{area:03d}{sep}{grp:02d}{sep}{serial:04d}"


def mrn(rng: random.Random) -> str:
    """A medical record number: hospitals use digits, letter prefixes and dashes alike."""
    style = rng.randrange(7)
    if style == 0:
        return digits(rng, rng.randint(6, 10))
    if style == 1:
        return "00" + digits(rng, rng.randint(5, 7))
    if style == 2:
        return rng.choice(("A", "E", "H", "M", "MR", "K")) + digits(rng, rng.randint(6, 8))
    if style == 3:
        return f"{digits(rng, 2)}-{digits(rng, 2)}-{digits(rng, 3)}"
    if style == 4:
        return f"{rng.choice(('MRN', 'MR', 'PT'))}-{digits(rng, 6)}"
    if style == 5:
        return f"{digits(rng, 3)}-{digits(rng, 4)}-{digits(rng, 1)}"
    return letters(rng, 2) + digits(rng, 6)


def nhs_number(rng: random.Random) -> str:
    """A mod-11-valid NHS number (England/Wales), printed 3-3-4."""
    while True:
        body = digits(rng, 9, first_nonzero=True)
        total = sum(int(d) * w for d, w in zip(body, range(10, 1, -1)))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            return group(body + str(check), (3, 3), " ")


def medicare_mbi(rng: random.Random) -> str:
    """A US Medicare Beneficiary Identifier (11 chars; letters exclude S, L, O, I, B, Z)."""
    alpha = "ACDEFGHJKMNPQRTUVWXY"
    alnum = alpha + DIGITS
    chars = [
        rng.choice("123456789"), rng.choice(alpha), rng.choice(alnum), rng.choice(DIGITS),
        rng.choice(alpha), rng.choice(alnum), rng.choice(DIGITS),
        rng.choice(alpha), rng.choice(alpha), rng.choice(DIGITS), rng.choice(DIGITS),
    ]
    value = "".join(chars)
    return group(value, (4, 3), "-") if rng.random() < 0.5 else value


def health_plan_id(rng: random.Random, locale: str) -> str:
    """A health plan beneficiary number; national schemes follow the document's locale."""
    national = {
        "en_GB": nhs_number,
        "en_AU": lambda r: f"{digits(r, 4, True)} {digits(r, 5)} {r.randint(1, 9)}",
        "en_CA": lambda r: f"{digits(r, 4, True)}-{digits(r, 3)}-{digits(r, 3)}-{letters(r, 2)}",
    }
    if locale in national and rng.random() < 0.5:
        return national[locale](rng)
    style = rng.randrange(6)
    if style == 0:
        return medicare_mbi(rng)
    if style == 1:
        return letters(rng, 3) + digits(rng, 9)
    if style == 2:
        return rng.choice("WUHMZ") + digits(rng, 8, True) + rng.choice(("", "01", "02"))
    if style == 3:
        return f"{letters(rng, 3)}-{digits(rng, 8)}-{digits(rng, 2)}"
    if style == 4:
        return f"{digits(rng, 3)} {digits(rng, 3)} {digits(rng, 3)}"
    return letters(rng, 1) + digits(rng, 3) + letters(rng, 2) + digits(rng, 5)


def account_number(rng: random.Random) -> str:
    """A bank or billing account number."""
    style = rng.randrange(5)
    if style == 0:
        return digits(rng, rng.randint(8, 12), True)
    if style == 1:
        return f"ACCT-{digits(rng, 8)}"
    if style == 2:
        return f"{rng.choice(('PA', 'HB', 'GT'))}-{rng.randint(2015, 2025)}-{digits(rng, 6)}"
    if style == 3:
        return f"{digits(rng, 4)}-{digits(rng, 4)}-{digits(rng, 2)}"
    return digits(rng, 3) + "-" + digits(rng, 6)


# State -> driver's licence number formats (simplified but shaped like the real ones).
def _dl_ca(r: random.Random) -> str:
    return letters(r, 1) + digits(r, 7)


def _dl_ny(r: random.Random) -> str:
    return group(digits(r, 9), (3, 3), " ") if r.random() < 0.5 else digits(r, 9)


def _dl_fl(r: random.Random) -> str:
    return f"{letters(r, 1)}{digits(r, 3)}-{digits(r, 3)}-{digits(r, 2)}-{digits(r, 3)}-{digits(r, 1)}"


def _dl_il(r: random.Random) -> str:
    return f"{letters(r, 1)}{digits(r, 3)}-{digits(r, 4)}-{digits(r, 4)}"


def _dl_wa(r: random.Random) -> str:
    return "WDL" + letters(r, 6, ALNUM) + digits(r, 3)


def _dl_nj(r: random.Random) -> str:
    return f"{letters(r, 1)}{digits(r, 4)} {digits(r, 5)} {digits(r, 5)}"


def _dl_mi(r: random.Random) -> str:
    return f"{letters(r, 1)} {digits(r, 3)} {digits(r, 3)} {digits(r, 3)} {digits(r, 3)}"


def _dl_oh(r: random.Random) -> str:
    return letters(r, 2) + digits(r, 6)


def _dl_digits(n: int) -> Callable[[random.Random], str]:
    return lambda r: digits(r, n, True)


US_DL_FORMATS: dict[str, Callable[[random.Random], str]] = {
    "CA": _dl_ca, "NY": _dl_ny, "TX": _dl_digits(8), "FL": _dl_fl, "IL": _dl_il,
    "PA": _dl_digits(8), "WA": _dl_wa, "NJ": _dl_nj, "MI": _dl_mi, "OH": _dl_oh,
    "GA": _dl_digits(9), "NC": _dl_digits(12), "AZ": _dl_ca, "MA": lambda r: "S" + digits(r, 8),
}


def us_driver_license(rng: random.Random) -> tuple[str, str]:
    """``(state, number)``: the state abbreviation is context, only the number is the entity."""
    state = rng.choice(sorted(US_DL_FORMATS))
    return state, US_DL_FORMATS[state](rng)


def npi(rng: random.Random) -> str:
    """A National Provider Identifier: 10 digits, Luhn over the '80840' prefix."""
    body = rng.choice("12") + digits(rng, 8)
    return body + luhn_check_digit("80840" + body)


def dea_number(rng: random.Random, last_name: str) -> str:
    """A DEA registration number with its check digit."""
    first = rng.choice("ABFGM")
    second = last_name[:1].upper() if last_name[:1].isalpha() else rng.choice(UPPER)
    ds = digits(rng, 6)
    check = (int(ds[0]) + int(ds[2]) + int(ds[4]) + 2 * (int(ds[1]) + int(ds[3]) + int(ds[5]))) % 10
    return f"{first}{second}{ds}{check}"


def uk_driving_licence(rng: random.Random, last_name: str) -> str:
    """A UK driving licence number (surname, date-coded digits, initials, check chars)."""
    surname = "".join(c for c in last_name.upper() if c.isalpha())[:5].ljust(5, "9")
    return surname + digits(rng, 6) + letters(rng, 2) + rng.choice(DIGITS) + letters(rng, 2)


def professional_license(rng: random.Random, last_name: str) -> tuple[str, str]:
    """``(kind, number)`` for a clinician's licence or registration; ``kind`` names it in context."""
    kind = rng.choice(("medical license", "NPI", "DEA", "nursing licence", "GMC", "AHPRA",
                       "state license", "pharmacist licence", "CPSO", "license"))
    value = {
        "medical license": lambda: rng.choice(("A", "G", "C", "MD")) + digits(rng, rng.randint(5, 6)),
        "NPI": lambda: npi(rng),
        "DEA": lambda: dea_number(rng, last_name),
        "nursing licence": lambda: "RN" + digits(rng, 6),
        "GMC": lambda: digits(rng, 7, True),
        "AHPRA": lambda: rng.choice(("MED", "NMW", "PHA")) + digits(rng, 10),
        "state license": lambda: f"{digits(rng, 2)}-{digits(rng, 6)}",
        "pharmacist licence": lambda: "RPH" + digits(rng, 5),
        "CPSO": lambda: digits(rng, 5, True),
        "license": lambda: letters(rng, 1) + digits(rng, 5),
    }[kind]()
    return kind, value


def personal_license(rng: random.Random, last_name: str, locale: str) -> tuple[str, str]:
    """``(kind, number)`` for a non-US driving licence or a personal permit."""
    options: list[tuple[str, str]] = [
        ("UK driving licence", uk_driving_licence(rng, last_name)),
        ("Ontario driver's licence", f"{letters(rng, 1)}{digits(rng, 4)}-{digits(rng, 5)}-{digits(rng, 5)}"),
        ("NSW driver licence", digits(rng, 8, True)),
        ("VIC licence", digits(rng, 9, True)),
        ("firearms licence", f"FAC-{digits(rng, 6)}"),
        ("contractor license", f"LIC-{digits(rng, 6)}"),
        ("fishing licence", digits(rng, 10, True)),
    ]
    preferred = {"en_GB": 0, "en_CA": 1, "en_AU": 2 + rng.randrange(2)}.get(locale)
    if preferred is not None and rng.random() < 0.6:
        return options[preferred]
    return rng.choice(options)


_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ" + DIGITS
_VIN_VALUES = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9))),
               **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9,
               **dict(zip("STUVWXYZ", range(2, 10)))}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin(rng: random.Random) -> str:
    """A 17-character VIN (no I, O, Q) with a valid check digit in position 9."""
    chars = [rng.choice(_VIN_CHARS) for _ in range(17)]
    chars[8] = "0"
    total = sum(_VIN_VALUES[c] * w for c, w in zip(chars, _VIN_WEIGHTS))
    chars[8] = "X" if total % 11 == 10 else str(total % 11)
    return "".join(chars)


def device_id(rng: random.Random) -> tuple[str, str]:
    """``(kind, value)`` for a device serial, IMEI, MAC address or UDI."""
    kind = rng.choice(("serial", "serial", "serial", "IMEI", "MAC", "UDI", "pump"))
    if kind == "serial":
        style = rng.randrange(4)
        value = (
            letters(rng, 3) + digits(rng, 6) + rng.choice(UPPER) if style == 0
            else digits(rng, 1) + letters(rng, 2) + digits(rng, 7) if style == 1
            else f"{digits(rng, 4)}-{digits(rng, 4)}-{letters(rng, 1)}" if style == 2
            else letters(rng, 2) + digits(rng, 8)
        )
    elif kind == "IMEI":
        payload = digits(rng, 14, True)
        value = payload + luhn_check_digit(payload)
    elif kind == "MAC":
        sep = rng.choice((":", "-"))
        value = sep.join(letters(rng, 2, "0123456789ABCDEF") for _ in range(6))
    elif kind == "UDI":
        value = f"(01){digits(rng, 14)}(21){letters(rng, 3)}{digits(rng, 4)}"
    else:
        value = f"{letters(rng, 2)}{digits(rng, 7)}{letters(rng, 1)}"
    return kind, value


def rx_number(rng: random.Random) -> str:
    """A pharmacy prescription number."""
    style = rng.randrange(5)
    if style == 0:
        return digits(rng, 7, True)
    if style == 1:
        return f"{digits(rng, 7)}-{digits(rng, 5)}"
    if style == 2:
        return f"RX-{digits(rng, 7)}"
    if style == 3:
        return f"{digits(rng, 6)}-{digits(rng, 2)}"
    return letters(rng, 1) + digits(rng, 8)


def order_number(rng: random.Random) -> str:
    """An order or lab-accession number."""
    style = rng.randrange(6)
    if style == 0:
        return f"{digits(rng, 3)}-{digits(rng, 7)}-{digits(rng, 7)}"
    if style == 1:
        return f"ORD-{rng.randint(2015, 2025)}-{digits(rng, 6)}"
    if style == 2:
        return digits(rng, rng.randint(5, 9), True)
    if style == 3:
        return "WEB" + digits(rng, 8)
    if style == 4:
        return f"{letters(rng, 1)}{digits(rng, 2)}-{digits(rng, 5)}"
    return f"{letters(rng, 2)}{digits(rng, 6)}"


def imei_valid(value: str) -> bool:
    return len(value) == 15 and value.isdigit() and luhn_valid(value)
