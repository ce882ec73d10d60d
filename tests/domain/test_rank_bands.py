"""Rank bands at their boundaries: exact shares, ties take the first tied place, unfundable and
unscored applications get a band of their own."""

from __future__ import annotations

import pytest

from grants.domain.rank_bands import RankBand, band, band_in, label
from tests.domain.test_ranking import entry, only_group


@pytest.mark.parametrize(("place", "ranked", "expected"), [
    (1, 10, RankBand.TOP_10),  # exactly 10 %
    (2, 10, RankBand.FROM_10_TO_25),
    (1, 11, RankBand.TOP_10),  # 9.09… %
    (2, 11, RankBand.FROM_10_TO_25),  # 18.1… %
    (5, 20, RankBand.FROM_10_TO_25),  # exactly 25 %
    (6, 20, RankBand.FROM_25_TO_50),
    (10, 20, RankBand.FROM_25_TO_50),  # exactly 50 %
    (11, 20, RankBand.FROM_50_TO_100),
    (20, 20, RankBand.FROM_50_TO_100),
    (1, 1, RankBand.FROM_50_TO_100),  # alone: the top 100 %, nothing better can be said
    (1, 3, RankBand.FROM_25_TO_50),  # the best of three is in the top third
])
def test_bands_at_their_boundaries(place, ranked, expected):
    assert band(place, ranked) is expected


@pytest.mark.parametrize(("place", "ranked"), [(0, 5), (6, 5), (1, 0), (-1, 3)])
def test_a_place_outside_the_ranked_rows_is_refused(place, ranked):
    with pytest.raises(ValueError):
        band(place, ranked)


def test_tied_rows_share_the_band_of_the_first_of_them():
    # Ten ranked: 1 alone at the top, 2 and 3 tied at 90 (places 2 and 3 → both as place 2).
    entries = [entry(1, "95"), entry(2, "90"), entry(3, "90")] + [
        entry(n, str(80 - n)) for n in range(4, 11)]
    group = only_group(entries)

    assert band_in(group, 1) is RankBand.TOP_10
    assert band_in(group, 2) is band_in(group, 3) is RankBand.FROM_10_TO_25
    assert band_in(group, 5) is RankBand.FROM_25_TO_50  # place 5 of 10: exactly 50 %
    assert band_in(group, 6) is RankBand.FROM_50_TO_100


def test_unfundable_and_unscored_applications():
    group = only_group([entry(1, "90"), entry(2, "99", knockout=True), entry(3, None)])

    assert band_in(group, 1) is RankBand.FROM_50_TO_100  # the only ranked one
    assert band_in(group, 2) is RankBand.NOT_FUNDABLE
    assert band_in(group, 3) is RankBand.NOT_RANKED
    with pytest.raises(KeyError):
        band_in(group, 4)


def test_labels_in_both_languages_and_unknown_values():
    assert label("top_10").ja == "上位10％以内" and label("top_10").en == "Top 10 %"
    assert label("not_fundable").en.startswith("Not fundable")
    assert all(label(b).ja and label(b).en for b in RankBand)
    assert label("top_5") is None
