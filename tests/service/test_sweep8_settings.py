"""Durations in the settings are positive, finite numbers: NaN made every request a 504
("took longer than nan s") and every long-poll a 422; infinity waits for ever."""

from __future__ import annotations

import pytest

from service import Settings
from service._settings import SettingsError


@pytest.mark.parametrize("name", ["request_timeout", "long_poll_max", "poll_interval"])
@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "0", "-1"])
def test_a_duration_that_is_not_a_positive_finite_number_is_refused(name: str, raw: str) -> None:
    with pytest.raises(SettingsError, match=f"{name} must be a positive, finite number"):
        Settings.from_env({f"GUARD_{name.upper()}": raw}, policy="x")


@pytest.mark.parametrize("name", ["request_timeout", "long_poll_max", "poll_interval"])
def test_a_positive_finite_duration_is_kept(name: str) -> None:
    assert getattr(Settings.from_env({f"GUARD_{name.upper()}": "0.25"}, policy="x"), name) == 0.25
