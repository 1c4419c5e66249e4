"""Best-fit gang placement: hand-worked cases, then properties against brute force."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gpufleet.catalog import CATALOG
from gpufleet.fleet.capacity import ArrayCapacity
from gpufleet.fleet.layout import FleetLayout, PoolLayout
from gpufleet.fleet.state import Allocation, FleetState, Placement
from gpufleet.sched.placement import BestFitPlacement, best_fit


def layout_of(pools: list[tuple[int, int, int]], gpus_per_node: int | None = None) -> FleetLayout:
    """Pools given as (racks, GPUs per rack, racks per block); every rack delivered at t=0.
    A rack is one node unless `gpus_per_node` is given."""
    layouts, deliveries, rack_lo, block_lo = [], [], 0, 0
    for index, (racks, rack_gpus, per_block) in enumerate(pools):
        blocks = -(-racks // per_block)
        per_node = gpus_per_node or rack_gpus
        layouts.append(PoolLayout(index, f"p{index}", CATALOG["H100"], "x", "y", per_node, rack_gpus // per_node,
                                  per_block, rack_lo, rack_lo + racks, block_lo, block_lo + blocks))
        deliveries.append([(0.0, racks)])
        rack_lo, block_lo = rack_lo + racks, block_lo + blocks
    return FleetLayout(layouts, deliveries, [[] for _ in pools])


def place(avail: list[int], gpus: int, group: int, per_block: int = 64, within_block: bool = False,
          rack_gpus: int = 8) -> dict[int, int] | None:
    layout = layout_of([(len(avail), rack_gpus, per_block)])
    capacity = ArrayCapacity(np.array(avail, dtype=np.int64), layout)
    placement = BestFitPlacement().place(capacity, (0,), gpus, group, within_block)
    return None if placement is None else dict(zip(placement.racks.tolist(), placement.gpus.tolist(), strict=True))


def test_blocks_spanned_counts_the_blocks_of_ascending_racks() -> None:
    layout = layout_of([(10, 8, 4), (6, 8, 3)])  # blocks: racks 0-3, 4-7, 8-9 | 10-12, 13-15
    cases = {(5,): 1, (0, 3): 1, (3, 4): 2, (0, 4, 8): 3, (1, 2, 9, 10, 15): 4}
    for racks, blocks in cases.items():
        assert layout.blocks_spanned(np.array(racks, dtype=np.int64)) == blocks, racks


def test_single_rack_takes_the_tightest_rack() -> None:
    assert place([8, 3, 5, 4], gpus=4, group=4) == {3: 4}


def test_ties_go_to_the_lowest_rack() -> None:
    assert place([5, 5], gpus=3, group=1) == {0: 3}


def test_fewest_racks_wins_over_filling_holes() -> None:
    assert place([8, 4, 8, 4], gpus=16, group=4) == {0: 8, 2: 8}


def test_an_nvlink_group_is_never_split() -> None:
    assert place([6, 6], gpus=8, group=8) is None  # 12 GPUs free, but no rack holds a group of 8
    assert place([6, 6], gpus=8, group=4) == {0: 4, 1: 4}


def test_the_tighter_of_two_equal_blocks_is_chosen() -> None:
    # Blocks [8, 8] and [8, 4]; 12 GPUs in groups of 4 need two racks in either block.
    # The second block fits exactly, so the first stays whole for a bigger job.
    assert place([8, 8, 8, 4], gpus=12, group=4, per_block=2) == {2: 8, 3: 4}


def test_within_block_refuses_to_span_blocks() -> None:
    assert place([8, 0, 8, 0], gpus=16, group=8, per_block=2, within_block=True) is None
    assert place([8, 0, 8, 0], gpus=16, group=8, per_block=2) == {0: 8, 2: 8}


def test_spanning_blocks_takes_the_largest_then_the_tightest() -> None:
    # Block groups of 8: [2, 1, 2]. Five groups: blocks 0 and 2 whole, then block 1.
    assert place([8, 8, 8, 0, 8, 8], gpus=40, group=8, per_block=2) == {0: 8, 1: 8, 2: 8, 4: 8, 5: 8}


def test_last_rack_is_the_tightest_that_covers_the_rest() -> None:
    # Groups of 4 per rack [2, 2, 1, 2]; five groups: racks 0 and 1, then rack 2 (exactly one group).
    assert place([8, 8, 4, 8], gpus=20, group=4) == {0: 8, 1: 8, 2: 4}


def test_the_pool_with_the_tighter_rack_is_chosen() -> None:
    layout = layout_of([(2, 8, 64), (2, 8, 64)])
    avail = np.array([8, 8, 8, 2], dtype=np.int64)
    placement = BestFitPlacement().place(ArrayCapacity(avail, layout), (0, 1), 2, 1, False)
    assert placement is not None and placement.pool == 1 and placement.racks.tolist() == [3]


def test_the_live_indexes_place_exactly_as_a_scan_of_the_array() -> None:
    layout = layout_of([(6, 8, 2), (5, 8, 3)])
    state = FleetState(layout, groups=(1, 2, 4, 8))
    for pool in layout.pools:
        state.deliver(pool.index, pool.rack_lo, pool.rack_hi, 0.0)
    strategy = BestFitPlacement()
    rng = np.random.default_rng(5)
    held = []
    for step in range(1000):  # long enough for the per-level heaps of racks to be rebuilt
        if step % 100 == 0:
            state.watch(np.flatnonzero(rng.random(layout.n_racks) < 0.3))
        watched, stamp = state.avail[state.watched].copy(), state.watched_changes
        if held and rng.random() < 0.4:
            state.release(held.pop(int(rng.integers(len(held)))), 0.0)
            assert (state.watched_changes != stamp) == (not np.array_equal(watched, state.avail[state.watched]))
            continue
        group = int(rng.choice([1, 2, 4, 8]))
        gpus = group * int(rng.integers(1, 9))
        within = bool(rng.integers(2))
        scanned = strategy.place(ArrayCapacity(state.avail.copy(), layout), (0, 1), gpus, group, within)
        live = strategy.place(state, (0, 1), gpus, group, within)
        assert (scanned is None) == (live is None)
        if scanned is not None and live is not None:
            assert (scanned.pool, scanned.racks.tolist(), scanned.gpus.tolist()) == \
                (live.pool, live.racks.tolist(), live.gpus.tolist())
            held.append(state.allocate(live))
        assert (state.watched_changes != stamp) == (not np.array_equal(watched, state.avail[state.watched]))
        for pool in layout.pools:
            for g in (1, 2, 4, 8):
                assert state.groups_free(pool.index, g) == ArrayCapacity(state.avail, layout).groups_free(pool.index, g)
            free = state.avail[pool.rack_lo:pool.rack_hi]
            assert state.level_count[pool.index][1:] == np.bincount(free, minlength=pool.rack_gpus + 1)[1:].tolist()
            for n in range(1, 9):
                fitting = free[free >= n]
                level = state.tightest_level(pool.index, n)
                assert level == (int(fitting.min()) if len(fitting) else None)
                if level is not None:
                    assert state.first_rack_at(pool.index, level) == pool.rack_lo + int(np.argmax(free == level))


def test_without_node_tracking_the_racks_change_exactly_as_with_it() -> None:
    """Holdings per node are kept only for failures; leaving them out must change nothing
    else. With them, each rack's nodes hold exactly its free GPUs."""
    layout = layout_of([(6, 8, 2), (5, 8, 3)], gpus_per_node=2)
    tracked, untracked = FleetState(layout, groups=(2, 4, 8)), FleetState(layout, groups=(2, 4, 8), track_nodes=False)
    for state in (tracked, untracked):
        for pool in layout.pools:
            state.deliver(pool.index, pool.rack_lo, pool.rack_hi, 0.0)
    strategy = BestFitPlacement()
    rng = np.random.default_rng(7)
    held: list[tuple[Allocation, Allocation]] = []
    for _ in range(600):
        if held and rng.random() < 0.45:
            with_nodes, without = held.pop(int(rng.integers(len(held))))
            tracked.release(with_nodes, 0.0)
            untracked.release(without, 0.0)
        else:
            group = int(rng.choice([1, 2, 4, 8]))
            placement = strategy.place(tracked, (0, 1), group * int(rng.integers(1, 12)), group, False)
            if placement is not None:
                with_nodes, without = tracked.allocate(placement), untracked.allocate(placement)
                assert int(with_nodes.node_gpus.sum()) == with_nodes.total and len(without.nodes) == 0
                held.append((with_nodes, without))
        assert np.array_equal(tracked.avail, untracked.avail) and np.array_equal(tracked.used, untracked.used)
        assert (tracked.level_count, tracked.levels, tracked.avail_gpus) == \
            (untracked.level_count, untracked.levels, untracked.avail_gpus)
        for pool in layout.pools:
            for group in (2, 4, 8):
                assert np.array_equal(tracked.group_histogram(pool.index, group),
                                      untracked.group_histogram(pool.index, group))
        per_rack = np.add.reduceat(tracked.node_free, layout.rack_node_lo[:-1])
        assert np.array_equal(per_rack, tracked.avail)
    assert np.array_equal(untracked.node_free, layout.node_gpus)  # never touched


