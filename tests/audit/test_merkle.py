from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard._exceptions import AuditError
from guard.audit import (
    EMPTY_ROOT,
    CompactRange,
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    node_hash,
    verify_consistency,
    verify_inclusion,
)


def h(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text)


def mth(leaves: list[bytes]) -> bytes:
    """The RFC 6962 section 2.1 definition, written out naively as the reference."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


# -- RFC 6962 section 2.1.3: the worked example, checked node by node -------------------------

D = [leaf_hash(f"d{i}".encode()) for i in range(7)]
a, b, c, d, e, f, j = D
g, hh, i = node_hash(a, b), node_hash(c, d), node_hash(e, f)
k, l_ = node_hash(g, hh), node_hash(i, j)


@pytest.mark.parametrize(
    ("index", "path"),
    [
        pytest.param(0, [b, hh, l_], id="d0: b h l"),
        pytest.param(3, [c, g, l_], id="d3: c g l"),
        pytest.param(4, [f, j, k], id="d4: f j k"),
        pytest.param(6, [i, k], id="d6: i k"),
    ],
)
def test_rfc6962_example_audit_paths(index: int, path: list[bytes]) -> None:
    assert inclusion_proof(index, 7, D) == path
    assert verify_inclusion(D[index], index, 7, path, node_hash(k, l_))


@pytest.mark.parametrize(
    ("first", "proof"),
    [
        pytest.param(3, [c, d, g, l_], id="3->7: c d g l"),
        pytest.param(4, [l_], id="4->7: l"),
        pytest.param(6, [i, j, k], id="6->7: i j k"),
    ],
)
def test_rfc6962_example_consistency_proofs(first: int, proof: list[bytes]) -> None:
    assert consistency_proof(first, 7, D) == proof
    assert verify_consistency(first, 7, mth(D[:first]), node_hash(k, l_), proof)


# -- Test vectors of transparency-dev/merkle (proof/verify_test.go, rfc6962/rfc6962_test.go) --

LEAVES = [
    h(x)
    for x in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
HASHES = [leaf_hash(x) for x in LEAVES]
ROOTS = [
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
INCLUSION = [
    pytest.param(0, 1, [], id="leaf0-size1"),
    pytest.param(
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
        id="leaf0-size8",
    ),
    pytest.param(
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
        id="leaf5-size8",
    ),
    pytest.param(
        2,
        3,
        [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")],
        id="leaf2-size3",
    ),
    pytest.param(
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
        id="leaf1-size5",
    ),
]
CONSISTENCY = [
    pytest.param(1, 1, [], id="1-1"),
    pytest.param(
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
        id="1-8",
    ),
    pytest.param(
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
        id="6-8",
    ),
    pytest.param(
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
        id="2-5",
    ),
    pytest.param(
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
        id="6-7",
    ),
]


@pytest.mark.parametrize(
    ("got", "want"),
    [
        pytest.param(
            EMPTY_ROOT,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            id="empty",
        ),
        pytest.param(
            leaf_hash(b""),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            id="empty-leaf",
        ),
        pytest.param(
            leaf_hash(b"L123456"),
            "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56",
            id="leaf",
        ),
        pytest.param(
            node_hash(b"N123", b"N456"),
            "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb",
            id="node",
        ),
    ],
)
def test_hasher_vectors(got: bytes, want: str) -> None:
    assert got.hex() == want


@pytest.mark.parametrize("size", range(1, 9))
def test_root_vectors(size: int) -> None:
    assert merkle_root(HASHES[:size]) == ROOTS[size - 1]
    assert MerkleTree(HASHES).root(size) == ROOTS[size - 1]


def test_empty_tree_root() -> None:
    assert merkle_root([]) == EMPTY_ROOT == MerkleTree().root()


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_vectors(index: int, size: int, path: list[bytes]) -> None:
    assert inclusion_proof(index, size, HASHES) == path
    assert verify_inclusion(HASHES[index], index, size, path, ROOTS[size - 1])


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_consistency_vectors(first: int, second: int, proof: list[bytes]) -> None:
    assert consistency_proof(first, second, HASHES) == proof
    assert verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], proof)


SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def inclusion_probes(index: int, size: int, path: list[bytes]) -> list[tuple[object, ...]]:
    """Wrong inputs in the style of transparency-dev's corruptInclusionProof."""
    leaf, root = HASHES[index], ROOTS[size - 1]
    probes: list[tuple[object, ...]] = [
        (leaf, index - 1, size, path, root),
        (leaf, index + 1, size, path, root),
        (leaf, index ^ 2, size, path, root),
        (leaf, index, size * 2, path, root),
        (leaf, index, size // 2, path, root),
        (b"WrongLeaf", index, size, path, root),
        (leaf, index, size, path, EMPTY_ROOT),
        (leaf, index, size, path, SOME_HASH),
        (leaf, index, size, [*path, b""], root),
        (leaf, index, size, [*path, root], root),
        (leaf, index, size, [b"", *path], root),
        (leaf, index, size, [root, *path], root),
    ]
    for n in range(len(path)):
        flipped = [*path]
        flipped[n] = bytes([flipped[n][0] ^ 8]) + flipped[n][1:]
        probes.append((leaf, index, size, flipped, root))
    if path:
        probes.append((leaf, index, size, path[:-1], root))
    return probes


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION[1:])
def test_corrupted_inclusion_proofs_fail(index: int, size: int, path: list[bytes]) -> None:
    for probe in inclusion_probes(index, size, path):
        assert not verify_inclusion(*probe), probe  # type: ignore[arg-type]


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY[1:])
def test_corrupted_consistency_proofs_fail(first: int, second: int, proof: list[bytes]) -> None:
    r1, r2 = ROOTS[first - 1], ROOTS[second - 1]
    probes = [
        (first - 1, second, r1, r2, proof),
        (first + 1, second, r1, r2, proof),
        (first ^ 2, second, r1, r2, proof),
        (first, second * 2, r1, r2, proof),
        (first, second // 2, r1, r2, proof),
        (first, second, b"WrongRoot", r2, proof),
        (first, second, r1, b"WrongRoot", proof),
        (first, second, r2, r1, proof),
        (first, second, r1, r2, []),
        (first, second, r1, r2, [*proof, b""]),
        (first, second, r1, r2, [*proof, r1]),
        (first, second, r1, r2, [b"", *proof]),
        (first, second, r1, r2, [r2, *proof]),
        (first, second, r1, r2, [proof[0], *proof]),
        (first, second, r1, r2, proof[:-1]),
    ]
    for n in range(len(proof)):
        flipped = [*proof]
        flipped[n] = bytes([flipped[n][0] ^ 16]) + flipped[n][1:]
        probes.append((first, second, r1, r2, flipped))
    for probe in probes:
        assert not verify_consistency(*probe), probe


@pytest.mark.parametrize(
    ("first", "second", "first_root", "second_root", "proof", "ok"),
    [
        pytest.param(0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True, id="empty-to-empty"),
        pytest.param(0, 5, EMPTY_ROOT, ROOTS[4], [], True, id="empty-is-prefix-of-all"),
        pytest.param(0, 5, ROOTS[0], ROOTS[4], [], False, id="empty-needs-empty-root"),
        pytest.param(3, 3, ROOTS[2], ROOTS[2], [], True, id="same-size"),
        pytest.param(3, 3, ROOTS[2], ROOTS[3], [], False, id="same-size-other-root"),
        pytest.param(3, 3, ROOTS[2], ROOTS[2], [EMPTY_ROOT], False, id="same-size-extra-proof"),
        pytest.param(4, 3, ROOTS[3], ROOTS[2], [], False, id="shrinking"),
        pytest.param(1, 2, ROOTS[0], ROOTS[1], [], False, id="empty-proof"),
    ],
)
def test_consistency_edge_cases(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes], ok: bool
) -> None:
    assert verify_consistency(first, second, first_root, second_root, proof) is ok


