"""PII detection: the guard's scanner side by side with stock Presidio `AnalyzerEngine`.

Corpus: seeded, Faker-filled marketplace message templates in the style of
presidio-evaluator, every entity span labelled as the template is filled, plus the
obfuscated contact details the guard ships recognizers for (`jo at example dot com`,
`four one six ...`, `416.555.0199`, `skype: jo.smith`) and near misses that carry no
label (prices, dates, order numbers, Luhn-failing card numbers, `at the meeting dot
point`).

Both engines see every message under two packs, the mixed workload of the target:
a pattern-only pack (e-mail, phone, card, SSN, IBAN, IP and the three obfuscation
entities) and an NER pack (PERSON, LOCATION, e-mail, phone). Stock is
`AnalyzerEngine` with the same spaCy model (full pipeline, as Presidio loads it), its
default recognizers plus the guard's three obfuscation recognizers so that every
entity is measured on both, and `score_threshold` equal to the pack's threshold. The
guard is `PiiScanner` with its result cache off, so repeated texts are not free.

Scoring is by span overlap: a predicted span is a true positive when it overlaps an
unmatched gold span of its type; a prediction that overlaps a gold span listing its
type as an acceptable alternative (a dotted phone number is OBFUSCATED_PHONE, and
PHONE_NUMBER is accepted there) is neither right nor wrong; anything else is a false
positive. F2 weighs recall twice as much as precision.

Throughput: the engines take turns on chunks of the corpus so that a load change on
the machine hits both alike. The guard is timed per message (`scan`) and in batches
(`scan_batch`, one `nlp.pipe` pass); stock is timed per message (`analyze`).

Run: python benchmarks/bench_pii.py [--quick] [--n N] [--seed S] [--json PATH]
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

# Stock Presidio validates e-mail domains with tldextract, which fetches the public-suffix
# list on first use. Point it at no URLs (the bundled snapshot) before anything imports it.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("TLDEXTRACT_CACHE", str(Path(tempfile.gettempdir()) / "bench-pii-tld"))

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faker import Faker  # noqa: E402

from guard.detect import PiiScanner, PiiSettings  # noqa: E402
from guard.detect._entities import NER_LABELS  # noqa: E402
from guard.detect._nlp import default_model_name  # noqa: E402

FULL_N = 2_000
QUICK_N = 200
DEFAULT_SEED = 20_241_125
CHUNK = 50
BATCH = 64
THRESHOLD = 0.5
BETA = 2.0
TARGET_RATIO = 5.0

PATTERN_PACK = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "US_SSN",
    "IBAN_CODE",
    "IP_ADDRESS",
    "OBFUSCATED_EMAIL",
    "OBFUSCATED_PHONE",
    "CONTACT_HANDLE",
)
NER_PACK = ("PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER")
SCORED = {**{e: "pattern" for e in PATTERN_PACK}, "PERSON": "ner", "LOCATION": "ner"}

# ---------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------

CITIES = (
    "Toronto", "Chicago", "London", "Berlin", "Paris", "Austin", "Seattle", "Madrid",
    "Boston", "Denver", "Dublin", "Lisbon", "Vancouver", "Melbourne", "Amsterdam", "Atlanta",
    "Montreal", "Rome", "Vienna", "Oslo", "Miami", "Houston", "Sydney", "Prague",
)  # fmt: skip
AREA_CODES = ("416", "212", "415", "646", "312", "617", "303", "206", "512", "305", "604")
PLATFORMS = ("skype", "telegram", "whatsapp", "discord", "instagram", "snapchat", "signal")
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

TEMPLATES: tuple[str, ...] = (
    # contact details in the clear
    "You can email me at {email} if you have more questions about the logo.",
    "Hi {first_name}, please send the final files to {email} by Friday.",
    "Call me on {phone} after 5pm, or text if that's easier.",
    "My phone number is {phone}, I usually answer quickly.",
    "My cell is {phone} and my email is {email}, whichever works for you.",
    "Thanks! I'm {name}, reach me at {email} or {phone} any time this week.",
    # obfuscated contact details
    "I'd rather not use the chat here, write to {obf_email} instead.",
    "Email me: {obf_email} and I'll send you a discount.",
    "My number is {obf_phone}, ping me there.",
    "call me {obf_phone} tonight",
    "Add me on {handle} so we can talk outside the platform.",
    "Let's continue on {handle}, it is faster for me.",
    "hey {first_name} message me {handle} or {obf_email} for a better price",
    # payment and identity data
    "Please wire the deposit to {iban} and send me the receipt.",
    "My IBAN is {iban}, the bank is in {country}.",
    "Card number {credit_card}, expiry {mm}/{yy}, name on card {name}.",
    "You can charge my credit card {credit_card} for the rush fee.",
    "For the background check I need your SSN: {ssn}.",
    "My social security number is {ssn}, please keep it private.",
    "The staging server is at {ipv4}, port 8443, user admin.",
    "Whitelist the IP {ipv4} before the demo, please.",
    # people and places
    "My name is {name} and I'm based in {city}. Happy to help with your project.",
    "I worked with {name} on a similar job in {city} last year.",
    "{first_name} from {city} recommended you, the reviews look great!",
    "We are a small team in {city}, {country}, and we ship worldwide.",
    "Ask {name} about the invoice, she handles payments for our {city} office.",
    "Hello {first_name}, thanks for the quick delivery! The colours are perfect.",
    # near misses: no PII at all
    "The total is {price} for {n} revisions, delivered by {date}.",
    "Order {order} was shipped on {date}, tracking will follow.",
    "See you at the meeting dot point, we can discuss the budget there.",
    "Your order number is {order_digits}, keep it for returns.",
    "This card {bad_card} was declined, please try another payment method.",
    "Version {version} fixes the login bug; the release notes are in the repo.",
    "Can you do it by {date}? I can pay {price} upfront and the rest on delivery.",
    "Invoice {invoice} for {price} is attached, due on {date}.",
    "I have one or two questions about step three of the brief.",
    "Five stars! Delivered {n} days early and the quality is excellent.",
    "The meeting is at {time} on {date}, room {n}{room}.",
    # long mixed messages
    "Hi {first_name}! Loved the draft. I'm {name} from {city}; the budget is {price}. "
    "My email is {email} and my number is {phone} if the chat here fails.",
    "Order {order} ({price}) is ready. Questions? Ask {name} at {obf_email} or "
    "{handle}. Shipping from {city} on {date}.",
)

_PLACEHOLDER = __import__("re").compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Gold:
    """A labelled span: its primary type, and other types a prediction may also carry."""

    start: int
    end: int
    entity: str
    also: frozenset[str] = frozenset()


@dataclass
class Sample:
    text: str
    gold: list[Gold] = field(default_factory=list)


class CorpusMaker:
    """Fills templates with Faker values and records each labelled span."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)

    def make(self, n: int) -> list[Sample]:
        """`n` messages of one to three sentences (about 150 characters on average)."""
        order = [i % len(TEMPLATES) for i in range(n * 2)]
        self.rng.shuffle(order)
        picks = iter(order * 2)
        samples = []
        for _ in range(n):
            parts = self.rng.choices((1, 2, 3), weights=(3, 5, 2))[0]
            sample = Sample("")
            for k in range(parts):
                if k:
                    sample.text += " "
                self.one(TEMPLATES[next(picks)], sample)
            samples.append(sample)
        return samples

    def one(self, template: str, sample: Sample) -> None:
        pos = 0
        for m in _PLACEHOLDER.finditer(template):
            sample.text += template[pos : m.start()]
            self._fill(sample, m.group(1))
            pos = m.end()
        sample.text += template[pos:]

    def _fill(self, sample: Sample, name: str) -> None:
        value, entity, also, inner = self._value(name)
        start = len(sample.text)
        sample.text += value
        if entity is not None:
            lo, hi = inner if inner is not None else (0, len(value))
            sample.gold.append(Gold(start + lo, start + hi, entity, frozenset(also)))

    def _value(self, name: str) -> tuple[str, str | None, tuple[str, ...], tuple[int, int] | None]:
        f, r = self.fake, self.rng
        simple: dict[str, Callable[[], tuple[str, str | None]]] = {
            "email": lambda: (f.email(), "EMAIL_ADDRESS"),
            "name": lambda: (f.name(), "PERSON"),
            "first_name": lambda: (f.first_name(), "PERSON"),
            "city": lambda: (r.choice(CITIES), "LOCATION"),
            "country": lambda: (
                r.choice(
                    (
                        "Canada",
                        "Germany",
                        "France",
                        "Spain",
                        "Italy",
                        "Portugal",
                        "Ireland",
                        "Mexico",
                        "Japan",
                    )
                ),
                "LOCATION",
            ),  # fmt: skip
            "iban": lambda: (self._iban(), "IBAN_CODE"),
            "ssn": lambda: (f.ssn(), "US_SSN"),
            "ipv4": lambda: (f.ipv4_public(), "IP_ADDRESS"),
            "credit_card": lambda: (self._card(), "CREDIT_CARD"),
            "price": lambda: (f"${r.randint(5, 4000):,}.{r.randint(0, 99):02d}", None),
            "date": lambda: (self._date(), None),
            "order": lambda: (
                f"#{r.choice('ABCDEFGH')}-{r.randint(2019, 2025)}"
                f"{r.randint(1, 12):02d}{r.randint(1, 28):02d}-{r.randint(1, 9999):04d}",
                None,
            ),  # fmt: skip
            "order_digits": lambda: (str(r.randint(10**5, 10**8)), None),
            "bad_card": lambda: (self._bad_card(), None),
            "version": lambda: (f"{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 30)}", None),
            "invoice": lambda: (f"INV-{r.randint(2019, 2025)}-{r.randint(1, 999):04d}", None),
            "n": lambda: (str(r.randint(2, 30)), None),
            "mm": lambda: (f"{r.randint(1, 12):02d}", None),
            "yy": lambda: (f"{r.randint(25, 31)}", None),
            "time": lambda: (f"{r.randint(8, 18)}:{r.choice(('00', '15', '30', '45'))}", None),
            "room": lambda: (r.choice("ABCD"), None),
        }
        if name in simple:
            value, entity = simple[name]()
            return value, entity, (), None
        if name == "phone":
            return self._phone(), "PHONE_NUMBER", ("OBFUSCATED_PHONE",), None
        if name == "obf_email":
            return self._obf_email(), "OBFUSCATED_EMAIL", ("EMAIL_ADDRESS",), None
        if name == "obf_phone":
            return self._obf_phone(), "OBFUSCATED_PHONE", ("PHONE_NUMBER",), None
        if name == "handle":
            text, inner = self._handle()
            return text, "CONTACT_HANDLE", ("URL", "EMAIL_ADDRESS"), inner
        raise KeyError(name)

    def _digits(self) -> str:
        r = self.rng
        exchange = f"{r.randint(2, 9)}{r.randint(0, 9)}{r.randint(0, 9)}"
        while exchange in ("555", "911", "211", "311", "411", "611", "811"):
            exchange = f"{r.randint(2, 9)}{r.randint(0, 9)}{r.randint(1, 9)}"
        return r.choice(AREA_CODES) + exchange + f"{r.randint(0, 9999):04d}"

    def _phone(self) -> str:
        d = self._digits()
        forms = (
            f"({d[:3]}) {d[3:6]}-{d[6:]}",
            f"{d[:3]}-{d[3:6]}-{d[6:]}",
            f"+1 {d[:3]} {d[3:6]} {d[6:]}",
            f"+1-{d[:3]}-{d[3:6]}-{d[6:]}",
            f"{d[:3]} {d[3:6]} {d[6:]}",
        )
        return self.rng.choice(forms)

    def _obf_phone(self) -> str:
        d, r = self._digits(), self.rng
        style = r.randrange(5)
        if style == 3 and not {"0", "1"} & set(d):
            style = 2  # look-alike letters need a 0 or a 1 to replace
        if style == 0:
            return " ".join(DIGIT_WORDS[int(c)] for c in d)
        if style == 1:
            return " ".join(d)
        if style == 2:
            return f"{d[:3]}.{d[3:6]}.{d[6:]}"
        if style == 3:
            return f"{d[:3]}-{d[3:6]}-{d[6:]}".replace("0", "O").replace("1", "l")
        words = " ".join(DIGIT_WORDS[int(c)] for c in d[:3])
        return f"{words} {d[3:6]} {d[6:]}"

    def _obf_email(self) -> str:
        f, r = self.fake, self.rng
        user = f.user_name()
        domain = r.choice(("gmail.com", "yahoo.com", "outlook.com", "proton.me", f.domain_name()))
        name, _, tld = domain.rpartition(".")
        styles = (
            f"{user} at {name} dot {tld}",
            f"{user} [at] {name} [dot] {tld}",
            f"{user}(at){name}(dot){tld}",
            f"{user} @ {name} . {tld}",
            f"{user}@{name} dot {tld}",
            " ".join(f"{user}@{domain}"),
            f"{user}\uff20{name}\uff0e{tld}",
        )
        return r.choice(styles)

    def _handle(self) -> tuple[str, tuple[int, int]]:
        f, r = self.fake, self.rng
        user = f.user_name() + r.choice(("", "_", ".", "_official", str(r.randint(1, 99))))
        platform_name = r.choice(PLATFORMS)
        style = r.randrange(4)
        if style == 0:
            lead = f"{platform_name}: "
            return lead + user, (len(lead), len(lead) + len(user))
        if style == 1:
            lead = f"{platform_name} "
            return f"{lead}@{user}", (len(lead), len(lead) + len(user) + 1)
        if style == 2:
            lead = f"my {platform_name} id is "
            return lead + user, (len(lead), len(lead) + len(user))
        link = f"t.me/{user}" if platform_name == "telegram" else f"instagram.com/{user}"
        return link, (0, len(link))

    def _iban(self) -> str:
        value: str = self.fake.iban()
        if self.rng.random() < 0.5:
            value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
        return value

    def _card(self) -> str:
        kind = self.rng.choice(("visa16", "mastercard", "discover", "amex"))
        number: str = self.fake.credit_card_number(kind)
        if self.rng.random() < 0.5 and len(number) == 16:
            sep = self.rng.choice((" ", "-"))
            number = sep.join(number[i : i + 4] for i in range(0, 16, 4))
        return number

    def _bad_card(self) -> str:
        number = self.fake.credit_card_number("visa16")
        last = (int(number[-1]) + self.rng.randint(1, 9)) % 10  # breaks the Luhn check digit
        return number[:-1] + str(last)

    def _date(self) -> str:
        r = self.rng
        y, m, d = r.randint(2023, 2026), r.randint(1, 12), r.randint(1, 28)
        return r.choice((f"{m:02d}/{d:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{d}.{m}.{y}"))


