//! The fleet at one instant (`gpufleet.fleet.state.FleetState`, without node tracking):
//! which racks are live, how many GPUs each has free, and the indexes placement reads.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::capacity::{Capacity, Histogram};
use crate::layout::Layout;
use crate::nodes::Nodes;

pub const FUTURE: u8 = 0;
pub const ACTIVE: u8 = 1;
pub const DRAINING: u8 = 2;
pub const RETIRED: u8 = 3;

/// Where a gang would go: a pool and GPUs per rack (racks ascending).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub pool: usize,
    pub racks: Vec<usize>,
    pub gpus: Vec<i64>,
}

/// A placement made real (nodes and GPUs per node only when the state tracks nodes).
#[derive(Clone, Debug)]
pub struct Allocation {
    pub pool: usize,
    pub racks: Vec<usize>,
    pub gpus: Vec<i64>,
    pub total: i64,
    pub nodes: Vec<usize>,
    pub node_gpus: Vec<i64>,
}

struct Tracked {
    group: i64,
    histogram: Histogram,
    total: i64,
}

/// Mutable capacity state with per-pool indexes kept on every change.
pub struct FleetState {
    pub layout: Layout,
    pub avail: Vec<i64>,
    pub used: Vec<i64>,
    pub rack_state: Vec<u8>,
    pub installed_gpus: Vec<i64>,
    pub allocated_gpus: Vec<i64>,
    /// Per pool; counts installed GPUs on delivery, spares included, as the Python engine does.
    pub avail_gpus: Vec<i64>,
    level_count: Vec<Vec<i64>>,
    /// Per pool and level >= 1: the live racks with exactly that many GPUs free.
    racks_at: Vec<Vec<BTreeSet<usize>>>,
    tracked: Vec<Vec<Tracked>>,
    /// (time_s, pool, GPUs added or removed) per change of installed capacity.
    pub capacity_log: Vec<(f64, usize, i64)>,
    /// Racks draining (retired while jobs still run on them).
    pub draining_racks: usize,
    /// Racks whose free GPUs changed since `take_changed` (None: too many to list).
    changed: Option<Vec<usize>>,
    /// Per-node holdings and failures (runs with failures only: `nodes.rs`).
    pub nodes: Option<Nodes>,
}

impl FleetState {
    /// An empty fleet keeping group histograms for every size in `groups`.
    pub fn new(layout: Layout, groups: &[i64]) -> Self {
        let n_racks = layout.n_racks();
        let n_pools = layout.pools.len();
        let mut tracked = Vec::with_capacity(n_pools);
        for pool in &layout.pools {
            let mut per_pool = Vec::new();
            let mut sizes: Vec<i64> = groups
                .iter()
                .copied()
                .filter(|&g| g >= 1 && g <= pool.rack_gpus)
                .collect();
            sizes.sort_unstable();
            sizes.dedup();
            for group in sizes {
                let mut histogram = Histogram::zeros(pool.n_blocks, (pool.rack_gpus / group) as usize + 1);
                for rack in pool.rack_lo..pool.rack_hi {
                    histogram.data[layout.block_in_pool[rack] * histogram.width] += 1;
                }
                per_pool.push(Tracked {
                    group,
                    histogram,
                    total: 0,
                });
            }
            tracked.push(per_pool);
        }
        FleetState {
            avail: vec![0; n_racks],
            used: vec![0; n_racks],
            rack_state: vec![FUTURE; n_racks],
            installed_gpus: vec![0; n_pools],
            allocated_gpus: vec![0; n_pools],
            avail_gpus: vec![0; n_pools],
            level_count: layout.pools.iter().map(|p| vec![0; p.rack_gpus as usize + 1]).collect(),
            racks_at: layout
                .pools
                .iter()
                .map(|p| vec![BTreeSet::new(); p.rack_gpus as usize + 1])
                .collect(),
            tracked,
            capacity_log: Vec::new(),
            draining_racks: 0,
            changed: Some(Vec::new()),
            nodes: None,
            layout,
        }
    }

    /// Racks lo..hi arrive empty and become placeable.
    pub fn deliver(&mut self, pool: usize, lo: usize, hi: usize, now: f64) {
        let mut added = 0;
        for rack in lo..hi {
            self.rack_state[rack] = ACTIVE;
            let free = self.avail[rack];
            self.change(pool, rack, free, self.layout.rack_gpus[rack]);
            added += self.layout.rack_installed_gpus[rack];
        }
        if let Some(nodes) = self.nodes.as_mut() {
            nodes.deliver(pool, lo, hi);
        }
        self.installed_gpus[pool] += added;
        self.avail_gpus[pool] += added;
        self.capacity_log.push((now, pool, added));
    }

