//! The event loop of a run (`gpufleet.sim.simulation.Simulation` over `sim.engine.Engine`):
//! capacity changes, arrivals, ends, scheduling passes and hourly samples, in the Python
//! engine's order: a heap keyed (time, priority, sequence).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::panic::{catch_unwind, AssertUnwindSafe};

mod outages;

pub use outages::{FailureInputs, FailureRecord, Injected};

use crate::layout::Layout;
use crate::progress::py_max;
use crate::reservation::Spare;
use crate::scheduler::{reason, Scheduler, Shape, Start};
use crate::Time;

const CAPACITY: u8 = 0;
const JOB_END: u8 = 1;
const ARRIVAL: u8 = 2;
const TIMER: u8 = 3;
const SCHEDULE: u8 = 5;
const SAMPLE: u8 = 9;

/// Final state of a job (`Status`), as codes.
pub mod status {
    pub const COMPLETED: u8 = 0;
    pub const TIME_LIMIT: u8 = 1;
    pub const RUNNING: u8 = 2;
    pub const QUEUED: u8 = 3;
    pub const NEVER_FITS: u8 = 4;
    pub const NOT_SUBMITTED: u8 = 5;
    pub const FAILED: u8 = 6;
}

/// What a run is given besides the scheduler: per-job arrays and the horizon.
pub struct RunInputs {
    pub submit_s: Vec<f64>,
    pub hits_limit: Vec<bool>,
    pub never_fits: Vec<bool>,
    pub until_s: f64,
    pub sample_times: Vec<f64>,
    pub progress_every: u64,
    /// Time every scheduling pass (wall clock, for the pass benchmark).
    pub time_passes: bool,
}

/// Columns of a finished run.
pub struct RunOutput {
    pub start_s: Vec<f64>,
    pub end_s: Vec<f64>,
    pub status: Vec<u8>,
    pub reason: Vec<reason::Code>,
    pub pool: Vec<i64>,
    pub racks: Vec<i64>,
    pub blocks: Vec<i64>,
    pub reserved_s: Vec<f64>,
    pub history: Vec<(usize, f64, reason::Code)>,
    pub productive_s: Vec<f64>,
    pub lost_s: Vec<f64>,
    pub overhead_s: Vec<f64>,
    pub limit_lost_s: Vec<f64>,
    pub writing_s: Vec<f64>,
    pub preemptions: Vec<i64>,
    /// (job, pool, start, end) of every run segment.
    pub segments: Vec<(usize, usize, f64, f64)>,
    /// (time, free, unusable, startable, stranded, startable utilisation) per sample.
    pub samples: Vec<[f64; 6]>,
    pub capacity_log: Vec<(f64, usize, i64)>,
    pub events: u64,
    pub interruptions: Vec<i64>,
    pub failure_lost_s: Vec<f64>,
    pub failure_overhead_s: Vec<f64>,
    /// The failures, in the order they happened, and the log of hardware in repair.
    pub failures: Vec<FailureRecord>,
    pub failed_log: Vec<(f64, usize, i64)>,
    /// (simulated time, wall nanoseconds) of every scheduling pass, with `time_passes`.
    pub pass_timings: Vec<(f64, u64)>,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    time: Time,
    priority: u8,
    seq: u64,
    /// Which handler (events of one phase share their priority): the priority, or one of
    /// `outages`' kinds.
    kind: u8,
    payload: (usize, u64),
}

/// Why a run ended early.
#[derive(Debug)]
pub enum Failure {
    /// The progress callback asked to stop (Ctrl-C).
    Stopped,
    /// A bug in the core: a panic at simulated time `time_s`, after `events` events.
    Panic { time_s: f64, events: u64, message: String },
}

/// The progress callback: (simulated seconds, jobs finished, events); Err stops the run.
pub type ProgressFn<'p> = &'p mut dyn FnMut(f64, u64, u64) -> Result<(), ()>;

pub struct Simulation<'p> {
    sched: Scheduler,
    inputs: RunInputs,
    heap: BinaryHeap<Reverse<Event>>,
    seq: u64,
    now: f64,
    events: u64,
    start: Vec<f64>,
    end: Vec<f64>,
    status: Vec<u8>,
    pool: Vec<i64>,
    racks: Vec<i64>,
    blocks: Vec<i64>,
    epoch: Vec<u64>,
    running: Vec<Option<(f64, usize)>>,
    /// (job, epoch) in the order runs started (the Python engine's dict order); stale
    /// entries (another epoch) are skipped.
    running_order: Vec<(usize, u64)>,
    segments: Vec<(usize, usize, f64, f64)>,
    samples: Vec<[f64; 6]>,
    pass_requested: bool,
    finished: u64,
    started: Vec<Start>,
    progress: Option<ProgressFn<'p>>,
    outages: Option<outages::Outages<'p>>,
    pass_timings: Vec<(f64, u64)>,
}