# ---------------------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------------------


def stock_engine(model: str) -> Any:
    """Presidio's AnalyzerEngine as documented, with the same model and NER mapping."""
    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from guard.detect._recognizers import (
        ContactHandleRecognizer,
        ObfuscatedEmailRecognizer,
        ObfuscatedPhoneRecognizer,
    )

    labels = spacy.load(model).get_pipe("ner").labels
    conf = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": model}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": dict(NER_LABELS),
            "labels_to_ignore": sorted(set(labels) - set(NER_LABELS)),
            "low_score_entity_names": [],
        },
    }
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine())
    for cls in (ObfuscatedEmailRecognizer, ObfuscatedPhoneRecognizer, ContactHandleRecognizer):
        engine.registry.add_recognizer(cls())
    return engine


def guard_scanner(entities: Sequence[str], model: str) -> PiiScanner:
    settings = PiiSettings(
        entities=list(entities),
        fields=["params.message"],
        threshold=THRESHOLD,
        nlp_model=model,
        cache_size=0,
    )
    return PiiScanner(settings, hash_key=b"bench")


Pred = tuple[int, int, str]


def run_stock(engine: Any, pack: Sequence[str], texts: Sequence[str]) -> list[list[Pred]]:
    out = []
    for text in texts:
        results = engine.analyze(
            text=text, language="en", entities=list(pack), score_threshold=THRESHOLD
        )
        out.append([(r.start, r.end, r.entity_type) for r in results])
    return out


