"""domain() of an IPv4-mapped IPv6 host is the IPv4 address it reaches, so an IPv4
block-list holds for it (it gave '::ffff:7f00:1', and a block-list of 127.0.0.1 missed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard import Guard, PolicyError
from guard.policy._functions import _domain

PACK = """\
name: ssrf
version: 1
defaults: {{verdict: allow, on_error: deny}}
rules:
  - id: no-loopback
    match: {{kind: fetch}}
    when: domain(params.url) in [{hosts}]
    effect: deny
"""


@pytest.mark.parametrize(
    "url",
    [
        "http://[::ffff:127.0.0.1]/admin",
        "http://[::ffff:7f00:1]/admin",
        "http://[0:0:0:0:0:ffff:127.0.0.1]:8080/",
        "//[::FFFF:7F00:0001]",
    ],
)
def test_an_ipv4_mapped_host_is_its_ipv4_address(url: str) -> None:
    assert _domain(url) == "127.0.0.1"


def test_other_ipv6_hosts_keep_their_compressed_spelling() -> None:
    assert _domain("http://[0:0::1]/") == "::1"
    assert _domain("http://[2001:db8::ffff:7f00:1]/") == "2001:db8::ffff:7f00:1"


def test_a_block_list_of_an_ipv4_address_blocks_its_mapped_form(tmp_path: Path) -> None:
    pack = tmp_path / "ssrf.yaml"
    pack.write_text(PACK.format(hosts='"127.0.0.1", "169.254.169.254"'), encoding="utf-8")
    g = Guard.from_policy(str(pack))
    for url in ("http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/latest/meta-data"):
        assert g.check({"kind": "fetch", "params": {"url": url}}).verdict == "deny", url
    assert g.check({"kind": "fetch", "params": {"url": "http://[::1]/"}}).verdict == "allow"


def test_a_mapped_literal_is_a_load_error_naming_the_ipv4_spelling(tmp_path: Path) -> None:
    pack = tmp_path / "ssrf.yaml"
    pack.write_text(PACK.format(hosts='"::ffff:127.0.0.1"'), encoding="utf-8")
    with pytest.raises(PolicyError, match="write '127.0.0.1'"):
        Guard.from_policy(str(pack))
