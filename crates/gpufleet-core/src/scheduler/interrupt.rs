//! What a failure asks of the scheduler (`Scheduler.interrupt`, `restart_in_place`,
//! `jobs_on_node`, `jobs_on_rack`): stop a job and queue it again (or fail it for good past
//! its restarts), or restart it in place on a hot spare.

use std::collections::BTreeSet;

use super::{Scheduler, Time};
use crate::reservation::UNCONSTRAINED;
use crate::state::Allocation;

impl Scheduler {
    /// Keep each rack's running jobs from now on; a job fails for good after more than
    /// `max_restarts` interruptions (with reason code `failed_reason`).
    pub fn track_failures(&mut self, max_restarts: Option<i64>, failed_reason: u8) {
        self.rack_jobs = vec![BTreeSet::new(); self.state.avail.len()];
        self.max_restarts = max_restarts;
        self.failed_reason = failed_reason;
    }

    pub(super) fn track_racks(&mut self, job: usize, allocation: &Allocation) {
        if !self.rack_jobs.is_empty() {
            for &rack in &allocation.racks {
                self.rack_jobs[rack].insert(job);
            }
        }
    }

    pub(super) fn untrack_racks(&mut self, job: usize, allocation: &Allocation) {
        if !self.rack_jobs.is_empty() {
            for &rack in &allocation.racks {
                self.rack_jobs[rack].remove(&job);
            }
        }
    }

    /// (job, GPUs it holds on the node) for the running jobs on `node`, in job order.
    pub fn jobs_on_node(&self, node: usize) -> Vec<(usize, i64)> {
        let nodes = self.state.nodes.as_ref().expect("a fleet state that tracks nodes");
        let rack = nodes.rack_of_node(node);
        let mut found = Vec::new();
        for &job in &self.rack_jobs[rack] {
            let allocation = self.allocations[job].as_ref().expect("a running job");
            let mut held = None;
            for (&on, &gpus) in allocation.nodes.iter().zip(&allocation.node_gpus) {
                if on == node {
                    held = Some(held.unwrap_or(0) + gpus);
                }
            }
            if let Some(held) = held {
                found.push((job, held));
            }
        }
        found
    }

    /// The running jobs on `rack`, in job order.
    pub fn jobs_on_rack(&self, rack: usize) -> Vec<usize> {
        self.rack_jobs[rack].iter().copied().collect()
    }

    fn exhausted(&self, job: usize, more: i64) -> bool {
        self.max_restarts
            .is_some_and(|limit| self.progress.interruptions[job] + more > limit)
    }

    /// A failure stopped `job`: free its GPUs; queue it again with reason `why`, unless it has
    /// used up its restarts (then it fails for good). Returns whether it was queued again.
    pub fn interrupt(&mut self, job: usize, now: f64, why: u8) -> bool {
        let allocation = self.allocations[job].take().expect("a running job");
        self.untrack_racks(job, &allocation);
        self.state.release(&allocation, now);
        self.ends.remove(&(Time(self.expected_end[job]), job));
        self.running_shapes[self.cfg.shape_of[job]] -= 1;
        self.progress.stop_failed(job, now);
        self.full_pass = true;
        self.reservation = None;
        if self.exhausted(job, 0) {
            self.set_reason(job, self.failed_reason, now);
            return false;
        }
        self.n_pending += 1;
        self.enqueue(job);
        self.set_reason(job, why, now);
        true
    }

    /// A failed node of `job` was swapped for `spare`: the job restarts on the same allocation.
    /// Returns its new run time, or None if it has used up its restarts (it failed for good).
    pub fn restart_in_place(&mut self, job: usize, now: f64, failed_node: usize, spare: usize, why: u8) -> Option<f64> {
        let allocation = self.allocations[job].as_mut().expect("a running job");
        for node in allocation.nodes.iter_mut() {
            if *node == failed_node {
                *node = spare;
            }
        }
        if self.exhausted(job, 1) {
            self.interrupt(job, now, why);
            return None;
        }
        self.progress.stop_failed(job, now);
        let expected = now + self.progress.expected_run_s(job);
        let run_s = self.progress.start(job, now);
        let planned_end = self.expected_end[job];
        self.ends.remove(&(Time(planned_end), job));
        self.expected_end[job] = expected;
        self.ends.insert((Time(expected), job));
        let replan = self.reservation.as_ref().is_some_and(|shared| {
            let reserved = shared.borrow();
            planned_end <= reserved.start_s
                && reserved.spare.as_ref().is_some_and(|spare| {
                    let racks = &self.allocations[job].as_ref().expect("a running job").racks;
                    racks.iter().any(|&rack| spare.get(rack) < UNCONSTRAINED / 2)
                })
        });
        if replan {
            self.reservation = None; // the plan counted on its GPUs by then
        }
        Some(run_s)
    }
}
