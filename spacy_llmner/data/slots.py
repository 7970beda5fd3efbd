"""Slots: ``{name}`` placeholders in templates, each filled with text pieces and their labels.

A slot returns a list of ``(text, label_or_None)`` pieces, so it can carry its own context words
("Mr. " + PERSON, "MRN: " + MEDICAL_RECORD_NUMBER) without those words entering the span. A
per-document :class:`Context` keeps the patient, clinician and facility consistent within a
document ("Jane Doe" ... "Ms. Doe" ... "jane.doe@...").

Labelling rules (the data defines them, the prompt descriptions should match):
- PERSON is the name only; titles ("Dr.", "Ms.") and credentials ("MD") stay outside.
- LOCATION is a maximal contiguous address or place expression that contains something below
  state level (street, city, postcode); a state, province or country on its own is not tagged.
- DATE_TIME covers calendar dates, parts of them (month and year, a bare year) and clock times;
  a date and time written together is one span. Durations, frequencies and relative times
  ("3 days", "twice daily", "yesterday") are not tagged.
- AGE is the number only ("67" in "67-year-old"), except where the tokenizer glues the number to
  its unit ("54yo", "54yrs" are one token): then the whole token is the span, the only choice that
  lands on token boundaries.
- Social-media @handles ("@jdoe_88") are NOT tagged: they are pseudonymous account names, not
  personal names, and tagging them would teach the model to tag every @mention in chat text.
- Identifiers are the value only; keys such as "MRN:", "Rx #", "card ending in" stay outside.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from faker import Faker

from . import dates, vocab
from . import identifiers as ids

Piece = tuple[str, "str | None"]
SlotFn = Callable[["Context"], list[Piece]]

_REAL_CITIES: dict[str, tuple[str, ...]] = {
    "en_US": ("Springfield", "Columbus", "Austin", "Portland", "Denver", "Phoenix", "Albany",
              "Madison", "Raleigh", "Tucson", "Boise", "Omaha", "Fresno", "Dayton", "Savannah"),
    "en_GB": ("Leeds", "Bristol", "Manchester", "Sheffield", "Norwich", "Cardiff", "Leicester",
              "Brighton", "York", "Glasgow", "Coventry", "Reading", "Derby", "Exeter", "Hull"),
    "en_CA": ("Toronto", "Ottawa", "Calgary", "Halifax", "Winnipeg", "Hamilton", "Regina",
              "Saskatoon", "Kelowna", "Mississauga", "Kingston", "Moncton", "Sudbury", "Laval"),
    "en_AU": ("Geelong", "Brisbane", "Perth", "Adelaide", "Hobart", "Darwin", "Cairns",
              "Ballarat", "Wollongong", "Townsville", "Bendigo", "Toowoomba", "Launceston"),
}
_REGIONS: dict[str, tuple[str, ...]] = {
    "en_US": ("California", "Texas", "Ohio", "Florida", "New York", "Oregon", "Arizona", "Maine"),
    "en_GB": ("England", "Scotland", "Wales", "Northern Ireland"),
    "en_CA": ("Ontario", "Quebec", "Alberta", "Nova Scotia", "Manitoba", "British Columbia"),
    "en_AU": ("Queensland", "Victoria", "Tasmania", "New South Wales", "Western Australia"),
}
_COUNTRIES = ("Spain", "Mexico", "India", "Portugal", "Thailand", "Germany", "Canada", "Ireland",
              "Brazil", "Italy", "the Philippines", "Kenya", "New Zealand", "Vietnam")
_EMAIL_DOMAINS: dict[str, tuple[str, ...]] = {
    "en_US": ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com", "comcast.net"),
    "en_GB": ("gmail.com", "hotmail.co.uk", "btinternet.com", "outlook.com", "yahoo.co.uk"),
    "en_CA": ("gmail.com", "rogers.com", "shaw.ca", "outlook.com", "sympatico.ca"),
    "en_AU": ("gmail.com", "bigpond.com", "outlook.com", "optusnet.com.au", "icloud.com"),
}
_TLDS = {"en_US": (".org", ".com", ".health"), "en_GB": (".nhs.uk", ".co.uk", ".org.uk"),
         "en_CA": (".ca", ".org", ".com"), "en_AU": (".com.au", ".org.au", ".au")}


@dataclass
class Person:
    first: str
    last: str
    middle: str
    gender: str  # "m", "f" or "x"

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


def _title(ctx: Context, gender: str) -> str:
    dot = "" if ctx.locale in ("en_GB", "en_AU") and ctx.rng.random() < 0.7 else "."
    base = {"m": "Mr", "f": ctx.rng.choice(("Ms", "Ms", "Mrs", "Miss")), "x": "Mx"}[gender]
    return base + ("" if base == "Miss" else dot)


@dataclass
class Context:
    """Per-document state: one seeded RNG, one seeded Faker, and the cast of the document."""

    rng: random.Random
    fake: Faker
    locale: str
    no_entities: bool = False
    today: dt.date = field(init=False)
    memory: dict[str, object] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.today = dates.random_date(self.rng, dt.date(2016, 1, 1), dt.date(2025, 6, 30))

    def cached(self, key: str, make: Callable[[], object]) -> object:
        """The same value for ``key`` everywhere in the document (the patient stays one person)."""
        if key not in self.memory:
            self.memory[key] = make()
        return self.memory[key]

    def remember(self, key: str, value: object) -> None:
        self.memory[key] = value

    def recall(self, key: str) -> object | None:
        return self.memory.get(key)

    def person(self, key: str, gender: str | None = None) -> Person:
        def make() -> Person:
            g = gender or self.rng.choices(("m", "f", "x"), weights=(48, 48, 4))[0]
            first = self.fake.first_name_male() if g == "m" else (
                self.fake.first_name_female() if g == "f" else self.fake.first_name_nonbinary())
            return Person(first, self.fake.last_name(), self.rng.choice("ABCDEFGHJKLMNPRSTW"), g)

        return self.cached(key, make)  # type: ignore[return-value]

    @property
    def patient(self) -> Person:
        return self.person("patient")

    @property
    def age(self) -> int:
        def make() -> int:
            # children, adults, and the over-89s whom Safe Harbor singles out
            low, high = self.rng.choices(((1, 17), (18, 89), (90, 104)), weights=(10, 80, 10))[0]
            return self.rng.randint(low, high)

        return self.cached("age", make)  # type: ignore[return-value]

    @property
    def dob(self) -> dt.date:
        def make() -> dt.date:
            year = self.today.year - self.age - 1
            return dates.random_date(self.rng, dt.date(year, self.today.month, 1),
                                     dt.date(year + 1, self.today.month, 1))

        return self.cached("dob", make)  # type: ignore[return-value]

    def org(self, key: str) -> str:
        return self.cached(key, lambda: _ORG_MAKERS[key](self))  # type: ignore[return-value]


# --- registry ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    fn: SlotFn
    labels: frozenset[str]
    optional: bool  # degrades to plain text in no-entity documents


SLOTS: dict[str, Slot] = {}


def slot(name: str, *labels: str, optional: bool = False) -> Callable[[SlotFn], SlotFn]:
    def register(fn: SlotFn) -> SlotFn:
        SLOTS[name] = Slot(fn, frozenset(labels), optional)
        return fn

    return register


def plain(fn: Callable[[Context], str]) -> SlotFn:
    return lambda ctx: [(fn(ctx), None)]


def one(label: str, fn: Callable[[Context], str]) -> SlotFn:
    return lambda ctx: [(fn(ctx), label)]


def keyed(keys: tuple[str, ...], label: str, fn: Callable[[Context], str], number: bool = True) -> SlotFn:
    """``Key: value`` with a varied key and separator; only the value is labelled."""

    def fill(ctx: Context) -> list[Piece]:
        key = ctx.rng.choice(keys)
        sep = ctx.rng.choices((": ", " ", " - ", " #", ":  "), weights=(10, 4, 1, 1 if number else 0, 1))[0]
        if key.endswith(("#", ".", ":")):
            sep = " "
        return [(key + sep, None), (fn(ctx), label)]

    return fill


TEMPLATE_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand(template: str, ctx: Context) -> list[Piece]:
    """Fill every ``{slot}`` of ``template``; literal text becomes unlabelled pieces."""
    pieces: list[Piece] = []
    pos = 0
    for match in TEMPLATE_SLOT.finditer(template):
        if match.start() > pos:
            pieces.append((template[pos : match.start()], None))
        pieces.extend(SLOTS[match.group(1)].fn(ctx))
        pos = match.end()
    if pos < len(template):
        pieces.append((template[pos:], None))
    return pieces


def template_labels(template: str) -> frozenset[str]:
    """Labels a template always produces (optional slots do not count)."""
    out: set[str] = set()
    for name in TEMPLATE_SLOT.findall(template):
        if name not in SLOTS:
            raise KeyError(f"unknown slot {{{name}}}")
        if not SLOTS[name].optional:
            out |= SLOTS[name].labels
    return frozenset(out)


# --- people ------------------------------------------------------------------------------------


_NAME_FORMS: tuple[tuple[Callable[[Person], str], int], ...] = (
    (lambda p: p.full, 44),
    (lambda p: f"{p.first} {p.middle}. {p.last}", 10),
    (lambda p: f"{p.last.upper()}, {p.first}", 8),
    (lambda p: f"{p.last}, {p.first}", 6),
    (lambda p: f"{p.first[0]}. {p.last}", 6),
    (lambda p: f"{p.first} {p.last.upper()}", 5),
    (lambda p: f"{p.first[0]} {p.last}", 3),  # initial without its full stop
    (lambda p: f"{p.last}, {p.first[0]}.", 3),  # reference-list style
    (lambda p: f"{p.last.upper()} {p.first[0]}", 2),
    (lambda p: p.full.upper(), 3),
    (lambda p: p.full.lower(), 2),
    (lambda p: f"{p.first} {p.middle} {p.last}", 2),
)


def _name_variant(ctx: Context, p: Person) -> list[Piece]:
    """A full name in one of many written forms: initials, surname first, upper or lower case."""
    form = ctx.rng.choices([f for f, _ in _NAME_FORMS], weights=[w for _, w in _NAME_FORMS])[0]
    return [(form(p), "PERSON")]


@slot("pt", "PERSON")
def _pt(ctx: Context) -> list[Piece]:
    return _name_variant(ctx, ctx.patient)


slot("pt_first", "PERSON")(lambda ctx: [(ctx.patient.first, "PERSON")])
slot("pt_last", "PERSON")(lambda ctx: [(ctx.patient.last, "PERSON")])
slot("pt_full", "PERSON")(lambda ctx: [(ctx.patient.full, "PERSON")])


@slot("pt_ref", "PERSON", optional=True)
def _pt_ref(ctx: Context) -> list[Piece]:
    """How a note refers back to the patient: "Ms. Doe", "Jane", "the patient"."""
    if ctx.no_entities:
        return [(ctx.rng.choice(("the patient", "the patient", "the pt")), None)]
    p = ctx.patient
    r = ctx.rng.random()
    if r < 0.45:
        return [(_title(ctx, p.gender) + " ", None), (p.last, "PERSON")]
    if r < 0.63:
        return [(p.first, "PERSON")]
    if r < 0.70:
        return [(p.last, "PERSON")]  # surname alone, no title
    if r < 0.86:
        return [(p.full, "PERSON")]
    if r < 0.93:
        return [(ctx.rng.choice(("Pt", "pt", "the pt")), None)]
    return [("the patient", None)]


@slot("greet", "PERSON", optional=True)
def _greet(ctx: Context) -> list[Piece]:
    """A salutation: "Hi Jane," or, without entities, "Hi,"."""
    hello = ctx.rng.choice(("Hi", "Hello", "Dear", "Good morning", "Hey"))
    if ctx.no_entities or ctx.rng.random() < 0.25:
        return [(("Hello" if hello == "Dear" else hello) + ",", None)]
    p = ctx.person("recipient")
    if hello == "Dear" and ctx.rng.random() < 0.6:
        return [(f"Dear {_title(ctx, p.gender)} ", None), (p.last, "PERSON"), (",", None)]
    return [(hello + " ", None), (p.first, "PERSON"), (",", None)]


def _pronoun(forms: tuple[str, str, str]) -> SlotFn:
    return lambda ctx: [({"m": forms[0], "f": forms[1], "x": forms[2]}[ctx.patient.gender], None)]


for _name, _forms in {
    "he": ("he", "she", "they"), "He": ("He", "She", "They"), "his": ("his", "her", "their"),
    "His": ("His", "Her", "Their"), "him": ("him", "her", "them"),
    "sex": ("M", "F", "X"), "is": ("is", "is", "are"),
    "has": ("has", "has", "have"), "was": ("was", "was", "were"),
}.items():
    slot(_name)(_pronoun(_forms))


@slot("man")
def _man(ctx: Context) -> list[Piece]:
    """The patient's noun: "man", "woman", "girl", "child" ... (agrees with gender and age)."""
    g, adult = ctx.patient.gender, ctx.age >= 18
    word = {"m": ("boy", "man"), "f": ("girl", "woman"), "x": ("child", "person")}[g][adult]
    if ctx.rng.random() < 0.2:
        word = {"m": "male", "f": "female", "x": "patient"}[g]
    return [(word, None)]


