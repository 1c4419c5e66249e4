//! What a failure asks of the scheduler (`Scheduler.interrupt`, `restart_in_place`,
//! `jobs_on_node`, `jobs_on_rack`): stop a job and queue it again (or fail it for good past
//! its restarts), or restart it in place on a hot spare.

use std::collections::BTreeSet;

use super::{reason, Scheduler, Time};
use crate::reservation::UNCONSTRAINED;
use crate::state::Allocation;

impl Scheduler {
    /// Keep each rack's running jobs from now on; a job fails for good after more than
    /// `max_restarts` interruptions (with reason code `failed_reason`).
    pub fn track_failures(&mut self, max_restarts: Option<i64>, failed_reason: reason::Code) {
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
    pub fn interrupt(&mut self, job: usize, now: f64, why: reason::Code) -> bool {
        self.stop(job, now);
        self.progress.stop_failed(job, now);
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
    pub fn restart_in_place(
        &mut self,
        job: usize,
        now: f64,
        failed_node: usize,
        spare: usize,
        why: reason::Code,
    ) -> Option<f64> {
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
        let (queue, gpus) = (self.cfg.queue_of[job], self.shape(job).gpus as f64);
        let pool = self.allocations[job].as_ref().expect("a running job").pool;
        self.policy.on_stop(queue, pool, gpus, now);
        let expected = now + self.progress.expected_run_s(job);
        let run_s = self.progress.start(job, now);
        self.policy.on_start(queue, pool, gpus, now);
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

#[cfg(test)]
mod tests {
    use super::super::{reason, Backfill, SchedulerConfig, Shape};
    use super::*;
    use crate::layout::tests::one_pool;
    use crate::nodes::tests::node_layout;
    use crate::nodes::Nodes;
    use crate::policy::Kind;
    use crate::preemption::Rules;
    use crate::progress::Progress;
    use crate::quota::QuotaBook;
    use crate::state::FleetState;

    const INTERRUPTED: reason::Code = 128;
    const FAILED: reason::Code = 129;

    /// Two jobs of 6 GPUs on one rack of 3 nodes of 4 GPUs (and a spare), started at 0.
    fn running(max_restarts: Option<i64>) -> Scheduler {
        let mut layout = one_pool(1, 12, 1);
        layout.rack_installed_gpus = vec![16];
        let mut state = FleetState::new(layout, &[]);
        state.nodes = Some(Nodes::new(node_layout(1, 12, 4, 1)));
        state.deliver(0, 0, 1, 0.0);
        let progress = Progress::new(
            vec![100.0; 2],
            vec![100.0; 2],
            vec![40.0; 2],
            vec![f64::INFINITY; 2],
            5.0,
            0.0,
        );
        let cfg = SchedulerConfig {
            queue_of: vec![0; 2],
            policy_value: vec![0; 2],
            shape_of: vec![0; 2],
            shapes: vec![Shape {
                gpus: 6,
                group: 1,
                within_block: false,
                pools: vec![0],
            }],
            strict: vec![false],
            backfill: Backfill::Easy,
            max_job_test: 500,
            flavor_of_pool: vec![0],
            quotas: QuotaBook::new(
                true,
                1,
                vec![f64::INFINITY],
                vec![f64::INFINITY],
                vec![0.0],
                vec![0],
                vec![0.0],
            ),
            quota_reason_base: 9,
            priority: vec![0; 2],
            rules: vec![Rules::NEVER],
            any_scope: false,
            policy: Kind::Static,
            predict_team: None,
        };
        let mut sched = Scheduler::new(state, progress, cfg);
        sched.track_failures(max_restarts, FAILED);
        sched.submit(0);
        sched.submit(1);
        let mut started = Vec::new();
        sched.schedule(0.0, &mut started);
        assert_eq!(started.len(), 2);
        sched
    }

    #[test]
    fn the_jobs_on_a_node_are_found_with_the_gpus_they_hold() {
        let sched = running(None);
        // Job 0 took node 0 whole and 2 of node 1; job 1 the rest of node 1 and 4 of node 2.
        assert_eq!(sched.jobs_on_node(1), vec![(0, 2), (1, 2)]);
        assert_eq!(sched.jobs_on_node(2), vec![(1, 4)]);
        assert_eq!(sched.jobs_on_rack(0), vec![0, 1]);
    }

    #[test]
    fn an_interrupted_job_waits_again_with_its_checkpoints() {
        let mut sched = running(None);
        assert!(sched.interrupt(0, 90.0, INTERRUPTED));
        assert_eq!(sched.reason[0], INTERRUPTED);
        assert_eq!(sched.progress.done_s[0], 80.0); // two checkpoints of 40 s
        assert_eq!(sched.jobs_on_rack(0), vec![1]);
        assert_eq!(sched.state.avail[0], 6);
        // It restarts with the overhead and the 20 s of work left.
        let mut started = Vec::new();
        sched.schedule(90.0, &mut started);
        assert_eq!((started[0].job, started[0].run_s), (0, 25.0));
    }

    #[test]
    fn a_restart_in_place_moves_the_job_to_the_spare() {
        let mut sched = running(Some(1));
        assert_eq!(sched.restart_in_place(1, 50.0, 2, 3, INTERRUPTED), Some(5.0 + 60.0));
        assert_eq!(sched.jobs_on_node(3), vec![(1, 4)]);
        assert_eq!(sched.progress.interruptions[1], 1);
        // One more is past max_restarts: it fails for good, its GPUs free.
        assert_eq!(sched.restart_in_place(1, 60.0, 3, 2, INTERRUPTED), None);
        assert_eq!(sched.reason[1], FAILED);
        assert_eq!(sched.jobs_on_rack(0), vec![0]);
        assert_eq!(reason::NONE, sched.reason[0]);
    }
}
