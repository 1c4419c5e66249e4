//! Queue-ordering policies (`gpufleet.sched.policies`): a waiting job's key, and for the
//! preemptive ones (srtf, srsf, fgf_preemptive, las) which running jobs a waiting job
//! takes the place of, how victims rank, and las' timers (demotion, promotion).
//!
//! Policies whose keys never move (fifo, priority, sjf, fgf) order by values the bridge
//! computes; srtf, srsf and las compute theirs when a job is queued, from its progress
//! then, with the Python policy's float steps.

use crate::predictor::Predictor;
use crate::progress::{py_max, Progress};

/// Which policy orders the queue.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// Keys from the bridge (fifo, priority, sjf, fgf), never preempting.
    Static,
    /// sjf with predicted run times: the prediction when the job is queued.
    Sjf,
    /// fgf_preemptive: keys from the bridge (GPUs); a waiting job preempts jobs with more GPUs.
    FgfPreemptive,
    /// Shortest remaining (estimated) time first.
    Srtf,
    /// Shortest remaining service (time left x GPUs) first.
    Srsf,
    /// Tiresias' discretised 2D-LAS: queues by attained GPU-seconds, starvation guard.
    Las {
        thresholds_gpu_s: Vec<f64>,
        starvation_factor: Option<f64>,
    },
    /// Weighted dominant-resource fair share between queues (keys from the bridge: priority,
    /// then submit order), with usage decayed at `decay` per second (None: GPUs held now).
    Drf {
        weights: Vec<f64>,
        flavor_of_pool: Vec<usize>,
        n_flavors: usize,
        decay: Option<f64>,
    },
}

/// A queue's rank between queues (smaller first): drf's (dominant share, sum of shares).
pub type Rank = (f64, f64);

/// A policy and the per-job state it keeps.
pub struct Policy {
    pub kind: Kind,
    /// Per job, its key value for `Kind::Static` and `Kind::FgfPreemptive`.
    pub values: Vec<i64>,
    /// las: per job, service already counted when it was promoted.
    baseline: Vec<f64>,
    /// las: per job, the queue a demotion timer moved it to (immune to rounding).
    reached: Vec<usize>,
    /// las: per job, the queue it was in when its demotion timer was set.
    armed: Vec<usize>,
    /// drf: per (queue, flavor), GPUs held now and decayed GPU-seconds; per queue, when
    /// its usage was last brought up to date.
    held: Vec<f64>,
    usage: Vec<f64>,
    updated: Vec<f64>,
    /// sjf, srtf, srsf with `estimates: predicted` (None: the jobs' own estimates).
    pub predictor: Option<Predictor>,
}

/// An int64 in the order of the float `value` (`gpufleet.sim.native._float_order`).
pub fn float_order(value: f64) -> i64 {
    let bits = (value + 0.0).to_bits() as i64; // + 0.0 turns -0.0 into 0.0
    if bits < 0 {
        bits ^ i64::MAX
    } else {
        bits
    }
}

impl Policy {
    pub fn new(kind: Kind, values: Vec<i64>) -> Self {
        let n = values.len();
        let (cells, queues) = match &kind {
            Kind::Drf { weights, n_flavors, .. } => (weights.len() * n_flavors, weights.len()),
            _ => (0, 0),
        };
        Policy {
            kind,
            values,
            baseline: vec![0.0; n],
            reached: vec![0; n],
            armed: vec![0; n],
            held: vec![0.0; cells],
            usage: vec![0.0; cells],
            updated: vec![0.0; queues],
            predictor: None,
        }
    }

    /// Whether the policy preempts on its own account.
    pub fn preemptive(&self) -> bool {
        !matches!(self.kind, Kind::Static | Kind::Sjf | Kind::Drf { .. })
    }

    /// Whether queues are ordered against each other (drf), so every pass is a full one.
    pub fn dynamic_queue_order(&self) -> bool {
        matches!(self.kind, Kind::Drf { .. })
    }