@slot("dr", "PERSON")
def _dr(ctx: Context) -> list[Piece]:
    p = ctx.person("clinician")
    dr = "Dr" if ctx.locale != "en_US" and ctx.rng.random() < 0.6 else "Dr."
    name = p.last if ctx.rng.random() < 0.6 else (p.full if ctx.rng.random() < 0.7 else f"{p.first[0]}. {p.last}")
    return [(dr + " ", None), (name, "PERSON")]


@slot("dr_sig", "PERSON")
def _dr_sig(ctx: Context) -> list[Piece]:
    p = ctx.person("clinician")
    cred = ctx.rng.choice(("MD", "MD", "DO", "MBBS", "FRACP", "NP", "PA-C", "MRCP"))
    return [(p.full, "PERSON"), (f", {cred}", None)]


slot("dr_name", "PERSON")(lambda ctx: [(ctx.person("clinician").full, "PERSON")])
slot("dr2", "PERSON")(lambda ctx: [("Dr. ", None), (ctx.person("specialist").last, "PERSON")])
slot("contact", "PERSON")(lambda ctx: _name_variant(ctx, ctx.person("contact")))
slot("contact_first", "PERSON")(lambda ctx: [(ctx.person("contact").first, "PERSON")])
slot("nurse", "PERSON")(lambda ctx: [(ctx.person("nurse").first, "PERSON")])
slot("nurse_full", "PERSON")(lambda ctx: [(ctx.person("nurse").full, "PERSON")])


