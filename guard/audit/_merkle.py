"""RFC 6962 / RFC 9162 Merkle tree: hashes, roots, inclusion and consistency proofs.

The verification functions need nothing but this module and hashlib, so an auditor can
check proofs from the log without trusting (or even running) the rest of the package.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from guard._exceptions import AuditError

__all__ = [
    "EMPTY_ROOT",
    "STORED_HEIGHT",
    "CompactRange",
    "MerkleTree",
    "NodeHash",
    "consistency_path",
    "consistency_proof",
    "inclusion_path",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "range_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
_sha256 = hashlib.sha256
EMPTY_ROOT = _sha256(b"").digest()
# Complete subtrees at least this high are memoized: 1 extra hash per 2**_MEMO_HEIGHT leaves,
# while a lower subtree costs at most 2**_MEMO_HEIGHT - 1 hashes to recompute.
_MEMO_HEIGHT = 4
# Stores keep the hash of every complete subtree at least this high (one row per 2**8 - 1
# leaves), so a proof reads O(log n) of them plus at most a few 2**8-leaf ranges.
STORED_HEIGHT = 8

NodeHash = Callable[[int, int], bytes]
"""`node(height, index)`: the hash of complete subtree `index` at `height` (2**height leaves)."""


def leaf_hash(data: bytes) -> bytes:
    """Hash one leaf: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash of these leaf hashes (SHA-256 of b"" when empty)."""
    frontier = CompactRange()
    for h in leaf_hashes:
        frontier.append(h)
    return frontier.root()


def inclusion_proof(index: int, size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the audit path of leaf `index` in the tree of the first `size` leaves."""
    return MerkleTree(leaf_hashes[:size]).inclusion_proof(index, size)


def consistency_proof(first: int, second: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the proof that the tree of size `first` is a prefix of the tree of size `second`."""
    return MerkleTree(leaf_hashes[:second]).consistency_proof(first, second)


def range_hash(start: int, end: int, node: NodeHash) -> bytes:
    """MTH(D[start:end]) for the ranges the RFC 6962 recursion visits, from complete subtrees."""
    n = end - start
    if _is_power_of_two(n) and start % n == 0:
        height = n.bit_length() - 1
        return node(height, start >> height)
    k = _split(n)
    return node_hash(range_hash(start, start + k, node), range_hash(start + k, end, node))


def inclusion_path(index: int, size: int, node: NodeHash) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 6962 section 2.1.1 (0 <= index < size), from subtrees."""
    return _path(index, 0, size, node)


def consistency_path(first: int, second: int, node: NodeHash) -> list[bytes]:
    """PROOF(first, D[0:second]) of RFC 6962 section 2.1.2 (0 <= first <= second)."""
    if first == 0 or first == second:
        return []
    return _subproof(first, 0, second, True, node)


def _path(index: int, start: int, end: int, node: NodeHash) -> list[bytes]:
    """PATH(m, D[start:end]), with `index` absolute."""
    if end - start == 1:
        return []
    mid = start + _split(end - start)
    if index < mid:
        return [*_path(index, start, mid, node), range_hash(mid, end, node)]
    return [*_path(index, mid, end, node), range_hash(start, mid, node)]


def _subproof(m: int, start: int, end: int, whole: bool, node: NodeHash) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b), with `m` relative."""
    n = end - start
    if m == n:
        return [] if whole else [range_hash(start, end, node)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, start, start + k, whole, node), range_hash(start + k, end, node)]
    return [*_subproof(m - k, start + k, end, False, node), range_hash(start, start + k, node)]


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes
) -> bool:
    """Check an audit path with the algorithm of RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == expected_root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check a consistency proof with the algorithm of RFC 9162 section 2.1.4.2."""
    if not 0 <= first <= second:
        return False
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = [first_root, *proof] if _is_power_of_two(first) else list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0


class CompactRange:
    """The right frontier of a tree: one subtree hash per set bit of its size, largest first.

    It is all that is needed to append leaves and compute the root in O(log n), so a store
    can keep it beside the leaves and extend the log without reading them back.
    """

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self._size = size
        self._hashes = list(hashes)
        if size < 0 or len(self._hashes) != size.bit_count():
            raise AuditError(
                f"a compact range of size {size} needs {max(size, 0).bit_count()} hashes, "
                f"got {len(self._hashes)}"
            )

    @property
    def size(self) -> int:
        """The number of leaves covered."""
        return self._size

    @property
    def hashes(self) -> list[bytes]:
        """The frontier's subtree hashes, leftmost (largest) first."""
        return list(self._hashes)

    # append and root hash inline (node_hash without the call): a store computes the root
    # after every leaf it appends, about log2(size) / 2 node hashes each.
    def append(self, leaf: bytes) -> None:
        """Add one leaf hash on the right, merging the complete subtrees it closes."""
        node, size, hashes = leaf, self._size, self._hashes
        while size & 1:
            node = _sha256(b"\x01" + hashes.pop() + node).digest()
            size >>= 1
        hashes.append(node)
        self._size += 1

    def append_closing(self, leaf: bytes) -> list[bytes]:
        """`append`, returning the hashes of the complete subtrees the leaf closes, lowest
        first: the leaf itself (height 0), then one per height up to the largest."""
        closed, node, size, hashes = [leaf], leaf, self._size, self._hashes
        while size & 1:
            node = _sha256(b"\x01" + hashes.pop() + node).digest()
            closed.append(node)
            size >>= 1
        hashes.append(node)
        self._size += 1
        return closed

    def root(self) -> bytes:
        """Return the hash of the tree covered so far."""
        hashes = self._hashes
        if not hashes:
            return EMPTY_ROOT
        r = hashes[-1]
        for h in hashes[-2::-1]:
            r = _sha256(b"\x01" + h + r).digest()
        return r

    def to_bytes(self) -> bytes:
        """Serialise as an 8-byte big-endian size followed by the hashes."""
        return self._size.to_bytes(8, "big") + b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, data: bytes) -> CompactRange:
        """Read back what `to_bytes` wrote."""
        size = int.from_bytes(data[:8], "big")
        body = data[8:]
        hashes = [body[i : i + HASH_SIZE] for i in range(0, len(body), HASH_SIZE)]
        return cls(size, hashes)