    /// drf: bring `queue`'s decayed usage up to `now` (`_catch_up`).
    fn catch_up(&mut self, queue: usize, now: f64) {
        let Kind::Drf {
            n_flavors,
            decay: Some(decay),
            ..
        } = self.kind
        else {
            return;
        };
        let elapsed = now - self.updated[queue];
        if elapsed > 0.0 {
            let fade = (-decay * elapsed).exp();
            let gain = (1.0 - fade) / decay;
            for cell in queue * n_flavors..(queue + 1) * n_flavors {
                self.usage[cell] = self.usage[cell] * fade + self.held[cell] * gain;
            }
            self.updated[queue] = now;
        }
    }

    /// The order between queues (`queue_rank`): drf's weighted dominant share and the sum
    /// of shares over the installed GPUs of each flavor; (0, 0) for the other policies.
    pub fn queue_rank(&mut self, queue: usize, now: f64, installed_gpus: &[i64]) -> Rank {
        let Kind::Drf {
            weights,
            flavor_of_pool,
            n_flavors,
            decay,
        } = &self.kind
        else {
            return (0.0, 0.0);
        };
        let (n_flavors, decay, weight) = (*n_flavors, *decay, weights[queue]);
        let mut capacity = vec![0.0; n_flavors];
        for (pool, &installed) in installed_gpus.iter().enumerate() {
            capacity[flavor_of_pool[pool]] += installed as f64;
        }
        self.catch_up(queue, now);
        let source = if decay.is_none() { &self.held } else { &self.usage };
        let (mut most, mut sum, mut any) = (0.0, 0.0, false);
        for (flavor, &cap) in capacity.iter().enumerate() {
            let cap = match decay {
                Some(decay) => cap / decay,
                None => cap,
            };
            if cap > 0.0 {
                let share = source[queue * n_flavors + flavor] / cap;
                most = if any { py_max(most, share) } else { share };
                sum += share;
                any = true;
            }
        }
        (most / weight, sum / weight)
    }

    /// A job of `queue` started on `pool` (drf counts what the queue holds).
    pub fn on_start(&mut self, queue: usize, pool: usize, gpus: f64, now: f64) {
        self.held_change(queue, pool, gpus, now);
    }

    /// A job of `queue` stopped on `pool`.
    pub fn on_stop(&mut self, queue: usize, pool: usize, gpus: f64, now: f64) {
        self.held_change(queue, pool, -gpus, now);
    }

    fn held_change(&mut self, queue: usize, pool: usize, gpus: f64, now: f64) {
        let Kind::Drf {
            flavor_of_pool,
            n_flavors,
            ..
        } = &self.kind
        else {
            return;
        };
        let cell = queue * n_flavors + flavor_of_pool[pool];
        self.catch_up(queue, now);
        self.held[cell] += gpus;
    }

    /// The key value of a job queued now (smaller first; the job index breaks ties).
    pub fn value(&self, job: usize, progress: &Progress) -> i64 {
        match &self.kind {
            Kind::Static | Kind::FgfPreemptive | Kind::Drf { .. } => self.values[job],
            Kind::Sjf => float_order(self.expected_total_s(job, progress)),
            Kind::Srtf => float_order(self.remaining_s(job, progress)),
            Kind::Srsf => float_order(self.remaining_s(job, progress) * progress.gpus[job]),
            Kind::Las { .. } => self.level(job, progress.attained_gpu_s[job]) as i64,
        }
    }

    /// Whether waiting `job` should take the place of running `victim` (same queue).
    pub fn preempts(&self, job: usize, victim: usize, now: f64, progress: &Progress) -> bool {
        match &self.kind {
            Kind::Static | Kind::Sjf | Kind::Drf { .. } => false,
            Kind::FgfPreemptive => progress.gpus[job] < progress.gpus[victim],
            Kind::Srtf => self.remaining_s(job, progress) < self.running_remaining_s(victim, now, progress),
            Kind::Srsf => {
                self.remaining_s(job, progress) * progress.gpus[job]
                    < self.running_remaining_s(victim, now, progress) * progress.gpus[victim]
            }
            Kind::Las { .. } => {
                self.level(job, progress.attained_gpu_s[job]) < self.level(victim, progress.attained_now(victim, now))
            }
        }
    }