@slot("other", "PERSON")
def _other(ctx: Context) -> list[Piece]:
    """Someone new on every call (rows of a census table, people tagged in a post)."""
    n = int(cast(int, ctx.cached("n_others", lambda: 0))) + 1
    ctx.remember("n_others", n)
    return _name_variant(ctx, ctx.person(f"other{n}"))


@slot("other_first", "PERSON")
def _other_first(ctx: Context) -> list[Piece]:
    n = int(cast(int, ctx.cached("n_others", lambda: 0))) + 1
    ctx.remember("n_others", n)
    return [(ctx.person(f"other{n}").first, "PERSON")]


@slot("handle")
def _handle(ctx: Context) -> list[Piece]:
    """An @handle: never tagged (see the labelling rules above), even when it spells a name."""
    rng = ctx.rng
    word = re.sub(r"[^a-z0-9_]", "", ctx.fake.user_name().lower()) or "user"
    return [("@" + rng.choice((word, f"{word}{rng.randint(1, 99)}", f"the_real_{word}", f"{word}_md",
                                rng.choice(("nightnurse", "t1d_warrior", "spoonie_life", "docmike", "rn_tales",
                                            "healthnews", "pharma_watch", "runner_girl"))
                                )), None)]


@slot("me", "PERSON", optional=True)
def _me(ctx: Context) -> list[Piece]:
    """The patient's speaker label in chats and transcripts."""
    label = ctx.cached("me", lambda: "name" if not ctx.no_entities and ctx.rng.random() < 0.6
                       else ctx.rng.choice(("Patient", "Caller", "Customer", "Member")))
    return [(ctx.patient.first, "PERSON")] if label == "name" else [(str(label), None)]


@slot("them", "PERSON", optional=True)
def _them(ctx: Context) -> list[Piece]:
    """The staff member's speaker label in chats and transcripts."""
    label = ctx.cached("them", lambda: "name" if not ctx.no_entities and ctx.rng.random() < 0.4
                       else ctx.rng.choice(("Agent", "Staff", "Nurse", "Rep", "Support")))
    return [(ctx.person("agent").first, "PERSON")] if label == "name" else [(str(label), None)]


@slot("ts", "DATE_TIME", optional=True)
def _ts(ctx: Context) -> list[Piece]:
    """A chat timestamp prefix (or nothing); times increase through the document."""
    if ctx.no_entities or not ctx.cached("use_ts", lambda: ctx.rng.random() < 0.5):
        return []
    minute = int(cast(int, ctx.cached("ts_minute", lambda: ctx.rng.randint(7 * 60, 20 * 60))))
    minute += ctx.rng.randint(0, 3)
    ctx.remember("ts_minute", minute)
    style = ctx.cached("ts_style", lambda: ctx.rng.randrange(3))
    t = f"{minute // 60:02d}:{minute % 60:02d}"
    if style == 1:
        t = f"{(minute // 60) % 12 or 12}:{minute % 60:02d} {'AM' if minute < 720 else 'PM'}"
    return [("[", None), (t, "DATE_TIME"), ("] ", None)]


# --- ages and dates ----------------------------------------------------------------------------

slot("age", "AGE")(lambda ctx: [(str(ctx.age), "AGE")])


@slot("age_phrase", "AGE")
def _age_phrase(ctx: Context) -> list[Piece]:
    suffix = ctx.rng.choices(("-year-old", " year old", " y/o", " yo", "-yr-old", " YO", " y.o.", "-yo",
                              " yr old", "yo", "yrs"), weights=(8, 2, 3, 1, 1, 1, 1, 1, 1, 1, 1))[0]
    if suffix in ("yo", "yrs"):  # glued: one token, so the whole token is the AGE span
        return [(f"{ctx.age}{suffix}", "AGE")]
    return [(str(ctx.age), "AGE"), (suffix, None)]


@slot("age_sex", "AGE")
def _age_sex(ctx: Context) -> list[Piece]:
    """Clinical shorthand for age and sex: ``54M``, ``54 F``, ``54 y/o M``, ``(54)``.

    Only ``M`` is glued to the number: the tokenizer splits ``54M`` but keeps ``54F`` whole.
    """
    sex = {"m": "M", "f": "F", "x": "X"}[ctx.patient.gender]
    a = str(ctx.age)
    return ctx.rng.choice((
        [(a, "AGE"), (sex if sex == "M" else " " + sex, None)],
        [(a, "AGE"), (" " + sex, None)], [(a, "AGE"), (" y/o " + sex, None)],
        [(a, "AGE"), (" yo " + sex, None)],
        [(sex + " ", None), (a, "AGE")], [("(", None), (a, "AGE"), (")", None)],
    ))


@slot("a_age_phrase", "AGE")
def _a_age_phrase(ctx: Context) -> list[Piece]:
    """``a 67-year-old`` / ``an 80-year-old``: the article follows how the number is spoken."""
    a = str(ctx.age)
    article = "an" if a.startswith("8") or a in ("11", "18") else "a"
    return [(article + " ", None), *_age_phrase(ctx)]


