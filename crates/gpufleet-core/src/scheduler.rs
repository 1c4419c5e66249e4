//! The scheduling pass (`gpufleet.sched.scheduler.Scheduler`): admission in the policy's
//! order (`policy.rs`; drf ranks queues) against quota (`quota.rs`) and topology, buckets by
//! (queue, shape), backfill none / greedy / easy with the head's reservation, preemption
//! where the queue's Kueue settings or the policy allow it (`preemption.rs`).

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet};
use std::ops::Bound::{Excluded, Unbounded};
use std::rc::Rc;

mod interrupt;

use crate::capacity::Capacity;
use crate::placement::best_fit;
use crate::policy::{Kind, Policy};
use crate::predictor::Predictor;
use crate::preemption::Rules;
use crate::progress::Progress;
use crate::quota::{QuotaBook, LIMITS};
use crate::reservation::{plan, Gang, Projection, Reservation};
use crate::state::{Allocation, FleetState, Placement};
use crate::Time;

/// Why a job is not running (codes of `gpufleet.sched.reasons`; 0: none).
pub mod reason {
    /// A reason's code: the fixed ones below, then the quota limits from `Scheduler::quota_reason`.
    pub type Code = u32;
    pub const NONE: Code = 0;
    pub const INSUFFICIENT_GPUS: Code = 1;
    pub const NO_TOPOLOGY_FIT: Code = 2;
    pub const BEHIND_RESERVATION: Code = 3;
    pub const STRICT_ORDER: Code = 4;
    pub const NOT_EXAMINED: Code = 5;
    pub const TIME_LIMIT: Code = 6;
    pub const NEVER_FITS: Code = 7;
    pub const PREEMPTED: Code = 8;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backfill {
    None,
    Greedy,
    Easy,
}

/// A job's place in the policy's order: (policy value, job); smaller first.
pub type Key = (i64, usize);

/// A queue's rank between queues, as ordered floats (drf; constant for the other policies).
type QueueRank = (Time, Time);

/// An entry of a pass's heap: (its queue's rank when pushed, key, queue, shape).
type Entry = (QueueRank, Key, usize, usize);

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Started,
    FailQuota,
    FailPlace,
    FailLong,
}

/// A job's shape: (GPUs, NVLink group, within one block, eligible pools).
#[derive(Clone, Debug)]
pub struct Shape {
    pub gpus: i64,
    pub group: i64,
    pub within_block: bool,
    pub pools: Vec<usize>,
}

/// A start in a pass: (job, pool, racks, blocks spanned, run seconds); or, with
/// `preempted`, the job was stopped for another (its other fields unused).
pub struct Start {
    pub preempted: bool,
    pub job: usize,
    pub pool: usize,
    pub n_racks: i64,
    pub blocks: i64,
    pub run_s: f64,
}

struct Bucket {
    keys: BTreeSet<Key>,
    runs: BTreeSet<(Time, Key)>,
}

/// What the scheduler is told about the jobs and the rules.
pub struct SchedulerConfig {
    pub queue_of: Vec<usize>,
    pub policy_value: Vec<i64>,
    pub shape_of: Vec<usize>,
    pub shapes: Vec<Shape>,
    pub strict: Vec<bool>,
    pub backfill: Backfill,
    pub max_job_test: i64,
    /// Per pool, its flavor (the quota book's flavor index).
    pub flavor_of_pool: Vec<usize>,
    pub quotas: QuotaBook,
    /// Code of the first quota reason (`reason::Code`): the Python side's fixed reasons come first.
    pub quota_reason_base: reason::Code,
    /// Per job, its priority (higher first; preemption spares the higher).
    pub priority: Vec<i64>,
    /// Per queue, its Kueue preemption settings.
    pub rules: Vec<Rules>,
    /// `preemption_scope: any`: every waiting job may preempt, not only its queue's first blocked.
    pub any_scope: bool,
    /// The policy (`Kind::Static`: ordered by `policy_value`).
    pub policy: Kind,
    /// Per job, its team (an index), for run times predicted from history (None: estimates).
    pub predict_team: Option<Vec<usize>>,
}

type Shared = Rc<RefCell<Reservation>>;

