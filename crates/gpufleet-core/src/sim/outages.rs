//! Failures and repairs during a run (`gpufleet.sim.outages.Outages`): when hardware breaks,
//! whose jobs it stops, when it is back.
//!
//! A GPU failure stops the job holding that GPU; a node failure every job on the node; a rack
//! or block failure every job on it. If the rack has a healthy hot spare, a node (or one of its
//! GPUs) that fails under running jobs is swapped for the spare and those jobs restart in place;
//! otherwise they go back to the queue. Failed hardware is out of service until its repair time
//! has passed; what is repaired while its rack is down comes back with the rack.

use std::collections::HashMap;

use super::{status, Simulation, JOB_END};
use crate::failures::{Component, Draws, Process, Strike, Units};
use crate::layout::Change;
use crate::progress::py_max;
use crate::scheduler::reason::Code;
use crate::state::{ACTIVE, DRAINING};

/// The hardware phase's priority (job ends, failures and repairs), and the failure kinds.
const HARDWARE: u8 = JOB_END;
pub const FAILURE: u8 = 10;
pub const INJECTED: u8 = 11;
pub const REPAIR: u8 = 12;

/// One injected failure: when, what it hits, repair seconds, and its reason code.
#[derive(Clone, Debug)]
pub struct Injected {
    pub time_s: f64,
    pub strike: Strike,
    pub repair_s: f64,
    pub reason: Code,
}

/// What a run's failures are made of (besides the draws).
pub struct FailureInputs {
    pub processes: Vec<Process>,
    pub injected: Vec<Injected>,
    /// Per process, the reason code of a job interrupted by each of its causes.
    pub cause_reasons: Vec<Vec<Code>>,
    pub units: Units,
}

/// One failure, as logged in failures.parquet (`FailureRecord`).
#[derive(Clone, Debug)]
pub struct FailureRecord {
    pub time_s: f64,
    /// The process (None: injected, then `cause` is the injected failure's index).
    pub process: Option<usize>,
    pub cause: usize,
    pub component: Component,
    pub pool: usize,
    pub rack: usize,
    pub node: i64,
    pub gpus_down: i64,
    pub jobs_hit: i64,
    pub spare_used: bool,
    /// (node, GPUs) taken out of service.
    pub nodes: Vec<(usize, i64)>,
    pub repaired_s: f64,
}

struct Repair {
    process: Option<usize>,
    strike: Strike,
    record: usize,
}

pub(super) struct Outages<'p> {
    inputs: FailureInputs,
    draws: Box<dyn Draws + 'p>,
    pub(super) log: Vec<FailureRecord>,
    repairs: Vec<Repair>,
    /// Per rack down as a whole: (node, GPUs) of it repaired on their own meanwhile.
    held_back: HashMap<usize, Vec<(usize, i64)>>,
}

impl<'p> Simulation<'p> {
    /// Failures strike this run: processes drawing through `draws`, injected failures.
    pub fn set_failures(&mut self, inputs: FailureInputs, draws: Box<dyn Draws + 'p>) {
        self.outages = Some(Outages {
            inputs,
            draws,
            log: Vec::new(),
            repairs: Vec::new(),
            held_back: HashMap::new(),
        });
    }