@slot("aged", "AGE")
def _aged(ctx: Context) -> list[Piece]:
    a = str(ctx.age)
    return ctx.rng.choice((
        [("aged ", None), (a, "AGE")], [("age ", None), (a, "AGE")],
        [(a, "AGE"), (" years old", None)], [(a, "AGE"), (" years of age", None)],
        [(a, "AGE"), (" yrs", None)], [("now ", None), (a, "AGE")], [(a, "AGE"), (" y.o.", None)],
    ))


slot("age2", "AGE")(lambda ctx: [(str(ctx.rng.randint(40, 99)), "AGE")])
slot("child_age", "AGE")(lambda ctx: [(str(ctx.rng.randint(2, 16)), "AGE")])


def _past(ctx: Context, days: int = 700) -> dt.date:
    return ctx.today - dt.timedelta(days=ctx.rng.randint(0, days))


def _admission(ctx: Context) -> dt.date:
    return ctx.cached("admission", lambda: _past(ctx, 400))  # type: ignore[return-value]


def _future(ctx: Context) -> dt.date:
    return ctx.today + dt.timedelta(days=ctx.rng.randint(1, 120))


slot("date", "DATE_TIME")(one("DATE_TIME", lambda ctx: dates.format_date(ctx.rng, _past(ctx), ctx.locale)))
slot("date_full", "DATE_TIME")(one(
    "DATE_TIME", lambda ctx: dates.format_date(ctx.rng, _past(ctx), ctx.locale, with_year=True)))
slot("today", "DATE_TIME")(one(
    "DATE_TIME", lambda ctx: dates.format_date(ctx.rng, ctx.today, ctx.locale, with_year=True)))
slot("future_date", "DATE_TIME")(one(
    "DATE_TIME", lambda ctx: dates.format_date(ctx.rng, _future(ctx), ctx.locale)))
slot("dob", "DATE_TIME")(one(
    "DATE_TIME", lambda ctx: dates.format_date(ctx.rng, ctx.dob, ctx.locale, with_year=True)))
slot("adm_date", "DATE_TIME")(one("DATE_TIME", lambda ctx: dates.format_date(
    ctx.rng, _admission(ctx), ctx.locale, with_year=True)))
slot("dis_date", "DATE_TIME")(one("DATE_TIME", lambda ctx: dates.format_date(
    ctx.rng, _admission(ctx) + dt.timedelta(days=ctx.rng.randint(1, 12)), ctx.locale, with_year=True)))
slot("time", "DATE_TIME")(one("DATE_TIME", lambda ctx: dates.format_time(ctx.rng)))
slot("datetime", "DATE_TIME")(one(
    "DATE_TIME", lambda ctx: dates.format_datetime(ctx.rng, _past(ctx, 30), ctx.locale)))
slot("year", "DATE_TIME")(one("DATE_TIME", lambda ctx: str(ctx.today.year - ctx.rng.randint(1, 25))))


slot("month_year", "DATE_TIME")(one("DATE_TIME", lambda ctx: dates.format_month_year(ctx.rng, _past(ctx, 2000))))


# --- places ------------------------------------------------------------------------------------


def _region_abbr(ctx: Context) -> str:
    f = ctx.fake
    if ctx.locale == "en_CA":
        return f.province_abbr()
    if ctx.locale in ("en_US", "en_AU"):
        return f.state_abbr()
    return ""


def _city(ctx: Context) -> str:
    return ctx.rng.choice(_REAL_CITIES[ctx.locale]) if ctx.rng.random() < 0.5 else ctx.fake.city()


def _address_lines(ctx: Context) -> list[str]:
    """Street, optional unit, and a city line in the locale's order."""
    f, rng = ctx.fake, ctx.rng
    street = f.street_address().strip()
    lines = [street]
    has_unit = re.search(r"\b(Apt|Suite|Unit|Flat|Studio|Level)\b", street) is not None
    if not has_unit and rng.random() < 0.25:
        unit = f.secondary_address().strip()
        if ctx.locale in ("en_GB", "en_AU"):
            lines.insert(0, unit)
        else:
            lines[0] = f"{street}{rng.choice((' ', ', '))}{unit}"
    city, region, post = _city(ctx), _region_abbr(ctx), f.postcode()
    if ctx.locale == "en_US":
        lines.append(f"{city}, {region} {post}")
    elif ctx.locale == "en_CA":
        lines.append(f"{city}, {region} {post}" if rng.random() < 0.7 else f"{city} {region}  {post}")
    elif ctx.locale == "en_AU":
        lines.append(f"{city} {region} {post}" if rng.random() < 0.6 else f"{city}, {region}, {post}")
    else:
        lines.extend([city.upper() if rng.random() < 0.3 else city, post])
    if rng.random() < 0.1:
        lines.append({"en_US": "USA", "en_GB": "United Kingdom", "en_CA": "Canada", "en_AU": "Australia"}[ctx.locale])
    return lines


slot("addr", "LOCATION")(lambda ctx: [(", ".join(_address_lines(ctx)), "LOCATION")])
slot("addr_ml", "LOCATION")(lambda ctx: [("\n".join(_address_lines(ctx)), "LOCATION")])
slot("street", "LOCATION")(one("LOCATION", lambda ctx: ctx.fake.street_address().strip()))
slot("city", "LOCATION")(one("LOCATION", _city))
slot("postcode", "LOCATION")(one("LOCATION", lambda ctx: ctx.fake.postcode()))


@slot("city_region", "LOCATION")
def _city_region(ctx: Context) -> list[Piece]:
    region = _region_abbr(ctx) or ctx.rng.choice(_REGIONS["en_GB"])
    return [(f"{_city(ctx)}, {region}", "LOCATION")]


slot("region")(plain(lambda ctx: ctx.rng.choice(_REGIONS[ctx.locale])))
slot("country")(plain(lambda ctx: ctx.rng.choice(_COUNTRIES)))

# --- organisations -----------------------------------------------------------------------------


def _hospital(ctx: Context) -> str:
    rng = ctx.rng
    adj, saint = rng.choice(vocab.ORG_ADJ), rng.choice(vocab.SAINTS)
    st = "St" if ctx.locale != "en_US" and rng.random() < 0.6 else "St."
    return rng.choice((
        f"{adj} General Hospital", f"{st} {saint} Hospital", f"{ctx.fake.last_name()} Memorial Hospital",
        f"{adj} Medical Center", f"{_city(ctx)} Regional Hospital", f"{adj} Health",
        f"{adj} Children's Hospital", f"{_city(ctx)} Infirmary",
    ))