pub struct Scheduler {
    pub state: FleetState,
    pub progress: Progress,
    pub(crate) quotas: QuotaBook,
    pub(crate) policy: Policy,
    pub(crate) cfg: SchedulerConfig,
    by_queue: Vec<BTreeSet<Key>>,
    buckets: Vec<Bucket>,
    bucket_index: HashMap<(usize, usize), usize>,
    /// Bucket of each (queue, shape) in the order they were made (Python's dict order).
    bucket_of: Vec<(usize, usize)>,
    key: Vec<Option<Key>>,
    run_key: Vec<f64>,
    /// Jobs in the queues (with a key).
    queued: usize,
    pub n_pending: usize,
    pub(crate) allocations: Vec<Option<Allocation>>,
    /// Per running job, when it started.
    pub(crate) started_at: Vec<f64>,
    running_shapes: Vec<i64>,
    expected_end: Vec<f64>,
    pub(crate) ends: BTreeSet<(Time, usize)>,
    pub reason: Vec<reason::Code>,
    /// (job, time, reason) of every change of a job's reason, in order.
    pub history: Vec<(usize, f64, reason::Code)>,
    pub reserved_s: Vec<f64>,
    reservation: Option<Shared>,
    /// A copy of the free GPUs per rack for projections (`FleetState::refresh`).
    scratch: Vec<i64>,
    full_pass: bool,
    new: Vec<usize>,
    head: Option<Key>,
    blocked_head: Option<Key>,
    /// Per rack, its running jobs (kept in runs with failures: `scheduler/interrupt.rs`).
    rack_jobs: Vec<BTreeSet<usize>>,
    /// Failures a job survives (None: no limit), and the reason code of a job past them.
    max_restarts: Option<i64>,
    failed_reason: reason::Code,
}

impl Scheduler {
    pub fn new(state: FleetState, progress: Progress, cfg: SchedulerConfig) -> Self {
        let mut scheduler = Self::unpredicted(state, progress, cfg);
        if let Some(team) = scheduler.cfg.predict_team.take() {
            let gpus = (0..team.len()).map(|job| scheduler.shape(job).gpus).collect();
            scheduler.policy.predictor = Some(Predictor::new(team, gpus));
        }
        scheduler
    }

    fn unpredicted(state: FleetState, progress: Progress, cfg: SchedulerConfig) -> Self {
        let n = cfg.queue_of.len();
        let n_queues = cfg.strict.len();
        let n_shapes = cfg.shapes.len();
        let n_racks = state.avail.len();
        Scheduler {
            state,
            progress,
            quotas: cfg.quotas.clone(),
            policy: Policy::new(cfg.policy.clone(), cfg.policy_value.clone()),
            by_queue: vec![BTreeSet::new(); n_queues],
            buckets: Vec::new(),
            bucket_index: HashMap::new(),
            bucket_of: Vec::new(),
            key: vec![None; n],
            run_key: vec![0.0; n],
            queued: 0,
            n_pending: 0,
            allocations: vec![None; n],
            started_at: vec![f64::NAN; n],
            running_shapes: vec![0; n_shapes],
            expected_end: vec![0.0; n],
            ends: BTreeSet::new(),
            reason: vec![reason::NONE; n],
            history: Vec::new(),
            reserved_s: vec![f64::NAN; n],
            reservation: None,
            scratch: vec![0; n_racks],
            full_pass: true,
            new: Vec::new(),
            head: None,
            blocked_head: None,
            rack_jobs: Vec::new(),
            max_restarts: None,
            failed_reason: reason::NONE,
            cfg,
        }
    }

    pub(crate) fn shape(&self, job: usize) -> &Shape {
        &self.cfg.shapes[self.cfg.shape_of[job]]
    }

    // -- events from the simulation --------------------------------------------------

    pub fn submit(&mut self, job: usize) {
        self.n_pending += 1;
        self.new.push(job);
    }

    /// The policy's rank of `job` changed by itself (a timer): re-queue it if waiting, and
    /// look at the queue again either way (a running job may now be preempted).
    pub fn rerank(&mut self, job: usize) {
        if self.key[job].is_some() {
            self.dequeue(job);
            self.enqueue(job);
        }
        self.full_pass = true;
    }

    /// When the policy's rank of `job` will change by itself, or None.
    pub fn next_change(&mut self, job: usize, now: f64, running: bool) -> Option<f64> {
        self.policy.next_change(job, now, running, &self.progress)
    }

    /// A time from `next_change` has come.
    pub fn on_timer(&mut self, job: usize, running: bool) {
        self.policy.on_timer(job, running, &self.progress);
    }

