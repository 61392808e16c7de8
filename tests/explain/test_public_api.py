from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import explain

EXPECTED = [
    "ActionId",
    "ActionStat",
    "Attribution",
    "CaptumExplainer",
    "Explainer",
    "ExplanationError",
    "ExplanationInputError",
    "ExplanationTypeError",
    "ExplanationUnavailable",
    "ModelCallError",
    "NoAllowedAction",
    "Node",
    "RankingExplainer",
    "Rationale",
    "SearchTreeError",
    "ShapExplainer",
    "ShieldedAction",
    "TreeAdapter",
    "TreeNode",
    "captum",
    "explain_pair",
    "explain_ranking",
    "from_mctx",
    "from_nested",
    "from_openspiel",
    "ranking",
    "rationale",
    "safe_explain",
    "shap",
]


def test_exports_are_exactly_the_public_names() -> None:
    assert explain.__all__ == EXPECTED == sorted(EXPECTED)
    assert all(hasattr(explain, name) for name in EXPECTED)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False
    )


def test_import_does_not_load_heavy_dependencies() -> None:
    result = _run(
        """
        import sys
        import explain
        heavy = {"torch", "shap", "captum", "lightgbm", "sklearn", "pyspiel"} & set(sys.modules)
        print(sorted(heavy))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("blocked", "call"),
    [
        pytest.param("shap", "explain.shap(lambda X: X[:, 0], [[0.0, 1.0]])", id="shap"),
        pytest.param("torch", "explain.captum(object())", id="torch"),
        pytest.param(
            "captum",
            "import torch; explain.captum(torch.nn.Linear(2, 1))",
            id="captum",
        ),
    ],
)
def test_missing_dependency_has_install_hint(blocked, call) -> None:
    result = _run(
        f"""
        import sys
        sys.modules[{blocked!r}] = None  # as if not installed
        import explain
        from guard._exceptions import DependencyMissing
        try:
            {call}
        except DependencyMissing as exc:
            assert isinstance(exc, ImportError)
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert f"{blocked} is required" in result.stdout
    assert "pip install 'agent-guard[explain]'" in result.stdout


def test_backends_implement_the_protocol() -> None:
    np = pytest.importorskip("numpy")
    shap_ex = explain.shap((np.ones(2), 0.0), np.zeros((1, 2)))
    assert isinstance(shap_ex, explain.Explainer)
    torch = pytest.importorskip("torch")
    pytest.importorskip("captum")
    assert isinstance(explain.captum(torch.nn.Linear(2, 1)), explain.Explainer)