@pytest.mark.parametrize(
    ("index", "size"),
    [
        pytest.param(0, 0, id="empty-tree"),
        pytest.param(1, 1, id="past-end"),
        pytest.param(-1, 3, id="negative"),
    ],
)
def test_inclusion_rejects_out_of_range(index: int, size: int) -> None:
    assert not verify_inclusion(SOME_HASH, index, size, [], SOME_HASH)
    with pytest.raises(AuditError, match="outside"):
        MerkleTree(HASHES[:size]).inclusion_proof(index, size)


def test_tree_size_beyond_leaves_is_an_error() -> None:
    with pytest.raises(AuditError, match="tree size 9"):
        MerkleTree(HASHES).root(9)
    with pytest.raises(AuditError, match="first size 5"):
        MerkleTree(HASHES).consistency_proof(5, 4)


# -- Properties ------------------------------------------------------------------------------


def hashes_for(size: int) -> list[bytes]:
    return [leaf_hash(n.to_bytes(4, "big")) for n in range(size)]


TREE = MerkleTree(hashes_for(700))


@settings(max_examples=300)
@given(st.data())
def test_every_inclusion_proof_verifies(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, TREE.size))
    index = data.draw(st.integers(0, size - 1))
    path = TREE.inclusion_proof(index, size)
    root = TREE.root(size)
    assert verify_inclusion(TREE.leaves(index, index + 1)[0], index, size, path, root)