    /// Among allowed victims, larger ranks are preempted first.
    pub fn victim_rank(&self, victim: usize, now: f64, progress: &Progress) -> f64 {
        match &self.kind {
            Kind::Static | Kind::Sjf | Kind::Drf { .. } => 0.0,
            Kind::FgfPreemptive => progress.gpus[victim],
            Kind::Srtf => self.running_remaining_s(victim, now, progress),
            Kind::Srsf => self.running_remaining_s(victim, now, progress) * progress.gpus[victim],
            Kind::Las { .. } => progress.attained_now(victim, now),
        }
    }

    /// las: the queue of a job with `attained` GPU-seconds.
    fn level(&self, job: usize, attained: f64) -> usize {
        let Kind::Las { thresholds_gpu_s, .. } = &self.kind else {
            return 0;
        };
        let service = attained - self.baseline[job];
        let measured = thresholds_gpu_s.partition_point(|&t| t <= service); // bisect_right
        measured.max(self.reached[job])
    }

    /// When the job's rank will change by itself (a timer), or None (`next_change`).
    pub fn next_change(&mut self, job: usize, now: f64, running: bool, progress: &Progress) -> Option<f64> {
        let Kind::Las {
            thresholds_gpu_s,
            starvation_factor,
        } = &self.kind
        else {
            return None;
        };
        if running {
            let attained = progress.attained_now(job, now);
            let level = self.level(job, attained);
            let thresholds = thresholds_gpu_s;
            if level == thresholds.len() {
                return None;
            }
            let target = thresholds[level] + self.baseline[job];
            self.armed[job] = level;
            return Some(now + py_max(target - attained, 0.0) / progress.gpus[job]);
        }
        let factor = (*starvation_factor)?;
        if progress.last_stop_s[job].is_nan() || self.level(job, progress.attained_gpu_s[job]) == 0 {
            return None;
        }
        Some(progress.last_stop_s[job] + factor * progress.last_run_s[job])
    }

    /// A time from `next_change` has come: a demotion (running) or a promotion (waiting).
    pub fn on_timer(&mut self, job: usize, running: bool, progress: &Progress) {
        if !matches!(self.kind, Kind::Las { .. }) {
            return;
        }
        if running {
            self.reached[job] = self.reached[job].max(self.armed[job] + 1);
        } else {
            self.baseline[job] = progress.attained_gpu_s[job];
            self.reached[job] = 0;
        }
    }
}

impl Policy {
    /// A job finished (or reached its limit) after holding its GPUs `held_s` in all: the
    /// predictor learns it (`SjfPolicy.on_stop`).
    pub fn on_finish(&mut self, job: usize, held_s: f64) {
        if let Some(predictor) = self.predictor.as_mut() {
            predictor.observe(job, held_s);
        }
    }

    /// sjf: the job's run time, its estimate or the prediction now (`expected_total_s`).
    fn expected_total_s(&self, job: usize, progress: &Progress) -> f64 {
        match &self.predictor {
            Some(predictor) => predictor.predict(job),
            None => progress.estimate_s[job],
        }
    }

    /// srtf: estimated work left of a job (`SjfPolicy.remaining_s`).
    fn remaining_s(&self, job: usize, progress: &Progress) -> f64 {
        py_max(self.expected_total_s(job, progress) - progress.done_s[job], 0.0)
    }

