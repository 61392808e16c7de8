"""SHAP backend: tree ensembles, linear models and black-box callables behind one explainer."""

from __future__ import annotations

import copy
import math
import numbers
import re
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from explain._captum import check_eval_mode, check_one_input, check_repeatable, check_tensor
from explain._errors import (
    ExplanationError,
    ExplanationInputError,
    ExplanationTypeError,
    ModelCallError,
    kind_of,
    missing_dependency,
)
from explain._models import Attribution, Estimate, check_passes
from explain._rng import isolated_rng
from explain._validate import (
    Categories,
    FeatureInput,
    KnownCategories,
    Matrix,
    as_matrix,
    as_row,
    check_names,
    check_positive,
    check_seed,
    check_unique_labels,
    default_names,
    detached,
    mapping_rows,
    missing_as_none,
    n_columns,
    one_row_outputs,
    pick_target,
    sample_rows,
)

Algorithm = Literal[
    "auto",
    "tree",
    "tree_path_dependent",
    "tree_interventional",
    "linear",
    "exact",
    "permutation",
    "kernel",
]
ALGORITHMS: tuple[str, ...] = Algorithm.__args__  # type: ignore[attr-defined]
Predict: TypeAlias = Callable[[Matrix], Matrix]

# Exact Shapley values cost 2**n model calls per background row; past this, sample permutations.
EXACT_MAX_FEATURES = 10
DEFAULT_TOLERANCE = 1e-6
# LightGBM predicts up to this many rows on one thread (measured: 0.5 ms vs 15 ms for one row
# with 100 trees on a busy 2-core machine).
SINGLE_THREAD_ROWS = 64

_SKLEARN_TREES = (
    "DecisionTreeRegressor",
    "DecisionTreeClassifier",
    "ExtraTreeRegressor",
    "ExtraTreeClassifier",
    "RandomForestRegressor",
    "RandomForestClassifier",
    "ExtraTreesRegressor",
    "ExtraTreesClassifier",
    "GradientBoostingRegressor",
    "GradientBoostingClassifier",
    "HistGradientBoostingRegressor",
    "HistGradientBoostingClassifier",
)


def import_shap() -> Any:
    """Import shap on first use, with the install hint when it is missing."""
    try:
        with isolated_rng():  # importing shap draws from Python's random (rich, through it)
            import shap
    except ImportError as exc:
        raise missing_dependency("shap", "explain.shap()") from exc
    return shap


# -- model families -------------------------------------------------------------------------


def _module(model: Any) -> str:
    return type(model).__module__ or ""


def _is_lightgbm(model: Any) -> bool:
    return _module(model).startswith("lightgbm")


def _is_xgboost(model: Any) -> bool:
    return _module(model).startswith("xgboost")


def _is_sklearn_tree(model: Any) -> bool:
    return _module(model).startswith("sklearn.") and type(model).__name__ in _SKLEARN_TREES


# shap's interventional TreeSHAP misreads these (its values miss f(x) - E[f] by ~1e-3).
_NO_INTERVENTIONAL = ("HistGradientBoostingRegressor", "HistGradientBoostingClassifier")
_NOT_INTERVENTIONAL = (
    "shap's interventional TreeSHAP is inexact for {}; pass the background to "
    "explain.shap(model, background) with algorithm='auto' (exact or permutation SHAP), "
    "or drop it for path-dependent TreeSHAP"
)


def interventional_ok(model: Any) -> bool:
    """False for tree models whose interventional TreeSHAP in shap fails additivity."""
    if no_treeshap(model) is not None:
        return False
    if _is_lightgbm(model):
        return not _lgb_categorical(model)
    return type(model).__name__ not in _NO_INTERVENTIONAL


def no_treeshap(model: Any) -> str | None:
    """Why no TreeSHAP (shap's or LightGBM's own) reads this tree model; None when one does."""
    name = type(model).__name__
    labels = n_labels(model)
    if labels is not None:
        # shap reads the forest's (labels x classes) leaf values as one distribution: its
        # values summed to 0.5 per output where the label probabilities were 0 or 1.
        return f"shap's TreeSHAP misreads a multi-label {name} (fitted on {labels} labels)"
    if name == "GradientBoostingClassifier" and len(getattr(model, "classes_", ())) > 2:
        # shap: "only supported for binary classification".
        return (
            "shap's TreeSHAP reads only binary GradientBoostingClassifiers, not a "
            f"GradientBoostingClassifier of {len(model.classes_)} classes"
        )
    init = getattr(model, "init_", None)
    if name.startswith("GradientBoosting") and type(init).__name__ not in _SHAP_INITS:
        # shap: "Unsupported init model type".
        kind = repr(init) if isinstance(init, str) else type(init).__name__
        return f"shap's TreeSHAP reads a {name} only with its default init, not init={kind}"
    if _is_lightgbm(model) and re.search(r"^is_linear=1$", _lgb_header(model), re.MULTILINE):
        # LightGBM: "not implemented for linear trees"; shap reads the leaves as constants.
        return "TreeSHAP cannot read LightGBM's linear trees (linear_tree=True)"
    if _hgb_categorical(model):
        # shap reads its split features in its own order (category columns first) and its
        # category splits as thresholds: check_ok False with a gap of ~0.4 on every row.
        return f"shap's TreeSHAP misreads the categorical splits of {name}"
    return None


# The initial estimators shap's TreeSHAP reads a scikit-learn GradientBoosting model with.
_SHAP_INITS = ("DummyClassifier", "DummyRegressor")


def path_dependent_ok(model: Any) -> bool:
    """False where shap's path-dependent TreeSHAP misreads the base value: a binary
    GradientBoostingClassifier with loss='exponential' starts from half the log-odds of
    its class prior, which shap reads as the whole (every row's values missed f(x) by 0.55)."""
    name = type(model).__name__
    return not (
        name == "GradientBoostingClassifier" and getattr(model, "loss", "") == "exponential"
    )


_NO_TREESHAP = (
    "{}; pass a background to explain.shap(model, background) with algorithm='auto' "
    "(exact or permutation SHAP of the output TreeSHAP would explain)"
)


def _lgb_header(model: Any) -> str:
    """The model text up to its first tree: parameters, feature infos, tree 0."""
    return str(_lgb_booster(model).model_to_string(num_iteration=1))


def _lgb_categorical(model: Any) -> bool:
    """True when a LightGBM model has categorical features, whose subset splits shap's
    interventional TreeSHAP misreads (values missed f(x) - E[f] by ~0.3 on a 3-category
    feature). The model header lists them in feature_infos without [min:max] brackets."""
    infos = re.search(r"^feature_infos=(.*)$", _lgb_header(model), re.MULTILINE)
    return infos is not None and any(
        info != "none" and not info.startswith("[") for info in infos.group(1).split()
    )