    /// Racks lo..hi stop taking work; each leaves the fleet once its last job ends.
    pub fn retire(&mut self, pool: usize, lo: usize, hi: usize, now: f64) {
        let live: Vec<usize> = (lo..hi).filter(|&rack| self.rack_state[rack] == ACTIVE).collect();
        let mut freed = 0;
        for &rack in &live {
            let free = self.avail[rack];
            freed += free;
            self.change(pool, rack, free, 0);
        }
        self.avail_gpus[pool] -= freed;
        for &rack in &live {
            self.rack_state[rack] = DRAINING;
        }
        self.draining_racks += live.len();
        self.remove_empty_draining(pool, &live, now);
    }

    /// Take the placement's GPUs (the caller guarantees they are free).
    pub fn allocate(&mut self, placement: Placement) -> Allocation {
        let Placement { pool, racks, gpus } = placement;
        let total: i64 = gpus.iter().sum();
        self.allocated_gpus[pool] += total;
        self.avail_gpus[pool] -= total;
        for (&rack, &want) in racks.iter().zip(&gpus) {
            self.used[rack] += want;
            let free = self.avail[rack];
            self.change(pool, rack, free, free - want);
        }
        let (nodes, node_gpus) = match self.nodes.as_mut() {
            Some(tracked) => tracked.take(&racks, &gpus),
            None => (Vec::new(), Vec::new()),
        };
        Allocation {
            pool,
            racks,
            gpus,
            total,
            nodes,
            node_gpus,
        }
    }

    /// Give back an allocation; draining racks that become empty retire.
    pub fn release(&mut self, allocation: &Allocation, now: f64) {
        let pool = allocation.pool;
        if let Some(nodes) = self.nodes.as_mut() {
            nodes.give_back(&allocation.nodes, &allocation.node_gpus);
        }
        self.allocated_gpus[pool] -= allocation.total;
        let mut returned = 0;
        let mut draining = Vec::new();
        for (&rack, &back) in allocation.racks.iter().zip(&allocation.gpus) {
            self.used[rack] -= back;
            if self.rack_state[rack] == ACTIVE {
                let free = self.avail[rack];
                self.change(pool, rack, free, free + back);
                returned += back;
            } else {
                draining.push(rack);
            }
        }
        self.avail_gpus[pool] += returned;
        if !draining.is_empty() {
            self.remove_empty_draining(pool, &draining, now);
        }
    }

    fn remove_empty_draining(&mut self, pool: usize, racks: &[usize], now: f64) {
        let mut removed = 0;
        let mut any = false;
        for &rack in racks {
            if self.rack_state[rack] == DRAINING && self.used[rack] == 0 {
                self.rack_state[rack] = RETIRED;
                self.draining_racks -= 1;
                removed += self.layout.rack_installed_gpus[rack];
                any = true;
            }
        }
        if any {
            self.installed_gpus[pool] -= removed;
            self.capacity_log.push((now, pool, -removed));
        }
    }

    /// Bring `copy` (equal to `avail` at the last call) up to date with `avail`.
    pub fn refresh(&mut self, copy: &mut [i64]) {
        match self.changed.as_mut() {
            Some(changed) => {
                for rack in changed.drain(..) {
                    copy[rack] = self.avail[rack];
                }
            }
            None => copy.copy_from_slice(&self.avail),
        }
        self.changed = Some(Vec::new());
    }

    /// Live racks of the pool per number of free GPUs (index 0 is not kept).
    pub fn level_counts(&self, pool: usize) -> &[i64] {
        &self.level_count[pool]
    }

