"""Conference mixing of int16 PCM frames (numpy, saturating).

All frames of one mixing round must have the same length (one ptime of
audio at the same sample rate).  Sums are computed in int32 and clipped to
the int16 range once, at the end, so that N-1 mixes are exact:
``mix_minus`` subtracts each participant from the unclipped total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["mix", "mix_minus", "mix_minus_map"]

Int16Array = npt.NDArray[np.int16]
K = TypeVar("K")

_MIN = np.iinfo(np.int16).min
_MAX = np.iinfo(np.int16).max


def _stack(frames: Sequence[npt.ArrayLike]) -> npt.NDArray[np.int32]:
    arrays = [np.asarray(f).reshape(-1) for f in frames]
    if not arrays:
        raise ValueError("nothing to mix")
    length = arrays[0].shape[0]
    for a in arrays:
        if a.shape[0] != length:
            raise ValueError("all frames must have the same number of samples")
        if a.dtype != np.int16:
            raise TypeError(f"expected int16 frames, got {a.dtype}")
    return np.stack(arrays).astype(np.int32)


def _clip(total: npt.NDArray[np.int32]) -> Int16Array:
    return np.clip(total, _MIN, _MAX).astype(np.int16)


def mix(frames: Sequence[npt.ArrayLike]) -> Int16Array:
    """Sum frames sample by sample, saturating at the int16 limits."""
    return _clip(_stack(frames).sum(axis=0, dtype=np.int32))


def mix_minus(frames: Sequence[npt.ArrayLike]) -> list[Int16Array]:
    """N-1 mixes: element ``i`` is everybody except participant ``i``.

    With one participant the result is silence of the same length.
    """
    stacked = _stack(frames)
    total = stacked.sum(axis=0, dtype=np.int32)
    others = _clip(total[np.newaxis, :] - stacked)
    return [others[i] for i in range(others.shape[0])]


def mix_minus_map(frames: Mapping[K, npt.ArrayLike]) -> dict[K, Int16Array]:
    """:func:`mix_minus` keyed by participant (e.g. caller, agent, supervisor)."""
    keys = list(frames)
    return dict(zip(keys, mix_minus([frames[k] for k in keys])))