    /// Estimated work left of a running job, its run so far counted in full.
    fn running_remaining_s(&self, job: usize, now: f64, progress: &Progress) -> f64 {
        let started = progress.segment_start[job];
        let ran = if started.is_nan() { 0.0 } else { now - started };
        py_max(self.remaining_s(job, progress) - ran, 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(gpus: Vec<f64>) -> Progress {
        let n = gpus.len();
        let mut progress = Progress::new(
            vec![100.0; n],
            vec![100.0; n],
            vec![f64::INFINITY; n],
            vec![f64::INFINITY; n],
            0.0,
            0.0,
        );
        progress.gpus = gpus;
        progress
    }

    #[test]
    fn float_order_is_float_order() {
        let values = [-5.5, -1.0, -0.0, 0.0, 1e-300, 2.0, 1e9, f64::INFINITY];
        for pair in values.windows(2) {
            assert!(float_order(pair[0]) <= float_order(pair[1]));
        }
        assert_eq!(float_order(-0.0), float_order(0.0));
    }

    #[test]
    fn las_demotes_a_running_job_when_its_service_crosses_a_threshold() {
        let las = Kind::Las {
            thresholds_gpu_s: vec![3600.0, 36000.0],
            starvation_factor: Some(2.0),
        };
        let mut policy = Policy::new(las, vec![0; 2]);
        let mut progress = progress(vec![4.0, 1.0]);
        progress.start(0, 0.0);
        // 4 GPUs cross 3,600 GPU-seconds after 900 s.
        assert_eq!(policy.next_change(0, 0.0, true, &progress), Some(900.0));
        assert_eq!(policy.value(0, &progress), 0);
        policy.on_timer(0, true, &progress);
        // A waiting job of queue 0 now preempts it.
        assert!(policy.preempts(1, 0, 900.0, &progress));
        progress.stop_preempted(0, 900.0);
        assert_eq!(policy.value(0, &progress), 1);
        // Waiting, it is promoted after twice its last run.
        assert_eq!(policy.next_change(0, 900.0, false, &progress), Some(2700.0));
        policy.on_timer(0, false, &progress);
        assert_eq!(policy.value(0, &progress), 0);
    }

    #[test]
    fn drf_ranks_queues_by_weighted_dominant_share() {
        // Two queues (weights 1 and 2), two flavors of 100 and 50 GPUs, GPUs held now.
        let drf = Kind::Drf {
            weights: vec![1.0, 2.0],
            flavor_of_pool: vec![0, 1],
            n_flavors: 2,
            decay: None,
        };
        let mut policy = Policy::new(drf, vec![0; 2]);
        let installed = [100, 50];
        policy.on_start(0, 0, 20.0, 0.0); // queue 0: 20% of flavor 0
        policy.on_start(1, 1, 20.0, 0.0); // queue 1: 40% of flavor 1, over weight 2
        assert_eq!(policy.queue_rank(0, 0.0, &installed), (0.2, 0.2));
        assert_eq!(policy.queue_rank(1, 0.0, &installed), (0.2, 0.2));
        policy.on_stop(1, 1, 20.0, 1.0);
        assert_eq!(policy.queue_rank(1, 1.0, &installed), (0.0, 0.0));
        assert!(policy.dynamic_queue_order() && !policy.preemptive());
    }

    #[test]
    fn drf_with_a_half_life_decays_usage() {
        let decay = std::f64::consts::LN_2 / 3600.0;
        let drf = Kind::Drf {
            weights: vec![1.0],
            flavor_of_pool: vec![0],
            n_flavors: 1,
            decay: Some(decay),
        };
        let mut policy = Policy::new(drf, vec![0]);
        policy.on_start(0, 0, 10.0, 0.0);
        // An hour of 10 GPUs: 10 x (1 - 1/2) / decay GPU-seconds, over 100 GPUs x 1 / decay.
        let (share, _) = policy.queue_rank(0, 3600.0, &[100]);
        assert!((share - 0.05).abs() < 1e-12, "{share}");
    }

    #[test]
    fn srtf_prefers_the_job_with_least_left() {
        let policy = Policy::new(Kind::Srtf, vec![0; 2]);
        let mut progress = progress(vec![1.0, 1.0]);
        progress.estimate_s[1] = 50.0;
        progress.start(0, 0.0);
        assert!(policy.preempts(1, 0, 40.0, &progress)); // 50 left against 60
        assert!(!policy.preempts(1, 0, 60.0, &progress)); // 50 against 40
        assert_eq!(policy.victim_rank(0, 30.0, &progress), 70.0);
        assert!(policy.value(1, &progress) < policy.value(0, &progress));
    }
}