    pub fn capacity_added(&mut self) {
        self.full_pass = true;
    }

    pub fn capacity_lost(&mut self) {
        self.full_pass = true;
        self.reservation = None;
    }

    /// A running job finished at `now`: free its GPUs.
    pub fn end(&mut self, job: usize, now: f64) {
        let expected = self.expected_end[job];
        self.stop(job, now);
        self.progress.stop_finished(job, now);
        self.policy.on_finish(job, self.progress.held_s[job]);
        if now < expected {
            self.reservation = None;
        }
    }

    /// Free a running job's GPUs and quota (the caller stops its progress).
    fn stop(&mut self, job: usize, now: f64) {
        let allocation = self.allocations[job].take().expect("a running job");
        self.untrack_racks(job, &allocation);
        self.state.release(&allocation, now);
        let (queue, flavor) = (self.cfg.queue_of[job], self.cfg.flavor_of_pool[allocation.pool]);
        let gpus = self.shape(job).gpus as f64;
        self.quotas.remove(queue, flavor, gpus);
        self.policy.on_stop(queue, allocation.pool, gpus, now);
        self.ends.remove(&(Time(self.expected_end[job]), job));
        self.running_shapes[self.cfg.shape_of[job]] -= 1;
        self.full_pass = true;
    }

    /// Stop running `job` for someone else; it goes back to the queue.
    pub(crate) fn preempt(&mut self, job: usize, now: f64, started: &mut Vec<Start>) {
        self.stop(job, now);
        self.progress.stop_preempted(job, now);
        self.set_reason(job, reason::PREEMPTED, now);
        self.n_pending += 1;
        self.enqueue(job);
        self.reservation = None; // preemption moves what the plan assumed
        started.push(Start {
            preempted: true,
            job,
            pool: 0,
            n_racks: 0,
            blocks: 0,
            run_s: 0.0,
        });
    }

    // -- queue structures --------------------------------------------------------------

    fn policy_key(&self, job: usize) -> Key {
        (self.policy.value(job, &self.progress), job)
    }

    fn enqueue(&mut self, job: usize) -> Key {
        let key = self.policy_key(job);
        self.key[job] = Some(key);
        self.queued += 1;
        let (queue, shape) = (self.cfg.queue_of[job], self.cfg.shape_of[job]);
        self.by_queue[queue].insert(key);
        let index = match self.bucket_index.get(&(queue, shape)) {
            Some(&index) => index,
            None => {
                self.buckets.push(Bucket {
                    keys: BTreeSet::new(),
                    runs: BTreeSet::new(),
                });
                self.bucket_of.push((queue, shape));
                self.bucket_index.insert((queue, shape), self.buckets.len() - 1);
                self.buckets.len() - 1
            }
        };
        let run = self.progress.expected_run_s(job);
        self.run_key[job] = run;
        self.buckets[index].keys.insert(key);
        self.buckets[index].runs.insert((Time(run), key));
        key
    }

    fn dequeue(&mut self, job: usize) -> f64 {
        let key = self.key[job].take().expect("a waiting job");
        self.queued -= 1;
        let (queue, shape) = (self.cfg.queue_of[job], self.cfg.shape_of[job]);
        self.by_queue[queue].remove(&key);
        let index = self.bucket_index[&(queue, shape)];
        let run = self.run_key[job];
        self.buckets[index].keys.remove(&key);
        self.buckets[index].runs.remove(&(Time(run), key));
        run
    }

    fn expected_run(&self, job: usize) -> f64 {
        if self.key[job].is_some() {
            self.run_key[job]
        } else {
            self.progress.expected_run_s(job)
        }
    }

    /// The first pending job in the policy's order (across queues: by queue rank, then key).
    fn first(&mut self, now: f64) -> Option<Key> {
        if !self.policy.dynamic_queue_order() {
            return self.by_queue.iter().filter_map(|keys| keys.first().copied()).min();
        }
        let mut best: Option<(QueueRank, Key)> = None;
        for queue in 0..self.by_queue.len() {
            if let Some(&key) = self.by_queue[queue].first() {
                let entry = (self.rank(queue, now), key);
                if best.is_none_or(|best| entry < best) {
                    best = Some(entry);
                }
            }
        }
        best.map(|(_, key)| key)
    }

    fn rank(&mut self, queue: usize, now: f64) -> QueueRank {
        let (dominant, sum) = self.policy.queue_rank(queue, now, &self.state.installed_gpus);
        (Time(dominant), Time(sum))
    }

