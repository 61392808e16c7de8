"""Ground truth for the tests: Shapley values by brute-force enumeration of coalitions."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from math import factorial

import numpy as np


def interventional_value(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, background: np.ndarray
) -> Callable[[tuple[int, ...]], float]:
    """v(S) = mean over background rows of f with the features in S taken from x."""
    cache: dict[tuple[int, ...], float] = {}

    def v(coalition: tuple[int, ...]) -> float:
        key = tuple(sorted(coalition))
        if key not in cache:
            rows = background.copy()
            rows[:, list(key)] = x[list(key)]
            cache[key] = float(np.mean(f(rows)))
        return cache[key]

    return v


def brute_force_shapley(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, background: np.ndarray
) -> tuple[np.ndarray, float]:
    """Exact Shapley values of f at x against the background, and the base value v({})."""
    n = x.shape[0]
    v = interventional_value(f, x, background)
    phi = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            weight = factorial(size) * factorial(n - size - 1) / factorial(n)
            for coalition in itertools.combinations(others, size):
                phi[i] += weight * (v((*coalition, i)) - v(coalition))
    return phi, v(())
