//! SkyPilot's autoscaler and a service's replicas (`gpufleet.serving.autoscaler`), with the
//! same float operations in the same order.
//!
//! `Autoscaler::decide(qps)`: desired = ceil(qps / target_qps_per_replica - 1e-9) clamped to
//! [min_replicas, max_replicas]; the target moves up after `upscale_periods` consecutive
//! decisions above it, down after `downscale_periods` below; a decision that agrees resets
//! both counters; from a target of 0 it moves at once.
//!
//! `ReplicaSet`: replicas asked for but not placed (pending), placed and warming up
//! (starting), and serving (ready). `reconcile(target)` asks for replicas or stops the
//! surplus (pending first, then starting, then ready, newest first in each).

use std::collections::VecDeque;

/// A hair below the ratio, so that 460 / 230 asks for 2 replicas, not 3 (`_EPS`).
const EPS: f64 = 1e-9;

/// The replica target of one service, decision by decision.
#[derive(Clone, Debug)]
pub struct Autoscaler {
    pub min_replicas: i64,
    pub max_replicas: i64,
    /// Requests/s per replica; None: no autoscaling (min_replicas).
    pub target_qps_per_replica: Option<f64>,
    pub upscale_periods: i64,
    pub downscale_periods: i64,
    pub target: i64,
    upscale_counter: i64,
    downscale_counter: i64,
}

impl Autoscaler {
    /// A fresh autoscaler (target min_replicas). The periods are `Autoscaler.from_spec`'s,
    /// computed in Python (int(delay / interval + 1e-9)).
    pub fn new(
        min_replicas: i64,
        max_replicas: i64,
        target_qps_per_replica: Option<f64>,
        upscale_periods: i64,
        downscale_periods: i64,
    ) -> Self {
        Autoscaler {
            min_replicas,
            max_replicas,
            target_qps_per_replica,
            upscale_periods,
            downscale_periods,
            target: min_replicas,
            upscale_counter: 0,
            downscale_counter: 0,
        }
    }

    /// ceil(qps / target_qps_per_replica - 1e-9) clamped to [min_replicas, max_replicas].
    pub fn desired(&self, qps: f64) -> i64 {
        let Some(per_replica) = self.target_qps_per_replica else {
            return self.min_replicas;
        };
        let wanted = (qps / per_replica - EPS).ceil();
        // Python's max(min, min(max, wanted)) on the exact integer `wanted`.
        let capped = if wanted >= self.max_replicas as f64 {
            self.max_replicas
        } else {
            wanted as i64
        };
        capped.max(self.min_replicas)
    }

    /// Warm start: the target straight to what `qps` asks for.
    pub fn start(&mut self, qps: f64) -> i64 {
        self.target = self.desired(qps);
        self.upscale_counter = 0;
        self.downscale_counter = 0;
        self.target
    }

    /// One decision on the requests/s measured since the last one; returns the new target.
    pub fn decide(&mut self, qps: f64) -> i64 {
        if self.target_qps_per_replica.is_none() {
            return self.target;
        }
        let desired = self.desired(qps);
        if self.target == 0 {
            self.target = desired;
        } else if desired > self.target {
            self.upscale_counter += 1;
            self.downscale_counter = 0;
            if self.upscale_counter >= self.upscale_periods {
                self.upscale_counter = 0;
                self.target = desired;
            }
        } else if desired < self.target {
            self.downscale_counter += 1;
            self.upscale_counter = 0;
            if self.downscale_counter >= self.downscale_periods {
                self.downscale_counter = 0;
                self.target = desired;
            }
        } else {
            self.upscale_counter = 0;
            self.downscale_counter = 0;
        }
        self.target
    }
}

/// The goal of each decision k of a service whose interval k has `rates[k]` requests/s
/// (`ServingFleet._on_decision`): decision 0 starts from the demand of interval 0 when the
/// service is already running (`warm`), else keeps min_replicas; decision k > 0 decides on
/// the interval just past.
pub fn goals(autoscaler: &mut Autoscaler, rates: &[f64], warm: bool) -> Vec<i64> {
    (0..rates.len())
        .map(|k| match k {
            0 if warm => autoscaler.start(rates[0]),
            0 => autoscaler.target,
            _ => autoscaler.decide(rates[k - 1]),
        })
        .collect()
}

