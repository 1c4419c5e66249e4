//! Choosing victims (`gpufleet.sched.preemption`): which running jobs a blocked job may
//! preempt under its queue's Kueue settings, and the fewest that suffice.
//!
//! A running job r may be preempted for a waiting job j when r is in j's queue and
//! `within_cluster_queue` allows it (LowerPriority; LowerOrNewerEqualPriority: or equal
//! priority and submitted later); or r is in another queue of j's cohort and either j stays
//! within its nominal quota of r's flavor while r's queue borrows (`reclaim_within_cohort`
//! Any, or LowerPriority), or j would borrow and r has lower priority
//! (`borrow_within_cohort`). Candidates go lowest priority first, then most recently
//! started, then latest submitted, until j's quota and placement both fit with their GPUs
//! back; victims not needed in the end are spared.

use crate::capacity::ArrayCapacity;
use crate::placement::best_fit;
use crate::scheduler::{Scheduler, Start};
use crate::state::{Placement, ACTIVE};

/// Most running jobs examined as victims for one waiting job (`MAX_CANDIDATES`).
pub const MAX_CANDIDATES: usize = 256;

/// `within_cluster_queue`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Within {
    Never,
    LowerPriority,
    LowerOrNewerEqualPriority,
}

/// `reclaim_within_cohort`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reclaim {
    Never,
    Any,
    LowerPriority,
}

/// A queue's Kueue preemption settings (`borrow_within_cohort` is Never or LowerPriority).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    pub within: Within,
    pub reclaim: Reclaim,
    pub borrow_lower_priority: bool,
}

impl Rules {
    pub const NEVER: Rules = Rules {
        within: Within::Never,
        reclaim: Reclaim::Never,
        borrow_lower_priority: false,
    };

    /// Whether the queue's jobs may preempt at all.
    pub fn may_preempt(&self) -> bool {
        *self != Rules::NEVER
    }
}

impl Scheduler {
    /// Whether the rules let waiting `job` preempt running `victim` (`queue_rules_allow`).
    fn allowed(&self, job: usize, victim: usize, now: f64) -> bool {
        let (queue, theirs) = (self.cfg.queue_of[job], self.cfg.queue_of[victim]);
        if queue == theirs && self.policy.preemptive() && self.policy.preempts(job, victim, now, &self.progress) {
            return true;
        }
        let (priority, their_priority) = (self.cfg.priority[job], self.cfg.priority[victim]);
        let rules = self.cfg.rules[queue];
        if queue == theirs {
            return match rules.within {
                Within::LowerPriority => their_priority < priority,
                Within::LowerOrNewerEqualPriority => {
                    their_priority < priority || (their_priority == priority && victim > job)
                }
                Within::Never => false,
            };
        }
        if self.quotas.pool_of[queue] != self.quotas.pool_of[theirs] {
            return false;
        }
        let pool = self.allocations[victim].as_ref().expect("a running victim").pool;
        let flavor = self.cfg.flavor_of_pool[pool];
        if self.quotas.within_nominal(queue, flavor, self.shape(job).gpus as f64) {
            if !self.quotas.borrowing(theirs, flavor) {
                return false;
            }
            return match rules.reclaim {
                Reclaim::Any => true,
                Reclaim::LowerPriority => their_priority < priority,
                Reclaim::Never => false,
            };
        }
        rules.borrow_lower_priority && their_priority < priority
    }

