//! EASY-backfill reservations (`gpufleet.sched.reservation`): when and where the first
//! blocked job will fit, replaying expected ends and scheduled capacity changes.

use std::collections::BTreeSet;

use crate::capacity::ArrayCapacity;
use crate::placement::best_fit;
use crate::state::{Allocation, FleetState, ACTIVE, DRAINING};
use crate::Time;

pub const UNCONSTRAINED: i64 = i64::MAX / 4;

/// The head job's reservation.
#[derive(Debug)]
pub struct Reservation {
    pub job: usize,
    pub start_s: f64,
    /// Per rack, GPUs a job still running at `start_s` may take; None: no reservation.
    pub spare: Option<Vec<i64>>,
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

/// Reserve for `job`, replaying `ends` ((expected end, job), sorted).
pub fn plan(
    job: usize,
    now: f64,
    state: &FleetState,
    ends: &BTreeSet<(Time, usize)>,
    allocations: &[Option<Allocation>],
    gang: &Gang,
) -> Reservation {
    let layout = &state.layout;
    let mut projected = state.avail.clone();
    let mut alive: Vec<bool> = state.rack_state.iter().map(|&s| s == ACTIVE).collect();
    let mut draining = state.rack_state.contains(&DRAINING);
    let mut pool_free = state.avail_gpus.clone();
    let group = gang.group;
    let mut groups: Vec<(usize, i64)> = gang
        .pools
        .iter()
        .map(|&p| (p, crate::capacity::Capacity::groups_free(state, p, group)))
        .collect();
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
                if draining && !alive[rack] {
                    continue;
                }
                let before = projected[rack];
                projected[rack] = before + held;
                pool_free[pool] += held;
                if let Some(index) = counted {
                    groups[index].1 += (before + held) / group - before / group;
                }
            }
            ends_iter.next();
        }
        while next_change < changes.len() && changes[next_change].time_s == time_s {
            let change = &changes[next_change];
            let counted = groups.iter().position(|(p, _)| *p == change.pool);
            if change.retire {
                draining = true;
                for rack in change.rack_lo..change.rack_hi {
                    if alive[rack] {
                        pool_free[change.pool] -= projected[rack];
                        if let Some(index) = counted {
                            groups[index].1 -= projected[rack] / group;
                        }
                    }
                    projected[rack] = 0;
                    alive[rack] = false;
                }
            } else {
                for rack in change.rack_lo..change.rack_hi {
                    projected[rack] = layout.rack_gpus[rack];
                    alive[rack] = true;
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
        let view = ArrayCapacity {
            avail: &projected,
            layout,
            known: groups.iter().map(|&(p, g)| ((p, group), g)).collect(),
        };
        if let Some(placement) = best_fit(&view, gang.pools, gang.gpus, group, gang.within_block) {
            let mut spare = vec![UNCONSTRAINED; projected.len()];
            for (&rack, &taken) in placement.racks.iter().zip(&placement.gpus) {
                spare[rack] = projected[rack] - taken;
            }
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
        let planned = plan(9, 0.0, &state, &ends, &allocations, &gang);
        assert_eq!(planned.start_s, 50.0);
        assert_eq!(planned.racks, vec![0, 1]);
        // 16 groups of 8: one full rack (9 groups) and 7 groups of the other.
        assert_eq!(planned.spare.unwrap(), vec![0, 16]);
        let alone = Gang {
            pools: &[0],
            gpus: 72,
            group: 8,
            within_block: false,
        };
        assert_eq!(plan(9, 0.0, &state, &ends, &allocations, &alone).start_s, 30.0);
        let never = Gang {
            pools: &[0],
            gpus: 216,
            group: 8,
            within_block: false,
        };
        assert!(plan(9, 0.0, &state, &ends, &allocations, &never).start_s.is_infinite());
    }
}
