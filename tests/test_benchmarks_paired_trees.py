"""The paired-trees benchmark's order and arithmetic (the runs themselves need the data)."""

from __future__ import annotations

from benchmarks.paired_trees import ratios, rotated


def test_rotated_starts_each_round_at_the_next_tree() -> None:
    names = ["a", "b", "c"]
    assert [rotated(names, r) for r in range(4)] == [
        ["a", "b", "c"],
        ["b", "c", "a"],
        ["c", "a", "b"],
        ["a", "b", "c"],
    ]


def test_ratios_divide_by_the_first_tree_of_the_same_round() -> None:
    runs = [
        {"round": 0, "tree": "base", "wall": 10.0, "cpu": 8.0},
        {"round": 0, "tree": "new", "wall": 12.0, "cpu": 8.0},
        {"round": 1, "tree": "new", "wall": 30.0, "cpu": 6.0},
        {"round": 1, "tree": "base", "wall": 20.0, "cpu": 4.0},
        {"round": 2, "tree": "new", "wall": 99.0, "cpu": 99.0},  # no base in round 2: left out
    ]
    summary = ratios(runs, ["base", "new"])
    # wall: 12 / 10 = 1.2 and 30 / 20 = 1.5, median 1.35; cpu: 8 / 8 = 1.0 and 6 / 4 = 1.5
    assert summary["new"]["wall"] == {
        "median_s": 21.0,
        "ratio_median": 1.35,
        "ratio_min": 1.2,
        "ratio_max": 1.5,
    }
    assert summary["new"]["cpu"]["ratio_median"] == 1.25
    assert summary["base"]["cpu"] == {
        "median_s": 6.0,
        "ratio_median": 1.0,
        "ratio_min": 1.0,
        "ratio_max": 1.0,
    }