    /// The victims whose preemption lets `job` start now; None if none do (`choose_victims`).
    fn choose_victims(&mut self, job: usize, now: f64) -> Option<Vec<usize>> {
        let mut ranked: Vec<(i64, f64, f64, usize)> = self
            .ends
            .iter()
            .map(|&(_, victim)| victim)
            .filter(|&victim| self.allowed(job, victim, now))
            .map(|victim| {
                let rank = self.policy.victim_rank(victim, now, &self.progress);
                (self.cfg.priority[victim], rank, self.started_at[victim], victim)
            })
            .collect();
        if ranked.is_empty() {
            return None;
        }
        // (priority, -victim rank, -start, -job), as Python compares floats: unique by the job.
        ranked.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then(b.1.partial_cmp(&a.1).expect("no NaN rank"))
                .then(b.2.partial_cmp(&a.2).expect("no NaN start"))
                .then(b.3.cmp(&a.3))
        });
        let candidates: Vec<usize> = ranked.iter().take(MAX_CANDIDATES).map(|c| c.3).collect();
        let mut chosen: Vec<usize> = Vec::new();
        let mut fits = false;
        for victim in candidates {
            chosen.push(victim);
            if self.fits_without(job, &chosen).is_some() {
                fits = true;
                break;
            }
        }
        if !fits {
            return None;
        }
        for index in (0..chosen.len() - 1).rev() {
            // Spare victims the job can do without, latest chosen first.
            let victim = chosen[index];
            let trial: Vec<usize> = chosen.iter().copied().filter(|&v| v != victim).collect();
            if self.fits_without(job, &trial).is_some() {
                chosen = trial;
            }
        }
        Some(chosen)
    }

    /// Where `job` would go if `victims` gave back their GPUs and quota (nothing is changed).
    fn fits_without(&mut self, job: usize, victims: &[usize]) -> Option<Placement> {
        let held: Vec<(usize, usize, f64)> = victims
            .iter()
            .map(|&v| {
                let pool = self.allocations[v].as_ref().expect("a running victim").pool;
                (
                    self.cfg.queue_of[v],
                    self.cfg.flavor_of_pool[pool],
                    self.shape(v).gpus as f64,
                )
            })
            .collect();
        for &(q, f, gpus) in &held {
            self.quotas.remove(q, f, gpus);
        }
        let pools = self.pools_within_quota(job);
        for &(q, f, gpus) in &held {
            self.quotas.add(q, f, gpus);
        }
        if pools.is_empty() {
            return None;
        }
        let state = &self.state;
        let freed: i64 = victims
            .iter()
            .filter_map(|&v| self.allocations[v].as_ref())
            .filter(|allocation| pools.contains(&allocation.pool))
            .map(|allocation| allocation.total)
            .sum();
        let most = pools.iter().map(|&p| state.avail_gpus[p]).max().expect("pools");
        let shape = self.shape(job);
        if most + freed < shape.gpus {
            return None;
        }
        let mut avail = state.avail.clone();
        for &victim in victims {
            let allocation = self.allocations[victim].as_ref().expect("a running victim");
            for (&rack, &gpus) in allocation.racks.iter().zip(&allocation.gpus) {
                if state.rack_state[rack] == ACTIVE {
                    avail[rack] += gpus;
                }
            }
        }
        let view = ArrayCapacity::new(&avail, &state.layout);
        best_fit(&view, &pools, shape.gpus, shape.group, shape.within_block)
    }

    /// Preempt the victims that let `job` start now, and start it (`_admit_by_preempting`).
    pub(crate) fn admit_by_preempting(&mut self, job: usize, now: f64, started: &mut Vec<Start>) -> bool {
        let Some(victims) = self.choose_victims(job, now) else {
            return false;
        };
        for victim in victims {
            self.preempt(victim, now, started);
        }
        let pools = self.pools_within_quota(job);
        let shape = self.shape(job);
        let placement = best_fit(&self.state, &pools, shape.gpus, shape.group, shape.within_block)
            .expect("victims were chosen so that the job fits");
        self.start(job, placement, now, started);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_with_every_setting_never_does_not_preempt() {
        assert!(!Rules::NEVER.may_preempt());
        let reclaim = Rules {
            reclaim: Reclaim::Any,
            ..Rules::NEVER
        };
        assert!(reclaim.may_preempt());
        let borrow = Rules {
            borrow_lower_priority: true,
            ..Rules::NEVER
        };
        assert!(borrow.may_preempt());
    }
}
