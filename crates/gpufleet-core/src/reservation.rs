//! EASY-backfill reservations (`gpufleet.sched.reservation`): when and where the first
//! blocked job will fit, replaying expected ends and scheduled capacity changes.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::capacity::{ArrayCapacity, Capacity, Histogram};
use crate::layout::Layout;
use crate::placement::best_fit;
use crate::state::{Allocation, FleetState, ACTIVE};
use crate::Time;

pub const UNCONSTRAINED: i64 = i64::MAX / 4;

/// Per rack, GPUs a job still running when the reservation begins may take. Only the head's
/// racks are constrained; the Python engine keeps UNCONSTRAINED elsewhere, less what long jobs
/// take there, which never comes near a rack's size, so those racks are not stored.
#[derive(Clone, Debug)]
pub struct Spare {
    racks: Vec<usize>,
    left: Vec<i64>,
}

impl Spare {
    /// What `rack` leaves to others (UNCONSTRAINED off the head's racks).
    pub fn get(&self, rack: usize) -> i64 {
        match self.racks.binary_search(&rack) {
            Ok(index) => self.left[index],
            Err(_) => UNCONSTRAINED,
        }
    }

    /// A job placed beside the head takes `gpus` of `rack`.
    pub fn take(&mut self, rack: usize, gpus: i64) {
        if let Ok(index) = self.racks.binary_search(&rack) {
            self.left[index] -= gpus;
        }
    }

    /// (rack, GPUs left to others) of the head's racks.
    pub fn constrained(&self) -> impl Iterator<Item = (usize, i64)> + '_ {
        self.racks.iter().copied().zip(self.left.iter().copied())
    }
}

/// The head job's reservation.
#[derive(Debug)]
pub struct Reservation {
    pub job: usize,
    pub start_s: f64,
    /// Per rack, GPUs a job still running at `start_s` may take; None: no reservation.
    pub spare: Option<Spare>,
    pub pool: usize,
    pub racks: Vec<usize>,
}

/// What the head needs: its pools, GPUs and NVLink group.
pub struct Gang<'a> {
    pub pools: &'a [usize],
    pub gpus: i64,
    pub group: i64,
    pub within_block: bool,
}

/// The free GPUs of the plan's projection, with the gang's group histogram and the count of
/// racks per free level kept on every change (what `ArrayCapacity` would find by scanning).
pub struct Projection<'a> {
    layout: &'a Layout,
    /// The live free GPUs, to restore the scratch copy from.
    base: &'a [i64],
    avail: &'a mut [i64],
    touched: Vec<usize>,
    group: i64,
    /// Per pool: Some for the gang's pools.
    histograms: Vec<Option<Histogram>>,
    levels: Vec<Option<Vec<i64>>>,
    known: Vec<((usize, i64), i64)>,
}

impl<'a> Projection<'a> {
    /// The live state's free GPUs (in `scratch`, a copy kept equal to them between uses),
    /// histograms and levels (copied from its indexes, not rescanned).
    pub fn new(state: &'a FleetState, scratch: &'a mut [i64], pools: &[usize], group: i64) -> Self {
        let layout = &state.layout;
        let mut histograms = vec![None; layout.pools.len()];
        let mut levels = vec![None; layout.pools.len()];
        for &p in pools {
            if group <= layout.pools[p].rack_gpus {
                histograms[p] = Some(state.group_histogram(p, group).into_owned());
            }
            levels[p] = Some(state.level_counts(p).to_vec());
        }
        Projection {
            layout,
            base: &state.avail,
            avail: scratch,
            touched: Vec::new(),
            group,
            histograms,
            levels,
            known: Vec::new(),
        }
    }

    /// The live state with the head's racks capped at what it leaves to others.
    pub fn capped(state: &'a FleetState, scratch: &'a mut [i64], pools: &[usize], group: i64, spare: &Spare) -> Self {
        let mut view = Projection::new(state, scratch, pools, group);
        for (rack, left) in spare.constrained() {
            if left < view.avail[rack] {
                view.set(rack, left);
            }
        }
        view
    }

    fn set(&mut self, rack: usize, new: i64) {
        let old = self.avail[rack];
        self.avail[rack] = new;
        self.touched.push(rack);
        let pool = self.layout.rack_pool[rack];
        if let Some(counts) = self.levels[pool].as_mut() {
            counts[old as usize] -= 1;
            counts[new as usize] += 1;
        }
        if let Some(histogram) = self.histograms[pool].as_mut() {
            let (before, after) = (old / self.group, new / self.group);
            if before != after {
                let row = self.layout.block_in_pool[rack] * histogram.width;
                histogram.data[row + before as usize] -= 1;
                histogram.data[row + after as usize] += 1;
            }
        }
    }