def _preds(scan: Any) -> list[Pred]:
    return [(f.start, f.end, f.entity_type) for f in scan.findings]


def run_guard(scanner: PiiScanner, texts: Sequence[str]) -> list[list[Pred]]:
    return [_preds(scanner.scan({"params": {"message": t}})) for t in texts]


def run_guard_batch(scanner: PiiScanner, texts: Sequence[str]) -> list[list[Pred]]:
    actions = [{"params": {"message": t}} for t in texts]
    out: list[list[Pred]] = []
    for i in range(0, len(actions), BATCH):
        out.extend(_preds(s) for s in scanner.scan_batch(actions[i : i + BATCH]))
    return out


# ---------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def f_beta(self, beta: float = BETA) -> float:
        p, r = self.precision(), self.recall()
        b2 = beta * beta
        return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0


def score(
    samples: Sequence[Sample], preds: Sequence[list[Pred]], entities: Sequence[str]
) -> dict[str, Counts]:
    counts = {e: Counts() for e in entities}
    for sample, predicted in zip(samples, preds, strict=True):
        matched: set[int] = set()
        for start, end, entity in sorted(predicted):
            if entity not in counts:
                continue
            hit = _match(sample.gold, matched, start, end, entity)
            if hit == "tp":
                counts[entity].tp += 1
            elif hit == "fp":
                counts[entity].fp += 1
        for i, g in enumerate(sample.gold):
            if g.entity in counts and i not in matched:
                counts[g.entity].fn += 1
    return counts