    fn outages(&mut self) -> &mut Outages<'p> {
        self.outages.as_mut().expect("a run with failures")
    }

    pub(super) fn start_outages(&mut self) {
        let until = self.inputs.until_s;
        let times: Vec<f64> = self.outages().inputs.injected.iter().map(|i| i.time_s).collect();
        for (index, when) in times.into_iter().enumerate() {
            if when <= until {
                self.at_kind(when, HARDWARE, INJECTED, (index, 0));
            }
        }
        self.arm();
    }

    /// Re-arm every process from the units installed now.
    fn arm(&mut self) {
        let now = self.now;
        for index in 0..self.outages().inputs.processes.len() {
            let outages = self.outages.as_mut().expect("a run with failures");
            let process = &mut outages.inputs.processes[index];
            let when = process.rearm(now, &self.sched.state, &outages.inputs.units, outages.draws.as_mut());
            self.schedule_process(index, when);
        }
    }

    /// Make `when` the process's next event (an earlier one becomes stale).
    fn schedule_process(&mut self, index: usize, when: Option<f64>) {
        let now = self.now;
        let until = self.inputs.until_s;
        let process = &mut self.outages().inputs.processes[index];
        process.version += 1;
        let version = process.version;
        if let Some(when) = when.filter(|&when| when <= until) {
            self.at_kind(py_max(when, now), HARDWARE, FAILURE, (index, version));
        }
    }

    /// Racks arrived or started to drain: Weibull clocks start for new units; the installed units change.
    pub(super) fn outages_on_capacity(&mut self, change: &Change) {
        let now = self.now;
        if !change.retire {
            let outages = self.outages();
            for process in outages.inputs.processes.iter_mut() {
                if process.weibull && process.pools.contains(&change.pool) {
                    let units = process.units_of_racks(&outages.inputs.units, change.rack_lo, change.rack_hi);
                    process.install(&units, now, outages.draws.as_mut());
                }
            }
        }
        self.arm();
    }

    pub(super) fn on_failure(&mut self, index: usize, version: u64) {
        let now = self.now;
        let outages = self.outages.as_mut().expect("a run with failures");
        let process = &mut outages.inputs.processes[index];
        if version != process.version {
            return;
        }
        let strike = process.strike(now, &self.sched.state, &outages.inputs.units, outages.draws.as_mut());
        let mut requeued = false;
        if let Some(strike) = strike {
            let (cause, repair_s) = outages.draws.cause_and_repair(index);
            let reason = outages.inputs.cause_reasons[index][cause];
            requeued = self.apply(strike, Some(index), cause, reason, repair_s);
        }
        let outages = self.outages.as_mut().expect("a run with failures");
        let when = outages.inputs.processes[index].next_candidate(now, outages.draws.as_mut());
        self.schedule_process(index, when);
        if requeued {
            self.request_pass(); // only jobs back in the queue need a pass
        }
    }

    pub(super) fn on_injected(&mut self, index: usize) {
        let injected = self.outages().inputs.injected[index].clone();
        let mut strike = injected.strike;
        let state = &self.sched.state;
        let nodes = state.nodes.as_ref().expect("a fleet state that tracks nodes");
        if !strike.racks.is_empty() {
            // A block failure strikes the block's racks that are in service.
            let live: Vec<usize> = strike
                .racks
                .iter()
                .copied()
                .filter(|&rack| matches!(state.rack_state[rack], ACTIVE | DRAINING))
                .collect();
            if live.is_empty() || live.iter().any(|&rack| nodes.rack_down[rack]) {
                return;
            }
            strike.racks = live;
        }
        if let Some(node) = strike.node {
            if nodes.failed[node] >= nodes.layout.node_gpus[node] {
                return; // already down
            }
        }
        if self.apply(strike, None, index, injected.reason, injected.repair_s) {
            self.request_pass();
        }
    }

    /// Take the struck hardware down; stop or move the jobs on it. Returns whether a job went
    /// back to the queue (a pass is due).
    fn apply(&mut self, strike: Strike, process: Option<usize>, cause: usize, reason: Code, repair_s: f64) -> bool {
        let now = self.now;
        let mut repairs: Vec<(usize, i64)> = Vec::new();
        let mut hit: Vec<usize> = Vec::new();
        let mut spare_used = false;
        let first_rack;
        let mut node_hit = -1i64;
        let mut down = 0i64;
        if let Some(node) = strike.node {
            let nodes = self
                .sched
                .state
                .nodes
                .as_ref()
                .expect("a fleet state that tracks nodes");
            let rack = nodes.rack_of_node(node);
            let working = nodes.layout.node_gpus[node] - nodes.failed[node];
            let free = nodes.free[node];
            let on_node = self.sched.jobs_on_node(node);
            let victims: Vec<usize> = if strike.component == Component::Gpu {
                down = 1;
                holder(&on_node, strike.gpu_index - free).into_iter().collect()
            } else {
                down = working;
                on_node.iter().map(|&(job, _)| job).collect()
            };
            let spare = if !victims.is_empty() && self.sched.state.rack_state[rack] == ACTIVE {
                nodes.healthy_spare(rack)
            } else {
                None
            };
            if let Some(spare) = spare {
                // The whole node is swapped out; its jobs restart on the spare.
                spare_used = true;
                hit = on_node.iter().map(|&(job, _)| job).collect();
                self.sched.state.swap_in_spare(node, spare);
                for &job in &hit {
                    self.restart_in_place(job, node, spare, reason);
                }
                down = working;
            } else {
                hit = victims;
                for &job in &hit {
                    self.interrupt(job, reason);
                }
            }
            self.sched.state.fail_gpus(node, down, now);
            repairs.push((node, down));
            first_rack = rack;
            node_hit = node as i64;
        } else {
            first_rack = strike.racks[0];
            for &rack in &strike.racks {
                self.sched.state.nodes.as_mut().expect("nodes").rack_down[rack] = true;
                for job in self.sched.jobs_on_rack(rack) {
                    if !hit.contains(&job) {
                        hit.push(job);
                        self.interrupt(job, reason);
                    }
                }
                let nodes = self.sched.state.nodes.as_ref().expect("nodes").of_rack(rack);
                for rack_node in nodes {
                    let tracked = self.sched.state.nodes.as_ref().expect("nodes");
                    let lost = tracked.layout.node_gpus[rack_node] - tracked.failed[rack_node];
                    if lost != 0 {
                        self.sched.state.fail_gpus(rack_node, lost, now);
                        repairs.push((rack_node, lost));
                        down += lost;
                    }
                }
                self.outages().held_back.insert(rack, Vec::new());
            }
        }
        let record = FailureRecord {
            time_s: now,
            process,
            cause,
            component: strike.component,
            pool: strike.pool,
            rack: first_rack,
            node: node_hit,
            gpus_down: down,
            jobs_hit: hit.len() as i64,
            spare_used,
            nodes: repairs,
            repaired_s: f64::NAN,
        };
        let outages = self.outages();
        outages.log.push(record);
        let repair = outages.repairs.len();
        outages.repairs.push(Repair {
            process,
            strike,
            record: outages.log.len() - 1,
        });
        self.at_kind(now + repair_s, HARDWARE, REPAIR, (repair, 0));
        !hit.is_empty() && !spare_used
    }

    pub(super) fn on_repair(&mut self, index: usize) {
        let now = self.now;
        let outages = self.outages.as_mut().expect("a run with failures");
        let repair = &outages.repairs[index];
        let (process, record) = (repair.process, repair.record);
        let strike = repair.strike.clone();
        let nodes = outages.log[record].nodes.clone();
        for (node, gpus) in nodes {
            let rack = self.sched.state.nodes.as_ref().expect("nodes").rack_of_node(node);
            let outages = self.outages.as_mut().expect("a run with failures");
            if !strike.racks.contains(&rack) {
                if let Some(held) = outages.held_back.get_mut(&rack) {
                    held.push((node, gpus)); // its rack is down: back with it
                    continue;
                }
            }
            self.sched.state.repair_gpus(node, gpus, now);
        }
        for &rack in &strike.racks {
            self.sched.state.nodes.as_mut().expect("nodes").rack_down[rack] = false;
            let held = self.outages().held_back.remove(&rack).unwrap_or_default();
            for (node, gpus) in held {
                self.sched.state.repair_gpus(node, gpus, now);
            }
        }
        self.outages().log[record].repaired_s = now;
        if let Some(index) = process {
            let outages = self.outages.as_mut().expect("a run with failures");
            let process = &mut outages.inputs.processes[index];
            if process.weibull {
                let unit = process.repaired_unit(&strike, &outages.inputs.units);
                process.install(&[unit], now, outages.draws.as_mut());
                let when = process.next_candidate(now, outages.draws.as_mut());
                self.schedule_process(index, when); // its clocks changed
            }
        }
        self.sched.capacity_added();
        if self.sched.has_waiting() {
            self.request_pass();
        }
    }

    /// A failure stopped `job`: it goes back to the queue (or fails for good).
    fn interrupt(&mut self, job: usize, reason: Code) {
        let now = self.now;
        let requeued = self.sched.interrupt(job, now, reason);
        self.close_segment(job, now);
        if requeued {
            self.status[job] = status::QUEUED;
            self.arm_timer(job, false);
        } else {
            self.status[job] = status::FAILED;
            self.end[job] = now;
        }
    }

    /// A failed node of `job` was swapped for a hot spare: it restarts where it is.
    fn restart_in_place(&mut self, job: usize, node: usize, spare: usize, reason: Code) {
        let now = self.now;
        let pool = self.running[job].expect("a running job").1;
        let run_s = self.sched.restart_in_place(job, now, node, spare, reason);
        self.close_segment(job, now);
        let Some(run_s) = run_s else {
            self.status[job] = status::FAILED;
            self.end[job] = now;
            return;
        };
        self.epoch[job] += 1;
        self.running[job] = Some((now, pool));
        self.running_order.push((job, self.epoch[job]));
        self.at(now + run_s, JOB_END, (job, self.epoch[job]));
        self.arm_timer(job, true);
    }
}

/// The job holding the `held_index`-th held GPU of a node (none if the GPU was free).
fn holder(on_node: &[(usize, i64)], held_index: i64) -> Option<usize> {
    if held_index < 0 {
        return None;
    }
    let mut index = held_index;
    for &(job, gpus) in on_node {
        if index < gpus {
            return Some(job);
        }
        index -= gpus;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gpu_failure_stops_the_job_holding_that_gpu() {
        let on_node = [(3, 2), (7, 4)];
        assert_eq!(holder(&on_node, -1), None); // a free GPU
        assert_eq!(holder(&on_node, 1), Some(3));
        assert_eq!(holder(&on_node, 2), Some(7));
        assert_eq!(holder(&on_node, 6), None);
    }
}