    // -- the pass ----------------------------------------------------------------------

    /// Start what the rules allow at `now`.
    pub fn schedule(&mut self, now: f64, started: &mut Vec<Start>) {
        let mut new = std::mem::take(&mut self.new);
        let dynamic = self.policy.dynamic_queue_order();
        if !new.is_empty() && self.queued == 0 && !dynamic {
            // Nothing queued: arrivals start in policy order while they fit, never queued.
            if new.len() > 1 {
                new.sort_by_key(|&job| self.policy_key(job));
            }
            let mut tried = 0;
            while tried < new.len()
                && self.try_start(new[tried], now, None, &HashSet::new(), &mut HashSet::new(), started)
                    == Outcome::Started
            {
                tried += 1;
            }
            new.drain(..tried);
            if !new.is_empty() {
                self.full_pass = true;
            }
        }
        let mut fresh: Vec<Key> = new.iter().map(|&job| self.enqueue(job)).collect();
        fresh.sort_unstable();
        let first = self.first(now);
        if self.full_pass || dynamic || first != self.head {
            self.full_pass = false;
            self.pass(now, started);
        } else if !fresh.is_empty() {
            self.pass_fresh(&fresh, now, started);
        }
        self.head = self.first(now);
    }

    fn pass(&mut self, now: f64, started: &mut Vec<Start>) {
        let dynamic = self.policy.dynamic_queue_order();
        let still = (Time(0.0), Time(0.0));
        let ranks: Vec<QueueRank> = if dynamic {
            (0..self.by_queue.len()).map(|queue| self.rank(queue, now)).collect()
        } else {
            vec![still; self.by_queue.len()]
        };
        let mut heap: BinaryHeap<Reverse<Entry>> = BinaryHeap::new();
        for (index, bucket) in self.buckets.iter().enumerate() {
            if let Some(&key) = bucket.keys.first() {
                let (queue, shape) = self.bucket_of[index];
                heap.push(Reverse((ranks[queue], key, queue, shape)));
            }
        }
        let mut failed_queues: HashSet<usize> = HashSet::new();
        let mut strict_blocked: HashSet<usize> = HashSet::new();
        let mut long_blocked: HashSet<(usize, usize)> = HashSet::new();
        let mut short_only: HashMap<(usize, usize), Vec<Key>> = HashMap::new();
        let mut head_reservation: Option<Shared> = None;
        self.blocked_head = None;
        let mut budget = self.cfg.max_job_test;
        while let Some(Reverse((rank, key, queue, shape))) = heap.pop() {
            if dynamic {
                let current = self.rank(queue, now);
                if current > rank {
                    // The queue's share grew since this entry was pushed.
                    heap.push(Reverse((current, key, queue, shape)));
                    continue;
                }
            }
            let job = key.1;
            if strict_blocked.contains(&queue) {
                self.set_reason(job, reason::STRICT_ORDER, now);
                continue;
            }
            if !failed_queues.is_empty() {
                budget -= 1;
                if budget < 0 {
                    break;
                }
            }
            let outcome = self.try_start(
                job,
                now,
                head_reservation.clone(),
                &failed_queues,
                &mut long_blocked,
                started,
            );
            let bucket = (queue, shape);
            if outcome != Outcome::Started {
                failed_queues.insert(queue);
                if outcome == Outcome::FailPlace && self.blocked_head.is_none() {
                    self.blocked_head = Some(key);
                    match self.cfg.backfill {
                        Backfill::None => return,
                        Backfill::Easy => head_reservation = Some(self.reservation_for(job, now)),
                        Backfill::Greedy => {}
                    }
                }
                if self.cfg.strict[queue] {
                    strict_blocked.insert(queue);
                    continue;
                }
                if matches!(outcome, Outcome::FailQuota | Outcome::FailPlace) {
                    continue; // no other job of this bucket fits either: drop the bucket
                }
                if let (Outcome::FailLong, false, Some(reserved)) =
                    (outcome, short_only.contains_key(&bucket), head_reservation.as_ref())
                {
                    let window = reserved.borrow().start_s - now;
                    let index = self.bucket_index[&bucket];
                    let mut short: Vec<Key> = self.buckets[index]
                        .runs
                        .iter()
                        .take_while(|(run, _)| run.0 <= window)
                        .map(|(_, k)| *k)
                        .filter(|k| *k > key)
                        .collect();
                    short.sort_unstable_by(|a, b| b.cmp(a));
                    short_only.insert(bucket, short);
                }
            }
            let following = match short_only.get_mut(&bucket) {
                Some(short) => short.pop(),
                None => {
                    let index = self.bucket_index[&bucket];
                    self.buckets[index]
                        .keys
                        .range((Excluded(key), Unbounded))
                        .next()
                        .copied()
                }
            };
            if let Some(following) = following {
                let rank = if dynamic { self.rank(queue, now) } else { rank };
                heap.push(Reverse((rank, following, queue, shape)));
            }
        }
    }

