"""Three-party conference mixing with clipping."""

from __future__ import annotations

import numpy as np
import pytest

from hotline.media.mixing import mix, mix_minus, mix_minus_map


def frame(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int16)


def test_mix_sums_samples() -> None:
    assert mix([frame(1, 2, 3), frame(10, 20, 30), frame(-5, 0, 5)]).tolist() == [6, 22, 38]


def test_mix_clips_instead_of_wrapping() -> None:
    out = mix([frame(30000, -30000, 20000), frame(30000, -30000, -20000)])
    assert out.dtype == np.int16
    assert out.tolist() == [32767, -32768, 0]


def test_each_participant_hears_the_other_two() -> None:
    caller, agent, supervisor = frame(100, 1), frame(20, 2), frame(3, 4)
    to_caller, to_agent, to_supervisor = mix_minus([caller, agent, supervisor])
    assert to_caller.tolist() == [23, 6]
    assert to_agent.tolist() == [103, 5]
    assert to_supervisor.tolist() == [120, 3]


def test_n_minus_one_is_exact_even_when_the_full_mix_would_clip() -> None:
    loud = frame(32000)
    quiet = frame(100)
    to_loud, to_quiet_a, _ = mix_minus([loud, quiet, quiet])
    assert to_loud.tolist() == [200]
    assert to_quiet_a.tolist() == [32100]
    louder = mix_minus([frame(32000), frame(32000), frame(1)])
    assert louder[2].tolist() == [32767]  # clipped only in the output


def test_mix_minus_map_keeps_participant_keys() -> None:
    out = mix_minus_map({"caller": frame(1), "agent": frame(2), "supervisor": frame(4)})
    assert {k: v.tolist() for k, v in out.items()} == {"caller": [6], "agent": [5], "supervisor": [3]}


def test_a_single_participant_hears_silence() -> None:
    (alone,) = mix_minus([frame(5, 6)])
    assert alone.tolist() == [0, 0]


def test_mismatched_or_wrong_typed_frames_are_rejected() -> None:
    with pytest.raises(ValueError):
        mix([frame(1, 2), frame(1)])
    with pytest.raises(ValueError):
        mix([])
    with pytest.raises(TypeError):
        mix([np.array([1.0], dtype=np.float32)])


def test_mixing_160_sample_frames_is_vectorised_and_matches_reference() -> None:
    rng = np.random.default_rng(0)
    frames = [rng.integers(-32768, 32768, 160, dtype=np.int16) for _ in range(3)]
    ref = np.clip(sum(f.astype(np.int64) for f in frames), -32768, 32767)
    assert np.array_equal(mix(frames), ref)
    for i, out in enumerate(mix_minus(frames)):
        ref_i = np.clip(sum(f.astype(np.int64) for j, f in enumerate(frames) if j != i), -32768, 32767)
        assert np.array_equal(out, ref_i)
