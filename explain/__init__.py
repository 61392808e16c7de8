"""Explanations for guarded decisions: SHAP and Captum attributions, ranking pairs, MCTS rationales.

Heavy dependencies (shap, torch, captum) are imported on first use, never by `import explain`.
"""

from __future__ import annotations

from explain._adapters import (
    ActionId,
    Node,
    TreeAdapter,
    TreeNode,
    from_mctx,
    from_nested,
    from_openspiel,
)
from explain._captum import CaptumExplainer, captum
from explain._errors import (
    ExplanationError,
    ExplanationInputError,
    ExplanationTypeError,
    ModelCallError,
    NoAllowedAction,
    SearchTreeError,
)
from explain._models import Attribution, ExplanationUnavailable
from explain._protocol import Explainer, safe_explain
from explain._ranking import RankingExplainer, explain_pair, explain_ranking, ranking
from explain._rationale import ActionStat, Rationale, ShieldedAction, rationale
from explain._shap import ShapExplainer, shap

__all__ = [
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
