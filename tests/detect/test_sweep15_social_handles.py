"""Sweep 15: handles on the social networks a seller sends buyers to.

Found here: the handle recognizer knew messaging and payment apps but not YouTube,
Threads, Reddit, Bluesky, Mastodon, Twitch or Pinterest, so `threads @jo.sells`,
`reddit u/jo_sells`, `youtube.com/@josells`, `bsky.app/profile/jo.bsky.social` and
`twitch.tv/josells` passed; nor a handle written before its platform
(`@jo_sells on twitter`, `@jo.sells (insta)`).
"""

from __future__ import annotations

import pytest

from guard import Guard
from guard.detect import PiiScanner
from tests.detect.conftest import found, make_scanner, send

P = pytest.param


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return make_scanner()


HANDLES = [
    P("follow the shop on threads @jo.sells", "@jo.sells", id="threads-at"),
    P("I'm reddit u/jo_sells, check my reviews", "u/jo_sells", id="reddit-u"),
    P("reddit user /u/jo_sells", "/u/jo_sells", id="reddit-slash-u"),
    P("videos at youtube.com/@josells", "youtube.com/@josells", id="youtube-link"),
    P("my youtube: josells_diy", "josells_diy", id="youtube-colon"),
    P("bsky.app/profile/jo.bsky.social", "bsky.app/profile/jo.bsky.social", id="bluesky-link"),
    P("find me @jo.bsky.social", "@jo.bsky.social", id="bluesky-at"),
    P("mastodon @jo@mastodon.social", "@jo@mastodon.social", id="mastodon-address"),
    P("live on twitch.tv/josells most nights", "twitch.tv/josells", id="twitch-link"),
    P("more at pinterest.com/josells", "pinterest.com/josells", id="pinterest-link"),
    P("threads.net/@jo.sells", "threads.net/@jo.sells", id="threads-link"),
    P("reddit.com/user/jo_sells", "reddit.com/user/jo_sells", id="reddit-link"),
    P("@jo_sells on twitter for restocks", "@jo_sells", id="handle-then-twitter"),
    P("DM @jo.sells (insta) for the price", "@jo.sells", id="handle-then-app-in-brackets"),
    P("follow @jo_sells on x", "@jo_sells", id="handle-then-x"),
]


@pytest.mark.parametrize(("text", "handle"), HANDLES)
def test_the_handle_is_found(scanner: PiiScanner, text: str, handle: str) -> None:
    got = found(scanner, text)
    assert ("CONTACT_HANDLE", handle) in got, got


@pytest.mark.parametrize(("text", "handle"), HANDLES)
def test_the_pack_removes_it(pack: Guard, text: str, handle: str) -> None:
    verdict, _, final = send(pack, text)
    assert verdict == "redact"
    assert handle not in final["params"]["message"]  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    [
        P("Drehzahl 3000 U/min, 230 V", id="revolutions-per-minute"),
        P("threads: polyester, lining: cotton", id="garment-threads"),
        P("my sewing threads are cotton", id="sewing"),
        P("I watched a review on youtube", id="youtube-prose"),
        P("youtube videos of the item are linked in the listing", id="youtube-videos"),
        P("see the reddit thread about this model", id="reddit-thread"),
        P("pinterest board ideas for the room", id="pinterest-prose"),
        P("twitch streamer chair, barely used", id="twitch-chair"),
        P("meet @5pm on x street", id="time-on-x-street"),
        P("bluesky sky blue paint", id="bluesky-colour"),
        P("mastodon tusk replica", id="mastodon-tusk"),
    ],
)
def test_the_network_named_in_prose_is_no_handle(scanner: PiiScanner, text: str) -> None:
    assert [t for t, _ in found(scanner, text) if t == "CONTACT_HANDLE"] == []