class MerkleTree:
    """Leaf hashes in log order, with complete subtrees memoized for O(log n) roots and proofs."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._leaves: list[bytes] = []
        # _levels[h - _MEMO_HEIGHT][i] is the hash of complete subtree i at height h.
        self._levels: list[list[bytes]] = []
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """The number of leaves."""
        return len(self._leaves)

    def leaves(self, start: int, end: int) -> list[bytes]:
        """Return the leaf hashes start <= index < end."""
        return self._leaves[start:end]

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append leaf hashes in order."""
        for h in leaf_hashes:
            self.append(h)

    def append(self, leaf: bytes) -> None:
        """Append one leaf hash and memoize every complete subtree it closes."""
        self._leaves.append(leaf)
        size, height = len(self._leaves), _MEMO_HEIGHT
        while size % (1 << height) == 0:
            index = (size >> height) - 1
            self._level(height).append(self._node_below_memo(height, index))
            height += 1

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the tree of the first `size` leaves (default: all)."""
        size = self._check_size(size)
        return self._range(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the RFC 6962 audit path of leaf `index` in the tree of `size` leaves."""
        size = self._check_size(size)
        if not 0 <= index < size:
            raise AuditError(f"leaf index {index} is outside a tree of size {size}")
        return inclusion_path(index, size, self._node)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """Return the RFC 6962 proof that tree `first` is a prefix of tree `second`."""
        second = self._check_size(second)
        if not 0 <= first <= second:
            raise AuditError(f"first size {first} must be between 0 and second size {second}")
        return consistency_path(first, second, self._node)

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return len(self._leaves)
        if not 0 <= size <= len(self._leaves):
            raise AuditError(f"tree size {size} is outside 0..{len(self._leaves)}")
        return size

    def _level(self, height: int) -> list[bytes]:
        while len(self._levels) <= height - _MEMO_HEIGHT:
            self._levels.append([])
        return self._levels[height - _MEMO_HEIGHT]

    def _node(self, height: int, index: int) -> bytes:
        """Hash of complete subtree `index` at `height` (covering 2**height leaves)."""
        if height >= _MEMO_HEIGHT:
            return self._levels[height - _MEMO_HEIGHT][index]
        return self._node_below_memo(height, index)

    def _node_below_memo(self, height: int, index: int) -> bytes:
        if height == 0:
            return self._leaves[index]
        left = self._node(height - 1, 2 * index)
        return node_hash(left, self._node(height - 1, 2 * index + 1))

    def _range(self, start: int, end: int) -> bytes:
        return range_hash(start, end, self._node)


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)
