from __future__ import annotations

import guard


def test_exported_names_are_exactly_the_intended_ones() -> None:
    assert guard.__all__ == sorted(guard.__all__)
    assert {
        "Guard",
        "Verdict",
        "Decision",
        "RuleHit",
        "PiiFinding",
        "ActionBlocked",
        "ActionEscalated",
        "DecisionEventV1",
    } <= set(guard.__all__)
    for name in guard.__all__:
        assert hasattr(guard, name), name


def test_importing_guard_does_not_import_heavy_dependencies() -> None:
    import subprocess
    import sys

    code = (
        "import sys, guard; heavy = [m for m in ('torch', 'shap', 'captum', 'spacy', "
        "'presidio_analyzer', 'fastapi') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_verdict_is_a_str_enum() -> None:
    assert guard.Verdict("redact") is guard.Verdict.REDACT
    assert guard.Verdict.DENY == "deny"