def _clinic(ctx: Context) -> str:
    r = ctx.rng.randrange(4)
    return (f"{ctx.fake.last_name()} Family Practice" if r == 0
            else f"{ctx.rng.choice(vocab.ORG_ADJ)} Medical Group" if r == 1
            else f"{ctx.rng.choice(vocab.ORG_ADJ)} Surgery" if r == 2
            else f"{ctx.fake.last_name()} & {ctx.fake.last_name()} Clinic")


def _pharmacy(ctx: Context) -> str:
    r = ctx.rng.randrange(3)
    return (ctx.rng.choice(vocab.PHARMACY_CHAINS) if r == 0
            else f"{ctx.fake.last_name()}'s Pharmacy" if r == 1
            else f"{ctx.rng.choice(vocab.ORG_ADJ)} Pharmacy")


def _insurer(ctx: Context) -> str:
    r = ctx.rng.randrange(3)
    return (ctx.rng.choice(vocab.INSURERS) if r == 0
            else f"{ctx.rng.choice(vocab.ORG_ADJ)} Health Plan" if r == 1
            else f"{ctx.fake.last_name()} Mutual Insurance")


def _lab(ctx: Context) -> str:
    return f"{ctx.rng.choice(vocab.ORG_ADJ)} {ctx.rng.choice(('Diagnostics', 'Pathology', 'Labs', 'Imaging'))}"


_ORG_MAKERS: dict[str, Callable[[Context], str]] = {
    "hospital": _hospital, "clinic": _clinic, "pharmacy": _pharmacy, "insurer": _insurer,
    "lab_org": _lab, "employer": lambda ctx: ctx.fake.company(),
}
def _org_slot(key: str) -> SlotFn:
    return lambda ctx: [(ctx.org(key), "ORGANIZATION")]


for _key in _ORG_MAKERS:
    slot(_key, "ORGANIZATION")(_org_slot(_key))

# --- contact details ---------------------------------------------------------------------------


