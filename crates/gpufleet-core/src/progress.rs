//! How far each job has got (`gpufleet.sched.progress.JobProgress`), for runs without
//! per-type speeds: a run ends by finishing, at its wall-clock limit, stopped by a failure
//! (keeping its checkpointed work), or by a preemption (at checkpoint cost, or free: the work
//! of a freely preempted job is counted exactly, as Python's `Fraction`s count it, so any
//! number of preemptions adds no rounding).

use std::collections::HashMap;

use num_rational::BigRational;
use num_traits::ToPrimitive;

/// Per-job progress; the float steps are those of the Python engine, in its order.
pub struct Progress {
    pub work_s: Vec<f64>,
    pub estimate_s: Vec<f64>,
    pub checkpoint_s: Vec<f64>,
    pub limit_s: Vec<f64>,
    pub restart_overhead_s: f64,
    pub write_s: f64,
    pub at_limit: Vec<bool>,
    pub starts: Vec<u32>,
    pub preemptions: Vec<i64>,
    pub done_s: Vec<f64>,
    pub held_s: Vec<f64>,
    pub lost_s: Vec<f64>,
    pub limit_lost_s: Vec<f64>,
    pub overhead_s: Vec<f64>,
    pub writing_s: Vec<f64>,
    pub segment_start: Vec<f64>,
    overhead: Vec<f64>,
    /// Failures that stopped each job, and the work and restart overhead they cost.
    pub interruptions: Vec<i64>,
    pub failure_lost_s: Vec<f64>,
    pub failure_overhead_s: Vec<f64>,
    restarting_after_failure: Vec<bool>,
    /// Per job, its gang's expected interruptions a second, when backfill plans for failures
    /// (`scheduler.plan_for_failures`).
    pub rate_per_s: Option<Vec<f64>>,
    /// Per job, its GPUs (set by the caller; empty: service is not counted).
    pub gpus: Vec<f64>,
    /// GPU-seconds of service had in finished and stopped segments.
    pub attained_gpu_s: Vec<f64>,
    pub last_stop_s: Vec<f64>,
    pub last_run_s: Vec<f64>,
    /// `preemption_cost: none`: a preempted job keeps all its work and restarts without overhead.
    pub free_preemption: bool,
    /// Per job stopped by a free preemption: the next start has no overhead.
    resume_free: Vec<bool>,
    /// Exact work done of the jobs freely preempted.
    done_exact: HashMap<usize, BigRational>,
}

fn exact(value: f64) -> BigRational {
    BigRational::from_float(value).expect("a finite float")
}

/// Python's `float(Fraction)`: the nearest float, ties to even.
fn nearest(value: &BigRational) -> f64 {
    value.to_f64().expect("a float")
}

impl Progress {
    pub fn new(
        work_s: Vec<f64>,
        estimate_s: Vec<f64>,
        checkpoint_s: Vec<f64>,
        limit_s: Vec<f64>,
        restart_overhead_s: f64,
        write_s: f64,
    ) -> Self {
        let n = work_s.len();
        Progress {
            work_s,
            estimate_s,
            checkpoint_s,
            limit_s,
            restart_overhead_s,
            write_s,
            at_limit: vec![false; n],
            starts: vec![0; n],
            preemptions: vec![0; n],
            done_s: vec![0.0; n],
            held_s: vec![0.0; n],
            lost_s: vec![0.0; n],
            limit_lost_s: vec![0.0; n],
            overhead_s: vec![0.0; n],
            writing_s: vec![0.0; n],
            segment_start: vec![f64::NAN; n],
            overhead: vec![0.0; n],
            interruptions: vec![0; n],
            failure_lost_s: vec![0.0; n],
            failure_overhead_s: vec![0.0; n],
            restarting_after_failure: vec![false; n],
            rate_per_s: None,
            gpus: Vec::new(),
            attained_gpu_s: vec![0.0; n],
            last_stop_s: vec![f64::NAN; n],
            last_run_s: vec![0.0; n],
            free_preemption: false,
            resume_free: vec![false; n],
            done_exact: HashMap::new(),
        }
    }