impl<'p> Simulation<'p> {
    pub fn new(sched: Scheduler, inputs: RunInputs, progress: Option<ProgressFn<'p>>) -> Self {
        let n = inputs.submit_s.len();
        Simulation {
            sched,
            inputs,
            heap: BinaryHeap::new(),
            seq: 0,
            now: 0.0,
            events: 0,
            start: vec![f64::NAN; n],
            end: vec![f64::NAN; n],
            status: vec![status::NOT_SUBMITTED; n],
            pool: vec![-1; n],
            racks: vec![0; n],
            blocks: vec![0; n],
            epoch: vec![0; n],
            running: vec![None; n],
            running_order: Vec::new(),
            segments: Vec::new(),
            samples: Vec::new(),
            pass_requested: false,
            finished: 0,
            started: Vec::new(),
            progress,
            outages: None,
            pass_timings: Vec::new(),
        }
    }

    fn at(&mut self, time: f64, priority: u8, payload: (usize, u64)) {
        self.at_kind(time, priority, priority, payload);
    }

    fn at_kind(&mut self, time: f64, priority: u8, kind: u8, payload: (usize, u64)) {
        self.heap.push(Reverse(Event {
            time: Time(time),
            priority,
            seq: self.seq,
            kind,
            payload,
        }));
        self.seq += 1;
    }

    fn pending_at(&self, time: f64) -> bool {
        self.heap.peek().is_some_and(|top| top.0.time.0 <= time)
    }

    /// Simulate to the horizon and return what happened.
    pub fn run(mut self) -> Result<RunOutput, Failure> {
        let until = self.inputs.until_s;
        let changes = self.sched.state.layout.changes.clone();
        for (index, change) in changes.iter().enumerate() {
            if change.time_s <= until {
                self.at(py_max(change.time_s, 0.0), CAPACITY, (index, 0));
            }
        }
        if !self.inputs.submit_s.is_empty() && self.inputs.submit_s[0] <= until {
            self.at(self.inputs.submit_s[0], ARRIVAL, (0, 0));
        }
        if !self.inputs.sample_times.is_empty() {
            self.at(self.inputs.sample_times[0], SAMPLE, (0, 0));
        }
        if self.outages.is_some() {
            self.start_outages();
        }
        let every = self.inputs.progress_every;
        let mut next_report = self.events + every;
        while self.heap.peek().is_some_and(|top| top.0.time.0 <= until) {
            let Reverse(event) = self.heap.pop().expect("an event");
            self.now = event.time.0;
            let handled = catch_unwind(AssertUnwindSafe(|| match event.kind {
                CAPACITY => self.on_capacity(&changes[event.payload.0]),
                JOB_END => self.on_job_end(event.payload.0, event.payload.1),
                ARRIVAL => self.on_arrival(event.payload.0),
                TIMER => self.on_timer(event.payload.0, event.payload.1),
                SCHEDULE => self.on_schedule(),
                SAMPLE => self.on_sample(event.payload.0),
                outages::FAILURE => self.on_failure(event.payload.0, event.payload.1),
                outages::INJECTED => self.on_injected(event.payload.0),
                outages::REPAIR => self.on_repair(event.payload.0),
                other => unreachable!("no event of kind {other}"),
            }));
            if let Err(payload) = handled {
                let message = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".to_string());
                return Err(Failure::Panic {
                    time_s: self.now,
                    events: self.events,
                    message,
                });
            }
            self.events += 1;
            if self.events >= next_report {
                let (now, finished, events) = (self.now, self.finished, self.events);
                if let Some(progress) = self.progress.as_mut() {
                    progress(now, finished, events).map_err(|()| Failure::Stopped)?;
                }
                next_report = self.events + every;
            }
        }
        self.now = until;
        let (finished, events) = (self.finished, self.events);
        if let Some(progress) = self.progress.as_mut() {
            progress(until, finished, events).map_err(|()| Failure::Stopped)?;
        }
        catch_unwind(AssertUnwindSafe(|| self.record())).map_err(|_| Failure::Panic {
            time_s: until,
            events,
            message: "while recording the run".to_string(),
        })
    }

    fn on_capacity(&mut self, change: &crate::layout::Change) {
        if change.retire {
            self.sched
                .state
                .retire(change.pool, change.rack_lo, change.rack_hi, self.now);
            self.sched.capacity_lost();
        } else {
            self.sched
                .state
                .deliver(change.pool, change.rack_lo, change.rack_hi, self.now);
            self.sched.capacity_added();
        }
        if self.outages.is_some() {
            self.outages_on_capacity(change);
        }
        self.request_pass();
    }