/// One replica: asked for at `requested_s`, placed at `started_s`, serving from `ready_s`,
/// on the service's flavor number `flavor` once placed.
#[derive(Clone, Debug, PartialEq)]
pub struct Replica {
    pub id: usize,
    pub requested_s: f64,
    pub started_s: f64,
    pub ready_s: f64,
    pub flavor: usize,
}

/// The replicas of one service, by state, with warm-up.
#[derive(Clone, Debug)]
pub struct ReplicaSet {
    pub warmup_s: f64,
    pub pending: VecDeque<Replica>,
    pub starting: VecDeque<Replica>,
    pub ready: Vec<Replica>,
    next_id: usize,
    last_place_s: f64,
}

impl ReplicaSet {
    pub fn new(warmup_s: f64) -> Self {
        ReplicaSet {
            warmup_s,
            pending: VecDeque::new(),
            starting: VecDeque::new(),
            ready: Vec::new(),
            next_id: 0,
            last_place_s: f64::NEG_INFINITY,
        }
    }

    /// Every replica, whatever its state.
    pub fn len(&self) -> usize {
        self.pending.len() + self.starting.len() + self.ready.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Move replicas whose warm-up has ended by `now` to ready; returns how many moved.
    pub fn promote(&mut self, now: f64) -> usize {
        let mut moved = 0;
        while self.starting.front().is_some_and(|r| r.ready_s <= now) {
            let replica = self.starting.pop_front().expect("a front replica");
            self.ready.push(replica);
            moved += 1;
        }
        moved
    }

    /// Ask for replicas up to `target` (the number launched) or stop the surplus (the
    /// replicas stopped, in the order stopped).
    pub fn reconcile(&mut self, target: usize, now: f64) -> (usize, Vec<Replica>) {
        let have = self.len();
        if target > have {
            for _ in have..target {
                self.pending.push_back(Replica {
                    id: self.next_id,
                    requested_s: now,
                    started_s: f64::NAN,
                    ready_s: f64::NAN,
                    flavor: usize::MAX,
                });
                self.next_id += 1;
            }
            return (target - have, Vec::new());
        }
        let mut surplus = have - target;
        let mut stop = Vec::with_capacity(surplus);
        while surplus > 0 {
            let Some(replica) = self.pending.pop_back() else { break };
            stop.push(replica);
            surplus -= 1;
        }
        while surplus > 0 {
            let Some(replica) = self.starting.pop_back() else { break };
            stop.push(replica);
            surplus -= 1;
        }
        while surplus > 0 {
            let Some(replica) = self.ready.pop() else { break };
            stop.push(replica);
            surplus -= 1;
        }
        (0, stop)
    }

    /// The fleet placed the oldest pending replica at `now` on flavor `flavor`: warm-up
    /// starts. Panics (a bug) if none is pending or `now` is before the last placement.
    pub fn place(&mut self, now: f64, flavor: usize) -> &mut Replica {
        assert!(
            now >= self.last_place_s,
            "placement at {now} s before {} s",
            self.last_place_s
        );
        let mut replica = self.pending.pop_front().expect("no pending replica to place");
        replica.started_s = now;
        replica.ready_s = now + self.warmup_s;
        replica.flavor = flavor;
        self.last_place_s = now;
        self.starting.push_back(replica);
        self.starting.back_mut().expect("just pushed")
    }

    /// A replica is gone (failure, retirement): drop it; the next reconcile replaces it.
    pub fn lose(&mut self, id: usize) -> Replica {
        if let Some(at) = self.starting.iter().position(|r| r.id == id) {
            return self.starting.remove(at).expect("found");
        }
        if let Some(at) = self.ready.iter().position(|r| r.id == id) {
            return self.ready.remove(at);
        }
        if let Some(at) = self.pending.iter().position(|r| r.id == id) {
            return self.pending.remove(at).expect("found");
        }
        panic!("no replica {id}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_hand_worked() {
        // tests/serving/test_autoscaler.py::test_decisions_hand_worked
        let mut scaler = Autoscaler::new(1, 10, Some(10.0), 2, 3);
        let qps = [
            5.0, 35.0, 5.0, 35.0, 35.0, 61.0, 5.0, 5.0, 35.0, 5.0, 5.0, 5.0, 0.0, 1000.0,
        ];
        let expected = [1, 1, 1, 1, 4, 4, 4, 4, 4, 4, 4, 1, 1, 1];
        let got: Vec<i64> = qps.iter().map(|&q| scaler.decide(q)).collect();
        assert_eq!(got, expected);
        assert_eq!(scaler.decide(1000.0), 10);
    }

    #[test]
    fn from_zero_scales_at_once() {
        let mut scaler = Autoscaler::new(0, 5, Some(2.5), 4, 4);
        assert_eq!(scaler.target, 0);
        assert_eq!(scaler.decide(0.0), 0);
        assert_eq!(scaler.decide(6.0), 3);
    }

    #[test]
    fn desired_a_hair_below_the_ratio() {
        let scaler = Autoscaler::new(1, 4, Some(1.0), 1, 0);
        assert_eq!(scaler.desired(2.0), 2);
        assert_eq!(scaler.desired(2.000_000_1), 3);
        assert_eq!(scaler.desired(100.0), 4);
        assert_eq!(Autoscaler::new(1, 10, Some(230.0), 1, 1).desired(460.0), 2);
        assert_eq!(Autoscaler::new(2, 10, Some(1.0), 1, 1).desired(0.0), 2);
        assert_eq!(Autoscaler::new(0, 10, Some(1.0), 1, 1).desired(1e300), 10);
    }

    #[test]
    fn without_a_rate_target_the_minimum() {
        let mut fixed = Autoscaler::new(3, 3, None, 0, 0);
        assert_eq!(fixed.decide(0.0), 3);
        assert_eq!(fixed.decide(1e6), 3);
        assert_eq!(fixed.start(1e6), 3);
    }

    #[test]
    fn goals_decide_on_the_interval_just_past() {
        // tests/serving/test_autoscaler.py::test_demand_step_hand_worked_schedule: 5 req/s,
        // 35 from interval 12, 5 again from 24; one period up, four down.
        let rates: Vec<f64> = (0..36)
            .map(|k| if (12..24).contains(&k) { 35.0 } else { 5.0 })
            .collect();
        let expected: Vec<i64> = [vec![1; 13], vec![4; 15], vec![1; 8]].concat();
        assert_eq!(
            goals(&mut Autoscaler::new(1, 10, Some(10.0), 1, 4), &rates, true),
            expected
        );
        // Cold: decision 0 keeps min_replicas whatever the demand.
        let cold = goals(&mut Autoscaler::new(2, 10, Some(1.0), 1, 1), &[50.0, 50.0], false);
        assert_eq!(cold, [2, 10]);
    }

    #[test]
    fn replica_set_lifecycle() {
        // tests/serving/test_autoscaler.py::test_replica_set_lifecycle
        let mut replicas = ReplicaSet::new(600.0);
        assert_eq!(replicas.reconcile(4, 0.0).0, 4);
        assert_eq!(replicas.pending.len(), 4);
        replicas.place(0.0, 0);
        replicas.place(100.0, 0);
        replicas.place(200.0, 1);
        replicas.promote(650.0);
        assert_eq!(replicas.ready.len(), 1);
        replicas.promote(800.0);
        assert_eq!(replicas.ready.len(), 3);
        let stop: Vec<usize> = replicas.reconcile(1, 900.0).1.iter().map(|r| r.id).collect();
        assert_eq!(stop, [3, 2, 1]);
        assert_eq!(replicas.ready.iter().map(|r| r.id).collect::<Vec<_>>(), [0]);
        assert_eq!(replicas.lose(0).id, 0);
        assert_eq!(replicas.reconcile(1, 1000.0).0, 1);
        assert_eq!(replicas.pending[0].id, 4);
    }

    #[test]
    fn stopping_takes_pending_then_starting_then_ready() {
        let mut replicas = ReplicaSet::new(10.0);
        replicas.reconcile(5, 0.0);
        replicas.place(0.0, 0); // 0 ready at 10
        replicas.place(5.0, 0); // 1 ready at 15
        replicas.place(12.0, 0); // 2 ready at 22
        replicas.promote(16.0);
        let stop: Vec<usize> = replicas.reconcile(1, 16.0).1.iter().map(|r| r.id).collect();
        assert_eq!(stop, [4, 3, 2, 1]);
        assert_eq!(replicas.len(), 1);
    }

    #[test]
    #[should_panic(expected = "before")]
    fn placing_back_in_time_is_a_bug() {
        let mut replicas = ReplicaSet::new(600.0);
        replicas.reconcile(2, 0.0);
        replicas.place(200.0, 0);
        replicas.place(150.0, 0);
    }
}