    fn overhead_before_start(&self, job: usize) -> f64 {
        if self.starts[job] > 0 && !self.resume_free[job] {
            self.restart_overhead_s
        } else {
            0.0
        }
    }

    /// Work left (`_left`): exact for a job freely preempted.
    fn left(&self, job: usize) -> f64 {
        match self.done_exact.get(&job) {
            Some(done) => nearest(&(exact(self.work_s[job]) - done)),
            None => self.work_s[job] - self.done_s[job],
        }
    }

    /// Running time to do `work` more seconds of work, checkpoint writes included.
    fn time_for(&self, job: usize, work: f64) -> f64 {
        if work <= 0.0 {
            return 0.0;
        }
        work + self.write_s * ((work / self.checkpoint_s[job]).ceil() - 1.0)
    }

    /// The job starts at `now`; how long it will run if nothing stops it.
    pub fn start(&mut self, job: usize, now: f64) -> f64 {
        let overhead = self.overhead_before_start(job);
        self.overhead[job] = overhead;
        self.resume_free[job] = false;
        self.starts[job] += 1;
        self.segment_start[job] = now;
        let run = overhead + self.time_for(job, self.left(job));
        let budget = self.limit_s[job] - self.held_s[job];
        self.at_limit[job] = run > budget;
        py_min(run, py_max(budget, 0.0))
    }

    /// What the scheduler expects a start now to take.
    pub fn expected_run_s(&self, job: usize) -> f64 {
        let left = py_max(self.estimate_s[job] - self.done_s[job], 0.0);
        let rate = self.rate_per_s.as_ref().map_or(0.0, |rates| rates[job]);
        let planned = if rate > 0.0 {
            let restarting = self.overhead_before_start(job) > 0.0;
            expected_time(
                left,
                self.checkpoint_s[job],
                self.write_s,
                self.restart_overhead_s,
                rate,
                restarting,
            )
        } else {
            self.overhead_before_start(job) + self.time_for(job, left)
        };
        py_min(planned, py_max(self.limit_s[job] - self.held_s[job], 0.0))
    }

    /// The run segment ends at `now` by finishing (or reaching its limit).
    pub fn stop_finished(&mut self, job: usize, now: f64) {
        let ran = now - self.segment_start[job];
        let overhead = py_min(ran, self.overhead[job]);
        let working = ran - overhead;
        let writes;
        if self.at_limit[job] {
            self.at_limit[job] = false;
            let (cycles, into, cut_writes) = self.checkpoint_cut(job, working);
            writes = cut_writes;
            let kept = cycles * self.checkpoint_s[job];
            let lost = py_min(into, self.checkpoint_s[job]);
            self.keep(job, kept);
            self.lost_s[job] += lost;
            self.limit_lost_s[job] += lost;
        } else {
            let work = self.left(job);
            self.done_s[job] = self.work_s[job];
            self.done_exact.remove(&job);
            writes = working - work;
        }
        self.writing_s[job] += writes;
        self.overhead_s[job] += overhead;
        self.stopped(job, now, ran, overhead, false);
    }

    /// A failure stops the run segment at `now`: the job keeps the work up to its last
    /// completed checkpoint and loses the rest; its next start pays the restart overhead.
    pub fn stop_failed(&mut self, job: usize, now: f64) {
        self.stop_early(job, now, true);
    }

    /// The run segment ends at `now`, stopped by a preemption: the job keeps its work up to
    /// its last checkpoint and loses the rest (`JobProgress.stop`, finished=False).
    pub fn stop_preempted(&mut self, job: usize, now: f64) {
        self.stop_early(job, now, false);
    }

