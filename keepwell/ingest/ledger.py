"""Which keys a file has shown already, in 8 bytes a key.

An import streams its file, so it cannot keep every row; yet it must notice an
order id that appears twice, and number identical rows of a file without order
ids. `SeenKeys` keeps 64-bit hashes in sorted NumPy runs that merge like a
binary counter: membership is a few binary searches, memory is 8 bytes a key.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt


def key_hash(text: str) -> int:
    """A stable 64-bit hash of `text` (the same on every run and machine)."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


class SeenKeys:
    def __init__(self) -> None:
        self._runs: list[npt.NDArray[np.int64]] = []

    def __len__(self) -> int:
        return sum(len(run) for run in self._runs)

    def contains(self, hashes: list[int]) -> npt.NDArray[np.bool_]:
        """For each hash, whether it was added before."""
        query = np.asarray(hashes, dtype=np.int64)
        order = np.argsort(query, kind="stable")
        needles = query[order]  # sorted needles search a sorted run with few cache misses
        found_sorted = np.zeros(len(query), dtype=bool)
        for run in self._runs:
            at = np.searchsorted(run, needles)
            at[at == len(run)] = 0
            found_sorted |= run[at] == needles
        found = np.empty_like(found_sorted)
        found[order] = found_sorted
        return found

    def add(self, hashes: list[int]) -> None:
        if not hashes:
            return
        run = _sorted_unique(np.asarray(hashes, dtype=np.int64))
        while self._runs and len(self._runs[-1]) <= len(run):
            run = _sorted_unique(np.concatenate((self._runs.pop(), run)))
        self._runs.append(run)


def _sorted_unique(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    values = np.sort(values, kind="stable")
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


class Occurrences:
    """Numbers repeated keys: the first time a key is seen it gets 0, then 1, 2, …

    Used for rows without an id: the n-th identical row of a file is the n-th order
    of its kind, so importing the same file again finds the same keys.
    """

    def __init__(self) -> None:
        self._seen = SeenKeys()
        self._repeats: dict[int, int] = {}

    def number(self, hashes: list[int]) -> list[int]:
        before = self._seen.contains(hashes)
        batch: set[int] = set()
        out: list[int] = []
        repeats = self._repeats
        for h, was_seen in zip(hashes, before.tolist(), strict=True):
            n = repeats.get(h)
            if n is not None:
                repeats[h] = n + 1
            elif was_seen or h in batch:
                n = 1
                repeats[h] = 2
            else:
                n = 0
                batch.add(h)
            out.append(n)
        self._seen.add(hashes)
        return out
