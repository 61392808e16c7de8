"""Sweep 13 follow-up: a misspelt `pii.entities` name is a load error at its place."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from guard import Guard, PolicyError, Verdict
from guard.detect import Span
from guard.policy import load, parse


def pack(entities: str, extra: str = "") -> str:
    return (
        "name: p\nversion: 1\n"
        f"pii:\n  entities: {entities}\n  fields: [params.message]\n{extra}"
        "rules:\n  - id: r\n    when: pii.any()\n    effect: redact\n"
    )


def _error(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        parse(text, file="p.yaml")
    return info.value


def test_a_misspelt_entity_is_a_load_error_at_its_place() -> None:
    # It loaded; building the Guard then failed with a PiiConfigError naming no file or line.
    err = _error(pack("[PHONE_NUMBER, EMAIL_ADRESS]"))
    assert str(err).startswith("unknown PII entity 'EMAIL_ADRESS'; expected one of ")
    assert "did you mean 'EMAIL_ADDRESS'?" in str(err)
    assert (err.file, err.line, err.column) == ("p.yaml", 4, 28)
    for known in ("CONTACT_HANDLE", "OBFUSCATED_EMAIL", "PERSON", "US_SSN"):
        assert known in str(err)


def test_the_place_is_the_misspelt_one_after_a_duplicate() -> None:
    err = _error(pack("[PERSON, PERSON, PHONE_NUMBR]"))
    assert "'PHONE_NUMBR'" in str(err) and (err.line, err.column) == (4, 30)


def test_guard_from_policy_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(pack("[EMAIL_ADRESS]"))
    with pytest.raises(PolicyError, match=r"unknown PII entity 'EMAIL_ADRESS'.*p\.yaml:4:14\)$"):
        Guard.from_policy(path, audit="memory://")


@pytest.mark.parametrize(
    "entities",
    [
        pytest.param("[EMAIL_ADDRESS, OBFUSCATED_EMAIL, CONTACT_HANDLE]", id="guard's own"),
        pytest.param("[PERSON, LOCATION, IBAN_CODE, US_SSN]", id="ner-and-presidio"),
    ],
)
def test_every_built_in_entity_loads(entities: str) -> None:
    assert parse(pack(entities)).pii is not None


def test_an_entity_a_recognizer_of_the_pack_finds_loads() -> None:
    extra = (
        "  recognizers:\n    - name: order\n      supported_entity: ORDER_ID\n"
        '      patterns: [{name: o, regex: "ORD-\\\\d{8}", score: 0.9}]\n'
    )
    assert parse(pack("[ORDER_ID]", extra)).pii is not None


class EmployeeIds:
    """A custom detector: finds EMP- followed by digits."""

    name = "employee-ids"

    def detect(self, texts: Sequence[str], entities: Sequence[str]) -> list[list[Span]]:
        out: list[list[Span]] = []
        for text in texts:
            i = text.find("EMP-")
            out.append([] if i < 0 else [Span("EMPLOYEE_ID", i, i + 10, 0.9, self.name)])
        return out


def test_custom_entities_name_what_a_custom_detector_finds(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(pack("[EMPLOYEE_ID]", "  custom_entities: [EMPLOYEE_ID]\n"))
    with Guard.from_policy(path, audit="memory://", pii_detector=EmployeeIds()) as g:
        d = g.check({"kind": "send", "params": {"message": "ask EMP-123456"}})
    assert d.verdict is Verdict.REDACT
    assert [f.entity_type for f in d.pii] == ["EMPLOYEE_ID"]
    assert d.final_action is not None and "EMP-123456" not in d.final_action["params"]["message"]


def test_a_custom_entity_without_its_detector_still_fails_building_the_guard(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(pack("[EMPLOYEE_ID]", "  custom_entities: [EMPLOYEE_ID]\n"))
    [loaded] = load(path)
    with pytest.raises(PolicyError, match="unknown PII entity 'EMPLOYEE_ID'"):
        Guard([loaded])


def test_a_custom_entity_must_be_one_the_pack_scans() -> None:
    err = _error(pack("[EMAIL_ADDRESS]", "  custom_entities: [EMPLOYEE_ID]\n"))
    assert "pii.custom_entities names 'EMPLOYEE_ID', which is not in pii.entities" in str(err)
    assert (err.line, err.column) == (6, 21)


def test_custom_entities_leave_the_digest_as_it_was() -> None:
    plain = parse(pack("[EMAIL_ADDRESS]"))
    declared = parse(pack("[EMAIL_ADDRESS]", "  custom_entities: [EMAIL_ADDRESS]\n"))
    assert plain.digest == declared.digest


def test_lint_passes_a_pack_with_custom_entities(tmp_path: Path) -> None:
    # `guard policy lint` built the built-in engine over every entity, custom ones too,
    # and refused the pack a custom detector loads and decides with.
    from typer.testing import CliRunner

    from guard.cli import app

    path = tmp_path / "p.yaml"
    path.write_text(pack("[EMPLOYEE_ID, EMAIL_ADDRESS]", "  custom_entities: [EMPLOYEE_ID]\n"))
    result = CliRunner().invoke(app, ["policy", "lint", str(path)])
    assert result.exit_code == 0, result.output