    fn pass_fresh(&mut self, fresh: &[Key], now: f64, started: &mut Vec<Start>) {
        let head = self.blocked_head;
        let mut head_reservation = None;
        if let Some(head) = head {
            if self.key[head.1].is_some() && self.cfg.backfill == Backfill::Easy {
                head_reservation = Some(self.reservation_for(head.1, now));
            }
        }
        for &key in fresh {
            let job = key.1;
            if head.is_some_and(|head| self.cfg.backfill == Backfill::None && key > head) {
                self.set_reason(job, reason::STRICT_ORDER, now);
                continue;
            }
            let queue = self.cfg.queue_of[job];
            let earlier = self.by_queue[queue].first() != Some(&key);
            if earlier && self.cfg.strict[queue] {
                self.set_reason(job, reason::STRICT_ORDER, now);
                continue;
            }
            let failed = if earlier {
                HashSet::from([queue])
            } else {
                HashSet::new()
            };
            self.try_start(
                job,
                now,
                head_reservation.clone(),
                &failed,
                &mut HashSet::new(),
                started,
            );
        }
    }

    fn try_start(
        &mut self,
        job: usize,
        now: f64,
        head_reservation: Option<Shared>,
        failed_queues: &HashSet<usize>,
        long_blocked: &mut HashSet<(usize, usize)>,
        started: &mut Vec<Start>,
    ) -> Outcome {
        let (queue, shape_index) = (self.cfg.queue_of[job], self.cfg.shape_of[job]);
        let may_preempt = (self.policy.preemptive() || self.cfg.rules[queue].may_preempt())
            && (self.cfg.any_scope || !failed_queues.contains(&queue));
        let long = match &head_reservation {
            Some(reserved) => {
                let reserved = reserved.borrow();
                reserved.spare.is_some() && self.expected_run(job) > reserved.start_s - now
            }
            None => false,
        };
        if long && long_blocked.contains(&(queue, shape_index)) {
            self.set_reason(job, reason::BEHIND_RESERVATION, now);
            return Outcome::FailLong;
        }
        let mut shape = self.cfg.shapes[shape_index].clone();
        let pools = if self.quotas.unlimited {
            std::mem::take(&mut shape.pools) // no second copy: without quotas every pool admits it
        } else {
            self.pools_within_quota(job)
        };
        if pools.is_empty() {
            if may_preempt && self.admit_by_preempting(job, now, started) {
                return Outcome::Started;
            }
            let flavor = self.cfg.flavor_of_pool[shape.pools[0]];
            let why = self.quota_reason(queue, flavor, shape.gpus);
            self.set_reason(job, why, now);
            return Outcome::FailQuota;
        }
        let mut placement = None;
        if self.counts_fit(job, &pools, &shape, now) {
            if long
                && !shape.within_block
                && !self.fits_beside(&pools, &shape, head_reservation.as_ref().expect("long"))
            {
                long_blocked.insert((queue, shape_index));
                self.set_reason(job, reason::BEHIND_RESERVATION, now);
                return Outcome::FailLong;
            }
            placement = best_fit(&self.state, &pools, shape.gpus, shape.group, shape.within_block);
            if placement.is_none() {
                self.set_reason(job, reason::NO_TOPOLOGY_FIT, now);
            }
        }
        let Some(mut placement) = placement else {
            if may_preempt && self.admit_by_preempting(job, now, started) {
                return Outcome::Started;
            }
            return Outcome::FailPlace;
        };
        if long {
            let shared = head_reservation.expect("long");
            let mut reserved = shared.borrow_mut();
            let spare = reserved.spare.as_mut().expect("a dated reservation");
            if placement
                .racks
                .iter()
                .zip(&placement.gpus)
                .any(|(&rack, &gpus)| gpus > spare.get(rack))
            {
                // It would still run when the reservation begins: it may only take what the head leaves.
                self.state.refresh(&mut self.scratch);
                let view = Projection::capped(&self.state, &mut self.scratch, &pools, shape.group, spare);
                let found = best_fit(&view, &pools, shape.gpus, shape.group, shape.within_block);
                drop(view);
                match found {
                    Some(found) => placement = found,
                    None => {
                        drop(reserved);
                        long_blocked.insert((queue, shape_index));
                        self.set_reason(job, reason::BEHIND_RESERVATION, now);
                        return Outcome::FailLong;
                    }
                }
            }
            for (&rack, &gpus) in placement.racks.iter().zip(&placement.gpus) {
                spare.take(rack, gpus);
            }
        }
        self.start(job, placement, now, started);
        Outcome::Started
    }

