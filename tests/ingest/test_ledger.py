"""What an import remembers of a file (keepwell/ingest/ledger.py): the keys it has seen,
and the number of each repeated row, so that importing the same file again finds the
same orders."""

from __future__ import annotations

import random

from keepwell.ingest.ledger import Occurrences, SeenKeys, _sorted_unique, key_hash


def test_a_key_hash_is_stable_and_signed_64_bit() -> None:
    # blake2b with 8 bytes, read little-endian: fixed on every run and machine
    assert key_hash("order:1001") == key_hash("order:1001")
    assert key_hash("order:1001") != key_hash("order:1002")
    hashes = [key_hash(f"k{i}") for i in range(200)]
    assert all(-(2**63) <= h < 2**63 for h in hashes)
    assert any(h < 0 for h in hashes) and any(h > 0 for h in hashes)
    assert max(abs(h) for h in hashes) >= 2**62  # all 64 bits: 8 bytes of the digest


def test_seen_keys_remember_every_batch() -> None:
    seen = SeenKeys()
    assert seen.contains([1, 2]).tolist() == [False, False] and len(seen) == 0
    seen.add([])
    assert len(seen) == 0
    seen.add([5, 3, 5])
    assert len(seen) == 2
    seen.add([9])  # a smaller run waits beside the larger one
    seen.add([1, 7])  # and merges when it is as large
    assert len(seen) == 5
    assert seen.contains([9, 4, 1, 5, 3, 7, 10, -2]).tolist() == [
        True, False, True, True, True, True, False, False,
    ]  # fmt: skip


def test_seen_keys_agree_with_a_set_over_many_batches() -> None:
    rng = random.Random(7)
    seen, truth = SeenKeys(), set()
    for size in [1, 3, 2, 8, 1, 1, 30, 5, 64, 2]:
        batch = [rng.randrange(-500, 500) for _ in range(size)]
        query = [rng.randrange(-600, 600) for _ in range(50)]
        assert seen.contains(query).tolist() == [q in truth for q in query]
        seen.add(batch)
        truth.update(batch)
        assert len(seen) <= len(truth) + 10  # runs hold each key once, apart from merges
    assert seen.contains(sorted(truth)).all()


def test_sorted_unique() -> None:
    import numpy as np

    assert _sorted_unique(np.array([3, 1, 3, 2, 1], dtype=np.int64)).tolist() == [1, 2, 3]
    assert _sorted_unique(np.array([4], dtype=np.int64)).tolist() == [4]
    assert _sorted_unique(np.array([4, 4], dtype=np.int64)).tolist() == [4]
    assert _sorted_unique(np.array([5, 3], dtype=np.int64)).tolist() == [3, 5]
    assert _sorted_unique(np.array([], dtype=np.int64)).tolist() == []


def test_repeated_rows_are_numbered_in_file_order() -> None:
    numbers = Occurrences()
    assert numbers.number([10, 20, 10]) == [0, 0, 1]
    assert numbers.number([10, 30, 20, 20]) == [2, 0, 1, 2]
    assert numbers.number([40]) == [0]
    assert numbers.number([30, 30]) == [1, 2]


def test_the_same_file_in_other_batches_numbers_alike() -> None:
    rows = [1, 2, 1, 1, 3, 2, 1]
    whole = Occurrences().number(rows)
    split = Occurrences()
    parts = split.number(rows[:2]) + split.number(rows[2:5]) + split.number(rows[5:])
    assert whole == parts == [0, 0, 1, 2, 0, 1, 3]


def test_runs_merge_like_a_binary_counter() -> None:
    """A lookup searches each run: keys added one at a time are kept in as many runs as
    their count has ones in binary (sizes 8, 4, 1 for 13 keys), so at most log2(n) + 1."""
    seen = SeenKeys()
    for n in range(1, 65):
        seen.add([n * 7919])
        sizes = [len(run) for run in seen._runs]
        assert sizes == [1 << i for i in reversed(range(n.bit_length())) if n >> i & 1], n
    assert len(seen) == 64 and seen.contains([7919 * 64, 7919 * 65]).tolist() == [True, False]
