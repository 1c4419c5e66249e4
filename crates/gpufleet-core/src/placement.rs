//! best_fit placement (`gpufleet.sched.placement.best_fit`): fewest racks, then fewest
//! blocks, then least left over. Every tie breaks as the Python code breaks it (numpy's
//! stable argsort, first argmin, left searchsorted).

use crate::capacity::Capacity;
use crate::layout::Pool;
use crate::state::Placement;

fn ceil_div(a: i64, b: i64) -> i64 {
    -((-a).div_euclid(b))
}

/// Where `gpus` GPUs in groups of `group` go on `capacity`, in one of `pools`, or None.
pub fn best_fit(
    capacity: &dyn Capacity,
    pools: &[usize],
    gpus: i64,
    group: i64,
    within_block: bool,
) -> Option<Placement> {
    let layout = capacity.layout();
    let mut single: Option<(i64, usize)> = None;
    for &index in pools {
        if gpus <= layout.pools[index].rack_gpus {
            if let Some(level) = capacity.tightest_level(index, gpus) {
                if single.is_none_or(|(best, _)| level < best) {
                    single = Some((level, index));
                }
            }
        }
    }
    if let Some((level, pool)) = single {
        let rack = capacity.first_rack_at(pool, level);
        return Some(Placement {
            pool,
            racks: vec![rack],
            gpus: vec![gpus],
        });
    }
    let usable: Vec<usize> = pools
        .iter()
        .copied()
        .filter(|&p| group <= layout.pools[p].rack_gpus)
        .collect();
    if usable.len() == 1 {
        let pool = usable[0];
        if capacity.groups_free(pool, group) < gpus / group {
            return None;
        }
        return across_racks(capacity, pool, gpus, group, within_block).map(|(racks, taken)| Placement {
            pool,
            racks,
            gpus: taken,
        });
    }
    let mut best: Option<Placement> = None;
    let mut best_key: Option<(i64, i64, i64)> = None;
    let bound = usable
        .iter()
        .map(|&p| {
            let pool = &layout.pools[p];
            ceil_div(gpus, (pool.rack_gpus / group) * group)
        })
        .min()
        .unwrap_or(0);
    for &index in &usable {
        if let Some(key) = best_key {
            if (key.0, key.1) == (bound, 1) {
                break;
            }
        }
        if capacity.groups_free(index, group) < gpus / group {
            continue;
        }
        let Some((racks, taken)) = across_racks(capacity, index, gpus, group, within_block) else {
            continue;
        };
        let left: i64 = racks.iter().map(|&r| capacity.avail()[r]).sum::<i64>() - gpus;
        let key = (racks.len() as i64, layout.blocks_spanned(&racks), left);
        if best_key.is_none_or(|best| key < best) {
            best_key = Some(key);
            best = Some(Placement {
                pool: index,
                racks,
                gpus: taken,
            });
        }
    }
    best
}

type Found = (Vec<usize>, Vec<i64>);

fn across_racks(
    capacity: &dyn Capacity,
    pool_index: usize,
    gpus: i64,
    group: i64,
    within_block: bool,
) -> Option<Found> {
    let pool = &capacity.layout().pools[pool_index];
    let histogram = capacity.group_histogram(pool_index, group);
    if pool.rack_gpus / group == 1 {
        let block_groups: Vec<i64> = (0..histogram.rows()).map(|b| histogram.row(b)[1]).collect();
        return one_group_racks(capacity.avail(), pool, &block_groups, gpus / group, group, within_block);
    }
    let needed = gpus / group;
    let most = pool.rack_gpus / group;
    let block_groups = histogram.block_groups();
    let per_block = pool.racks_per_block;
    let avail = capacity.avail();
    let groups_of = |lo: usize| -> Vec<i64> {
        avail[lo..(lo + per_block).min(pool.rack_hi)]
            .iter()
            .map(|free| free / group)
            .collect()
    };
    if let Some(block) = best_block(&histogram, &block_groups, needed, most) {
        let lo = pool.rack_lo + block * per_block;
        let (local, counts) = racks_in_block(&groups_of(lo), needed, most);
        return Some(as_gpus(local.into_iter().map(|r| lo + r).collect(), counts, group));
    }
    if within_block || block_groups.iter().sum::<i64>() < needed {
        return None;
    }
    let (whole, last, remainder) = span_blocks(&block_groups, needed);
    let mut racks = Vec::new();
    let mut counts = Vec::new();
    for block in whole {
        let lo = pool.rack_lo + block * per_block;
        for (rack, groups) in groups_of(lo).into_iter().enumerate() {
            if groups != 0 {
                racks.push(lo + rack);
                counts.push(groups);
            }
        }
    }
    let lo = pool.rack_lo + last * per_block;
    let (local, last_counts) = racks_in_block(&groups_of(lo), remainder, most);
    racks.extend(local.into_iter().map(|r| lo + r));
    counts.extend(last_counts);
    Some(as_gpus(racks, counts, group))
}

