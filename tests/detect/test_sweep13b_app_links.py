"""Sweep 13b, messaging-app profile links, checked through the shipped pack: a Telegram
invite (`t.me/+AbC12`), a LINE ID link (`line.me/ti/p/~jo`), LINE's short links, WeChat,
Threema and Kik profile links went out unredacted before a contract.
"""

from __future__ import annotations

import pytest

from guard import Guard
from tests.detect.conftest import send

P = pytest.param


LINKS = [
    P("join t.me/+AbCdEf123 for updates", "t.me/+AbCdEf123", id="telegram-invite"),
    P("add me line.me/ti/p/~jo_smith", "line.me/ti/p/~jo_smith", id="line-id"),
    P("shop: https://line.me/R/ti/p/@jo_shop", "https://line.me/R/ti/p/@jo_shop", id="line-r"),
    P("lin.ee/AbC123 is my shop", "lin.ee/AbC123", id="line-short"),
    P("scan u.wechat.com/AbC-12", "u.wechat.com/AbC-12", id="wechat"),
    P("threema.id/ABCD1234 please", "threema.id/ABCD1234", id="threema"),
    P("kik.me/jo_smith", "kik.me/jo_smith", id="kik"),
]


@pytest.mark.parametrize(("text", "link"), LINKS)
def test_a_profile_link_is_removed(pack: Guard, text: str, link: str) -> None:
    verdict, types, final = send(pack, text)
    assert verdict == "redact"
    assert "CONTACT_HANDLE" in types
    assert isinstance(final, dict)
    assert link not in final["params"]["message"]


def test_an_apps_site_without_a_profile_is_text(pack: Guard) -> None:
    assert send(pack, "see line.me for the app")[:2] == ("allow", [])
