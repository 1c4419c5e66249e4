//! Room for a serving replica by preemption (`gpufleet.sched.preemption.gang_victims`):
//! running jobs whose preemption frees room for `gpus` GPUs in NVLink groups of `group`
//! (each group inside one rack) in one pool. Free room counts first. Then, one group at a
//! time, the cheapest rack option: the jobs of one rack whose GPUs there complete one more
//! group, chosen lowest priority, then smallest, then most recently started, and spared
//! when not needed. Options compare by (highest victim priority, GPUs stopped, jobs
//! stopped), then by their job lists (Python's tuple order). Racks are visited from the
//! racks of the cheapest running jobs on, until no unvisited rack can beat the best option
//! in hand, at most `RACKS_EXAMINED` per group.
//!
//! The Python engine keeps each rack's option while the rack's jobs do not change (a
//! cache: the option depends only on them); this computes it afresh, with the same result.

use std::collections::{BTreeMap, BTreeSet};

/// Most racks examined for each NVLink group (`RACKS_EXAMINED`).
pub const RACKS_EXAMINED: usize = 256;

/// (highest victim priority, GPUs stopped, jobs stopped).
pub type Cost = (i64, i64, usize);

/// What the victim search reads of the fleet and the running jobs.
pub trait RunningView {
    /// Racks lo..hi of the pool that are delivered.
    fn rack_range(&self, pool: usize) -> (usize, usize);
    /// In service: active and not down (a rack draining or down takes no replica).
    fn usable(&self, rack: usize) -> bool;
    fn groups_free(&self, pool: usize, group: i64) -> i64;
    fn avail(&self, rack: usize) -> i64;
    /// The pool's running jobs as (priority, GPUs, -started, job), ascending.
    fn cheapest_first(&self, pool: usize) -> Vec<(i64, i64, f64, usize)>;
    /// A running job's racks (ascending) and GPUs on each.
    fn holding(&self, job: usize) -> (&[usize], &[i64]);
    /// The running jobs on a rack (any order).
    fn rack_jobs(&self, rack: usize) -> Vec<usize>;
    fn priority(&self, job: usize) -> i64;
    fn job_gpus(&self, job: usize) -> i64;
    fn started_at(&self, job: usize) -> f64;
}

/// The victims, in the order chosen, or None when the allowed jobs cannot free the room.
pub fn gang_victims(
    view: &dyn RunningView,
    pool: usize,
    gpus: i64,
    group: i64,
    may_preempt: Option<&dyn Fn(usize) -> bool>,
) -> Option<Vec<usize>> {
    let (lo, hi) = view.rack_range(pool);
    let mut groups = view.groups_free(pool, group);
    let mut freed: BTreeMap<usize, i64> = BTreeMap::new();
    let mut victims: Vec<usize> = Vec::new();
    let ranked = view.cheapest_first(pool);
    while groups < gpus / group {
        let mut best: Option<(Cost, Vec<usize>)> = None;
        let mut seen: BTreeSet<usize> = BTreeSet::new();
        for &(priority, job_gpus, _, job) in &ranked {
            if let Some((cost, _)) = &best {
                if (priority, job_gpus) > (cost.0, cost.1) {
                    break; // every rack still unseen costs at least this job
                }
            }
            if seen.len() >= RACKS_EXAMINED {
                break;
            }
            if victims.contains(&job) {
                continue;
            }
            if may_preempt.is_some_and(|allowed| !allowed(job)) {
                continue;
            }
            for &rack in view.holding(job).0 {
                if seen.contains(&rack) || !view.usable(rack) {
                    continue;
                }
                seen.insert(rack);
                let free = view.avail(rack) + freed.get(&rack).copied().unwrap_or(0);
                let missing = group - free.rem_euclid(group);
                let option = rack_option(view, rack, missing, &victims, may_preempt);
                if let Some(option) = option {
                    if best.as_ref().is_none_or(|held| option < *held) {
                        best = Some(option);
                    }
                }
            }
        }
        let (_, jobs) = best?;
        for job in jobs {
            victims.push(job);
            let (racks, held) = view.holding(job);
            for (&rack, &back) in racks.iter().zip(held) {
                if lo <= rack && rack < hi && view.usable(rack) {
                    let before = view.avail(rack) + freed.get(&rack).copied().unwrap_or(0);
                    *freed.entry(rack).or_insert(0) += back;
                    groups += (before + back).div_euclid(group) - before.div_euclid(group);
                }
            }
        }
    }
    Some(victims)
}

