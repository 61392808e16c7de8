"""Sweep 15: `phone_regions` names numbering plans; a code none has is a load error.

Found here: `phone_regions: [UK]` (the code people write for the United Kingdom; ISO
3166 and phonenumbers say GB) loaded, and the pack then let every UK number written the
national way (`07911 123456`) through, with nothing saying why.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from guard import Guard
from guard._exceptions import PolicyError
from guard.detect import PiiSettings
from tests.detect.conftest import found, make_scanner

PACK = """\
name: uk-shop
version: 1
pii:
  entities: [PHONE_NUMBER]
  fields: [params.message]
  phone_regions: [{regions}]
rules:
  - id: no-phone
    when: pii.any("PHONE_NUMBER")
    effect: redact
"""


@pytest.mark.parametrize(
    ("regions", "hint"),
    [
        pytest.param(["UK"], "'UK' (write 'GB')", id="uk"),
        pytest.param(["GB", "EL"], "'EL' (write 'GR')", id="greece-eu-code"),
        pytest.param(["US", "XX"], "'XX'", id="no-such-region"),
        pytest.param(["EU"], "'EU'", id="union-not-region"),
    ],
)
def test_a_region_without_a_numbering_plan_is_refused(regions: list[str], hint: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PiiSettings(entities=["PHONE_NUMBER"], fields=["params.message"], phone_regions=regions)
    assert hint in str(caught.value)
    assert "no region with phone numbers" in str(caught.value)


def test_the_pack_error_names_the_line(tmp_path: Path) -> None:
    pack = tmp_path / "uk.yaml"
    pack.write_text(PACK.format(regions="UK"), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        Guard.from_policy(pack)
    assert "write 'GB'" in str(caught.value)
    assert "uk.yaml:6:" in str(caught.value)


def test_the_right_code_finds_the_national_number(tmp_path: Path) -> None:
    pack = tmp_path / "gb.yaml"
    pack.write_text(PACK.format(regions="GB"), encoding="utf-8")
    d = Guard.from_policy(pack).check(
        {"kind": "send_message", "actor": "a", "params": {"message": "ring 07911 123456"}}
    )
    assert d.verdict.value == "redact"
    assert d.final_action["params"]["message"] == "ring <PHONE_NUMBER>"


@pytest.mark.parametrize(
    ("region", "text", "number"),
    [
        pytest.param("JP", "電話 090-1234-5678 まで", "090-1234-5678", id="jp-mobile"),
        pytest.param("KR", "call 010-1234-5678 after 6", "010-1234-5678", id="kr-mobile"),
        pytest.param("ZA", "call 082 123 4567 after 6", "082 123 4567", id="za-mobile"),
    ],
)
def test_a_listed_region_reads_its_national_numbers(region: str, text: str, number: str) -> None:
    scanner = make_scanner(["PHONE_NUMBER"], phone_regions=["GB", region])
    assert found(scanner, text) == [("PHONE_NUMBER", number)]