def model_categories(model: Any) -> Categories:
    """The categories a model reads its category columns by: a LightGBM model's pandas
    categories, a HistGradientBoosting model's or a scikit-learn pipeline's text categories
    by name; None for others."""
    if _is_lightgbm(model):
        return getattr(_lgb_booster(model), "pandas_categorical", None) or None
    return _text_categories(model)


def _text_categories(model: Any) -> dict[str, list[Any]] | None:
    """The text categories by column name a scikit-learn model fitted on a DataFrame reads
    by value: a HistGradientBoosting model's own, else its encoders' (a Pipeline whose
    ColumnTransformer one-hot or ordinal encodes text columns)."""
    hgb = _hgb_text_categories(model)
    if hgb is not None:
        return hgb
    names = getattr(model, "feature_names_in_", None)
    if names is None or not _module(model).startswith("sklearn."):
        return None
    columns = [str(n) for n in names]
    found = KnownCategories(_dropped_columns(model, columns))
    for column, known in _encoded_columns(model, columns):
        if column in found or np.asarray(known).dtype.kind in "biuf":
            continue  # numeric categories are read as the numbers they are
        found[column] = [c for c in known if not (isinstance(c, float) and np.isnan(c))]
    for column in found.ignored:
        found[column] = []
    return found or None


def _dropped_columns(model: Any, columns: list[str]) -> frozenset[str]:
    """The model's input columns its first ColumnTransformer drops and nothing reads (an id
    or free-text column of the training frame left to remainder='drop')."""
    ct = model
    if type(model).__name__.endswith("SearchCV"):
        ct = model = getattr(model, "best_estimator_", None)
    if type(model).__name__ == "Pipeline":
        ct = next((s for _, s in model.steps if s is not None and s != "passthrough"), None)
    if type(ct).__name__ != "ColumnTransformer" or not _module(ct).startswith("sklearn."):
        return frozenset()
    dropped: set[str] = set()
    used: set[str] = set()
    for _, trans, picked in getattr(ct, "transformers_", ()):
        names = _picked_names(picked, columns)
        if names is None:
            return frozenset()  # a column it reads may be among them: drop none
        (dropped if isinstance(trans, str) and trans == "drop" else used).update(names)
    return frozenset(dropped - used)


_ENCODERS = ("OneHotEncoder", "OrdinalEncoder", "TargetEncoder")
# Steps that hand their input columns on unchanged, so an encoder after them in a
# Pipeline encodes the Pipeline's own columns (its feature_names_in_ are then lost).
_SAME_COLUMNS = ("SimpleImputer", "FunctionTransformer")


def _encoded_columns(est: Any, columns: list[str] | None) -> list[tuple[str, Any]]:
    """(input column, the categories an encoder reads it by) for the fitted encoders in a
    scikit-learn Pipeline, ColumnTransformer or FeatureUnion; `columns` are the names of
    the columns `est` receives, where known."""
    kind = type(est).__name__
    if not _module(est).startswith("sklearn."):
        return []
    own = getattr(est, "feature_names_in_", None)
    if own is not None:
        columns = [str(c) for c in own]
    if kind in _ENCODERS:
        cats = getattr(est, "categories_", None)
        if columns is None or cats is None or len(cats) != len(columns):
            return []
        return list(zip(columns, cats, strict=True))
    if kind == "Pipeline":
        out: list[tuple[str, Any]] = []
        for _, step in est.steps:
            if step is None or isinstance(step, str):
                continue
            out += _encoded_columns(step, columns)
            passes = type(step).__name__ in _SAME_COLUMNS and not getattr(
                step, "add_indicator", False
            )
            if not passes or getattr(step, "func", None) is not None:
                columns = None
        return out
    if kind == "ColumnTransformer":
        out = []
        for _, trans, picked in getattr(est, "transformers_", ()):
            if isinstance(trans, str):
                continue
            out += _encoded_columns(trans, _picked_names(picked, columns))
        return out
    fitted = getattr(est, "best_estimator_", None)  # GridSearchCV, RandomizedSearchCV, ...
    if kind.endswith("SearchCV") and fitted is not None:
        return _encoded_columns(fitted, columns)
    if kind == "FeatureUnion":
        out = []
        for _, trans in getattr(est, "transformer_list", ()):
            if not isinstance(trans, str):
                out += _encoded_columns(trans, columns)
        return out
    return []


def _picked_names(picked: Any, columns: list[str] | None) -> list[str] | None:
    """The names of the columns a ColumnTransformer hands one transformer, where known."""
    if isinstance(picked, str):
        return [picked]
    items = list(picked) if isinstance(picked, list | tuple | np.ndarray) else None
    if items is None:
        return None
    if all(isinstance(c, str) for c in items):
        return [str(c) for c in items]
    n = 0 if columns is None else len(columns)
    ints = all(
        isinstance(c, numbers.Integral) and not isinstance(c, bool | np.bool_) for c in items
    )
    if columns is None or not ints or not all(-n <= int(c) < n for c in items):
        return None  # a boolean mask, a slice or a callable: not read
    return [columns[int(c)] for c in items]


def _hgb_categorical(model: Any) -> bool:
    mask = getattr(model, "is_categorical_", None)
    return type(model).__name__ in _NO_INTERVENTIONAL and mask is not None and bool(mask.any())


def _hgb_text_categories(model: Any) -> dict[str, list[Any]] | None:
    """A HistGradientBoosting model's categories of its text category columns by name
    (its OrdinalEncoder's, in code order): numeric ones are read as the numbers they are."""
    names = getattr(model, "feature_names_in_", None)
    if not _hgb_categorical(model) or names is None:
        return None
    encoder = model._preprocessor.named_transformers_["encoder"]
    text = {}
    for name, known in zip(names[model.is_categorical_], encoder.categories_, strict=True):
        if known.dtype.kind not in "biuf":
            text[str(name)] = [c for c in known if not (isinstance(c, float) and np.isnan(c))]
    return text or None


def _model_label(model: Any) -> str:
    name = type(model).__name__
    return f"{name} with categorical features" if _is_lightgbm(model) else name


def is_tree_model(model: Any) -> bool:
    """True for the tree ensembles TreeSHAP explains exactly."""
    return _is_lightgbm(model) or _is_xgboost(model) or _is_sklearn_tree(model)


def _is_sklearn_linear(model: Any) -> bool:
    mod = _module(model)
    linear = mod.startswith("sklearn.linear_model") or mod.startswith("sklearn.svm")
    return (
        linear and hasattr(model, "coef_") and not _votes_over_pairs(model) and not _log_link(model)
    )


def _log_link(model: Any) -> bool:
    """A generalised linear model predicting exp(X @ coef_ + intercept_): not linear in X."""
    name = type(model).__name__
    if name in ("PoissonRegressor", "GammaRegressor"):
        return True
    if name != "TweedieRegressor":
        return False
    link, power = getattr(model, "link", "auto"), getattr(model, "power", 0.0)
    return link == "log" or (link == "auto" and power > 0)