/// The cheapest jobs of `rack` (beyond `taken`) whose GPUs there add up to `missing`, and
/// their cost (`_rack_option`); jobs the others make unnecessary are spared.
fn rack_option(
    view: &dyn RunningView,
    rack: usize,
    missing: i64,
    taken: &[usize],
    may_preempt: Option<&dyn Fn(usize) -> bool>,
) -> Option<(Cost, Vec<usize>)> {
    // (priority, GPUs, -started, job, GPUs held on the rack); jobs are unique.
    let mut holders: Vec<(i64, i64, f64, usize, i64)> = Vec::new();
    for job in view.rack_jobs(rack) {
        if taken.contains(&job) || may_preempt.is_some_and(|allowed| !allowed(job)) {
            continue;
        }
        let (racks, gpus) = view.holding(job);
        let held = match racks.binary_search(&rack) {
            Ok(at) => gpus[at],
            Err(_) => continue,
        };
        holders.push((view.priority(job), view.job_gpus(job), -view.started_at(job), job, held));
    }
    holders.sort_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then(a.2.partial_cmp(&b.2).unwrap_or(std::cmp::Ordering::Equal))
            .then(a.3.cmp(&b.3))
    });
    let mut chosen = Vec::new();
    let mut freed = 0;
    for holder in holders {
        if freed >= missing {
            break;
        }
        freed += holder.4;
        chosen.push(holder);
    }
    if freed < missing {
        return None;
    }
    // The last one was needed; spare earlier ones if possible (newest first).
    let snapshot = chosen[..chosen.len() - 1].to_vec();
    for holder in snapshot.iter().rev() {
        if freed - holder.4 >= missing {
            chosen.retain(|kept| kept.3 != holder.3);
            freed -= holder.4;
        }
    }
    let cost = (
        chosen.iter().map(|h| h.0).max().expect("one at least"),
        chosen.iter().map(|h| h.1).sum(),
        chosen.len(),
    );
    Some((cost, chosen.iter().map(|h| h.3).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One pool of racks of 8 GPUs; jobs as (priority, GPUs per rack, started).
    struct Fleet {
        avail: Vec<i64>,
        jobs: Vec<(i64, Vec<usize>, Vec<i64>, f64)>,
    }

    impl RunningView for Fleet {
        fn rack_range(&self, _: usize) -> (usize, usize) {
            (0, self.avail.len())
        }
        fn usable(&self, _: usize) -> bool {
            true
        }
        fn groups_free(&self, _: usize, group: i64) -> i64 {
            self.avail.iter().map(|free| free / group).sum()
        }
        fn avail(&self, rack: usize) -> i64 {
            self.avail[rack]
        }
        fn cheapest_first(&self, _: usize) -> Vec<(i64, i64, f64, usize)> {
            let mut ranked: Vec<_> = (0..self.jobs.len())
                .map(|job| (self.priority(job), self.job_gpus(job), -self.started_at(job), job))
                .collect();
            ranked.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
            ranked
        }
        fn holding(&self, job: usize) -> (&[usize], &[i64]) {
            (&self.jobs[job].1, &self.jobs[job].2)
        }
        fn rack_jobs(&self, rack: usize) -> Vec<usize> {
            (0..self.jobs.len())
                .filter(|&job| self.jobs[job].1.contains(&rack))
                .collect()
        }
        fn priority(&self, job: usize) -> i64 {
            self.jobs[job].0
        }
        fn job_gpus(&self, job: usize) -> i64 {
            self.jobs[job].2.iter().sum()
        }
        fn started_at(&self, job: usize) -> f64 {
            self.jobs[job].3
        }
    }

    #[test]
    fn free_room_needs_no_victim() {
        let fleet = Fleet {
            avail: vec![8, 0],
            jobs: vec![(0, vec![1], vec![8], 0.0)],
        };
        assert_eq!(gang_victims(&fleet, 0, 8, 8, None), Some(vec![]));
    }

    #[test]
    fn the_cheapest_rack_option_wins() {
        // Rack 0: a high-priority 8-GPU job; rack 1: two low-priority 4-GPU jobs, the
        // later started one first among equals; one 4-GPU group is missing on rack 1.
        let fleet = Fleet {
            avail: vec![0, 0],
            jobs: vec![
                (5, vec![0], vec![8], 0.0),
                (0, vec![1], vec![4], 10.0),
                (0, vec![1], vec![4], 20.0),
            ],
        };
        assert_eq!(gang_victims(&fleet, 0, 4, 4, None), Some(vec![2]));
        // A whole rack: both low-priority jobs rather than the high-priority one.
        assert_eq!(gang_victims(&fleet, 0, 8, 8, None), Some(vec![2, 1]));
        // Only the high-priority job allowed.
        let only = |job: usize| job == 0;
        assert_eq!(gang_victims(&fleet, 0, 8, 8, Some(&only)), Some(vec![0]));
        let none = |_: usize| false;
        assert_eq!(gang_victims(&fleet, 0, 8, 8, Some(&none)), None);
    }

    #[test]
    fn jobs_not_needed_are_spared() {
        // Rack 0 has 2 free; a 2-GPU job (cheapest) and a 4-GPU job: 4 more complete the
        // group of 8 with... the 2-GPU job alone is not enough, the 4-GPU job then suffices
        // without... both are needed for 6; for a group of 6 (4 missing) the 4-GPU job alone.
        let fleet = Fleet {
            avail: vec![2],
            jobs: vec![(0, vec![0], vec![2], 0.0), (0, vec![0], vec![4], 0.0)],
        };
        assert_eq!(gang_victims(&fleet, 0, 6, 6, None), Some(vec![1]));
        assert_eq!(gang_victims(&fleet, 0, 8, 8, None), Some(vec![0, 1]));
    }
}