    pub(crate) fn start(&mut self, job: usize, placement: Placement, now: f64, started: &mut Vec<Start>) {
        let run = if self.key[job].is_some() {
            self.dequeue(job)
        } else {
            self.progress.expected_run_s(job)
        };
        let allocation = self.state.allocate(placement);
        let (queue, flavor) = (self.cfg.queue_of[job], self.cfg.flavor_of_pool[allocation.pool]);
        let gpus = self.shape(job).gpus as f64;
        self.quotas.add(queue, flavor, gpus);
        self.policy.on_start(queue, allocation.pool, gpus, now);
        self.running_shapes[self.cfg.shape_of[job]] += 1;
        self.n_pending -= 1;
        let expected = now + run;
        let run_s = self.progress.start(job, now);
        self.expected_end[job] = expected;
        self.started_at[job] = now;
        self.ends.insert((Time(expected), job));
        self.reason[job] = reason::NONE;
        if self.reservation.as_ref().is_some_and(|r| r.borrow().job == job) {
            self.reservation = None;
        }
        started.push(Start {
            preempted: false,
            job,
            pool: allocation.pool,
            n_racks: allocation.racks.len() as i64,
            blocks: self.state.layout.blocks_spanned(&allocation.racks),
            run_s,
        });
        self.track_racks(job, &allocation);
        self.allocations[job] = Some(allocation);
    }

    /// The pools of `job`'s shape its queue's quota admits it on now (all of them without quotas).
    pub(crate) fn pools_within_quota(&self, job: usize) -> Vec<usize> {
        let shape = self.shape(job);
        if self.quotas.unlimited {
            return shape.pools.clone();
        }
        let queue = self.cfg.queue_of[job];
        let gpus = shape.gpus as f64;
        shape
            .pools
            .iter()
            .copied()
            .filter(|&p| self.quotas.fits(queue, self.cfg.flavor_of_pool[p], gpus))
            .collect()
    }

    /// The code of the quota limit that stops `gpus` more GPUs of `flavor` in `queue`.
    fn quota_reason(&self, queue: usize, flavor: usize, gpus: i64) -> reason::Code {
        let limit = self.quotas.why_not(queue, flavor, gpus as f64) as usize;
        let code = (queue * self.quotas.n_flavors + flavor) * LIMITS + limit;
        self.cfg.quota_reason_base + reason::Code::try_from(code).expect("fewer quota reasons than codes")
    }

    fn set_reason(&mut self, job: usize, why: reason::Code, now: f64) {
        if why != self.reason[job] {
            self.reason[job] = why;
            self.history.push((job, now, why));
        }
    }

    // -- placement and reservations ----------------------------------------------------

    fn counts_fit(&mut self, job: usize, pools: &[usize], shape: &Shape, now: f64) -> bool {
        let mut enough_gpus = false;
        for &p in pools {
            if self.state.avail_gpus[p] >= shape.gpus {
                if self.state.groups_free(p, shape.group) >= shape.gpus / shape.group {
                    return true;
                }
                enough_gpus = true;
            }
        }
        self.set_reason(
            job,
            if enough_gpus {
                reason::NO_TOPOLOGY_FIT
            } else {
                reason::INSUFFICIENT_GPUS
            },
            now,
        );
        false
    }

    /// Whether enough whole groups are free that the reserved head will not need.
    fn fits_beside(&self, pools: &[usize], shape: &Shape, head_reservation: &Shared) -> bool {
        let reserved = head_reservation.borrow();
        let needed = shape.gpus / shape.group;
        for &p in pools {
            let mut free = self.state.groups_free(p, shape.group);
            if p == reserved.pool && free >= needed {
                free -= self.groups_reserved(&reserved, shape.group);
            }
            if free >= needed {
                return true;
            }
        }
        false
    }