    /// A segment cut after `working` seconds of checkpoint cycles: (whole cycles, seconds into
    /// the last one, seconds spent writing), with `JobProgress.stop`'s float steps.
    fn checkpoint_cut(&self, job: usize, working: f64) -> (f64, f64, f64) {
        let cycle = self.checkpoint_s[job] + self.write_s;
        let cycles = (working / cycle).floor();
        let into = working - cycles * cycle;
        (
            cycles,
            into,
            cycles * self.write_s + py_max(into - self.checkpoint_s[job], 0.0),
        )
    }

    /// `JobProgress.stop` with finished=False, by a failure or a preemption.
    fn stop_early(&mut self, job: usize, now: f64, failure: bool) {
        let ran = now - self.segment_start[job];
        let overhead = py_min(ran, self.overhead[job]);
        let working = ran - overhead;
        let (cycles, into, mut writes) = self.checkpoint_cut(job, working);
        let lost;
        if self.free_preemption && !failure {
            lost = 0.0;
            if self.write_s == 0.0 {
                writes = 0.0; // no cycle rounding: every second worked is kept
            }
            let worked = exact(now) - exact(self.segment_start[job]) - exact(overhead) - exact(writes);
            let done = match self.done_exact.remove(&job) {
                Some(done) => done + worked,
                None => exact(self.done_s[job]) + worked,
            };
            self.done_s[job] = nearest(&done);
            self.done_exact.insert(job, done);
            self.resume_free[job] = true;
        } else {
            lost = py_min(into, self.checkpoint_s[job]);
            self.keep(job, cycles * self.checkpoint_s[job]);
        }
        self.lost_s[job] += lost;
        if failure {
            self.interruptions[job] += 1;
            self.failure_lost_s[job] += lost;
        } else {
            self.preemptions[job] += 1;
        }
        self.writing_s[job] += writes;
        self.overhead_s[job] += overhead;
        self.stopped(job, now, ran, overhead, failure);
    }

    /// Work `kept` up to the last checkpoint joins the work done (exactly, after a free preemption).
    fn keep(&mut self, job: usize, kept: f64) {
        match self.done_exact.get_mut(&job) {
            Some(done) => {
                *done += exact(kept);
                self.done_s[job] = nearest(done);
            }
            None => self.done_s[job] += kept,
        }
    }

    /// The bookkeeping every stop ends with (`JobProgress.stop`'s last steps).
    fn stopped(&mut self, job: usize, now: f64, ran: f64, overhead: f64, failure: bool) {
        if self.restarting_after_failure[job] {
            self.failure_overhead_s[job] += overhead;
        }
        self.restarting_after_failure[job] = failure;
        if !self.gpus.is_empty() {
            self.attained_gpu_s[job] += ran * self.gpus[job];
        }
        self.held_s[job] += ran;
        self.last_run_s[job] = ran;
        self.last_stop_s[job] = now;
        self.segment_start[job] = f64::NAN;
    }

    /// GPU-seconds of service the job has had, including a run in progress.
    pub fn attained_now(&self, job: usize, now: f64) -> f64 {
        let started = self.segment_start[job];
        let running = if started.is_nan() { 0.0 } else { now - started };
        self.attained_gpu_s[job] + running * self.gpus[job]
    }

    /// Wall seconds of work of the segment running since `segment_start` up to `until`.
    pub fn running_productive_s(&self, job: usize, until: f64) -> f64 {
        let working = py_max(until - self.segment_start[job] - self.overhead[job], 0.0);
        let cycle = self.checkpoint_s[job] + self.write_s;
        let cycles = py_floordiv(working, cycle);
        working - cycles * self.write_s - py_max(working - cycles * cycle - self.checkpoint_s[job], 0.0)
    }
}

const EXP_MAX: f64 = 700.0; // exp overflows a float just above 709