def _votes_over_pairs(model: Any) -> bool:
    """A linear SVC of 3+ classes whose decision_function is one-vs-rest (the default): its
    coef_ are the one-vs-one classifiers, and the votes and confidences it turns them into
    are not linear in the input, so the closed form would explain another function."""
    return (
        type(model).__name__ in ("SVC", "NuSVC")
        and len(getattr(model, "classes_", ())) > 2
        and getattr(model, "decision_function_shape", None) == "ovr"
    )


def is_linear_model(model: Any) -> bool:
    """True for scikit-learn linear models and `(coef, intercept)` pairs."""
    return _is_sklearn_linear(model) or (isinstance(model, tuple) and len(model) == 2)


def _lgb_booster(model: Any) -> Any:
    if type(model).__name__ == "Booster":
        return model
    try:
        return model.booster_
    except Exception as exc:
        raise ExplanationTypeError(f"{type(model).__name__} is not fitted: {exc}") from exc


def lgb_threads(X: Matrix) -> int:
    """One thread for a few rows: OpenMP start-up costs more than it saves (0 = default)."""
    return 1 if X.shape[0] <= SINGLE_THREAD_ROWS else 0


def model_names(model: Any) -> list[str] | None:
    if _is_lightgbm(model):
        return [str(n) for n in _lgb_booster(model).feature_name()]
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def _model_n_features(model: Any) -> int | None:
    if _is_lightgbm(model):
        return int(_lgb_booster(model).num_feature())
    if isinstance(model, tuple) and len(model) == 2:
        return int(np.atleast_2d(np.asarray(model[0], dtype=float)).shape[1])
    n = getattr(model, "n_features_in_", None)
    if n is None and _is_xgboost(model) and hasattr(model, "num_features"):
        n = model.num_features()
    return None if n is None else int(n)


def as_outputs(
    raw: Any, n_rows: int, what: str = "model output", *, masked_ok: bool = False
) -> Matrix:
    """Return model output as a finite (rows, outputs) float matrix; with `masked_ok`,
    -inf (how a torch policy masks an action) is kept."""
    if hasattr(raw, "detach") and hasattr(raw, "is_floating_point"):
        raw = detached(raw)  # a network called without no_grad gives one tracking gradients
    try:
        out = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelCallError(f"{what} is not numeric: {_non_number(raw)}") from exc
    out = np.asarray(one_row_outputs(out, n_rows), dtype=np.float64)
    if out.ndim == 1:
        out = out[:, None]
    if out.ndim != 2 or out.shape[0] != n_rows:
        raise ModelCallError(f"{what} has shape {out.shape}; expected ({n_rows},) or ({n_rows}, k)")
    bad = np.isnan(out) | np.isposinf(out) if masked_ok else ~np.isfinite(out)
    if bad.any():
        raise ModelCallError(f"{what} contains NaN or inf")
    return out


def _non_number(raw: Any) -> str:
    """What in a model's output is not a number, by type: numpy's own message quotes it."""
    try:
        items = np.asarray(raw, dtype=object).ravel().tolist()
    except (TypeError, ValueError):
        return f"got {kind_of(raw)}"
    odd = [v for v in items if not isinstance(v, numbers.Real | np.bool_)]
    return f"it holds {kind_of(odd[0])}" if odd else f"got {kind_of(raw)}"


def guarded(fn: Callable[[Matrix], Any], what: str, *, masked_ok: bool = False) -> Predict:
    """Wrap a model call so its failures and bad outputs raise ModelCallError (with
    `masked_ok`, outputs of -inf are kept: a torch policy's masked actions)."""

    def call(X: Matrix) -> Matrix:
        try:
            # A copy: a model that scales its input in place would otherwise change the
            # row being explained and the background the values are measured against.
            raw = fn(X.copy())
        except ExplanationError:
            raise
        except Exception as exc:
            raise ModelCallError(f"{what} raised {type(exc).__name__}: {exc}") from exc
        return as_outputs(raw, X.shape[0], f"{what} output", masked_ok=masked_ok)

    return call


def n_labels(model: Any) -> int | None:
    """How many labels a multi-label scikit-learn classifier (fitted on y with 2+ label
    columns) predicts, whose predict_proba is one (rows, classes) array per label; else None."""
    classes = getattr(model, "classes_", None)
    if not _module(model).startswith("sklearn.") or not isinstance(classes, list):
        return None
    return len(classes) if len(classes) > 1 else None


def _label_probabilities(model: Any, raw: Any) -> Any:
    """A multi-label classifier's predict_proba (one array per label) as (rows, labels):
    output j is the probability of label j's positive class, its classes_[j][1]."""
    if not isinstance(raw, list) or n_labels(model) is None:
        return raw
    name = type(model).__name__
    columns = []
    for j, proba in enumerate(raw):
        proba = np.asarray(proba)
        if proba.ndim != 2 or proba.shape[1] != 2:
            count = proba.shape[1] if proba.ndim == 2 else 0
            classes = (
                "only 1 class (it was constant in training)" if count == 1 else (f"{count} classes")
            )
            raise ExplanationTypeError(
                f"{name} is a multi-label classifier of {len(raw)} labels and label {j} has "
                f"{classes}: explain.shap explains each label's positive-class "
                "probability (output j is predict_proba(X)[j][:, 1]), which needs two classes "
                "per label; explain one class c of that label with a function, "
                f"explain.shap(lambda X: model.predict_proba(X)[{j}][:, c], background)"
            )
        columns.append(proba[:, 1])
    return np.stack(columns, axis=1)


def _probabilities(model: Any) -> Callable[[Matrix], Any]:
    """predict_proba on the frame the model reads; for a multi-label classifier each
    label's positive-class probability (output j: label j)."""
    return lambda X: _label_probabilities(model, model.predict_proba(_frame(model, X)))


def _frame(model: Any, X: Matrix) -> Any:
    # scikit-learn warns when a model fitted on a DataFrame is called with a bare array.
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return X
    import pandas as pd

    frame = pd.DataFrame(X, columns=list(names))
    text = _text_categories(model) or {}
    for name in getattr(text, "ignored", frozenset()):
        frame[name] = None  # dropped unread: no value of the caller's is passed on
    for name, known in text.items():
        if name in getattr(text, "ignored", frozenset()):
            continue
        # Codes (as_row/as_matrix read the text as them) back to the text the model reads.
        codes = frame[name].to_numpy()
        if not np.all(np.isnan(codes) | np.isin(codes, np.arange(len(known)))):
            raise ExplanationInputError(
                f"column {name!r} holds text categories: pass its values in a DataFrame, "
                f"or their codes 0 to {len(known) - 1} (NaN for missing)"
            )
        codes = np.where(np.isnan(codes), -1, codes).astype(np.int64)
        frame[name] = pd.Categorical.from_codes(codes, categories=known)
    return frame