fn one_group_racks(
    avail: &[i64],
    pool: &Pool,
    block_groups: &[i64],
    needed: i64,
    group: i64,
    within_block: bool,
) -> Option<Found> {
    let (lo, hi, per_block) = (pool.rack_lo, pool.rack_hi, pool.racks_per_block);
    let has = |rack: usize| avail[rack] >= group;
    let mut feasible: Option<(i64, usize)> = None;
    for (block, &total) in block_groups.iter().enumerate() {
        if total >= needed && feasible.is_none_or(|(best, _)| total < best) {
            feasible = Some((total, block));
        }
    }
    let gpus = vec![group; needed as usize];
    if let Some((_, block)) = feasible {
        let start = lo + block * per_block;
        let racks: Vec<usize> = (start..(start + per_block).min(hi))
            .filter(|&r| has(r))
            .take(needed as usize)
            .collect();
        return Some((racks, gpus));
    }
    if within_block || block_groups.iter().sum::<i64>() < needed {
        return None;
    }
    let (whole, last, remainder) = span_blocks(block_groups, needed);
    let mut chosen = vec![false; hi - lo];
    for block in whole {
        let start = lo + block * per_block;
        for rack in start..(start + per_block).min(hi) {
            chosen[rack - lo] = has(rack);
        }
    }
    let start = lo + last * per_block;
    for rack in (start..(start + per_block).min(hi))
        .filter(|&r| has(r))
        .take(remainder as usize)
    {
        chosen[rack - lo] = true;
    }
    let racks = chosen
        .iter()
        .enumerate()
        .filter(|(_, &c)| c)
        .map(|(r, _)| lo + r)
        .collect();
    Some((racks, gpus))
}

/// Indices sorted by descending value, ties by index (numpy's stable argsort of the negation).
fn descending_order(values: &[i64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(values[i]));
    order
}

/// First index whose running total reaches `needed` (numpy's left searchsorted on a cumsum),
/// and the total before it.
fn reach(values: &[i64], order: &[usize], needed: i64) -> (usize, i64) {
    let mut total = 0;
    for (count, &i) in order.iter().enumerate() {
        if total + values[i] >= needed {
            return (count, total);
        }
        total += values[i];
    }
    (order.len(), total)
}

/// Blocks for a gang no block holds: (blocks taken whole, largest first; the tightest block
/// that covers the rest; groups taken from it).
fn span_blocks(block_groups: &[i64], needed: i64) -> (Vec<usize>, usize, i64) {
    let order = descending_order(block_groups);
    let (n_full, before) = reach(block_groups, &order, needed);
    let remainder = needed - before;
    let mut last: Option<usize> = None;
    for &block in &order[n_full..] {
        if block_groups[block] >= remainder && last.is_none_or(|best| block_groups[block] < block_groups[best]) {
            last = Some(block);
        }
    }
    (
        order[..n_full].to_vec(),
        last.expect("a block covers the remainder"),
        remainder,
    )
}

/// Among blocks that can hold the gang: fewest racks needed, then tightest, then first.
fn best_block(histogram: &crate::capacity::Histogram, block_groups: &[i64], needed: i64, most: i64) -> Option<usize> {
    let mut best: Option<(i64, i64, usize)> = None;
    let fewest = ceil_div(needed, most);
    for (block, &total) in block_groups.iter().enumerate() {
        if total < needed || best.is_some_and(|(racks, groups, _)| racks == fewest && total >= groups) {
            continue;
        }
        let key = if most == 1 {
            (needed, total, block)
        } else {
            let row = histogram.row(block);
            let (mut racks, mut rest) = (0, needed);
            for level in (1..=most).rev() {
                let have = row[level as usize];
                if have * level >= rest {
                    racks += ceil_div(rest, level);
                    break;
                }
                rest -= have * level;
                racks += have;
            }
            (racks, total, block)
        };
        if best.is_none_or(|b| key < b) {
            best = Some(key);
        }
    }
    best.map(|(_, _, block)| block)
}

