"""A Guard refuses pickling and copying with a message saying what to do instead."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from guard import Guard


@pytest.mark.parametrize("send", [pickle.dumps, copy.copy, copy.deepcopy])
def test_a_guard_is_not_pickled_or_copied(send: Callable[[Any], Any]) -> None:
    with Guard.from_policy("marketplace-agent", audit="memory://") as guard:
        with pytest.raises(TypeError, match=r"cannot be pickled or copied.*Guard.from_policy"):
            send(guard)
        decision = guard.check({"kind": "search", "params": {"q": "tiles"}})  # still usable
        assert decision.audited