# HistGradientBoostingRegressor losses whose predict is exp of the trees' sum.
_LOG_LINK = ("poisson", "gamma")


def _tree_output_fn(model: Any) -> Callable[[Matrix], Any]:
    """The model output TreeSHAP explains: raw margin for boosting, probability for forests."""
    name = type(model).__name__
    if _is_lightgbm(model):
        booster = _lgb_booster(model)
        return lambda X: booster.predict(X, raw_score=True, num_threads=lgb_threads(X))
    if _is_xgboost(model):
        if name == "Booster":
            import xgboost

            return lambda X: model.predict(xgboost.DMatrix(X), output_margin=True)
        return lambda X: model.predict(X, output_margin=True)
    if name == "HistGradientBoostingRegressor" and getattr(model, "loss", None) in _LOG_LINK:
        # Its trees add up log(predict), as a LightGBM Poisson model's add up its raw score.
        return lambda X: np.log(model.predict(_frame(model, X)))
    if name.endswith("Classifier") and "GradientBoosting" in name:
        return lambda X: model.decision_function(_frame(model, X))
    if name.endswith("Classifier"):
        return _probabilities(model)
    return lambda X: model.predict(_frame(model, X))


def _black_box_fn(model: Any) -> Callable[[Matrix], Any]:
    torch = _torch_if_loaded()
    if torch is not None and isinstance(model, torch.nn.Module):

        def forward(X: Matrix) -> Any:
            check_eval_mode(model)  # else Dropout/BatchNorm make the values random
            param = next(model.parameters(), None)
            dtype = torch.float32 if param is None else param.dtype
            device = None if param is None else param.device
            with torch.no_grad():
                out = model(torch.as_tensor(X, dtype=dtype, device=device))
            check_tensor(out)
            return out.detach().cpu().double().numpy()  # bfloat16 has no numpy twin

        return forward
    if _votes_over_pairs(model):  # the score its linear siblings are explained by
        return lambda X: model.decision_function(_frame(model, X))
    if hasattr(model, "decision_function") and not hasattr(model, "predict_proba"):
        # A classifier without probabilities (SVC()): its score, not the predicted label.
        return lambda X: model.decision_function(_frame(model, X))
    if hasattr(model, "predict_proba"):
        return _probabilities(model)
    if hasattr(model, "predict") and _is_sklearn_classifier(model):
        # Its predict returns class labels: text, or class numbers whose Shapley values
        # would add up to a label's number (a step from class 0 to class 2 reads as 2).
        raise ExplanationTypeError(
            f"{type(model).__name__} is a classifier with neither predict_proba nor "
            "decision_function (a VotingClassifier with voting='hard', say): its predict "
            "returns class labels, not a score to attribute; fit it to give probabilities "
            "(voting='soft', probability=True) or pass a function returning a numeric score"
        )
    if hasattr(model, "predict"):
        return lambda X: model.predict(_frame(model, X))
    if callable(model):
        return model  # type: ignore[no-any-return]
    raise ExplanationTypeError(
        f"cannot explain a {type(model).__name__!r}: expected a LightGBM/XGBoost/scikit-learn "
        "tree model, a linear model or (coef, intercept), a torch module, an object with "
        "predict/predict_proba, or a callable mapping an (n, features) array to outputs"
    )


def _is_sklearn_classifier(model: Any) -> bool:
    if not _module(model).startswith("sklearn."):
        return False
    from sklearn.base import is_classifier

    return bool(is_classifier(model))


def _torch_if_loaded() -> Any:
    import sys

    return sys.modules.get("torch")


# -- backends: each returns values (rows, features, outputs) and base values (rows, outputs) --


class _Backend(Protocol):
    method: str

    def attribute(self, X: Matrix) -> tuple[npt.NDArray[np.float64], Matrix]: ...

    def estimates(self, X: Matrix) -> list[Estimate]: ...

    def predict(self, X: Matrix) -> Matrix: ...

    def rebased(self, background: Matrix) -> _Backend: ...


def _as_values(raw: Any, n_rows: int, n_features: int) -> npt.NDArray[np.float64]:
    values = np.asarray(raw, dtype=np.float64)
    if values.ndim == 2:
        values = values[:, :, None]
    if values.ndim != 3 or values.shape[:2] != (n_rows, n_features):
        raise ExplanationError(f"SHAP returned values of unexpected shape {values.shape}")
    return values


class _LightGBMNative:
    """Path-dependent TreeSHAP computed by LightGBM itself (`pred_contrib=True`)."""

    method = "tree_shap_path_dependent"

    def __init__(self, model: Any, n_features: int) -> None:
        self.model, self.n_features = model, n_features
        self.booster = _lgb_booster(model)
        self._template: _ShapTree | None = None
        self.predict = guarded(_tree_output_fn(model), "LightGBM predict")
        self._contrib = guarded(
            lambda X: self.booster.predict(X, pred_contrib=True, num_threads=lgb_threads(X)),
            "LightGBM predict",
        )

    def attribute(self, X: Matrix) -> tuple[npt.NDArray[np.float64], Matrix]:
        contrib = self._contrib(X)
        k = contrib.shape[1] // (self.n_features + 1)
        blocks = contrib.reshape(X.shape[0], k, self.n_features + 1)
        return np.transpose(blocks[:, :, :-1], (0, 2, 1)), blocks[:, :, -1]

    def estimates(self, X: Matrix) -> list[Estimate]:
        return ["exact"] * X.shape[0]

    def rebased(self, background: Matrix) -> _Backend:
        if self._template is None:
            self._template = _ShapTree(self.model, None, self.n_features)
        return self._template.rebased(background)


