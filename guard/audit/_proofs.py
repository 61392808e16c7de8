"""Proofs from a store without its leaf hashes in memory: a few subtree hashes per proof.

A proof or root needs O(log n) complete subtrees (`_merkle.range_hash` splits any range into
them). Those of height `STORED_HEIGHT` or more are read from the store's subtree table in one
query; lower ones are hashed from the stored leaf hashes of their 2**8-leaf block. A subtree
the store does not keep (a log written before it kept them) is hashed from its leaf hashes,
read in chunks, so memory stays bounded whatever the log's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from guard._exceptions import AuditTampered
from guard.audit._merkle import EMPTY_ROOT, STORED_HEIGHT, CompactRange, NodeHash, root
from guard.audit._store import AuditStore

__all__ = ["frontier_hashes", "from_store", "leaf_range"]

T = TypeVar("T")
_READ_CHUNK = 4096


def from_store(store: AuditStore, compute: Callable[[NodeHash], T]) -> T:
    """Run `compute` (a proof or root written against a node function) on `store`'s subtrees.

    It runs twice: once to note which subtrees it asks for, then with them read in a batch.
    """
    wanted: set[tuple[int, int]] = set()

    def note(height: int, index: int) -> bytes:
        wanted.add((height, index))
        return EMPTY_ROOT

    compute(note)
    found = _subtrees(store, wanted)
    return compute(lambda height, index: found[height, index])


def frontier_hashes(size: int, node: NodeHash) -> list[bytes]:
    """The compact range of the first `size` leaves: one subtree per set bit, largest first."""
    hashes, start = [], 0
    for height in range(size.bit_length() - 1, -1, -1):
        if size >> height & 1:
            hashes.append(node(height, start >> height))
            start += 1 << height
    return hashes


def leaf_range(store: AuditStore, start: int, end: int) -> list[bytes]:
    """The stored leaf hashes start <= index < end, which must be exactly end - start rows."""
    return list(_leaf_hashes(store, start, end))


def _subtrees(store: AuditStore, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    found: dict[tuple[int, int], bytes] = {}
    read: Callable[[list[tuple[int, int]]], dict[tuple[int, int], bytes]] | None = getattr(
        store, "subtree_hashes", None
    )
    high = sorted(key for key in wanted if key[0] >= STORED_HEIGHT)
    if read is not None and high:
        found.update(read(high))
    blocks: dict[int, list[tuple[int, int]]] = {}
    for height, index in wanted - found.keys():
        if height >= STORED_HEIGHT:  # not kept: hashed from its leaves, a chunk at a time
            found[height, index] = _hash_leaves(store, index << height, (index + 1) << height)
        else:
            blocks.setdefault((index << height) >> STORED_HEIGHT, []).append((height, index))
    for block, keys in blocks.items():
        start = block << STORED_HEIGHT
        hashes = leaf_range(store, start, max((i + 1) << h for h, i in keys))
        for height, index in keys:
            offset = (index << height) - start
            found[height, index] = root(hashes[offset : offset + (1 << height)])
    return found


def _hash_leaves(store: AuditStore, start: int, end: int) -> bytes:
    frontier = CompactRange()
    for leaf in _leaf_hashes(store, start, end):
        frontier.append(leaf)
    return frontier.root()


def _leaf_hashes(store: AuditStore, start: int, end: int) -> Iterator[bytes]:
    """The stored leaf hashes start <= index < end, read a chunk at a time; fewer or more
    than end - start rows is `AuditTampered` (once they are all read)."""
    count = 0
    for first in range(start, end, _READ_CHUNK):
        for leaf in store.leaf_hashes(first, min(end, first + _READ_CHUNK)):
            count += 1
            yield leaf
    if count != end - start:
        raise AuditTampered(
            f"audit log tampered at index {start}: records {start} to {end - 1} are held in "
            f"{count} leaf rows, so a record was deleted or an index stored twice (verify "
            "names the first bad record)",
            index=start,
        )