    /// Rack `rack` goes from `old` to `new` free GPUs.
    pub(crate) fn change(&mut self, pool: usize, rack: usize, old: i64, new: i64) {
        self.avail[rack] = new;
        if let Some(changed) = self.changed.as_mut() {
            if changed.len() < self.avail.len() {
                changed.push(rack);
            } else {
                self.changed = None;
            }
        }
        let counts = &mut self.level_count[pool];
        counts[old as usize] -= 1;
        counts[new as usize] += 1;
        if old > 0 {
            self.racks_at[pool][old as usize].remove(&rack);
        }
        if new > 0 {
            self.racks_at[pool][new as usize].insert(rack);
        }
        let block = self.layout.block_in_pool[rack];
        for entry in &mut self.tracked[pool] {
            let (before, after) = (old / entry.group, new / entry.group);
            if before != after {
                let width = entry.histogram.width;
                entry.histogram.data[block * width + before as usize] -= 1;
                entry.histogram.data[block * width + after as usize] += 1;
                entry.total += after - before;
            }
        }
    }
}

impl Capacity for FleetState {
    fn layout(&self) -> &Layout {
        &self.layout
    }

    fn avail(&self) -> &[i64] {
        &self.avail
    }

    fn tightest_level(&self, pool: usize, gpus: i64) -> Option<i64> {
        let counts = &self.level_count[pool];
        (gpus.max(1) as usize..counts.len())
            .find(|&level| counts[level] > 0)
            .map(|level| level as i64)
    }

    fn first_rack_at(&self, pool: usize, free: i64) -> usize {
        *self.racks_at[pool][free as usize]
            .first()
            .expect("a rack at the level asked for")
    }

    fn group_histogram(&self, pool: usize, group: i64) -> Cow<'_, Histogram> {
        match self.tracked[pool].iter().find(|entry| entry.group == group) {
            Some(entry) => Cow::Borrowed(&entry.histogram),
            None => {
                let layout_pool = &self.layout.pools[pool];
                Cow::Owned(Histogram::of(
                    &self.avail[layout_pool.rack_lo..layout_pool.rack_hi],
                    layout_pool.racks_per_block,
                    group,
                    layout_pool.rack_gpus / group,
                ))
            }
        }
    }

    fn groups_free(&self, pool: usize, group: i64) -> i64 {
        if group == 1 {
            return self.avail_gpus[pool];
        }
        match self.tracked[pool].iter().find(|entry| entry.group == group) {
            Some(entry) => entry.total,
            None => {
                let layout_pool = &self.layout.pools[pool];
                self.avail[layout_pool.rack_lo..layout_pool.rack_hi]
                    .iter()
                    .map(|free| free / group)
                    .sum()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::ArrayCapacity;
    use crate::layout::tests::one_pool;

    #[test]
    fn indexes_agree_with_a_scan_after_changes() {
        let mut state = FleetState::new(one_pool(6, 72, 4), &[8, 64]);
        state.deliver(0, 0, 6, 0.0);
        let first = state.allocate(Placement {
            pool: 0,
            racks: vec![1],
            gpus: vec![40],
        });
        state.allocate(Placement {
            pool: 0,
            racks: vec![2, 4],
            gpus: vec![64, 8],
        });
        state.release(&first, 5.0);
        state.allocate(Placement {
            pool: 0,
            racks: vec![0],
            gpus: vec![70],
        });
        let avail = state.avail.clone();
        let scan = ArrayCapacity::new(&avail, &state.layout);
        for gpus in 1..=72 {
            assert_eq!(
                state.tightest_level(0, gpus),
                scan.tightest_level(0, gpus),
                "level for {gpus}"
            );
        }
        for group in [8, 64, 4] {
            assert_eq!(state.groups_free(0, group), scan.groups_free(0, group));
            assert_eq!(*state.group_histogram(0, group), *scan.group_histogram(0, group));
        }
        assert_eq!(state.first_rack_at(0, 72), 1);
        assert_eq!(state.avail_gpus[0], 72 * 6 - 64 - 8 - 70);
    }

    #[test]
    fn retired_racks_leave_when_their_jobs_end() {
        let mut state = FleetState::new(one_pool(2, 72, 2), &[]);
        state.deliver(0, 0, 2, 0.0);
        let job = state.allocate(Placement {
            pool: 0,
            racks: vec![0],
            gpus: vec![8],
        });
        state.retire(0, 0, 2, 10.0);
        assert_eq!(state.rack_state, vec![DRAINING, RETIRED]);
        assert_eq!(state.avail_gpus[0], 0);
        state.release(&job, 20.0);
        assert_eq!(state.rack_state, vec![RETIRED, RETIRED]);
        assert_eq!(state.capacity_log, vec![(0.0, 0, 144), (10.0, 0, -72), (20.0, 0, -72)]);
    }
}