class _ShapTree:
    """TreeSHAP through `shap.TreeExplainer`: interventional with a background, else path."""

    def __init__(
        self,
        model: Any,
        background: Matrix | None,
        n_features: int,
        explainer: Any = None,
        reads: _MissingReads | None = None,
    ) -> None:
        self.model, self.background, self.n_features = model, background, n_features
        self.predict = guarded(_tree_output_fn(model), type(model).__name__)
        self.method = (
            "tree_shap_path_dependent" if background is None else "tree_shap_interventional"
        )
        if reads is None and _is_lightgbm(model):
            reads = _lgb_missing_reads(model)
        self._reads = reads
        if explainer is None:
            explainer = _tree_explainer(model, self._as_read(background))
        self.explainer = explainer
        self._base = None if background is None else self.predict(background).mean(axis=0)

    def _as_read(self, X: Matrix | None) -> Matrix | None:
        """`X` as the model reads it, where shap's TreeSHAP would read it otherwise."""
        if X is None or self._reads is None:
            return X
        nan_as_zero, zero_as_missing = self._reads
        X = np.where(nan_as_zero & np.isnan(X), 0.0, X)
        return np.where(zero_as_missing & (np.abs(X) <= _LGB_ZERO), np.nan, X)

    def attribute(self, X: Matrix) -> tuple[npt.NDArray[np.float64], Matrix]:
        try:
            raw = self.explainer.shap_values(self._as_read(X), check_additivity=False)
        except Exception as exc:
            raise ModelCallError(f"TreeSHAP failed: {type(exc).__name__}: {exc}") from exc
        values = _as_values(raw, X.shape[0], self.n_features)
        base = self._base
        if base is None:
            base = np.atleast_1d(np.asarray(self.explainer.expected_value, dtype=np.float64))
        return values, np.broadcast_to(base, (X.shape[0], values.shape[2]))

    def estimates(self, X: Matrix) -> list[Estimate]:
        return ["exact"] * X.shape[0]

    def rebased(self, background: Matrix) -> _Backend:
        if not interventional_ok(self.model):
            raise ExplanationTypeError(_NOT_INTERVENTIONAL.format(_model_label(self.model)))
        # Converting a large ensemble takes tens of ms; reuse it and swap only the background,
        # which is all interventional TreeSHAP reads.
        swapped = copy.copy(self.explainer)
        if not all(hasattr(swapped, a) for a in ("data", "data_missing", "feature_perturbation")):
            return _ShapTree(self.model, background, self.n_features, reads=self._reads)
        swapped.data = self._as_read(background)
        swapped.data_missing = np.isnan(swapped.data)
        swapped.feature_perturbation = "interventional"
        return _ShapTree(self.model, background, self.n_features, swapped, self._reads)


# Per feature: LightGBM reads NaN as 0.0 / reads 0.0 as missing (LightGBM's kZeroThreshold).
_MissingReads: TypeAlias = "tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]"
_LGB_ZERO = 1e-35


def _lgb_missing_reads(model: Any) -> _MissingReads | None:
    """Where LightGBM reads a value otherwise than shap's TreeSHAP, per feature.

    A split's missing type (bits 2-3 of its decision_type) is None for a feature trained
    without NaN: LightGBM reads NaN as 0.0 there, where shap sends it down the default
    branch (values missed f(x) - E[f] by up to 1.8). It is Zero with zero_as_missing:
    LightGBM sends 0.0 down the default branch, where shap compares it with the threshold.
    """
    text = _lgb_booster(model).model_to_string()
    n = int(_lgb_booster(model).num_feature())
    nan_as_zero, zero_as_missing = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    features = re.findall(r"^split_feature=(.*)$", text, re.MULTILINE)
    kinds = re.findall(r"^decision_type=(.*)$", text, re.MULTILINE)
    for tree_features, tree_kinds in zip(features, kinds, strict=True):
        for f, kind in zip(tree_features.split(), tree_kinds.split(), strict=True):
            missing = (int(kind) >> 2) & 3
            nan_as_zero[int(f)] |= missing == 0
            zero_as_missing[int(f)] |= missing == 1
    if not (nan_as_zero.any() or zero_as_missing.any()):
        return None
    return nan_as_zero, zero_as_missing


def _tree_explainer(model: Any, background: Matrix | None) -> Any:
    shap_lib = import_shap()
    perturbation = "tree_path_dependent" if background is None else "interventional"
    try:
        return shap_lib.TreeExplainer(model, data=background, feature_perturbation=perturbation)
    except Exception as exc:
        raise ExplanationTypeError(
            f"shap.TreeExplainer cannot read {type(model).__name__}: {exc}"
        ) from exc


class _Linear:
    """Closed-form SHAP of a linear model with independent features: w_i (x_i - E[x_i])."""

    method = "linear_shap"

    def __init__(self, model: Any, background: Matrix, n_features: int) -> None:
        self.model, self.background = model, background
        coef, intercept = _linear_params(model, n_features)
        self.coef, self.intercept = coef, intercept
        self.mean = background.mean(axis=0)
        if isinstance(model, tuple):
            self.predict = guarded(lambda X: X @ coef.T + intercept, "linear model")
        elif hasattr(model, "decision_function"):
            self.predict = guarded(
                lambda X: model.decision_function(_frame(model, X)), "decision_function"
            )
        else:
            self.predict = guarded(lambda X: model.predict(_frame(model, X)), "predict")

    def attribute(self, X: Matrix) -> tuple[npt.NDArray[np.float64], Matrix]:
        values = (X - self.mean)[:, :, None] * self.coef.T[None, :, :]
        base = self.coef @ self.mean + self.intercept
        return values, np.broadcast_to(base, (X.shape[0], base.shape[0]))

    def estimates(self, X: Matrix) -> list[Estimate]:
        return ["exact"] * X.shape[0]

    def rebased(self, background: Matrix) -> _Backend:
        return _Linear(self.model, background, self.mean.shape[0])


