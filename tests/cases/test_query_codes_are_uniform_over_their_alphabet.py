"""A ticket's query code (what a citizen types to follow the case) is QUERY_CODE_LENGTH
characters of the unambiguous alphabet, each character equally likely: no character
is favoured by reducing random bytes modulo the alphabet's size (chi-square over
20,000 codes; the bound is passed by chance once in about 10^6 runs)."""

from __future__ import annotations

from collections import Counter

from hotline.cases.actions import QUERY_CODE_ALPHABET, QUERY_CODE_LENGTH, new_query_code


def test_codes_use_the_alphabet_uniformly_and_do_not_repeat() -> None:
    codes = [new_query_code() for _ in range(20000)]
    assert all(len(c) == QUERY_CODE_LENGTH and set(c) <= set(QUERY_CODE_ALPHABET) for c in codes)
    assert len(set(codes)) == len(codes)
    counts = Counter("".join(codes))
    k = len(QUERY_CODE_ALPHABET)
    expected = len(codes) * QUERY_CODE_LENGTH / k
    chi2 = sum((counts[ch] - expected) ** 2 / expected for ch in QUERY_CODE_ALPHABET)
    # 30 degrees of freedom: P(chi2 > 80) is about 2e-6. A modulo bias of 256 % 31 = 8
    # favoured characters (9/256 against 8/256) would give chi2 near 450 here.
    assert chi2 < 80, (chi2, counts.most_common(3), counts.most_common()[-3:])
    # every position is random, not only the code as a whole
    for pos in range(QUERY_CODE_LENGTH):
        assert len({c[pos] for c in codes}) == k
