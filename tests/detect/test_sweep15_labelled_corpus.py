"""Sweep 15: a labelled corpus of marketplace messages, scored per entity type.

Written for this sweep (none of it comes from earlier tests): buyers and sellers
arranging pick-ups, payments and deliveries, with the exact span and type of each
piece of personal data, and plenty of text that looks like it and is not (order and
tracking numbers, prices in several currencies, dates, times, SKUs, EANs, post codes
alone, versions, percentages, ratings). Precision and recall are computed per type
against the labels and must both be 1.0 here; the failure message lists what was
missed and what was found that is not labelled.

The redacted message must keep every word that is not a label, leave no digit run of a
labelled number, and be what a second redaction gives back.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from guard import Guard
from guard.detect import PiiScanner
from tests.detect.conftest import found, make_scanner, send

PHONE = "PHONE_NUMBER"
EMAIL = "EMAIL_ADDRESS"
OBF = "OBFUSCATED_EMAIL"
CARD = "CREDIT_CARD"
IBAN = "IBAN_CODE"
SSN = "US_SSN"
HANDLE = "CONTACT_HANDLE"
# A number right after a messaging app's name is that app's handle as much as a phone
# number: either type is right.
APP_NUMBER = (PHONE, HANDLE)

Label = tuple[str | tuple[str, ...], str]

CORPUS: list[tuple[str, list[Label]]] = [
    ("Hi! Is the oak desk still available? I could pick it up Saturday after 2pm.", []),
    ("Yes it is. Price is £85, no offers below £75 please.", []),
    ("Great, my order number is 3391-0042-7718 if you need it.", []),
    ("Can you text me when you're outside? 07700 912345", [(PHONE, "07700 912345")]),
    (
        "Easier to sort on WhatsApp +44 7700 912345, the app chat is slow",
        [(APP_NUMBER, "+44 7700 912345")],
    ),
    (
        "Send the invoice to accounts+vendor17@northwind-traders.co.uk please",
        [(EMAIL, "accounts+vendor17@northwind-traders.co.uk")],
    ),
    (
        "My work mail is priya.raman@eng.research.example.org but I check it rarely",
        [(EMAIL, "priya.raman@eng.research.example.org")],
    ),
    (
        "email me: priya dot raman at outlook dot com and I'll send photos",
        [(OBF, "priya dot raman at outlook dot com")],
    ),
    ("write to lukas [at] posteo [dot] de for the receipt", [(OBF, "lukas [at] posteo [dot] de")]),
    (
        "Bank transfer is fine: IBAN NL20 INGB 0001 2345 67, name on account is on the listing",
        [(IBAN, "NL20 INGB 0001 2345 67")],
    ),
    (
        "Überweisung bitte an DE02 1203 0000 0000 2020 51, danke!",
        [(IBAN, "DE02 1203 0000 0000 2020 51")],
    ),
    (
        "Here's my card so you can charge the deposit: 5425 2334 3010 9903, exp 09/28",
        [(CARD, "5425 2334 3010 9903")],
    ),
    ("card 4000-0025-0000-3155 cvc 471", [(CARD, "4000-0025-0000-3155")]),
    ("Use reference 4000 0025 0000 3156 for the payment", []),  # fails the Luhn check
    ("Appelez-moi au 06 98 76 54 32 après 18h", [(PHONE, "06 98 76 54 32")]),
    ("Mein Handy: 0172 9876543, ab 17 Uhr erreichbar", [(PHONE, "0172 9876543")]),
    ("ligue no (21) 99876-5432 depois das 19h", [(PHONE, "(21) 99876-5432")]),
    ("Call (646) 555-0178 and ask for the front desk", [(PHONE, "(646) 555-0178")]),
    ("whatsapp +91 99887 66554, I reply fast", [(APP_NUMBER, "+91 99887 66554")]),
    ("Tracking: 1Z 999 AA1 01 2345 6784, should arrive Thursday", []),
    ("The USPS tracking is 9405 5036 9930 0123 4567 89", []),
    ("Delivered 2026-11-24 14:32, signed by the concierge", []),
    ("Firmware 5.12.0.4412, battery cycles 312, 97% health", []),
    ("Dimensions: 160 x 80 x 74 cm, weight 38.5 kg", []),
    ("SKU WD-4471-OAK-160, EAN 5012345678900", []),
    ("Postcode only for the courier quote: M4 6BF", []),
    ("ZIP 30301, est. shipping $18.40", []),
    ("Invoice INV-2026-11-0087 total €1.249,50 incl. 19% VAT", []),
    ("I'll pay 25% now and the rest (€937,13) on delivery", []),
    ("Pickup window 09:30-11:00 or 16:15-18:00", []),
    ("Model number 8806094156538, serial R58N30ABCDE", []),
    ("Listing #88213047 was updated 3 times, 1,204 views", []),
    (
        "follow the shop on insta @oakandiron.studio for new drops",
        [(HANDLE, "@oakandiron.studio")],
    ),
    ("my telegram: @dana_restores", [(HANDLE, "@dana_restores")]),
    ("or venmo @Dana-Restores-9 to skip the fee", [(HANDLE, "@Dana-Restores-9")]),
    ("Pay via paypal.me/danarestores and I'll post today", [(HANDLE, "paypal.me/danarestores")]),
    ("SSN for the 1099 is 212-45-6789", [(SSN, "212-45-6789")]),
    (
        "Call me on 020 7946 0321 or 07700 900461, whichever",
        [(PHONE, "020 7946 0321"), (PHONE, "07700 900461")],
    ),
    (
        "You can reach the warehouse at +1 (312) 555-0147 ext 12 before noon",
        [(PHONE, "+1 (312) 555-0147 ext 12")],
    ),
    (
        "Both of us: anna.k@gmail.com and mark.k@gmail.com",
        [(EMAIL, "anna.k@gmail.com"), (EMAIL, "mark.k@gmail.com")],
    ),
    ("Support said to write to support@marketplace.example, so I did", []),  # allow-listed
    ("The lamp is 1970s, E27 socket, 220-240 V, 60 W max", []),
    ("Version 2.0.1 fixed the bug; 2.0.2 ships next week", []),
    ("Rated 4.9/5 from 312 buyers since 2019", []),
    ("Meet at the station at 6:45, platform 9", []),
    ("Ref no. 2026/0457/KL, case closed", []),
    ("Total 3 items: $12.99 + $8.50 + $4.25 = $25.74", []),
    # forms this sweep fixed, in messages of their own
    (
        "Ring +44 7911 123456 (from the UK just 07911123456)",
        [(PHONE, "+44 7911 123456"), (PHONE, "07911123456")],
    ),
    ("card 4111-1111-1111-1111-1111, charge it", [(CARD, "4111-1111-1111-1111-1111")]),
    ("schreib mir: müller at web dot de", [(OBF, "müller at web dot de")]),
    ("more pics on reddit u/oak_and_iron", [(HANDLE, "u/oak_and_iron")]),
    ("@oakandiron on twitter has the video", [(HANDLE, "@oakandiron")]),
    ("Drehzahl 3000 U/min, 230 V, wie neu", []),
]

ENTITIES = [PHONE, EMAIL, OBF, CARD, IBAN, SSN, HANDLE]


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return make_scanner(ENTITIES, allow_list=["support@marketplace.example"])


def _types(label: Label) -> tuple[str, ...]:
    kinds = label[0]
    return (kinds,) if isinstance(kinds, str) else kinds


def test_precision_and_recall_per_type(scanner: PiiScanner) -> None:
    """A label is found when a finding of one of its types covers exactly its span; a
    finding is right when it is such a finding (a label found twice, as a phone number
    and as a handle, counts once)."""
    assert len(CORPUS) >= 40
    found_labels: Counter[str] = Counter()
    labelled: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    misses, extras = [], []
    for text, labels in CORPUS:
        got = found(scanner, text)
        for label in labels:
            kinds, span = _types(label), label[1]
            labelled[kinds[0]] += 1
            if any((k, span) in got for k in kinds):
                found_labels[kinds[0]] += 1
            else:
                misses.append((text, label))
        for entity, span in got:
            if not any(lb[1] == span and entity in _types(lb) for lb in labels):
                wrong[entity] += 1
                extras.append((text, entity, span))
    for entity in ENTITIES:
        right = found_labels[entity]
        recall = right / labelled[entity] if labelled[entity] else 1.0
        precision = right / (right + wrong[entity]) if right + wrong[entity] else 1.0
        assert (precision, recall) == (1.0, 1.0), (entity, precision, recall, misses, extras)
    assert labelled[PHONE] >= 10 and labelled[HANDLE] >= 5 and labelled[EMAIL] >= 4
    assert misses == [] and extras == []


@pytest.mark.parametrize(("text", "labels"), CORPUS)
def test_the_redacted_message(pack: Guard, text: str, labels: list[Label]) -> None:
    verdict, _, final = send(pack, text)
    out = final["params"]["message"]  # type: ignore[index]
    if not labels:
        assert (verdict, out) == ("allow", text)
        return
    assert verdict == "redact"
    rest = text
    for _, span in labels:
        assert span not in out
        for run in re.findall(r"\d{3,}", span):
            assert run not in re.sub(r"\D", "", out) or run in re.sub(
                r"\D", "", rest.replace(span, "")
            ), run
        rest = rest.replace(span, " ")
    # every word outside the labels is kept, in order
    words = re.findall(r"[^\W\d_]{3,}", rest)
    assert re.findall(r"[^\W\d_]{3,}", re.sub(r"<[A-Z_]+>", " ", out)) == words
    _, _, again = send(pack, out)
    assert again["params"]["message"] == out  # type: ignore[index]