def _linear_params(model: Any, n_features: int) -> tuple[Matrix, npt.NDArray[np.float64]]:
    raw_coef, raw_intercept = model if isinstance(model, tuple) else (model.coef_, model.intercept_)
    try:
        coef = np.atleast_2d(np.asarray(raw_coef, dtype=np.float64))
        intercept = np.atleast_1d(np.asarray(raw_intercept, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise ExplanationTypeError(f"linear model coefficients are not numeric: {exc}") from exc
    if coef.ndim != 2 or coef.shape[1] != n_features:
        raise ExplanationInputError(
            f"coef must have shape ({n_features},) or (outputs, {n_features}), got {coef.shape}"
        )
    if intercept.shape[0] not in (1, coef.shape[0]):
        raise ExplanationInputError(
            f"intercept has {intercept.shape[0]} values for {coef.shape[0]} outputs"
        )
    if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
        raise ExplanationInputError("linear model coefficients contain NaN or inf")
    return coef, np.broadcast_to(intercept, (coef.shape[0],)).copy()


_KERNEL_SINGULAR = r"Linear regression equation is singular"


def kernel_min_evals(n_features: int) -> int:
    """The fewest coalitions (shap's `nsamples`) that determine KernelSHAP's values.

    shap's KernelExplainer fills whole subset sizes first: with at least this many it
    evaluates every single-feature coalition and its complement, whose rows alone give its
    weighted regression full rank. Below it, coalitions are drawn at random in complementary
    pairs, each pair adding at most one to the rank while n - 1 values are unknown: the
    regression can be underdetermined and return arbitrary values. Mirrors the sampler of
    `KernelExplainer.explain` (checked against shap 0.51); `_check_determined` verifies the
    rank of each row's coalitions in case shap's sampler changes.
    """
    m = n_features
    if m <= 1:
        return 1
    full = 2**m - 2 if m <= 30 else 2**30
    sizes = math.ceil((m - 1) / 2)
    paired = (m - 1) // 2
    weights = np.array([(m - 1.0) / (i * (m - i)) for i in range(1, sizes + 1)])
    weights[:paired] *= 2
    first = float(weights[0] / weights.sum())
    singles = m * 2 if paired >= 1 else m
    need = max(1, math.ceil(singles / first * (1 - 1e-8)))
    while need * first / singles < 1.0 - 1e-8:  # shap's own test, float for float
        need += 1
    return min(need, full)


def permutation_min_evals(n_features: int) -> int:
    """shap's Permutation explainer evaluates 2n + 1 coalitions per permutation."""
    return 2 * n_features + 1


def _varying(X: Matrix, background: Matrix) -> npt.NDArray[np.int64]:
    """Per row, how many features differ from some background row (shap's own test)."""
    same = np.isclose(X[:, None, :], background[None, :, :]).all(axis=1)
    return np.asarray((~same).sum(axis=1), dtype=np.int64)


def _check_budget(algorithm: str, max_evals: int | None, n: int) -> None:
    if max_evals is None or algorithm not in ("kernel", "permutation"):
        return
    if algorithm == "kernel":
        least = kernel_min_evals(n)
        if max_evals < least:
            raise ExplanationInputError(
                f"max_evals={max_evals} is too low for kernel SHAP with {n} features: it needs "
                f"at least {least} coalitions, so that every single-feature coalition and its "
                f"complement is evaluated; with fewer its regression for the {n} values can be "
                "underdetermined and the values arbitrary"
            )
        return
    least = permutation_min_evals(n)
    if max_evals < least:
        raise ExplanationInputError(
            f"max_evals={max_evals} is too low for permutation SHAP with {n} features: one "
            f"permutation takes 2 * {n} + 1 = {least} evaluations"
        )


_WARM: set[str] = set()


def warm_up(algorithm: str = "exact") -> None:
    """Compile, once per process, the numba functions shap's exact or permutation SHAP runs.

    shap JIT-compiles its masking and Shapley kernels (numba, without a disk cache) on their
    first call: 5 s on an idle 2-core machine, 17 s on a busy one. An explainer using them
    calls this when it is built, so the cost falls there and not inside the first decision
    explained; the following calls in the process cost nothing. It runs both algorithms on
    a 3-feature function of zeros, with the same argument types as a real explanation (a
    float64 background and a (rows, outputs) float64 model output), under isolated_rng.
    """
    if algorithm not in ("exact", "permutation"):
        return  # TreeSHAP, linear SHAP and KernelSHAP compile nothing
    if algorithm in _WARM:  # compiled already: no need to take the lock and the RNGs
        return
    with isolated_rng(0):  # also serialises the first builds: the check-then-add is safe
        if algorithm in _WARM:
            return
        shap_lib = import_shap()
        background = np.zeros((2, 3))
        masker = shap_lib.maskers.Independent(background, max_samples=2)
        zeros = guarded(lambda X: np.zeros((X.shape[0], 1)), "warm-up")
        explainer = shap_lib.Explainer(zeros, masker, algorithm=algorithm)
        options = {"max_evals": permutation_min_evals(3)} if algorithm == "permutation" else {}
        explainer(np.ones((1, 3)), silent=True, **options)
        _WARM.add(algorithm)


class _BlackBox:
    """Model-agnostic SHAP with an Independent masker: exact, permutation or (opt-in) kernel."""

    def __init__(
        self,
        fn: Predict,
        background: Matrix,
        names: list[str],
        algorithm: str,
        max_evals: int | None,
        seed: int,
    ) -> None:
        _check_budget(algorithm, max_evals, len(names))
        self.fn, self.background, self.names, self.seed = fn, background, names, seed
        self.algorithm, self.max_evals = algorithm, max_evals
        self.method = f"{algorithm}_shap"
        # shap samples from numpy's global generator and the model may draw from any: each
        # call runs with them seeded, then restored (isolated_rng, which also keeps one
        # thread at a time in the shap explainer: KernelExplainer keeps each call's
        # coalitions on itself).
        with isolated_rng(seed), np.errstate(invalid="ignore"):
            self._base = fn(background).mean(axis=0)  # -inf for a masked action
            self._explainer = self._build()

    def _build(self) -> Any:
        shap_lib = import_shap()
        warm_up(self.algorithm)
        if self.algorithm == "kernel":
            return shap_lib.KernelExplainer(self.fn, self.background)
        masker = shap_lib.maskers.Independent(self.background, max_samples=len(self.background))
        return shap_lib.Explainer(
            self.fn, masker, algorithm=self.algorithm, feature_names=self.names
        )

    def predict(self, X: Matrix) -> Matrix:
        with isolated_rng(self.seed):
            return self.fn(X)

    def attribute(self, X: Matrix) -> tuple[npt.NDArray[np.float64], Matrix]:
        # A masked action's -inf outputs make its own values NaN, refused if explained.
        with isolated_rng(self.seed), np.errstate(invalid="ignore"):
            try:
                raw = self._run(X)
            except ExplanationError:
                raise
            except Exception as exc:
                raise ExplanationError(
                    f"{self.method} failed: {type(exc).__name__}: {exc}"
                ) from exc
        values = _as_values(raw, X.shape[0], len(self.names))
        return values, np.broadcast_to(self._base, (X.shape[0], values.shape[2]))

    def estimates(self, X: Matrix) -> list[Estimate]:
        """Exact when the algorithm covered every coalition of the row's varying features."""
        if self.algorithm == "exact":
            return ["exact"] * X.shape[0]
        varying = _varying(X, self.background)
        if self.algorithm == "permutation":
            # One forward and one reversed permutation are both orders of two features.
            return ["exact" if m <= 2 else "sampled" for m in varying]
        budget = self._kernel_samples()
        return [
            "exact" if m <= 1 or (m <= 30 and budget >= 2 ** int(m) - 2) else "sampled"
            for m in varying
        ]

    def _kernel_samples(self) -> int:
        """Coalitions per row: max_evals, else shap's default 2n + 2048 raised to the minimum."""
        if self.max_evals is not None:
            return self.max_evals
        n = len(self.names)
        return max(2 * n + 2**11, kernel_min_evals(n))

    def _run_kernel(self, X: Matrix) -> Any:
        nsamples = self._kernel_samples()
        rows = []
        for i in range(X.shape[0]):
            # l1_reg=False: no feature selection (shap's default keeps 10 features and zeroes
            # the rest), so the values solve the KernelSHAP regression itself.
            with warnings.catch_warnings():  # a singular regression is refused just below
                warnings.filterwarnings("ignore", message=_KERNEL_SINGULAR, category=UserWarning)
                raw = self._explainer.shap_values(
                    X[i : i + 1], nsamples=nsamples, l1_reg=False, silent=True
                )
            self._check_determined(i)
            rows.append(np.asarray(raw, dtype=np.float64))
        return np.concatenate(rows, axis=0)

    def _check_determined(self, row: int) -> None:
        """Refuse values from a KernelSHAP regression its coalitions leave underdetermined."""
        k = self._explainer
        m, added, masks = (getattr(k, a, None) for a in ("M", "nsamplesAdded", "maskMatrix"))
        if not isinstance(m, int) or m < 2 or not isinstance(added, int) or masks is None:
            return  # 0 or 1 varying feature: shap needs no regression
        used = np.asarray(masks)[:added]
        rank = int(np.linalg.matrix_rank(used[:, :-1] - used[:, -1:])) if added else 0
        if rank < m - 1:
            raise ExplanationError(
                f"kernel SHAP's {added} coalitions determine only {rank} of the {m - 1} free "
                f"values at row {row} ({m} varying features); raise max_evals to at least "
                f"{kernel_min_evals(len(self.names))}"
            )

    def _run(self, X: Matrix) -> Any:
        if self.algorithm == "kernel":
            return self._run_kernel(X)
        if self.algorithm == "exact":
            return self._explainer(X, silent=True).values
        max_evals = self.max_evals or 10 * (2 * len(self.names) + 1)
        return self._explainer(X, max_evals=max_evals, silent=True).values

    def rebased(self, background: Matrix) -> _Backend:
        return _BlackBox(self.fn, background, self.names, self.algorithm, self.max_evals, self.seed)


# -- the public explainer -------------------------------------------------------------------


class ShapExplainer:
    """SHAP attributions for one model; `explain(x, target)` returns an Attribution."""

    def __init__(
        self,
        backend: _Backend,
        feature_names: list[str],
        *,
        tolerance: float,
        max_background: int,
        seed: int,
        missing_ok: bool = False,
        categories: Categories = None,
    ) -> None:
        self._backend = backend
        self.feature_names = feature_names
        self.tolerance = tolerance
        self.max_background = max_background
        self.seed = seed
        self.missing_ok = missing_ok  # tree models read NaN as a missing value
        self.categories = categories  # as model_categories

    @property
    def method(self) -> str:
        """The SHAP algorithm this explainer runs, as recorded in each Attribution."""
        return self._backend.method

    def explain(self, x: FeatureInput, target: int | None = None) -> Attribution:
        """Attribute the model output at `x` (output `target`, default the largest)."""
        start = time.perf_counter()
        row = as_row(x, self.feature_names, allow_nan=self.missing_ok, categories=self.categories)
        row = row[None, :]
        return self._explain_rows(row, target, start)[0]

    def explain_rows(self, rows: Any, target: int | None = None) -> list[Attribution]:
        """Attribute each row of a 2-D array; cheaper than one `explain` call per row."""
        start = time.perf_counter()
        X = self._matrix(rows, "rows")
        return self._explain_rows(X, target, start)

    def with_background(self, background: Any) -> ShapExplainer:
        """Return an explainer of the same model against another background sample."""
        bg = self._matrix(background, "background")
        return ShapExplainer(
            self._backend.rebased(sample_rows(bg, self.max_background, self.seed)),
            self.feature_names,
            tolerance=self.tolerance,
            max_background=self.max_background,
            seed=self.seed,
            missing_ok=self.missing_ok,
            categories=self.categories,
        )

    def _matrix(self, data: Any, what: str) -> Matrix:
        return as_matrix(
            data, self.feature_names, what, allow_nan=self.missing_ok, categories=self.categories
        )

    def predict(self, rows: Any) -> Matrix:
        """Return the model output being explained, shape (rows, outputs)."""
        return self._backend.predict(self._matrix(rows, "rows"))

    def _explain_rows(self, X: Matrix, target: int | None, start: float) -> list[Attribution]:
        fx = self._backend.predict(X)
        values, base = self._backend.attribute(X)
        estimates = self._backend.estimates(X)
        per_row_ms = (time.perf_counter() - start) * 1e3 / X.shape[0]
        return [
            self._attribution(X[i], values[i], base[i], fx[i], target, per_row_ms, estimates[i])
            for i in range(X.shape[0])
        ]

    def _attribution(
        self,
        x: Matrix,
        values: Matrix,
        base: npt.NDArray[np.float64],
        fx: npt.NDArray[np.float64],
        target: int | None,
        ms: float,
        estimate: Estimate,
    ) -> Attribution:
        k = pick_target(target, fx)
        phi, b, out = values[:, k], float(base[k]), float(fx[k])
        if not (math.isfinite(out) and math.isfinite(b) and np.isfinite(phi).all()):
            raise ModelCallError(
                f"output {k} is not finite at x or at a background row (a masked action "
                "scored -inf?); explain an output that is finite there"
            )
        gap = abs(float(phi.sum()) + b - out)
        return Attribution(
            method=self.method,
            feature_names=self.feature_names,
            values=phi.tolist(),
            base_value=b,
            inputs=missing_as_none(x),
            output=out,
            target=None if fx.shape[0] == 1 else k,
            check_name="additivity_gap",
            check_value=gap,
            tolerance=self.tolerance,
            check_ok=check_passes(gap, self.tolerance, out),
            compute_ms=ms,
            estimate=estimate,
        )


def shap(
    model: Any,
    background: Any = None,
    feature_names: Sequence[str] | None = None,
    algorithm: Algorithm = "auto",
    *,
    max_background: int = 100,
    max_evals: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    seed: int = 0,
) -> ShapExplainer:
    """Build a SHAP explainer for a tree ensemble, linear model or black-box callable.

    `algorithm="auto"` picks TreeSHAP for tree ensembles (LightGBM's native contributions
    when no background is given, interventional against `background` otherwise), the closed
    form for linear models, and for anything else shap's exact algorithm up to 10 features
    or the permutation algorithm with a `max_evals` budget
    (default 10 * (2 * features + 1), at least 2 * features + 1). KernelSHAP runs only when
    asked for by name; its `max_evals` is the number of coalitions it evaluates (default
    2 * features + 2048) and must reach `kernel_min_evals(features)` (11 for 4 features, 51
    for 10), below which its regression can be underdetermined. A too-low or non-int
    `max_evals` raises ExplanationInputError here, not at explain time. Each Attribution's
    `estimate` says whether its values are exact or sampled (permutation SHAP past two
    varying features; KernelSHAP unless every coalition of the varying features was evaluated).

    A multi-label scikit-learn classifier (fitted on y with 2+ label columns) has one output
    per label: output j (`target=j`) is the probability of label j's positive class,
    `predict_proba(X)[j][:, 1]`; every label must have two classes, and a tree ensemble
    needs a background (shap's TreeSHAP misreads multi-label forests).
    """
    if algorithm not in ALGORITHMS:
        raise ExplanationInputError(
            f"unknown algorithm {algorithm!r}; expected one of {', '.join(ALGORITHMS)}"
        )
    if not (isinstance(tolerance, float | int) and math.isfinite(tolerance) and tolerance >= 0):
        raise ExplanationInputError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    check_max_evals(max_evals)
    check_seed(seed)
    check_positive("max_background", max_background)
    max_evals = None if max_evals is None else int(max_evals)
    names = resolve_names(model, background, feature_names)
    if not names:
        raise ExplanationInputError("the model has no features: there is nothing to attribute")
    missing_ok = is_tree_model(model)
    categories = model_categories(model)
    bg = None
    if background is not None:
        bg = as_matrix(background, names, allow_nan=missing_ok, categories=categories)
        bg = sample_rows(bg, max_background, seed)
    torch = _torch_if_loaded()
    if torch is not None and isinstance(model, torch.nn.Module):
        check_one_input(model, "explain.shap()")
    if bg is not None and torch is not None and isinstance(model, torch.nn.Module):
        check_eval_mode(model)
        check_repeatable(model, bg)
    backend = _backend(model, bg, names, algorithm, max_evals, seed)
    return ShapExplainer(
        backend,
        names,
        tolerance=float(tolerance),
        max_background=max_background,
        seed=seed,
        missing_ok=missing_ok,
        categories=categories,
    )


def check_max_evals(max_evals: Any) -> None:
    """max_evals is None or a positive int (not a bool, not a float such as 1.5 or 1e3)."""
    if max_evals is None:
        return
    if isinstance(max_evals, bool) or not isinstance(max_evals, int | np.integer):
        raise ExplanationInputError(
            f"max_evals must be a positive int, got {type(max_evals).__name__} {max_evals!r}"
        )
    if max_evals < 1:
        raise ExplanationInputError(f"max_evals must be a positive int, got {max_evals!r}")


def resolve_names(
    model: Any, background: Any, feature_names: Sequence[str] | None, what: str = "background"
) -> list[str]:
    """The feature names: the caller's, the model's, or the columns of `background` (the
    argument named `what` in errors)."""
    n = _model_n_features(model)
    if n is None and background is not None:
        n = n_columns(background, what)
    names = check_names(feature_names, n)
    own = model_names(model)
    if names is not None:
        if own is not None and names != own and set(names) & set(own):
            # The model reads columns by its own names' positions: reordered or partly
            # renamed names would label one feature's attribution with another's name.
            raise ExplanationInputError(
                f"feature_names {names!r} disagree with the names the model was fitted "
                f"with, {own!r}; pass them in the model's order (or omit them)"
            )
        return names
    names = own
    if names is None and hasattr(background, "columns"):
        check_unique_labels(background, what, " (or pass feature_names to read them by position)")
        names = [str(c) for c in background.columns]
    if names is None and isinstance(background, Mapping):  # one row: {feature: value}
        names = [str(k) for k in background]
    rows = mapping_rows(background)
    if names is None and rows is not None:  # rows of {feature: value}
        names = [str(k) for k in rows[0]]
    if names is not None:
        return check_names(names, n) or []
    if n is None:
        raise ExplanationInputError(
            "cannot tell how many features the model takes: pass background or feature_names"
        )
    return default_names(n)


def _backend(
    model: Any,
    bg: Matrix | None,
    names: list[str],
    algorithm: str,
    max_evals: int | None,
    seed: int,
) -> _Backend:
    n = len(names)
    tree = is_tree_model(model)
    chosen = algorithm == "auto"
    if algorithm == "auto":
        if tree and (bg is None or interventional_ok(model)):
            algorithm = "tree"
        elif tree and bg is not None:  # model-agnostic SHAP of the output TreeSHAP explains
            fn = guarded(_tree_output_fn(model), type(model).__name__)
            exact = "exact" if n <= EXACT_MAX_FEATURES else "permutation"
            return _BlackBox(fn, bg, names, exact, max_evals, seed)
        elif is_linear_model(model):
            algorithm = "linear"
        else:
            algorithm = "exact" if n <= EXACT_MAX_FEATURES else "permutation"
    if algorithm.startswith("tree"):
        return _tree_backend(model, bg, n, algorithm, tree)
    if bg is None and chosen:  # the caller named no algorithm: say what it was given
        raise ExplanationInputError(
            f"explain.shap({_model_kind(model)}) needs a background sample (rows x {n} "
            "features, e.g. a few hundred training rows) to measure the values against: "
            "only tree ensembles (LightGBM, XGBoost, scikit-learn trees) are explained "
            "without one"
        )
    if bg is None:
        raise ExplanationInputError(
            f"algorithm {algorithm!r} needs a background sample (rows x {n} features)"
        )
    if algorithm == "linear":
        if _votes_over_pairs(model):
            raise ExplanationTypeError(
                f"algorithm 'linear' cannot explain this {type(model).__name__}: its one-vs-rest "
                "decision_function is not linear in the input; fit it with "
                "decision_function_shape='ovo', or use algorithm='auto'"
            )
        if _log_link(model):
            raise ExplanationTypeError(
                f"algorithm 'linear' cannot explain this {type(model).__name__}: it predicts "
                "exp(X @ coef_ + intercept_), which is not linear in the input; use "
                "algorithm='auto'"
            )
        if not is_linear_model(model):
            raise ExplanationTypeError(
                f"algorithm 'linear' needs a scikit-learn linear model or (coef, intercept), "
                f"got {type(model).__name__!r}"
            )
        return _Linear(model, bg, n)
    torch = _torch_if_loaded()
    policy = torch is not None and isinstance(model, torch.nn.Module)
    fn = guarded(_black_box_fn(model), f"{type(model).__name__}", masked_ok=policy)
    return _BlackBox(fn, bg, names, algorithm, max_evals, seed)


def _model_kind(model: Any) -> str:
    """A model as named in an error: its class, or 'a function' for a plain callable."""
    if type(model).__name__ in ("function", "builtin_function_or_method", "partial"):
        return "a function"
    return f"a {type(model).__name__}"


def _tree_backend(model: Any, bg: Matrix | None, n: int, algorithm: str, tree: bool) -> _Backend:
    if not tree:
        raise ExplanationTypeError(
            f"algorithm {algorithm!r} needs a LightGBM, XGBoost or scikit-learn tree model, "
            f"got {type(model).__name__!r}"
        )
    unread = no_treeshap(model)
    if unread is not None:
        raise ExplanationTypeError(_NO_TREESHAP.format(unread))
    if bg is not None and not interventional_ok(model):
        raise ExplanationTypeError(_NOT_INTERVENTIONAL.format(_model_label(model)))
    if algorithm == "tree_interventional" and bg is None:
        raise ExplanationInputError("algorithm 'tree_interventional' needs a background sample")
    if (algorithm == "tree_path_dependent" or bg is None) and not path_dependent_ok(model):
        raise ExplanationTypeError(
            "shap's path-dependent TreeSHAP misreads the base value of a "
            "GradientBoostingClassifier with loss='exponential'; pass a background to "
            "explain.shap(model, background) (interventional TreeSHAP)"
        )
    if algorithm == "tree_path_dependent" or bg is None:
        if _is_lightgbm(model):
            return _LightGBMNative(model, n)
        return _ShapTree(model, None, n)
    return _ShapTree(model, bg, n)