/// Fewest racks of one block holding `needed` groups, richest (then lowest) first; the
/// last rack is the tightest (then lowest) that covers the rest.
fn racks_in_block(groups: &[i64], needed: i64, most: i64) -> (Vec<usize>, Vec<i64>) {
    let whole = (ceil_div(needed, most) - 1) as usize;
    let full: Vec<usize> = (0..groups.len()).filter(|&r| groups[r] == most).collect();
    let (chosen, mut taken, remainder) = if full.len() > whole {
        (full[..whole].to_vec(), vec![most; whole], needed - whole as i64 * most)
    } else {
        let order = descending_order(groups);
        let (count, before) = reach(groups, &order, needed);
        let chosen = order[..count].to_vec();
        let taken = chosen.iter().map(|&r| groups[r]).collect();
        (chosen, taken, needed - before)
    };
    let mut last: Option<(i64, usize)> = None;
    for (rack, &have) in groups.iter().enumerate() {
        let covering = if have >= remainder && !chosen.contains(&rack) {
            have
        } else {
            most + 1
        };
        if last.is_none_or(|(best, _)| covering < best) {
            last = Some((covering, rack));
        }
    }
    let mut racks = chosen;
    racks.push(last.map(|(_, r)| r).unwrap_or(0));
    taken.push(remainder);
    (racks, taken)
}

fn as_gpus(racks: Vec<usize>, groups: Vec<i64>, group: i64) -> Found {
    let mut by_rack: Vec<(usize, i64)> = racks.into_iter().zip(groups).collect();
    by_rack.sort_unstable();
    (
        by_rack.iter().map(|(r, _)| *r).collect(),
        by_rack.iter().map(|(_, g)| g * group).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::ArrayCapacity;
    use crate::layout::tests::one_pool;
    use crate::state::FleetState;

    #[test]
    fn one_rack_gangs_take_the_tightest_lowest_rack() {
        let layout = one_pool(4, 72, 2);
        let avail = [72, 16, 40, 16];
        let view = ArrayCapacity::new(&avail, &layout);
        let placed = best_fit(&view, &[0], 16, 8, false).unwrap();
        assert_eq!(
            placed,
            Placement {
                pool: 0,
                racks: vec![1],
                gpus: vec![16]
            }
        );
    }

    #[test]
    fn a_gang_over_racks_takes_full_racks_then_the_tightest_cover() {
        // Block 0: racks 72, 72, 16; block 1: 72, 40, 24. 160 GPUs in groups of 8 = 20 groups.
        let layout = one_pool(6, 72, 3);
        let avail = [72, 72, 16, 72, 40, 24];
        let view = ArrayCapacity::new(&avail, &layout);
        let placed = best_fit(&view, &[0], 160, 8, false).unwrap();
        // Both blocks need 3 racks; block 0 is tighter (20 groups against 17+... ): 9+9+2.
        assert_eq!(placed.racks, vec![0, 1, 2]);
        assert_eq!(placed.gpus, vec![72, 72, 16]);
    }

    #[test]
    fn gangs_no_block_holds_span_blocks_largest_first() {
        let layout = one_pool(4, 8, 2);
        let avail = [8, 0, 8, 8];
        let view = ArrayCapacity::new(&avail, &layout);
        let placed = best_fit(&view, &[0], 24, 8, false).unwrap();
        assert_eq!(placed.racks, vec![0, 2, 3]);
        assert!(best_fit(&view, &[0], 24, 8, true).is_none());
    }

    #[test]
    fn the_live_state_and_a_scan_place_alike() {
        let mut state = FleetState::new(one_pool(12, 72, 4), &[8, 64]);
        state.deliver(0, 0, 12, 0.0);
        let mut seed: u64 = 7;
        for _ in 0..200 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let size = [1, 8, 64, 128, 256, 512][(seed >> 33) as usize % 6];
            let group = if size >= 64 {
                64
            } else if size >= 8 {
                8
            } else {
                1
            };
            let avail = state.avail.clone();
            let scanned = best_fit(&ArrayCapacity::new(&avail, &state.layout), &[0], size, group, false);
            let indexed = best_fit(&state, &[0], size, group, false);
            assert_eq!(scanned, indexed);
            match indexed {
                Some(placement) => {
                    state.allocate(placement);
                }
                None => {
                    let rack = (seed >> 40) as usize % 12;
                    let used = 72 - state.avail[rack];
                    if used > 0 {
                        let a = crate::state::Allocation {
                            pool: 0,
                            racks: vec![rack],
                            gpus: vec![used],
                            total: used,
                            nodes: Vec::new(),
                            node_gpus: Vec::new(),
                        };
                        state.release(&a, 0.0);
                    }
                }
            }
        }
    }
}