    fn on_arrival(&mut self, job: usize) {
        let following = job + 1;
        if following < self.inputs.submit_s.len() && self.inputs.submit_s[following] <= self.inputs.until_s {
            self.at(self.inputs.submit_s[following], ARRIVAL, (following, 0));
        }
        if self.inputs.never_fits[job] {
            self.status[job] = status::NEVER_FITS;
            return;
        }
        self.status[job] = status::QUEUED;
        self.sched.submit(job);
        self.request_pass();
    }

    fn on_job_end(&mut self, job: usize, epoch: u64) {
        if epoch != self.epoch[job] {
            return;
        }
        let now = self.now;
        let limited = self.sched.progress.at_limit[job] || self.inputs.hits_limit[job];
        self.sched.end(job, now);
        self.close_segment(job, now);
        self.end[job] = now;
        self.status[job] = if limited { status::TIME_LIMIT } else { status::COMPLETED };
        self.finished += 1;
        if self.sched.has_waiting() {
            self.request_pass();
        }
    }

    fn on_schedule(&mut self) {
        self.pass_requested = false;
        let now = self.now;
        let mut started = std::mem::take(&mut self.started);
        if self.inputs.time_passes {
            let began = std::time::Instant::now();
            self.sched.schedule(now, &mut started);
            let took = u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX);
            self.pass_timings.push((now, took));
        } else {
            self.sched.schedule(now, &mut started);
        }
        for start in started.drain(..) {
            let job = start.job;
            if start.preempted {
                self.close_segment(job, now);
                self.status[job] = status::QUEUED;
                self.arm_timer(job, false);
                continue;
            }
            if self.start[job].is_nan() {
                self.start[job] = now;
                self.pool[job] = start.pool as i64;
                self.racks[job] = start.n_racks;
                self.blocks[job] = start.blocks;
            }
            self.status[job] = status::RUNNING;
            self.epoch[job] += 1;
            self.running[job] = Some((now, start.pool));
            self.running_order.push((job, self.epoch[job]));
            self.at(now + start.run_s, JOB_END, (job, self.epoch[job]));
            self.arm_timer(job, true);
        }
        self.started = started;
    }

    fn on_sample(&mut self, index: usize) {
        let now = self.now;
        let shapes = self.sched.shapes();
        let waiting_ids = self.sched.shapes_waiting();
        let mut present_ids = waiting_ids.clone();
        present_ids.extend(self.sched.shapes_running());
        let waiting: Vec<&Shape> = waiting_ids.iter().map(|&s| &shapes[s]).collect();
        let present: Vec<&Shape> = present_ids.iter().map(|&s| &shapes[s]).collect();
        let state = &self.sched.state;
        let allocated: i64 = state.allocated_gpus.iter().sum();
        let reserved = self.sched.reserved_spare();
        let spare = reserved.as_ref().and_then(|r| r.spare.as_ref());
        let room = headroom(&state.avail, &state.layout, &waiting, &present, spare);
        drop(reserved);
        let total = allocated + room.startable;
        let utilisation = if total > 0 {
            allocated as f64 / total as f64
        } else {
            0.0
        };
        let unusable = self.sched.unusable_gpus();
        self.samples.push([
            now,
            room.free as f64,
            unusable as f64,
            room.startable as f64,
            room.stranded as f64,
            utilisation,
        ]);
        if index + 1 < self.inputs.sample_times.len() {
            self.at(self.inputs.sample_times[index + 1], SAMPLE, (index + 1, 0));
        }
    }

    /// A policy timer (las' demotions and promotions) for `job`, if its rank will move.
    fn arm_timer(&mut self, job: usize, running: bool) {
        let now = self.now;
        if let Some(when) = self.sched.next_change(job, now, running) {
            if when <= self.inputs.until_s {
                self.at(py_max(when, now), TIMER, (job, self.epoch[job]));
            }
        }
    }

    fn on_timer(&mut self, job: usize, epoch: u64) {
        if epoch != self.epoch[job] {
            return;
        }
        let running = self.running[job].is_some();
        self.sched.on_timer(job, running);
        self.sched.rerank(job);
        self.arm_timer(job, running);
        self.request_pass();
    }

    fn request_pass(&mut self) {
        if self.pass_requested {
            return;
        }
        if self.pending_at(self.now) {
            self.pass_requested = true;
            self.at(self.now, SCHEDULE, (0, 0));
        } else {
            self.on_schedule();
        }
    }

    fn close_segment(&mut self, job: usize, now: f64) {
        self.epoch[job] += 1;
        let (since, pool) = self.running[job].take().expect("a running job");
        self.segments.push((job, pool, since, now));
    }

    fn record(mut self) -> RunOutput {
        self.sched.explain_waiting();
        let until = self.inputs.until_s;
        let mut productive = self.sched.progress.done_s.clone();
        for &(job, epoch) in &self.running_order {
            if let (Some((since, pool)), true) = (self.running[job], self.epoch[job] == epoch) {
                self.segments.push((job, pool, since, until));
                productive[job] += self.sched.progress.running_productive_s(job, until);
            }
        }
        let reason = (0..self.status.len())
            .map(|job| {
                if self.inputs.never_fits[job] {
                    reason::NEVER_FITS
                } else if self.status[job] == status::TIME_LIMIT {
                    reason::TIME_LIMIT
                } else if self.status[job] == status::QUEUED || self.status[job] == status::FAILED {
                    self.sched.reason[job]
                } else {
                    reason::NONE
                }
            })
            .collect();
        let (failures, failed_log) = match self.outages.take() {
            Some(outages) => (
                outages.log,
                self.sched.state.nodes.take().map(|n| n.failed_log).unwrap_or_default(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let sched = self.sched;
        let progress = sched.progress;
        RunOutput {
            start_s: self.start,
            end_s: self.end,
            status: self.status,
            reason,
            pool: self.pool,
            racks: self.racks,
            blocks: self.blocks,
            reserved_s: sched.reserved_s,
            history: sched.history,
            productive_s: productive,
            lost_s: progress.lost_s,
            overhead_s: progress.overhead_s,
            limit_lost_s: progress.limit_lost_s,
            writing_s: progress.writing_s,
            preemptions: progress.preemptions,
            segments: self.segments,
            samples: self.samples,
            capacity_log: sched.state.capacity_log,
            events: self.events,
            interruptions: progress.interruptions,
            failure_lost_s: progress.failure_lost_s,
            failure_overhead_s: progress.failure_overhead_s,
            failures,
            failed_log,
            pass_timings: self.pass_timings,
        }
    }
}

/// Free GPUs at one instant (`sched.headroom.Headroom`, without what is allocated).
pub struct Room {
    pub free: i64,
    pub startable: i64,
    pub stranded: i64,
}

fn fits(capacity: &[i64], layout: &Layout, shape: &Shape, whole_groups: &mut Vec<((usize, i64), i64)>) -> bool {
    let needed = shape.gpus / shape.group;
    for &p in &shape.pools {
        let pool = &layout.pools[p];
        let racks = pool.rack_lo..pool.rack_hi;
        if shape.within_block {
            let mut per_block = vec![0i64; pool.n_blocks];
            for rack in racks.clone() {
                per_block[layout.block_in_pool[rack]] += capacity[rack] / shape.group;
            }
            if !racks.is_empty() && per_block.iter().copied().max().unwrap_or(0) >= needed {
                return true;
            }
            continue;
        }
        let known = match whole_groups.iter().find(|(key, _)| *key == (p, shape.group)) {
            Some((_, count)) => *count,
            None => {
                let count = capacity[racks].iter().map(|free| free / shape.group).sum();
                whole_groups.push(((p, shape.group), count));
                count
            }
        };
        if known >= needed {
            return true;
        }
    }
    false
}

fn usable_gpus(avail: &[i64], layout: &Layout, groups: &[(usize, i64)]) -> i64 {
    let mut best = vec![0i64; avail.len()];
    for &(p, group) in groups {
        let pool = &layout.pools[p];
        for rack in pool.rack_lo..pool.rack_hi {
            best[rack] = best[rack].max(avail[rack] / group * group);
        }
    }
    best.iter().sum()
}

/// Startable and stranded GPUs of the free GPUs `avail` (`sched.headroom.headroom`).
pub fn headroom(avail: &[i64], layout: &Layout, waiting: &[&Shape], present: &[&Shape], spare: Option<&Spare>) -> Room {
    let free: i64 = avail.iter().sum();
    let startable = if waiting.is_empty() {
        free
    } else {
        let capped: Vec<i64>;
        let capacity = match spare {
            Some(spare) => {
                let mut copy = avail.to_vec();
                for (rack, left) in spare.constrained() {
                    copy[rack] = copy[rack].min(left);
                }
                capped = copy;
                &capped[..]
            }
            None => avail,
        };
        let mut whole_groups = Vec::new();
        let mut groups: Vec<(usize, i64)> = Vec::new();
        for shape in waiting {
            if fits(capacity, layout, shape, &mut whole_groups) {
                groups.extend(shape.pools.iter().map(|&p| (p, shape.group)));
            }
        }
        groups.sort_unstable();
        groups.dedup();
        usable_gpus(capacity, layout, &groups)
    };
    let stranded = if present.is_empty() {
        0
    } else {
        let mut groups: Vec<(usize, i64)> = present
            .iter()
            .flat_map(|s| s.pools.iter().map(|&p| (p, s.group)))
            .collect();
        groups.sort_unstable();
        groups.dedup();
        free - usable_gpus(avail, layout, &groups)
    };
    Room {
        free,
        startable,
        stranded,
    }
}