def _match(gold: Sequence[Gold], matched: set[int], start: int, end: int, entity: str) -> str:
    overlapping = [(i, g) for i, g in enumerate(gold) if g.start < end and start < g.end]
    for i, g in overlapping:
        if g.entity == entity and i not in matched:
            matched.add(i)
            return "tp"
    if any(g.entity == entity or entity in g.also for _, g in overlapping):
        return "ignore"
    return "fp"


# ---------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------


@dataclass
class Clock:
    """Wall-clock and CPU seconds (CPU time is steadier on a shared, busy machine)."""

    wall: float = 0.0
    cpu: float = 0.0

    def add(self, other: Clock) -> None:
        self.wall += other.wall
        self.cpu += other.cpu


@dataclass
class Timing:
    stock: Clock = field(default_factory=Clock)
    guard: Clock = field(default_factory=Clock)
    batch: Clock = field(default_factory=Clock)

    def add(self, other: Timing) -> None:
        self.stock.add(other.stock)
        self.guard.add(other.guard)
        self.batch.add(other.batch)


def timed(fn: Callable[[], list[list[Pred]]], into: Clock) -> list[list[Pred]]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    into.wall += time.perf_counter() - w0
    into.cpu += time.process_time() - c0
    return out


def run_pack(
    name: str,
    pack: Sequence[str],
    samples: Sequence[Sample],
    stock: Any,
    scanner: PiiScanner,
) -> tuple[Timing, dict[str, list[list[Pred]]]]:
    texts = [s.text for s in samples]
    warm = texts[:20]
    run_stock(stock, pack, warm)
    run_guard(scanner, warm)
    run_guard_batch(scanner, warm)
    timing = Timing()
    outs: dict[str, list[list[Pred]]] = {"stock": [], "guard": [], "batch": []}
    runs: dict[str, tuple[Callable[[list[str]], list[list[Pred]]], Clock]] = {
        "stock": (lambda c: run_stock(stock, pack, c), timing.stock),
        "guard": (lambda c: run_guard(scanner, c), timing.guard),
        "batch": (lambda c: run_guard_batch(scanner, c), timing.batch),
    }
    gc.disable()
    try:
        for k, i in enumerate(range(0, len(texts), CHUNK)):
            chunk = texts[i : i + CHUNK]
            order = ("stock", "guard", "batch") if k % 2 == 0 else ("batch", "guard", "stock")
            for who in order:
                fn, clock = runs[who]
                outs[who].extend(timed(lambda f=fn, c=chunk: f(c), clock))
            gc.collect()
    finally:
        gc.enable()
    per = 1e3 / len(texts)
    print(
        f"  {name:<8} ms/msg wall (cpu): stock {timing.stock.wall * per:6.2f} "
        f"({timing.stock.cpu * per:6.2f})   guard scan {timing.guard.wall * per:6.2f} "
        f"({timing.guard.cpu * per:6.2f})   guard batch {timing.batch.wall * per:6.2f} "
        f"({timing.batch.cpu * per:6.2f})",
        flush=True,
    )
    return timing, outs