    /// Free whole groups on the head's racks that it needs.
    fn groups_reserved(&self, reserved: &Reservation, group: i64) -> i64 {
        let spare = reserved.spare.as_ref().expect("a dated reservation");
        reserved
            .racks
            .iter()
            .map(|&rack| {
                let avail = self.state.avail[rack];
                avail / group - avail.min(spare.get(rack)) / group
            })
            .sum()
    }

    fn reservation_for(&mut self, head: usize, now: f64) -> Shared {
        if let Some(current) = &self.reservation {
            if current.borrow().job == head {
                return current.clone();
            }
        }
        let shape = self.shape(head).clone();
        let mut pools = self.pools_within_quota(head);
        if pools.is_empty() {
            pools = shape.pools.clone();
        }
        let gang = Gang {
            pools: &pools,
            gpus: shape.gpus,
            group: shape.group,
            within_block: shape.within_block,
        };
        self.state.refresh(&mut self.scratch);
        let planned = plan(
            head,
            now,
            &self.state,
            &mut self.scratch,
            &self.ends,
            &self.allocations,
            &gang,
        );
        if self.reserved_s[head].is_nan() {
            self.reserved_s[head] = planned.start_s;
        }
        let shared = Rc::new(RefCell::new(planned));
        self.reservation = Some(shared.clone());
        shared
    }

    // -- samples and the end of the run ----------------------------------------------

    /// Free GPUs the smallest waiting gang cannot use (fragmentation); 0 if nothing waits.
    pub fn unusable_gpus(&self) -> i64 {
        let mut smallest: Option<usize> = None;
        for bucket in &self.buckets {
            if let Some(key) = bucket.keys.first() {
                if smallest.is_none_or(|s| self.shape(key.1).gpus < self.shape(s).gpus) {
                    smallest = Some(key.1);
                }
            }
        }
        let Some(job) = smallest else { return 0 };
        let shape = self.shape(job);
        let free: i64 = shape.pools.iter().map(|&p| self.state.avail_gpus[p]).sum();
        if best_fit(&self.state, &shape.pools, shape.gpus, shape.group, shape.within_block).is_none() {
            return free;
        }
        free - shape
            .pools
            .iter()
            .map(|&p| self.state.groups_free(p, shape.group) * shape.group)
            .sum::<i64>()
    }

    pub fn shapes_waiting(&self) -> BTreeSet<usize> {
        self.buckets
            .iter()
            .zip(&self.bucket_of)
            .filter(|(b, _)| !b.keys.is_empty())
            .map(|(_, (_, s))| *s)
            .collect()
    }

    pub fn shapes_running(&self) -> BTreeSet<usize> {
        (0..self.running_shapes.len())
            .filter(|&s| self.running_shapes[s] > 0)
            .collect()
    }

    /// Per rack, what the blocked head's standing reservation leaves others.
    pub fn reserved_spare(&self) -> Option<std::cell::Ref<'_, Reservation>> {
        let planned = self.reservation.as_ref()?.borrow();
        let head = self.blocked_head?;
        if planned.spare.is_none() || planned.job != head.1 {
            return None;
        }
        Some(planned)
    }

    pub fn has_waiting(&self) -> bool {
        self.n_pending > 0
    }

    pub fn shape_of_job(&self, job: usize) -> usize {
        self.cfg.shape_of[job]
    }

    pub fn shapes(&self) -> &[Shape] {
        &self.cfg.shapes
    }

    /// Give every still-pending job a reason, for the jobs never examined lately.
    pub fn explain_waiting(&mut self) {
        for queue in 0..self.by_queue.len() {
            let keys: Vec<Key> = self.by_queue[queue].iter().copied().collect();
            for key in keys {
                let job = key.1;
                if self.reason[job] != reason::NONE {
                    continue;
                }
                let shape = self.shape(job);
                self.reason[job] = if self.cfg.backfill == Backfill::None && self.blocked_head.is_some_and(|h| key > h)
                {
                    reason::STRICT_ORDER
                } else if shape.pools.iter().all(|&p| self.state.avail_gpus[p] < shape.gpus) {
                    reason::INSUFFICIENT_GPUS
                } else {
                    reason::NOT_EXAMINED
                };
            }
        }
    }
}