@settings(max_examples=60)
@given(st.integers(1, 130))
def test_consistency_proofs_verify_for_all_smaller_sizes(second: int) -> None:
    tree = MerkleTree(hashes_for(second))
    for first in range(second + 1):
        proof = tree.consistency_proof(first, second)
        assert verify_consistency(first, second, tree.root(first), tree.root(second), proof)


@settings(max_examples=200)
@given(st.data())
def test_a_flipped_byte_fails_verification(data: st.DataObject) -> None:
    size = data.draw(st.integers(2, TREE.size))
    index = data.draw(st.integers(0, size - 1))
    path, root = TREE.inclusion_proof(index, size), TREE.root(size)
    leaf = TREE.leaves(index, index + 1)[0]
    target = data.draw(st.integers(0, len(path)))  # len(path) means the root itself
    byte, bit = data.draw(st.integers(0, 31)), data.draw(st.integers(0, 7))
    items = [*path, root]
    items[target] = (
        items[target][:byte]
        + bytes([items[target][byte] ^ (1 << bit)])
        + (items[target][byte + 1 :])
    )
    assert not verify_inclusion(leaf, index, size, items[:-1], items[-1])

    first = data.draw(st.integers(1, size - 1))
    proof = TREE.consistency_proof(first, size)
    spot = data.draw(st.integers(0, len(proof) - 1))
    proof[spot] = bytes([proof[spot][0] ^ (1 << bit)]) + proof[spot][1:]
    assert not verify_consistency(first, size, TREE.root(first), root, proof)


@settings(max_examples=100)
@given(st.integers(0, 300))
def test_roots_match_the_rfc_definition(size: int) -> None:
    leaves = hashes_for(size)
    assert merkle_root(leaves) == mth(leaves) == MerkleTree(leaves).root()


def test_compact_range_gives_every_intermediate_root_and_round_trips() -> None:
    frontier = CompactRange()
    for n, leaf in enumerate(hashes_for(70), start=1):
        frontier.append(leaf)
        assert frontier.root() == TREE.root(n)
        assert len(frontier.hashes) == n.bit_count()
        assert CompactRange.from_bytes(frontier.to_bytes()).root() == frontier.root()


def test_compact_range_rejects_a_frontier_of_the_wrong_shape() -> None:
    with pytest.raises(AuditError, match="needs 2 hashes"):
        CompactRange(3, [SOME_HASH])