def test_watched_racks_stamp_changes_of_their_free_gpus_only() -> None:
    layout = layout_of([(20, 8, 20)])
    state = FleetState(layout, groups=(8,))
    state.deliver(0, 0, 20, 0.0)
    state.watch(np.array([3, 15]))
    stamp = state.watched_changes
    elsewhere = state.allocate(Placement(0, np.arange(4, 14), np.full(10, 8)))  # ten racks: the vector path
    state.release(elsewhere, 0.0)
    assert state.watched_changes == stamp
    on_one = state.allocate(Placement(0, np.array([15]), np.array([2])))
    assert state.watched_changes == stamp + 1
    across = state.allocate(Placement(0, np.arange(2, 12), np.full(10, 4)))  # rack 3 among ten
    assert state.watched_changes == stamp + 2
    state.release(across, 0.0)
    state.release(on_one, 0.0)
    assert state.watched_changes == stamp + 4
    state.watch(np.array([0]))  # racks 3 and 15 are no longer watched; the stamp moves on
    assert state.watched_changes == stamp + 5
    state.allocate(Placement(0, np.array([15]), np.array([8])))
    assert state.watched_changes == stamp + 5


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 8), min_size=2, max_size=30), st.integers(1, 7), st.integers(2, 20), st.booleans())
def test_one_group_per_rack_places_as_the_general_rule(avail: list[int], per_block: int, needed: int,
                                                       within: bool) -> None:
    """Racks of 8 GPUs and groups of 5 to 8 hold one group at most: the shortcut for that
    case must choose exactly what the general rule chooses."""
    layout = layout_of([(len(avail), 8, per_block)])
    capacity = ArrayCapacity(np.array(avail, dtype=np.int64), layout)
    pool = layout.pools[0]
    for group in (5, 8):
        histogram = capacity.group_histogram(0, group)
        shortcut = best_fit._one_group_racks(capacity, pool, histogram[:, 1], needed, group, within)
        general = best_fit._any_groups_racks(capacity, pool, histogram, needed * group, group, within)
        assert (shortcut is None) == (general is None)
        if shortcut is not None and general is not None:
            assert shortcut[0].tolist() == general[0].tolist() and shortcut[1].tolist() == general[1].tolist()