/// (e^{rate length} - 1) / rate: expected time to get `length` through without a failure.
fn retry_cost(length: f64, rate: f64) -> f64 {
    let exponent = rate * length;
    if exponent < EXP_MAX {
        exponent.exp_m1() / rate
    } else {
        f64::INFINITY
    }
}

/// Expected wall time to finish `work` under failures of rate `rate`
/// (`gpufleet.failures.ettr.expected_time`, the same libm calls in the same order).
pub fn expected_time(work: f64, interval: f64, write: f64, restart: f64, rate: f64, restarting: bool) -> f64 {
    let cycles = if work > 0.0 {
        py_max((work / interval).ceil() - 1.0, 0.0)
    } else {
        0.0
    };
    let last = work - cycles * interval;
    if rate <= 0.0 {
        return (if restarting { restart } else { 0.0 }) + work + cycles * write;
    }
    let grow = rate * restart;
    if grow >= EXP_MAX {
        return f64::INFINITY;
    }
    let mut total = grow.exp() * (cycles * retry_cost(interval + write, rate) + retry_cost(last, rate));
    if restarting {
        total += grow.exp_m1() / rate;
    }
    total
}

/// Python's `min(a, b)`: `a` unless `b < a`.
pub fn py_min(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// Python's `max(a, b)`: `a` unless `b > a`.
pub fn py_max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// Python's float `a // b` (CPython's float_floor_div: fmod, then corrections).
pub fn py_floordiv(a: f64, b: f64) -> f64 {
    let modulo = a % b;
    let mut div = (a - modulo) / b;
    if modulo != 0.0 && ((b < 0.0) != (modulo < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let floordiv = div.floor();
        if div - floordiv > 0.5 {
            floordiv + 1.0
        } else {
            floordiv
        }
    } else {
        0.0f64.copysign(a / b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_run_keeps_its_work_and_counts_its_writes() {
        let mut progress = Progress::new(vec![10.0], vec![10.0], vec![4.0], vec![f64::INFINITY], 60.0, 1.0);
        // 10 s of work in cycles of 4: two writes of 1 s.
        assert_eq!(progress.expected_run_s(0), 12.0);
        assert_eq!(progress.start(0, 100.0), 12.0);
        progress.stop_finished(0, 112.0);
        assert_eq!(
            (progress.done_s[0], progress.writing_s[0], progress.lost_s[0]),
            (10.0, 2.0, 0.0)
        );
    }

    #[test]
    fn a_run_stopped_at_its_limit_keeps_its_checkpoints() {
        let mut progress = Progress::new(vec![10.0], vec![10.0], vec![4.0], vec![7.0], 60.0, 1.0);
        assert_eq!(progress.start(0, 0.0), 7.0);
        assert!(progress.at_limit[0]);
        progress.stop_finished(0, 7.0);
        // One cycle of 5 s (4 kept, 1 written), then 2 s lost.
        assert_eq!(
            (progress.done_s[0], progress.writing_s[0], progress.lost_s[0]),
            (4.0, 1.0, 2.0)
        );
        assert_eq!(progress.limit_lost_s[0], 2.0);
    }

    #[test]
    fn a_failure_keeps_the_checkpoints_and_the_restart_costs_overhead() {
        let mut progress = Progress::new(vec![10.0], vec![10.0], vec![4.0], vec![f64::INFINITY], 3.0, 1.0);
        assert_eq!(progress.start(0, 0.0), 12.0);
        progress.stop_failed(0, 7.0);
        // One cycle of 5 s (4 kept, 1 written), then 2 s lost.
        assert_eq!(
            (progress.done_s[0], progress.lost_s[0], progress.failure_lost_s[0]),
            (4.0, 2.0, 2.0)
        );
        assert_eq!(progress.interruptions[0], 1);
        // The restart pays 3 s of overhead, then 6 s of work with one write.
        assert_eq!(progress.expected_run_s(0), 3.0 + 6.0 + 1.0);
        assert_eq!(progress.start(0, 20.0), 10.0);
        progress.stop_finished(0, 30.0);
        assert_eq!((progress.done_s[0], progress.overhead_s[0]), (10.0, 3.0));
        assert_eq!((progress.failure_overhead_s[0], progress.writing_s[0]), (3.0, 2.0));
    }

    #[test]
    fn expected_time_without_failures_is_the_run_time() {
        // 10 s of work in cycles of 4 with 1 s writes: 12 s, plus the restart when restarting.
        assert_eq!(expected_time(10.0, 4.0, 1.0, 3.0, 0.0, false), 12.0);
        assert_eq!(expected_time(10.0, 4.0, 1.0, 3.0, 0.0, true), 15.0);
        // A tiny rate costs a little more; the exact renewal formula by hand:
        let rate: f64 = 1e-3;
        let by_hand = (rate * 3.0).exp() * (2.0 * (rate * 5.0).exp_m1() / rate + (rate * 2.0).exp_m1() / rate);
        assert_eq!(expected_time(10.0, 4.0, 1.0, 3.0, rate, false), by_hand);
        assert!(by_hand > 12.0 && by_hand < 12.1);
    }

    #[test]
    fn a_preempted_run_keeps_its_checkpoints_and_restarts_with_overhead() {
        let mut progress = Progress::new(vec![10.0], vec![10.0], vec![4.0], vec![f64::INFINITY], 3.0, 1.0);
        assert_eq!(progress.start(0, 0.0), 12.0);
        progress.stop_preempted(0, 7.0);
        // One cycle of 5 s (4 kept, 1 written), then 2 s lost.
        assert_eq!(
            (progress.done_s[0], progress.writing_s[0], progress.lost_s[0]),
            (4.0, 1.0, 2.0)
        );
        assert_eq!(progress.preemptions[0], 1);
        // 6 s of work left in cycles of 4 (one write), after 3 s of restart overhead.
        assert_eq!(progress.expected_run_s(0), 10.0);
        assert_eq!(progress.start(0, 7.0), 10.0);
        progress.stop_finished(0, 17.0);
        assert_eq!(progress.done_s[0], 10.0);
        assert_eq!((progress.overhead_s[0], progress.writing_s[0]), (3.0, 2.0));
    }

    #[test]
    fn a_free_preemption_keeps_every_second_worked_exactly() {
        // Python: p = JobProgress([1.0], [1.0], [1], [1e9], 600.0, free_preemption=True);
        // p.start(0, 0.0); p.stop(0, 0.1, False); p.start(0, 0.1) -> 0.9; p.stop(0, 0.3, False);
        // p.start(0, 0.3) -> 0.7: 1 - 0.1 - (0.3 - 0.1) counted exactly, then rounded once (float
        // steps would give 0.7000000000000001).
        let mut progress = Progress::new(vec![1.0], vec![1.0], vec![1e9], vec![f64::INFINITY], 600.0, 0.0);
        progress.free_preemption = true;
        assert_eq!(progress.start(0, 0.0), 1.0);
        progress.stop_preempted(0, 0.1);
        assert_eq!((progress.done_s[0], progress.lost_s[0]), (0.1, 0.0));
        assert_eq!(progress.start(0, 0.1), 0.9); // no restart overhead
        progress.stop_preempted(0, 0.3);
        assert_eq!(progress.start(0, 0.3), 0.7);
        assert_eq!(progress.preemptions[0], 2);
        assert_eq!(progress.overhead_s[0], 0.0);
    }

    #[test]
    fn floor_division_matches_python() {
        assert_eq!(py_floordiv(7.0, 2.0), 3.0);
        assert_eq!(py_floordiv(0.3, 0.1), 2.0); // Python: 0.3 // 0.1 == 2.0
        assert_eq!(py_floordiv(-7.0, 2.0), -4.0);
        assert_eq!(py_floordiv(0.0, 3.0), 0.0);
    }
}