    fn scan(&self) -> ArrayCapacity<'_> {
        ArrayCapacity {
            avail: self.avail,
            layout: self.layout,
            known: self.known.clone(),
        }
    }
}

impl Drop for Projection<'_> {
    /// Give the scratch copy back equal to the live free GPUs.
    fn drop(&mut self) {
        for &rack in &self.touched {
            self.avail[rack] = self.base[rack];
        }
    }
}

impl Capacity for Projection<'_> {
    fn layout(&self) -> &Layout {
        self.layout
    }

    fn avail(&self) -> &[i64] {
        self.avail
    }

    fn tightest_level(&self, pool: usize, gpus: i64) -> Option<i64> {
        match &self.levels[pool] {
            Some(counts) => (gpus.max(1) as usize..counts.len())
                .find(|&level| counts[level] > 0)
                .map(|level| level as i64),
            None => self.scan().tightest_level(pool, gpus),
        }
    }

    fn first_rack_at(&self, pool: usize, free: i64) -> usize {
        self.scan().first_rack_at(pool, free)
    }

    fn group_histogram(&self, pool: usize, group: i64) -> Cow<'_, Histogram> {
        match &self.histograms[pool] {
            Some(histogram) if group == self.group => Cow::Borrowed(histogram),
            _ => Cow::Owned(self.scan().group_histogram(pool, group).into_owned()),
        }
    }

    fn groups_free(&self, pool: usize, group: i64) -> i64 {
        if let Some((_, known)) = self.known.iter().find(|(key, _)| *key == (pool, group)) {
            return *known;
        }
        match &self.histograms[pool] {
            Some(histogram) if group == self.group => histogram.block_groups().iter().sum(),
            _ => self.scan().groups_free(pool, group),
        }
    }
}

