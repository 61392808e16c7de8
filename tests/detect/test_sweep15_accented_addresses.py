"""Sweep 15: a disguised address with accented or non-Latin letters is found.

Found here: `jöhn@münchen.de` was an EMAIL_ADDRESS, but the same address disguised
(`jöhn at münchen dot de`, `schreib mir: müller at web dot de`, `josé at correo dot es`)
was let through: the disguised-address recognizer read only ASCII letters, and a
letter such as `ü` stopped it. Letters of scripts written without spaces are still the
sentence around an address, not part of it.
"""

from __future__ import annotations

import pytest

from guard import Guard
from guard.detect import PiiScanner
from tests.detect.conftest import found, make_scanner, send

P = pytest.param


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return make_scanner()


ADDRESSES = [
    P("jöhn at münchen dot de", "jöhn at münchen dot de", id="umlauts"),
    P("schreib mir: müller at web dot de", "müller at web dot de", id="german-provider"),
    P("josé at correo dot es, gracias", "josé at correo dot es", id="spanish"),
    P("françois [at] orange [dot] fr", "françois [at] orange [dot] fr", id="cedilla-brackets"),
    P("mail: иван at яндекс dot рф", "иван at яндекс dot рф", id="cyrillic-idn"),
    P("zoë (at) gmail (dot) com", "zoë (at) gmail (dot) com", id="diaeresis-provider"),
    P("私のメールはjöhn at gmail dot comです", "jöhn at gmail dot com", id="next-to-japanese"),
]


@pytest.mark.parametrize(("text", "address"), ADDRESSES)
def test_the_address_is_found_whole(scanner: PiiScanner, text: str, address: str) -> None:
    assert found(scanner, text) == [("OBFUSCATED_EMAIL", address)]


@pytest.mark.parametrize(("text", "address"), ADDRESSES)
def test_the_pack_removes_it(pack: Guard, text: str, address: str) -> None:
    verdict, types, final = send(pack, text)
    assert verdict == "redact"
    assert "OBFUSCATED_EMAIL" in types
    assert final["params"]["message"] == text.replace(address, "<OBFUSCATED_EMAIL>")  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    [
        P("Ich bin at home, schön dot", id="german-prose"),
        P("I'm at café dot later", id="cafe-prose"),
        P("Wir treffen uns at München Hbf, Gleis 5", id="station"),
        P("déjà vu at the crêperie, très bien", id="french-prose"),
    ],
)
def test_prose_with_accents_is_no_address(scanner: PiiScanner, text: str) -> None:
    assert found(scanner, text) == []
