"""Sweep 14: built-in functions on the inputs a block- or allow-list meets."""

from __future__ import annotations

import pytest

from guard import Guard, Verdict
from guard._exceptions import EvaluationError
from guard.policy import parse
from guard.policy._functions import _domain


@pytest.mark.parametrize(
    "url",
    [
        # Each named no host or the wrong one: "mailto" (the scheme), or one address of
        # several, so a block-list of evil.com let the mail through to evil.com.
        pytest.param("mailto:", id="no-address"),
        pytest.param("mailto:?to=x@evil.com", id="address-in-to-field"),
        pytest.param("mailto:?To=x%40evil.com", id="encoded-to-field"),
        pytest.param("mailto:jo@good.com?cc=x@evil.com", id="cc-field"),
        pytest.param("mailto:jo@good.com?subject=hi&bcc=x@evil.com", id="bcc-field"),
        pytest.param("mailto:b@evil.com,a@good.com", id="two-addresses"),
        pytest.param("mailto:b@evil.com%2Ca@good.com", id="encoded-comma"),
        pytest.param("mailto:good.com", id="no-at-sign"),
    ],
)
def test_a_mailto_url_without_exactly_one_address_is_an_error(url: str) -> None:
    with pytest.raises(EvaluationError, match="mailto"):
        _domain(url)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        pytest.param("mailto:jo@example.com", "example.com", id="plain"),
        pytest.param("MAILTO:Jo@Good.COM", "good.com", id="case"),
        pytest.param("mailto:jo%40good.com", "good.com", id="encoded-at"),
        pytest.param("mailto:jo@good.com?subject=Hi%20there&body=x", "good.com", id="subject"),
        pytest.param("mailto:jo@bücher.de", "xn--bcher-kva.de", id="idn"),
        pytest.param('mailto:"a@b"@good.com', "good.com", id="quoted-local-part"),
    ],
)
def test_a_mailto_url_with_one_address_names_its_host(url: str, host: str) -> None:
    assert _domain(url) == host


def test_a_block_list_catches_a_cc_to_a_blocked_domain() -> None:
    pack = parse(
        "name: t\nversion: 1\nrules:\n  - id: no-evil-mail\n"
        '    when: domain(params.url) in ["evil.com"]\n'
    )
    action = {"kind": "open_link", "params": {"url": "mailto:jo@good.com?cc=x@evil.com"}}
    decision = Guard([pack]).check(action)
    assert decision.verdict is Verdict.DENY and decision.hits[0].error is not None