def ratios_of(timing: Timing) -> dict[str, float]:
    return {
        "scan_wall": timing.stock.wall / timing.guard.wall,
        "scan_cpu": timing.stock.cpu / timing.guard.cpu,
        "batch_wall": timing.stock.wall / timing.batch.wall,
        "batch_cpu": timing.stock.cpu / timing.batch.cpu,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_N} messages")
    parser.add_argument("--n", type=int, default=None, help=f"messages (default {FULL_N})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--model", default=None, help="spaCy model (default: the guard's)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    n = args.n or (QUICK_N if args.quick else FULL_N)
    model = args.model or default_model_name()
    if model is None:
        print("no spaCy model installed: pip install 'agent-guard[pii]'", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")

    samples = CorpusMaker(args.seed).make(n)
    chars = sum(len(s.text) for s in samples) / len(samples)
    labels = sum(len(s.gold) for s in samples)
    print(f"corpus: {n} messages, {chars:.0f} chars on average, {labels} labelled spans")
    print(
        f"python {platform.python_version()}, presidio-analyzer {version('presidio-analyzer')}, "
        f"spacy {version('spacy')}, model {model}, {os.cpu_count()} cpus"
    )
    t0 = time.perf_counter()
    stock = stock_engine(model)
    t_stock_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    scanners = {
        "pattern": guard_scanner(PATTERN_PACK, model),
        "ner": guard_scanner(NER_PACK, model),
    }
    t_guard_build = time.perf_counter() - t0
    print(f"build: stock {t_stock_build:.1f} s, guard {t_guard_build:.1f} s (both packs)")

    totals = Timing()
    results: dict[str, dict[str, Counts]] = {"stock": {}, "guard": {}, "batch": {}}
    ratios: dict[str, dict[str, float]] = {}
    for name, pack in (("pattern", PATTERN_PACK), ("ner", NER_PACK)):
        timing, outs = run_pack(name, pack, samples, stock, scanners[name])
        totals.add(timing)
        ratios[name] = ratios_of(timing)
        scored = [e for e in pack if SCORED.get(e) == name]
        for who, out in outs.items():
            results[who].update(score(samples, out, scored))
    ratios["mixed"] = ratios_of(totals)
    ok = report(results, ratios, totals, 2 * n)
    if args.json is not None:
        args.json.write_text(json.dumps(figures(results, ratios, totals, n, model), indent=2))
    return 0 if ok else 1


def report(
    results: dict[str, dict[str, Counts]],
    ratios: dict[str, dict[str, float]],
    totals: Timing,
    calls: int,
) -> bool:
    print()
    head = (
        f"{'entity':<17}{'gold':>6} | {'guard P':>8}{'R':>7}{'F2':>7} | "
        f"{'stock P':>8}{'R':>7}{'F2':>7} | {'dF2':>6}"
    )
    print(head)
    print("-" * len(head))
    ok = True
    for entity, g in results["guard"].items():
        s = results["stock"][entity]
        b = results["batch"][entity]
        delta = g.f_beta() - s.f_beta()
        worse = delta < -1e-9 or b.f_beta() < s.f_beta() - 1e-9
        ok &= not worse
        print(
            f"{entity:<17}{g.tp + g.fn:>6} | {g.precision():8.3f}{g.recall():7.3f}{g.f_beta():7.3f}"
            f" | {s.precision():8.3f}{s.recall():7.3f}{s.f_beta():7.3f} | {delta:+6.3f}"
            + ("  << worse" if worse else "")
        )
    print()
    print(
        f"throughput over {calls} scans (wall): stock {calls / totals.stock.wall:,.0f} msg/s, "
        f"guard scan {calls / totals.guard.wall:,.0f} msg/s, "
        f"guard batch {calls / totals.batch.wall:,.0f} msg/s"
    )
    columns = f"{'scan wall':>10}{'scan cpu':>10}{'batch wall':>12}{'batch cpu':>11}"
    print(f"  {'ratio vs stock':<16}{columns}")
    for name in ("pattern", "ner", "mixed"):
        r = ratios[name]
        print(
            f"  {name + ' pack' if name != 'mixed' else 'mixed workload':<16}"
            f"{r['scan_wall']:>9.1f}x{r['scan_cpu']:>9.1f}x{r['batch_wall']:>11.1f}x"
            f"{r['batch_cpu']:>10.1f}x"
        )
    best = ratios["mixed"]["batch_wall"]
    met = best >= TARGET_RATIO
    print(
        f"target: >= {TARGET_RATIO:.0f}x stock throughput on the mixed workload (guard batch, "
        f"wall clock): {'MET' if met else 'MISSED'} ({best:.1f}x); "
        f"F2 equal or better for every entity: {'MET' if ok else 'MISSED'}"
    )
    return ok and met


def figures(
    results: dict[str, dict[str, Counts]],
    ratios: dict[str, dict[str, float]],
    totals: Timing,
    n: int,
    model: str,
) -> dict[str, Any]:
    return {
        "messages": n,
        "model": model,
        "ratios": ratios,
        "seconds": {
            who: {"wall": c.wall, "cpu": c.cpu}
            for who, c in (
                ("stock", totals.stock),
                ("guard", totals.guard),
                ("batch", totals.batch),
            )
        },
        "entities": {
            who: {
                e: {"precision": c.precision(), "recall": c.recall(), "f2": c.f_beta(), **vars(c)}
                for e, c in by_entity.items()
            }
            for who, by_entity in results.items()
        },
    }


if __name__ == "__main__":
    sys.exit(main())