/// Reserve for `job`, replaying `ends` ((expected end, job), sorted).
///
/// `groups` counts whole free groups per pool of the gang as the Python code does (from the
/// live state's count, then by deltas), and is what placement is told.
pub fn plan(
    job: usize,
    now: f64,
    state: &FleetState,
    scratch: &mut [i64],
    ends: &BTreeSet<(Time, usize)>,
    allocations: &[Option<Allocation>],
    gang: &Gang,
) -> Reservation {
    let layout = &state.layout;
    let group = gang.group;
    let mut projected = Projection::new(state, scratch, gang.pools, group);
    // Which racks are live, made only once a capacity change is replayed (else the state's).
    let mut alive: Option<Vec<bool>> = None;
    let mut draining = state.draining_racks > 0;
    let mut pool_free = state.avail_gpus.clone();
    let mut groups: Vec<(usize, i64)> = gang.pools.iter().map(|&p| (p, state.groups_free(p, group))).collect();
    let needed = gang.gpus / group;
    let changes = &layout.changes;
    let mut next_change = changes.partition_point(|change| change.time_s <= now);
    let mut ends_iter = ends.iter().peekable();
    loop {
        let end_time = ends_iter.peek().map_or(f64::INFINITY, |(time, _)| time.0);
        let change_time = changes.get(next_change).map_or(f64::INFINITY, |change| change.time_s);
        let time_s = if change_time < end_time { change_time } else { end_time };
        if time_s == f64::INFINITY {
            return Reservation {
                job,
                start_s: f64::INFINITY,
                spare: None,
                pool: 0,
                racks: Vec::new(),
            };
        }
        while let Some((time, ended)) = ends_iter.peek() {
            if time.0 != time_s {
                break;
            }
            let allocation = allocations[*ended].as_ref().expect("a running job's allocation");
            let pool = allocation.pool;
            let counted = groups.iter().position(|(p, _)| *p == pool);
            for (&rack, &held) in allocation.racks.iter().zip(&allocation.gpus) {
                if draining
                    && !alive
                        .as_ref()
                        .map_or(state.rack_state[rack] == ACTIVE, |live| live[rack])
                {
                    continue;
                }
                let before = projected.avail[rack];
                projected.set(rack, before + held);
                pool_free[pool] += held;
                if let Some(index) = counted {
                    groups[index].1 += (before + held) / group - before / group;
                }
            }
            ends_iter.next();
        }
        while next_change < changes.len() && changes[next_change].time_s == time_s {
            let change = &changes[next_change];
            let alive = alive.get_or_insert_with(|| state.rack_state.iter().map(|&s| s == ACTIVE).collect());
            let counted = groups.iter().position(|(p, _)| *p == change.pool);
            if change.retire {
                draining = true;
                for (offset, live) in alive[change.rack_lo..change.rack_hi].iter_mut().enumerate() {
                    let rack = change.rack_lo + offset;
                    if *live {
                        pool_free[change.pool] -= projected.avail[rack];
                        if let Some(index) = counted {
                            groups[index].1 -= projected.avail[rack] / group;
                        }
                    }
                    projected.set(rack, 0);
                    *live = false;
                }
            } else {
                for (offset, live) in alive[change.rack_lo..change.rack_hi].iter_mut().enumerate() {
                    let rack = change.rack_lo + offset;
                    projected.set(rack, layout.rack_gpus[rack]);
                    *live = true;
                    pool_free[change.pool] += layout.rack_gpus[rack];
                    if let Some(index) = counted {
                        groups[index].1 += layout.rack_gpus[rack] / group;
                    }
                }
            }
            next_change += 1;
        }
        if !groups
            .iter()
            .any(|&(p, free_groups)| pool_free[p] >= gang.gpus && free_groups >= needed)
        {
            continue;
        }
        projected.known = groups.iter().map(|&(p, g)| ((p, group), g)).collect();
        if let Some(placement) = best_fit(&projected, gang.pools, gang.gpus, group, gang.within_block) {
            let left = placement
                .racks
                .iter()
                .zip(&placement.gpus)
                .map(|(&r, &taken)| projected.avail[r] - taken);
            let spare = Spare {
                racks: placement.racks.clone(),
                left: left.collect(),
            };
            return Reservation {
                job,
                start_s: time_s,
                spare: Some(spare),
                pool: placement.pool,
                racks: placement.racks,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::tests::one_pool;
    use crate::state::Placement;

    #[test]
    fn the_head_is_reserved_when_enough_running_jobs_end() {
        let mut state = FleetState::new(one_pool(2, 72, 2), &[8]);
        state.deliver(0, 0, 2, 0.0);
        let mut allocations = vec![None, None];
        let mut ends = BTreeSet::new();
        for (job, rack, end) in [(0, 0, 50.0), (1, 1, 30.0)] {
            allocations[job] = Some(state.allocate(Placement {
                pool: 0,
                racks: vec![rack],
                gpus: vec![64],
            }));
            ends.insert((Time(end), job));
        }
        let gang = Gang {
            pools: &[0],
            gpus: 128,
            group: 8,
            within_block: false,
        };
        let mut scratch = state.avail.clone();
        let planned = plan(9, 0.0, &state, &mut scratch, &ends, &allocations, &gang);
        assert_eq!(planned.start_s, 50.0);
        assert_eq!(planned.racks, vec![0, 1]);
        // 16 groups of 8: one full rack (9 groups) and 7 groups of the other.
        let spare = planned.spare.unwrap();
        assert_eq!((spare.get(0), spare.get(1)), (0, 16));
        assert_eq!(scratch, state.avail, "the scratch copy is given back");
        let alone = Gang {
            pools: &[0],
            gpus: 72,
            group: 8,
            within_block: false,
        };
        assert_eq!(
            plan(9, 0.0, &state, &mut scratch, &ends, &allocations, &alone).start_s,
            30.0
        );
        let never = Gang {
            pools: &[0],
            gpus: 216,
            group: 8,
            within_block: false,
        };
        assert!(plan(9, 0.0, &state, &mut scratch, &ends, &allocations, &never)
            .start_s
            .is_infinite());
    }

    #[test]
    fn the_capped_view_places_as_a_scan_of_the_capped_array_does() {
        let mut state = FleetState::new(one_pool(8, 72, 4), &[8]);
        state.deliver(0, 0, 8, 0.0);
        state.allocate(Placement {
            pool: 0,
            racks: vec![2],
            gpus: vec![40],
        });
        let mut scratch = vec![0; 8];
        state.refresh(&mut scratch);
        let spare = Spare {
            racks: vec![0, 1, 5],
            left: vec![8, 0, 64],
        };
        let capped: Vec<i64> = (0..8).map(|r| state.avail[r].min(spare.get(r))).collect();
        for gpus in [8, 16, 64, 72, 136, 200, 400] {
            let view = Projection::capped(&state, &mut scratch, &[0], 8, &spare);
            let indexed = best_fit(&view, &[0], gpus, 8, false);
            drop(view);
            let scanned = best_fit(&ArrayCapacity::new(&capped, &state.layout), &[0], gpus, 8, false);
            assert_eq!(indexed, scanned, "{gpus} GPUs");
        }
        assert_eq!(scratch, state.avail, "the scratch copy is given back");
    }
}
