"""Input checks shared by the backends: one row or one matrix of finite numbers."""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from explain._errors import ExplanationInputError, ExplanationTypeError, kind_of

FeatureInput: TypeAlias = "npt.ArrayLike | Mapping[str, float]"
Matrix: TypeAlias = "npt.NDArray[np.float64]"
# Per category column of a LightGBM model's training frame, its categories in code order;
# for a scikit-learn HistGradientBoosting model, its text categories by column name.
Categories: TypeAlias = "Sequence[Sequence[Any]] | Mapping[str, Sequence[Any]] | None"

_NUMERIC_KINDS = frozenset("biuf")


class KnownCategories(dict[str, list[Any]]):
    """Text categories by column name of a model that cannot read an unseen one as a
    missing value (a Pipeline's encoders): a value outside them is refused by name.

    `ignored` names columns the model drops unread (a ColumnTransformer's remainder): any
    value is accepted there and read as 0 (a number as itself); their attribution is 0.
    """

    def __init__(self, ignored: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.ignored = ignored


def default_names(n_features: int) -> list[str]:
    """Name features x0, x1, ... when neither the caller nor the model names them."""
    return [f"x{i}" for i in range(n_features)]


def check_names(names: Sequence[str] | None, n_features: int | None) -> list[str] | None:
    """Return feature names as a list after checking they are unique strings of the right count."""
    if names is None:
        return None
    if isinstance(names, str):
        raise ExplanationTypeError(
            f"feature_names must be a list of strings, not the single string {names!r}"
        )
    names = list(names)
    odd = next((i for i, n in enumerate(names) if not isinstance(n, str)), None)
    if odd is not None:  # named by position and type: it may be a value, not a name
        raise ExplanationTypeError(
            f"feature_names must be strings; name {odd} is {kind_of(names[odd])}"
        )
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ExplanationInputError(f"feature_names must be unique; repeated: {dupes!r}")
    if n_features is not None and len(names) != n_features:
        raise ExplanationInputError(
            f"feature_names has {len(names)} names but the model has {n_features} features"
        )
    return names


ColumnHint: TypeAlias = "Callable[[int], str | None] | None"


def detached(tensor: Any) -> Any:
    """A torch tensor as numpy can read it: no gradient tracking, on the CPU, floats as
    float64 (bfloat16 has no numpy twin)."""
    tensor = tensor.detach().cpu()
    return tensor.double() if tensor.is_floating_point() else tensor


def _to_array(
    value: Any, what: str, labels: Sequence[str] | None = None, column_hint: ColumnHint = None
) -> npt.NDArray[Any]:
    """`value` as an array; `labels` name its columns in errors when it has none of its own."""
    if hasattr(value, "toarray") and hasattr(value, "nnz"):  # a scipy sparse matrix/array
        value = value.toarray()
    if hasattr(value, "detach"):
        value = detached(value).numpy()
    numbers_only = _pandas_numbers(value)
    if numbers_only is not None:
        return numbers_only
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ExplanationTypeError(f"{what} is not an array of numbers: {exc}") from exc
    numbers_only = _objects_as_numbers(arr) if arr.dtype == object else None
    if numbers_only is not None:
        return numbers_only
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise ExplanationTypeError(
            f"{what} must hold numbers (bool, int or float), got dtype {str(arr.dtype)!r}"
            + _first_non_number(
                np.asarray(value, dtype=object), labels_of(value) or labels, column_hint
            )
        )
    return arr


def _pandas_numbers(value: Any) -> Matrix | None:
    """A pandas frame's or series' values as floats when each is a number, else None.

    Nullable Int64/Float64/boolean columns (pd.NA read as NaN), frames mixing bool and int
    columns, and `df.iloc[i]` of such a frame (an object series) otherwise read as objects.
    """
    if not type(value).__module__.startswith("pandas") or not hasattr(value, "dtypes"):
        return None
    dtypes = list(value.dtypes) if value.ndim == 2 else [value.dtypes]
    if all(getattr(d, "kind", "O") in _NUMERIC_KINDS for d in dtypes):
        return np.asarray(value.to_numpy(dtype=np.float64, na_value=np.nan))
    return _objects_as_numbers(value.to_numpy(dtype=object))


def _objects_as_numbers(objects: npt.NDArray[Any]) -> Matrix | None:
    """An object array as floats when each item is a number (bool included), else None:
    `df.to_numpy()` of a frame mixing int, float and bool columns is one."""
    if all(isinstance(v, numbers.Real | np.bool_) for v in objects.ravel().tolist()):
        return np.asarray(objects, dtype=np.float64)
    return None


def _first_non_number(
    arr: npt.NDArray[Any], labels: Sequence[Any] | None, column_hint: ColumnHint = None
) -> str:
    """Where the first value that is not a number sits and what it is, e.g. a pandas
    category's label: its type, never the value (the reason is recorded with the decision,
    and a name or an account id is not found by the PII detectors)."""
    if arr.ndim == 0 or arr.size == 0:
        return ""
    rows = arr.reshape(-1, arr.shape[-1])
    for r, row in enumerate(rows):
        for i, v in enumerate(row.tolist()):
            if not isinstance(v, numbers.Real):
                column = labels[i] if labels is not None and i < len(labels) else i
                where = f"row {r}, column {column!r}" if len(rows) > 1 else f"column {column!r}"
                hint = column_hint(i) if column_hint is not None else None
                return f"; {where} holds {kind_of(v)}{hint or _hint(v)}"
    return ""


def _text_hint(names: Sequence[str], categories: Categories) -> ColumnHint:
    """For a model reading text categories by name (HistGradientBoosting, a Pipeline's
    encoders), what to pass for column i instead of its text in an array: its codes are
    positions in the model's own categories, which need not be the frame's .cat.codes."""
    if not isinstance(categories, Mapping):
        return None

    def hint(i: int) -> str | None:
        name = names[i] if 0 <= i < len(names) else None
        known = categories.get(name) if name is not None else None
        if known is None or name in getattr(categories, "ignored", ()):
            return None
        return (
            f": column {name!r} holds text categories, read by value from a DataFrame, a "
            "pandas row or a {feature: value} mapping; an array takes their codes 0 to "
            f"{len(known) - 1} in the order of the model's own categories (its fitted "
            "encoder's, which need not be the frame's .cat.codes)"
        )

    return hint


def _hint(value: Any) -> str:
    """What to give instead of `value`, a feature value that is not a number."""
    if value is None:
        return ": give a missing value as NaN (which only tree models read)"
    if isinstance(value, str | bytes):
        try:
            float(value)
        except ValueError:
            return (
                ": encode categorical values as the numbers the model was trained on "
                "(for a pandas category, its .cat.codes)"
            )
        return " that reads as a number: convert numbers given as text with float()"
    if isinstance(value, numbers.Number):
        return ": give it as a float"
    return ": each feature must be one number"


def _check_finite(arr: Matrix, names: Sequence[str], what: str, allow_nan: bool) -> None:
    """Refuse NaN and inf; with `allow_nan` (tree models read NaN as missing) only inf."""
    bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
    if not bad.any():
        return
    rows = arr.reshape(-1, arr.shape[-1])
    bad = bad.reshape(rows.shape)
    cols = [int(c) for c in np.flatnonzero(bad.any(axis=0))]
    first = [float(rows[bad[:, c], c][0]) for c in cols[:5]]
    shown = ", ".join(f"{names[c]}={v!r}" for c, v in zip(cols, first, strict=False))
    more = f" and {len(cols) - 5} more" if len(cols) > 5 else ""
    kind = "infinite values" if allow_nan else "non-finite values (NaN or inf)"
    raise ExplanationInputError(f"{what} has {kind} at {shown}{more}")


def _from_mapping(x: Mapping[str, Any], names: Sequence[str], what: str) -> list[Any]:
    known = set(names)
    if any(k not in known for k in x):
        # LightGBM names the column "price usd" of its training frame "price_usd" (as
        # _by_name reads a frame's columns): the keys of df.iloc[i].to_dict() are the frame's.
        renamed = {k.replace(" ", "_") if isinstance(k, str) else k: v for k, v in x.items()}
        if len(renamed) == len(x) and set(renamed) == known:
            x = renamed
    missing = [n for n in names if n not in x]
    extra = sorted(str(k) for k in x if k not in set(names))
    if missing or extra:
        raise ExplanationInputError(
            f"{what} as a mapping must have exactly the model's features; "
            f"missing {missing!r}, unexpected {extra!r}"
        )
    return [x[n] for n in names]


def mapping_rows(data: Any) -> list[Mapping[str, Any]] | None:
    """`data` as rows when it is a list or tuple of {feature: value} mappings (the candidates
    a ranker scores), read as `pandas.DataFrame(rows)` would be; else None."""
    if not isinstance(data, list | tuple) or not data:
        return None
    return list(data) if all(isinstance(r, Mapping) for r in data) else None


def labels_of(data: Any) -> list[Any] | None:
    """The column labels of a DataFrame or the index of a Series, else None."""
    labels = getattr(data, "columns", None)
    if labels is None and getattr(data, "ndim", None) == 1:
        labels = getattr(data, "index", None)
    return None if labels is None or not hasattr(data, "to_numpy") else list(labels)


def check_unique_labels(data: Any, what: str, hint: str = "") -> None:
    """Refuse a DataFrame (or Series) whose column (index) labels repeat, naming them: a
    feature read by name would be two columns."""
    labels = labels_of(data)
    if labels is None or len(set(labels)) == len(labels):
        return
    dupes = sorted({str(c) for c in labels if labels.count(c) > 1})
    part = "columns" if getattr(data, "ndim", 2) == 2 else "index labels"
    kind = "DataFrame" if part == "columns" else "Series"
    raise ExplanationInputError(
        f"{what} is a {kind} whose {part} are duplicated: {dupes!r}; give each feature its "
        f"own {part[:-1]} name{hint}"
    )


def _by_name(data: Any, names: Sequence[str], what: str) -> Any:
    """A pandas input's values in `names` order, read by label as a mapping is.

    Labels that are exactly the features (in any order) are reordered; labels sharing only
    some features are an error; other labels (0, 1, ... or renamed) are read by position.
    """
    labels = labels_of(data)
    if labels is None or labels == list(names):
        return data
    text = [str(c) for c in labels]
    if text != labels and len(set(text)) == len(text):
        # A frame built from an array has columns 0, 1, ...: its features are named "0", "1".
        data, labels = data.set_axis(text, axis=data.ndim - 1), text
        if labels == list(names):
            return data
    known = set(names)
    # LightGBM names the column "price usd" of its training frame "price_usd".
    lgb = [c.replace(" ", "_") if isinstance(c, str) and c not in known else c for c in labels]
    if lgb != labels and set(lgb) == known:
        data, labels = data.set_axis(lgb, axis=data.ndim - 1), lgb
    shared = set(labels) & set(names)
    if not shared:
        return data
    check_unique_labels(data, what)
    if set(labels) != set(names) or len(labels) != len(names):
        missing = [n for n in names if n not in shared]
        extra = [str(c) for c in labels if c not in set(names)]
        raise ExplanationInputError(
            f"{what} is labelled but its labels are not the model's features; "
            f"missing {missing!r}, unexpected {extra!r}"
        )
    return data[list(names)]


def category_codes(data: Any, categories: Categories, what: str) -> Any:
    """A pandas frame with its category columns read as LightGBM reads them: in column
    order, as codes of the categories the model was fitted with (an unseen one: NaN).

    `categories` are the model's (LightGBM's `pandas_categorical`), None for other models.
    A row (Series) has lost its columns' dtypes, so which values are categories is unknown.
    A HistGradientBoosting model's text categories are by name: its columns of a frame,
    row or mapping are read by value whatever their dtype, as its own encoder reads them.
    """
    labelled = isinstance(data, Mapping) or labels_of(data) is not None
    if isinstance(categories, Mapping) and labelled:  # HistGradientBoosting: by value
        return _codes_by_name(data, categories, what)
    if not categories or labels_of(data) is None:
        return data
    if data.ndim == 1:
        raise ExplanationInputError(
            f"{what} is a pandas row, whose values lost their columns' dtypes, and the model "
            "was fitted on category columns: pass it as a one-row frame (df.iloc[[i]]), "
            "whose category columns are read as LightGBM reads them, or as an array of codes"
        )
    columns = [c for c, d in data.dtypes.items() if getattr(d, "name", None) == "category"]
    if not columns:  # codes given as numbers, as LightGBM reads an array
        return data
    if len(columns) != len(categories):
        raise ExplanationInputError(
            f"{what} has {len(columns)} category columns {[str(c) for c in columns]!r}; the "
            f"model was fitted with {len(categories)}"
        )
    data = data.copy()
    for column, known in zip(columns, categories, strict=True):
        codes = data[column].cat.set_categories(known).cat.codes.astype(np.float64)
        data[column] = codes.where(codes >= 0, np.nan)
    return data


def _codes_by_name(data: Any, categories: Mapping[str, Sequence[Any]], what: str) -> Any:
    """`data` (a pandas frame or row, or a mapping) with each named column as codes of its
    categories (NaN for a missing or unseen value), whatever its dtype; an unseen value is
    refused for KnownCategories."""
    import pandas as pd

    one = isinstance(data, Mapping) or data.ndim == 1
    if isinstance(data, Mapping):
        data = dict(data)
    else:
        data = data.astype(object) if one else data.copy()
    ignored: frozenset[str] = getattr(categories, "ignored", frozenset())
    for name, known in categories.items():
        if name not in data:  # told apart (missing) where the input is read by name
            continue
        values = np.asarray(data[name], dtype=object).reshape(-1)
        if name in ignored:  # dropped unread by the model: any value will do
            read = [v if isinstance(v, numbers.Real) else 0.0 for v in values.tolist()]
            data[name] = float(read[0]) if one else np.asarray(read, dtype=np.float64)
            continue
        codes = pd.Categorical(values, categories=known).codes.astype(np.float64)
        if (
            isinstance(categories, KnownCategories)
            and ((codes < 0) & ~pd.isna(pd.Series(values, dtype=object)).to_numpy()).any()
        ):
            # Named by column and count, never by value (recorded with the decision).
            raise ExplanationInputError(
                f"{what} column {name!r} holds a category the model was not fitted with "
                f"(its encoder knows {len(known)}); explain rows whose categories it knows"
            )
        codes[codes < 0] = np.nan
        data[name] = codes[0] if one else codes
    return data


def as_row(
    x: Any,
    names: Sequence[str],
    what: str = "x",
    *,
    allow_nan: bool = False,
    categories: Categories = None,
) -> Matrix:
    """Return one input row as a finite float64 vector matching `names` in length.

    With `allow_nan`, NaN (a missing value, which tree models read) is kept; `categories`
    as for `category_codes`.
    """
    labels = None
    rows = mapping_rows(x)
    if rows is not None:  # [{feature: value}], as explain_rows and backgrounds take rows
        if len(rows) != 1:
            raise ExplanationInputError(
                f"{what} must be one row, got {len(rows)} rows of mappings; explain several "
                "rows with explain_rows"
            )
        x = rows[0]
    if isinstance(x, Mapping):
        x, labels = _from_mapping(category_codes(x, categories, what), names, what), names
    x = category_codes(_by_name(x, names, what), categories, what)
    arr = _to_array(x, what, labels, _text_hint(names, categories))
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 0 and len(names) == 1:  # a one-feature model's observation: a number
        arr = arr[None]
    if arr.ndim != 1:
        count = "1 feature" if len(names) == 1 else f"{len(names)} features"
        raise ExplanationInputError(
            f"{what} must be one row of {count}, got an array of shape {arr.shape}"
        )
    if arr.shape[0] != len(names):
        raise ExplanationInputError(
            f"{what} has {arr.shape[0]} features but the model expects {len(names)}"
        )
    out = arr.astype(np.float64)
    _check_finite(out, names, what, allow_nan)
    return out


def as_matrix(
    data: Any,
    names: Sequence[str],
    what: str = "background",
    *,
    allow_nan: bool = False,
    categories: Categories = None,
) -> Matrix:
    """Return a non-empty finite float64 matrix whose columns match `names` (NaN kept
    with `allow_nan`); a mapping is one row keyed by feature name, as `as_row` reads it."""
    labels = None
    if isinstance(data, Mapping):
        data, labels = [_from_mapping(category_codes(data, categories, what), names, what)], names
    rows = mapping_rows(data)
    if rows is not None:  # each row read by name, as one mapping is
        where = [f"{what}[{i}]" for i in range(len(rows))]
        data = [
            _from_mapping(category_codes(r, categories, w), names, w)
            for r, w in zip(rows, where, strict=True)
        ]
        labels = names
    data = _by_name(data, names, what)  # pandas DataFrame: columns are read by name
    data = category_codes(data, categories, what)
    arr = _to_array(data, what, labels, _text_hint(names, categories))
    if arr.ndim == 1 and arr.shape[0] == len(names):
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ExplanationInputError(
            f"{what} must be a non-empty 2-D array of rows x {len(names)} features, "
            f"got shape {arr.shape}"
        )
    if arr.shape[1] != len(names):
        raise ExplanationInputError(
            f"{what} has {arr.shape[1]} features but the model expects {len(names)}"
        )
    out = arr.astype(np.float64)
    _check_finite(out, names, what, allow_nan)
    return out


def one_row_outputs(out: Any, n_rows: int) -> Any:
    """The outputs for one row of a model that squeezes its batch axis away (`.squeeze()`
    on a (1, k) output gives k numbers, or one number for k = 1) as (1, k); else `out`."""
    if n_rows != 1 or out.ndim > 1 or (out.ndim == 1 and out.shape[0] == 1):
        return out
    return out.reshape(1, -1)


def missing_as_none(values: Any) -> list[float | None]:
    """A row as a JSON-safe list: a missing value (NaN) becomes None."""
    return [None if math.isnan(v) else v for v in np.asarray(values, dtype=np.float64).tolist()]


def n_columns(data: Any, what: str = "background") -> int:
    """Return the feature count of a 2-D array-like or a one-row mapping (used before names
    are known). Only the shape is read: `as_matrix` or `as_row` checks the values, under the
    argument's own name, with a mixed list's numbers still numbers."""
    if isinstance(data, Mapping):
        return len(data)
    rows = mapping_rows(data)
    if rows is not None:
        return len(rows[0])
    try:
        shape = tuple(np.shape(data))
    except (TypeError, ValueError):  # ragged rows: _to_array says what is wrong
        shape = _to_array(data, what).shape
    if len(shape) != 2:
        raise ExplanationInputError(f"{what} must be a 2-D array, got shape {shape}")
    return int(shape[1])


def check_positive(name: str, value: Any) -> None:
    """An option such as n_steps or max_background is a positive int (not a bool or float)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ExplanationInputError(f"{name} must be a positive int, got {value!r}")


def check_seed(seed: Any) -> None:
    """A random seed is a non-negative int (numpy's generators refuse anything else)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ExplanationInputError(f"seed must be an int >= 0, got {seed!r}")


def sample_rows(data: Matrix, max_rows: int, seed: int) -> Matrix:
    """Keep at most `max_rows` rows, chosen by a seeded generator so results repeat."""
    check_positive("max_background", max_rows)
    if data.shape[0] <= max_rows:
        return data
    idx = np.random.default_rng(seed).choice(data.shape[0], size=max_rows, replace=False)
    return data[np.sort(idx)]


def pick_target(target: int | None, outputs: npt.NDArray[np.float64], what: str = "target") -> int:
    """Return the output index to explain: `target`, else the highest output.

    `what` names the argument in errors (e.g. "versus" for a contrastive explanation).
    """
    n = outputs.shape[0]
    if target is None:
        return 0 if n == 1 else int(np.argmax(outputs))
    index = _as_index(target)
    if index is None:
        raise ExplanationTypeError(f"{what} must be an int output index, got {target!r}")
    if not 0 <= index < n:
        raise ExplanationInputError(
            f"{what} {index!r} is out of range: the model has "
            + (f"{n} outputs (0 to {n - 1})" if n > 1 else "1 output (0)")
        )
    return index


def _as_index(value: Any) -> int | None:
    """An int, numpy integer or 0-d integer array or tensor (`scores.argmax()`) as an int;
    None for anything else, booleans included."""
    if isinstance(value, bool) or getattr(value, "ndim", 0) != 0:
        return None
    if "bool" in str(getattr(value, "dtype", "")):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None