@st.composite
def placement_problems(draw: st.DrawFn) -> tuple[list[int], int, int, int, int, bool]:
    rack_gpus = draw(st.sampled_from([4, 8, 16]))
    avail = draw(st.lists(st.integers(0, rack_gpus), min_size=1, max_size=24))
    per_block = draw(st.integers(1, 6))
    group = draw(st.sampled_from([g for g in (1, 2, 4, 8) if g <= rack_gpus]))
    gpus = group * draw(st.integers(1, 3 * rack_gpus // group + 1))
    return avail, rack_gpus, per_block, group, gpus, draw(st.booleans())


@settings(max_examples=400, deadline=None)
@given(placement_problems())
def test_placement_is_valid_and_complete(problem: tuple) -> None:
    avail, rack_gpus, per_block, group, gpus, within = problem
    got = place(avail, gpus, group, per_block, within, rack_gpus)
    groups = np.array(avail) // group
    block_groups = np.add.reduceat(groups, np.arange(0, len(avail), per_block))
    needed = gpus // group
    feasible = (block_groups.max() >= needed) if within else (groups.sum() >= needed)
    assert (got is not None) == bool(feasible)
    if got is None:
        return
    assert sum(got.values()) == gpus
    for rack, taken in got.items():
        assert 0 < taken <= avail[rack] and taken % group == 0  # groups stay whole in one rack
    if within:
        assert len({rack // per_block for rack in got}) == 1
    if gpus <= rack_gpus and max(avail) >= gpus:
        assert len(got) == 1 and avail[next(iter(got))] == min(a for a in avail if a >= gpus)
    if block_groups.max() >= needed:
        # One block suffices: the placement uses one block and the fewest racks any block allows.
        fewest = min(
            int(np.searchsorted(np.cumsum(np.sort(groups[b * per_block:(b + 1) * per_block])[::-1]), needed)) + 1
            for b in range(len(block_groups)) if block_groups[b] >= needed
        )
        assert len({rack // per_block for rack in got}) == 1 and len(got) == fewest
