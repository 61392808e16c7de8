"""README.md's sidecar set-up, done as written: the keys.yaml entry `guard keys create`
prints is what goes in the file, not its whole output (whose first line is the key)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROSE = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
LABEL = "entry for keys.yaml:"


def _create(*args: str) -> str:
    r = subprocess.run(
        [sys.executable, "-c", "from guard.cli import main; main()", "keys", "create", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_the_readme_says_which_lines_of_keys_create_go_in_keys_yaml() -> None:
    assert f"the lines after `{LABEL}`" in PROSE
    assert "not the whole output, whose first line carries the key itself" in PROSE
    first = _create("--name", "n", "--scopes", "check").split("\n", 1)[0]
    assert first.startswith("key (shown once; give it to the client): gk_")
    assert "`key (shown once; give it to the client): gk_...`" in PROSE


def test_appending_those_lines_for_two_keys_makes_one_keys_file(tmp_path: Path) -> None:
    from service._auth import KeyStore

    keys = tmp_path / "keys.yaml"
    raws = []
    for args in (("--name", "shop-agent", "--scopes", "check", "--tenant", "acme"),
                 ("--name", "alice", "--scopes", "audit:read,review")):  # fmt: skip
        output = _create(*args)
        first, rest = output.split("\n", 1)
        raws.append(first.rsplit(" ", 1)[1])
        with keys.open("a", encoding="utf-8") as file:
            file.write(rest.split(LABEL + "\n", 1)[1])
    store = KeyStore.from_file(keys)
    assert [e.name for e in store.entries] == ["shop-agent", "alice"]
    shop, alice = (store.authenticate(raw) for raw in raws)
    assert shop is not None and shop.tenant == "acme" and alice is not None
    assert not any(raw in keys.read_text(encoding="utf-8") for raw in raws)