def _phone(ctx: Context) -> str:
    rng, loc = ctx.rng, ctx.locale
    r = rng.random()
    if r < 0.5:
        return ctx.fake.phone_number()
    if loc in ("en_US", "en_CA"):
        a, b, c = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
        base = rng.choice((f"({a}) {b}-{c:04d}", f"{a}-{b}-{c:04d}", f"{a}.{b}.{c:04d}",
                           f"+1 {a} {b} {c:04d}", f"+1-{a}-{b}-{c:04d}", f"1-{a}-{b}-{c:04d}",
                           f"+1 ({a}) {b}-{c:04d}", f"{a} {b} {c:04d}", f"{a}{b}{c:04d}", f"+1.{a}.{b}.{c:04d}"))
    elif loc == "en_GB":
        base = rng.choice((f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
                           f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
                           f"020 {rng.randint(7000, 8999)} {rng.randint(1000, 9999)}",
                           f"+44 (0)161 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                           f"+44 20 {rng.randint(7000, 8999)} {rng.randint(1000, 9999)}",
                           f"0113 {rng.randint(200, 499)} {rng.randint(1000, 9999)}",
                           f"07{rng.randint(100, 999)}{rng.randint(100000, 999999)}"))
    else:
        base = rng.choice((f"04{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
                           f"+61 4{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
                           f"(0{rng.randint(2, 8)}) {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                           f"+61 {rng.randint(2, 8)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                           f"04{rng.randint(10, 99)}{rng.randint(100, 999)}{rng.randint(100, 999)}"))
    if rng.random() < 0.3:
        base += rng.choice((" ext. ", " ext ", " x", " Ext. ")) + str(rng.randint(10, 9999))
    return base


slot("phone", "PHONE_NUMBER")(one("PHONE_NUMBER", _phone))
slot("phone_kv", "PHONE_NUMBER")(keyed(
    ("Phone", "Tel", "Mobile", "Cell", "Home phone", "Ph", "Contact no.", "Work phone", "Tel."),
    "PHONE_NUMBER", _phone))
slot("fax_kv", "PHONE_NUMBER")(keyed(("Fax", "Fax no.", "F", "Fax number"), "PHONE_NUMBER", _phone))


_GENERIC_ORG_WORDS = {"general", "hospital", "medical", "center", "health", "st", "memorial",
                      "regional", "children", "s", "infirmary", "the"}


def _org_domain(ctx: Context) -> str:
    """A plausible web domain for the document's hospital ("Pinecrest General" -> pinecresthealth.org)."""
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", ctx.org("hospital"))]
    core = "".join(w for w in words if w not in _GENERIC_ORG_WORDS)[:16] or "community"
    suffix = ctx.cached("org_suffix", lambda: ctx.rng.choice(("health", "hospital", "med", "", "care")))
    return f"{core}{suffix}{ctx.cached('org_tld', lambda: ctx.rng.choice(_TLDS[ctx.locale]))}"


def _email_for(ctx: Context, p: Person, work: bool) -> str:
    rng = ctx.rng
    first, last = (re.sub(r"[^a-z]", "", s.lower()) or "x" for s in (p.first, p.last))
    if work:
        domain = _org_domain(ctx)
        local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{last}.{first[0]}"))
    else:
        domain = rng.choice(_EMAIL_DOMAINS[ctx.locale]) if rng.random() < 0.8 else ctx.fake.free_email_domain()
        local = rng.choice((f"{first}.{last}", f"{first}{last}{rng.randint(1, 99)}", f"{first[0]}{last}",
                            f"{first}_{last}{rng.randint(60, 99)}", f"{last}.{first}", f"{first}{rng.randint(100, 9999)}"))
    return f"{local}@{domain}"


slot("pt_email", "EMAIL_ADDRESS")(one("EMAIL_ADDRESS", lambda ctx: str(ctx.cached(
    "pt_email", lambda: _email_for(ctx, ctx.patient, False)))))
slot("dr_email", "EMAIL_ADDRESS")(one("EMAIL_ADDRESS", lambda ctx: _email_for(ctx, ctx.person("clinician"), True)))
slot("email", "EMAIL_ADDRESS")(one("EMAIL_ADDRESS", lambda ctx: (
    ctx.fake.email() if ctx.rng.random() < 0.5 else _email_for(ctx, ctx.person("contact"), False))))
slot("email_kv", "EMAIL_ADDRESS")(keyed(("Email", "E-mail", "email", "Email address", "Contact email"),
                                        "EMAIL_ADDRESS", lambda ctx: str(ctx.cached(
                                            "pt_email", lambda: _email_for(ctx, ctx.patient, False))),
                                        number=False))


def _url(ctx: Context) -> str:
    rng, p = ctx.rng, ctx.patient
    r = rng.randrange(6)
    site = _org_domain(ctx)
    first, last = (re.sub(r"[^a-z]", "", s.lower()) or "x" for s in (p.first, p.last))
    if r == 0:
        return ctx.fake.url().rstrip("/") if rng.random() < 0.5 else ctx.fake.url()
    if r == 1:
        return f"https://portal.{site}/patients/{ids.digits(rng, 6)}"
    if r == 2:
        return f"https://www.facebook.com/{first}.{last}.{rng.randint(1, 999)}"
    if r == 3:
        return f"www.{site}/appointments?id={ids.digits(rng, 8)}"
    if r == 4:
        path = rng.choice(("u", "profile", "share", "r"))
        return f"https://{ctx.fake.domain_name()}/{path}/{ids.letters(rng, 6, ids.ALNUM).lower()}"
    return f"http://{ctx.fake.domain_name()}/{first}-{last}"


slot("url", "URL")(one("URL", _url))


def _ip(ctx: Context) -> str:
    rng = ctx.rng
    r = rng.random()
    if r < 0.5:
        return ctx.fake.ipv4_public() if rng.random() < 0.7 else ctx.fake.ipv4_private()
    if r < 0.75:
        return ctx.fake.ipv6()
    return str(ipaddress.IPv6Address(ctx.fake.ipv6()).compressed if rng.random() < 0.5
               else f"2001:db8:{rng.randint(1, 0xffff):x}::{rng.randint(1, 0xffff):x}")


slot("ip", "IP_ADDRESS")(one("IP_ADDRESS", _ip))

# --- identifiers -------------------------------------------------------------------------------

slot("ssn", "US_SSN")(one("US_SSN", lambda ctx: ids.us_ssn(ctx.rng)))
slot("ssn_kv", "US_SSN")(keyed(("SSN", "SSN#", "Social Security No.", "Social security number", "SS#"),
                               "US_SSN", lambda ctx: ids.us_ssn(ctx.rng)))
slot("mrn", "MEDICAL_RECORD_NUMBER")(one("MEDICAL_RECORD_NUMBER", lambda ctx: str(ctx.cached(
    "mrn", lambda: ids.mrn(ctx.rng)))))
slot("mrn_kv", "MEDICAL_RECORD_NUMBER")(keyed(
    ("MRN", "MRN", "MR#", "Medical record no.", "Hospital No.", "Chart #", "Record number", "Unit No."),
    "MEDICAL_RECORD_NUMBER", lambda ctx: str(ctx.cached("mrn", lambda: ids.mrn(ctx.rng)))))
slot("hpid", "HEALTH_PLAN_ID")(one("HEALTH_PLAN_ID", lambda ctx: ids.health_plan_id(ctx.rng, ctx.locale)))
slot("hpid_kv", "HEALTH_PLAN_ID")(keyed(
    ("Member ID", "Member #", "Policy no.", "Subscriber ID", "Insurance ID", "Medicare no.",
     "NHS number", "Health card no.", "Beneficiary ID", "Plan ID"),
    "HEALTH_PLAN_ID", lambda ctx: ids.health_plan_id(ctx.rng, ctx.locale)))
slot("acct", "ACCOUNT_NUMBER")(one("ACCOUNT_NUMBER", lambda ctx: ids.account_number(ctx.rng)))
slot("acct_kv", "ACCOUNT_NUMBER")(keyed(
    ("Account no.", "Acct #", "Account number", "Billing account", "Patient account", "A/C"),
    "ACCOUNT_NUMBER", lambda ctx: ids.account_number(ctx.rng)))
slot("acct4", "ACCOUNT_NUMBER")(one("ACCOUNT_NUMBER", lambda ctx: ids.digits(ctx.rng, 4)))
slot("cc", "CREDIT_CARD")(one("CREDIT_CARD", lambda ctx: ids.credit_card(ctx.rng)))
slot("cc_kv", "CREDIT_CARD")(keyed(("Card number", "Card no.", "Credit card", "CC#", "Visa/MC"),
                                   "CREDIT_CARD", lambda ctx: ids.credit_card(ctx.rng)))
slot("cc4", "CREDIT_CARD")(one("CREDIT_CARD", lambda ctx: ids.card_last4(ctx.rng)))
slot("iban", "IBAN_CODE")(one("IBAN_CODE", lambda ctx: ids.iban(ctx.rng)))
slot("iban_kv", "IBAN_CODE")(keyed(("IBAN", "IBAN", "Bank account (IBAN)", "IBAN no."),
                                   "IBAN_CODE", lambda ctx: ids.iban(ctx.rng)))


@slot("dl", "US_DRIVER_LICENSE")
def _dl(ctx: Context) -> list[Piece]:
    state, number = ids.us_driver_license(ctx.rng)
    return ctx.rng.choice((
        [(f"{state} driver's license ", None), (number, "US_DRIVER_LICENSE")],
        [("driver's license ", None), (number, "US_DRIVER_LICENSE"), (f" ({state})", None)],
        [(f"{state} DL# ", None), (number, "US_DRIVER_LICENSE")],
        [("DL ", None), (number, "US_DRIVER_LICENSE")],
        [("license no. ", None), (number, "US_DRIVER_LICENSE"), (f", issued in {state}", None)],
    ))


@slot("lic", "LICENSE_NUMBER")
def _lic(ctx: Context) -> list[Piece]:
    """A clinician's professional licence (medical, nursing, NPI, DEA ...), kind named before it."""
    kind, number = ids.professional_license(ctx.rng, ctx.person("clinician").last)
    sep = ctx.rng.choice((" ", ": ", " number ", " no. ", " #"))
    return [(kind + sep, None), (number, "LICENSE_NUMBER")]


@slot("lic_id", "LICENSE_NUMBER")
def _lic_id(ctx: Context) -> list[Piece]:
    """A non-US driving licence or other personal licence: LICENSE_NUMBER, not US_DRIVER_LICENSE."""
    kind, number = ids.personal_license(ctx.rng, ctx.patient.last, ctx.locale)
    sep = ctx.rng.choice((" ", ": ", " number ", " no. "))
    return [(kind + sep, None), (number, "LICENSE_NUMBER")]


@slot("vehicle", "VEHICLE_ID")
def _vehicle(ctx: Context) -> list[Piece]:
    rng = ctx.rng
    if rng.random() < 0.5:
        key = rng.choice(("VIN ", "VIN: ", "vehicle VIN ", "VIN# "))
        return [(key, None), (ids.vin(rng), "VEHICLE_ID")]
    plate = ctx.fake.license_plate()
    key = rng.choice(("plate ", "licence plate ", "license plate ", "reg ", "registration ", "tag "))
    return [(key, None), (plate, "VEHICLE_ID")]


@slot("device", "DEVICE_ID")
def _device(ctx: Context) -> list[Piece]:
    kind, value = ids.device_id(ctx.rng)
    key = {"serial": ctx.rng.choice(("serial number ", "SN ", "S/N ", "serial no. ", "SN: ")),
           "IMEI": "IMEI ", "MAC": "MAC address ", "UDI": "UDI ", "pump": "pump serial "}[kind]
    return [(key, None), (value, "DEVICE_ID")]


slot("rx", "Rx_NUMBER")(one("Rx_NUMBER", lambda ctx: ids.rx_number(ctx.rng)))
slot("rx_kv", "Rx_NUMBER")(keyed(("Rx #", "Rx", "Rx No.", "Prescription #", "Rx number", "RX#"),
                                 "Rx_NUMBER", lambda ctx: ids.rx_number(ctx.rng)))
slot("order", "ORDER_NUMBER")(one("ORDER_NUMBER", lambda ctx: ids.order_number(ctx.rng)))
slot("order_kv", "ORDER_NUMBER")(keyed(("Order #", "Order no.", "Order number", "Accession #", "Ref. order", "Requisition"),
                                       "ORDER_NUMBER", lambda ctx: ids.order_number(ctx.rng)))

# --- hard negatives and filler (never labelled) ------------------------------------------------


def _choice(pool: tuple[str, ...]) -> Callable[[Context], str]:
    return lambda ctx: ctx.rng.choice(pool)


for _name, _pool in {
    "freq": vocab.FREQUENCIES, "route": vocab.ROUTES,
    "cond": vocab.CONDITIONS, "epo": vocab.EPONYMS, "epo_thing": vocab.EPONYM_THINGS,
    "icd": vocab.ICD10, "cpt": vocab.CPT, "role": vocab.ROLES, "reltime": vocab.RELATIVE_TIMES,
    "dur": vocab.DURATIONS, "symptom": vocab.SYMPTOMS, "proc": vocab.PROCEDURES,
    "spec": vocab.SPECIALTIES, "rel": vocab.RELATIONS, "kin": vocab.KIN,
    "infection": vocab.PLACE_DISEASES, "fluid": vocab.FLUIDS,
}.items():
    slot(_name)(plain(_choice(_pool)))



@slot("drug")
def _drug(ctx: Context) -> list[Piece]:
    """A drug name; remembered so that the next ``{dose}`` fits it."""
    drug = ctx.rng.choice(vocab.DRUGS)
    ctx.remember("last_drug", drug)
    return [(drug, None)]


slot("dose")(plain(lambda ctx: vocab.dose(ctx.rng, str(ctx.recall("last_drug") or ""))))
slot("lab")(plain(lambda ctx: vocab.fill_numbers(ctx.rng, ctx.rng.choice(vocab.LABS))))
slot("vital")(plain(lambda ctx: vocab.fill_numbers(ctx.rng, ctx.rng.choice(vocab.VITALS))))
slot("room")(plain(lambda ctx: vocab.fill_numbers(ctx.rng, ctx.rng.choice(vocab.ROOMS))))
slot("n")(plain(lambda ctx: str(ctx.rng.randint(2, 12))))
slot("tabs")(plain(lambda ctx: ctx.rng.choice(("1 tablet", "2 tablets", "one tablet", "half a tablet",
                                                  "1 capsule", "2 puffs", "10 mL"))))
slot("pct")(plain(lambda ctx: str(ctx.rng.randint(5, 100))))
slot("qty")(plain(lambda ctx: f"{ctx.rng.choice((14, 28, 30, 60, 90, 100))} {ctx.rng.choice(('tablets', 'capsules', 'tabs'))}"))
slot("ndc")(plain(lambda ctx: f"{ids.digits(ctx.rng, 5)}-{ids.digits(ctx.rng, 4)}-{ids.digits(ctx.rng, 2)}"))
slot("lot")(plain(lambda ctx: ids.letters(ctx.rng, 2) + ids.digits(ctx.rng, 4)))
for _name, _pool in {
    "labcode": vocab.LAB_CODES, "product": vocab.PRODUCT_CODES, "version": vocab.VERSIONS,
    "sx": vocab.SHORTHAND_SYMPTOMS, "hx": vocab.SHORTHAND_CONDITIONS,
    "sp": vocab.SHORTHAND_PROCS, "hashtag": vocab.HASHTAGS, "emoji": vocab.EMOJI,
}.items():
    slot(_name)(plain(_choice(_pool)))
slot("yearctx")(plain(lambda ctx: ctx.rng.choice(vocab.YEAR_CONTEXTS).format(y=ctx.rng.randint(1998, 2024))))
slot("amount")(plain(lambda ctx: (
    f"{'£' if ctx.locale == 'en_GB' else '$'}{ctx.rng.randint(5, 900)}.{ctx.rng.randint(0, 99):02d}")))

# --- tables and lists --------------------------------------------------------------------------

Cell = list[Piece]


def _col(ctx: Context) -> str:
    """The document's column separator (pipes, tabs, runs of spaces), the same in every row."""
    return str(ctx.cached("col", lambda: ctx.rng.choice((" | ", "\t", "  ", " |\t", "; ", "\t\t"))))


def _table(ctx: Context, header: tuple[str, ...], row: Callable[[], list[Cell]]) -> list[Piece]:
    """A header and 2-4 rows; cells never straddle a separator, so spans stay inside one cell."""
    col, rng = _col(ctx), ctx.rng
    edge = col.strip() == "|" and rng.random() < 0.4  # "| a | b |" with outer pipes
    head = [h.upper() for h in header] if rng.random() < 0.4 else list(header)
    lines: list[list[Piece]] = [[(col.join(head), None)]]
    for _ in range(rng.randint(2, 4)):
        line: list[Piece] = []
        for i, cell in enumerate(row()):
            if i:
                line.append((col, None))
            line.extend(cell)
        lines.append(line)
    out: list[Piece] = []
    for i, line in enumerate(lines):
        if i:
            out.append(("\n", None))
        out.extend([("| ", None), *line, (" |", None)] if edge else line)
    return out


def _fresh_age(ctx: Context) -> Cell:
    return [(str(ctx.rng.randint(18, 99)), "AGE")]


@slot("census_table", "PERSON", "AGE")
def _census_table(ctx: Context) -> list[Piece]:
    """A ward census: bed (not PII), patient, age, problem, attending clinician."""
    def row() -> list[Cell]:
        return [[(vocab.fill_numbers(ctx.rng, ctx.rng.choice(("{b}", "Bed {b}", "{n}{l}", "Rm {s}"))), None)],
                _other(ctx), _fresh_age(ctx),
                [(ctx.rng.choice(vocab.SHORTHAND_CONDITIONS + vocab.CONDITIONS), None)],
                [("Dr ", None), (ctx.fake.last_name(), "PERSON")]]
    return _table(ctx, ("Bed", "Patient", "Age", "Problem", "Attending"), row)


@slot("contacts_table", "PERSON", "PHONE_NUMBER")
def _contacts_table(ctx: Context) -> list[Piece]:
    def row() -> list[Cell]:
        return [_other(ctx), [(ctx.rng.choice(vocab.RELATIONS), None)], [(_phone(ctx), "PHONE_NUMBER")]]
    return _table(ctx, ("Name", "Relationship", "Phone"), row)


@slot("appts_table", "DATE_TIME", "ORGANIZATION")
def _appts_table(ctx: Context) -> list[Piece]:
    def row() -> list[Cell]:
        return [[(dates.format_date(ctx.rng, _future(ctx), ctx.locale, with_year=True), "DATE_TIME")],
                [(dates.format_time(ctx.rng), "DATE_TIME")], [(_clinic(ctx), "ORGANIZATION")],
                [(ctx.rng.choice(vocab.SPECIALTIES), None)]]
    return _table(ctx, ("Date", "Time", "Location", "Service"), row)


@slot("labs_table")
def _labs_table(ctx: Context) -> list[Piece]:
    """Lab results in columns: codes, numbers and units only, no PII (a hard negative)."""
    def row() -> list[Cell]:
        code = ctx.rng.choice(("HbA1c", "Na", "K", "Creat", "eGFR", "WBC", "Hgb", "PLT", "CRP", "TSH", "LDL"))
        return [[(code, None)], [(f"{ctx.rng.uniform(0.5, 150):.1f}", None)],
                [(ctx.rng.choice(("mg/dL", "mmol/L", "%", "g/dL", "x10^9/L", "mIU/L", "mL/min")), None)],
                [(ctx.rng.choice(("H", "L", "N", "")), None)]]
    return _table(ctx, ("Test", "Result", "Units", "Flag"), row)


@slot("meds_table")
def _meds_table(ctx: Context) -> list[Piece]:
    def row() -> list[Cell]:
        drug = ctx.rng.choice(vocab.DRUGS)
        return [[(drug, None)], [(vocab.dose(ctx.rng, drug), None)], [(ctx.rng.choice(vocab.FREQUENCIES), None)]]
    return _table(ctx, ("Medication", "Dose", "Frequency"), row)


def _bullet(ctx: Context) -> str:
    return str(ctx.cached("bullet", lambda: ctx.rng.choice(("- ", "* ", "• ", "-", "o "))))


@slot("problem_list", "DATE_TIME", optional=True)
def _problem_list(ctx: Context) -> list[Piece]:
    """A bulleted problem list in shorthand; an operation's year is DATE_TIME (it is the patient's)."""
    rng = ctx.rng
    out: list[Piece] = []
    items = rng.sample(vocab.SHORTHAND_CONDITIONS + vocab.EPONYMS, k=rng.randint(2, 4))
    numbered = rng.random() < 0.25
    for i, item in enumerate(items):
        out.append(((f"{i + 1}. " if numbered else _bullet(ctx)) + item, None))
        out.append(("\n", None))
    lead = f"{len(items) + 1}. " if numbered else _bullet(ctx)
    out.append((f"{lead}s/p {rng.choice(vocab.SHORTHAND_PROCS)}", None))
    if not ctx.no_entities and rng.random() < 0.7:
        out += [(" (", None), (str(ctx.today.year - rng.randint(1, 20)), "DATE_TIME"), (")", None)]
    return out


# --- ICU nursing shorthand (hard negatives; issue: real ICU notes were over-tagged) ---------------
# Real ICU nursing notes are dense with numbers, ranges, times and ALL-CAPS findings that are not
# PHI: drip rates, lab panels run together with slashes, vitals as ranges, shift times. A model
# that never saw them read `5MCG/KG/MIN` as an ID and `AFEBRILE` as a name.

def _rng_pick(ctx: Context, pool: tuple[str, ...]) -> str:
    return vocab.fill_numbers(ctx.rng, ctx.rng.choice(pool))


slot("icu_vital")(plain(lambda ctx: _rng_pick(ctx, vocab.ICU_VITALS)))
slot("drip")(plain(lambda ctx: _rng_pick(ctx, vocab.DRIPS)))
slot("lab_panel")(plain(lambda ctx: _rng_pick(ctx, vocab.LAB_PANELS)))
slot("finding")(plain(lambda ctx: ctx.rng.choice(vocab.ICU_FINDINGS)))
slot("shift")(plain(lambda ctx: ctx.rng.choice(vocab.SHIFTS)))
slot("mil_time", "DATE_TIME")(one(
    "DATE_TIME", lambda ctx: f"{ctx.rng.randint(0, 23):02d}{ctx.rng.choice(('00', '15', '30', '45'))}"))
slot("short_date", "DATE_TIME")(one("DATE_TIME", lambda ctx: (
    lambda d: f"{d.month}/{d.day}" if ctx.locale == "en_US" or ctx.rng.random() < 0.5 else f"{d.day}/{d.month}"
)(_past(ctx, 60))))
slot("short_year", "DATE_TIME")(one("DATE_TIME", lambda ctx: f"'{(ctx.today.year - ctx.rng.randint(2, 40)) % 100:02d}"))


@slot("rn", "PERSON")
def _rn(ctx: Context) -> list[Piece]:
    """A nurse or clinician as ICU notes sign them: ``Jane RN``, ``RN Smith``, ``J. Smith, RN``."""
    p = ctx.person("nurse")
    cred = ctx.rng.choice(("RN", "RN", "NP", "RRT", "MD", "PA"))
    return ctx.rng.choice((
        [(p.first, "PERSON"), (f" {cred}", None)], [(f"{cred} ", None), (p.last, "PERSON")],
        [(f"{p.first[0]}. {p.last}", "PERSON"), (f", {cred}", None)],
        [(p.full.upper(), "PERSON"), (f" {cred}", None)], [(p.last, "PERSON"), (f", {cred}", None)],
    ))
