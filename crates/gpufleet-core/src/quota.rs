//! Quota accounting for Kueue-style ClusterQueues (`gpufleet.sched.quota.QuotaBook`):
//! nominal quota per flavor, cohort pools that lend unused quota, borrowing and lending
//! limits. The limits come built from Python (the book's own tables); the core only moves
//! usage, with the same float steps in the same order.

use crate::progress::py_max;

/// Which limit stops an admission (`QuotaBook.why_not`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Nominal = 0,
    Borrowing = 1,
    CohortLent = 2,
}

/// Number of `Limit`s: a quota reason's code is (queue * flavors + flavor) * LIMITS + limit.
pub const LIMITS: usize = 3;

/// GPU usage per queue and flavor against nominal quota and cohort pools.
#[derive(Clone, Debug)]
pub struct QuotaBook {
    /// No queues configured: one queue that admits everything.
    pub unlimited: bool,
    pub n_flavors: usize,
    /// Per (queue, flavor), flattened queue-major.
    pub nominal: Vec<f64>,
    pub cap: Vec<f64>,
    pub guaranteed: Vec<f64>,
    /// Per queue, its sharing pool (the root of its cohort tree, or itself).
    pub pool_of: Vec<usize>,
    /// Per (pool, flavor), flattened pool-major.
    pub pool_capacity: Vec<f64>,
    pub usage: Vec<f64>,
    pub pool_usage: Vec<f64>,
}

impl QuotaBook {
    /// The book from `QuotaBook`'s tables (`unlimited`: no queues configured).
    pub fn new(
        unlimited: bool,
        n_flavors: usize,
        nominal: Vec<f64>,
        cap: Vec<f64>,
        guaranteed: Vec<f64>,
        pool_of: Vec<usize>,
        pool_capacity: Vec<f64>,
    ) -> Self {
        let (cells, pools) = (nominal.len(), pool_capacity.len());
        QuotaBook {
            unlimited,
            n_flavors,
            nominal,
            cap,
            guaranteed,
            pool_of,
            pool_capacity,
            usage: vec![0.0; cells],
            pool_usage: vec![0.0; pools],
        }
    }

    fn cell(&self, q: usize, f: usize) -> usize {
        q * self.n_flavors + f
    }

    fn pool_cell(&self, q: usize, f: usize) -> usize {
        self.pool_of[q] * self.n_flavors + f
    }

    /// Whether queue `q` may admit `gpus` more GPUs of flavor `f` now.
    pub fn fits(&self, q: usize, f: usize, gpus: f64) -> bool {
        if self.unlimited {
            return true;
        }
        let cell = self.cell(q, f);
        let used = self.usage[cell];
        if used + gpus > self.cap[cell] {
            return false;
        }
        let guaranteed = self.guaranteed[cell];
        let extra = py_max(used + gpus - guaranteed, 0.0) - py_max(used - guaranteed, 0.0);
        let pool = self.pool_cell(q, f);
        self.pool_usage[pool] + extra <= self.pool_capacity[pool]
    }

    /// Which limit stops the admission (call only when `fits` is false).
    pub fn why_not(&self, q: usize, f: usize, gpus: f64) -> Limit {
        let cell = self.cell(q, f);
        if self.usage[cell] + gpus > self.cap[cell] {
            if self.nominal[cell] == self.cap[cell] {
                return Limit::Nominal;
            }
            return Limit::Borrowing;
        }
        Limit::CohortLent
    }

    /// Whether the queue would stay within its own nominal quota.
    pub fn within_nominal(&self, q: usize, f: usize, gpus: f64) -> bool {
        let cell = self.cell(q, f);
        self.usage[cell] + gpus <= self.nominal[cell]
    }

    /// Whether the queue uses more than its nominal quota of flavor `f`.
    pub fn borrowing(&self, q: usize, f: usize) -> bool {
        let cell = self.cell(q, f);
        self.usage[cell] > self.nominal[cell]
    }

    pub fn add(&mut self, q: usize, f: usize, gpus: f64) {
        self.shift(q, f, gpus);
    }

    pub fn remove(&mut self, q: usize, f: usize, gpus: f64) {
        self.shift(q, f, -gpus);
    }

    fn shift(&mut self, q: usize, f: usize, gpus: f64) {
        if self.unlimited {
            return;
        }
        let (cell, pool) = (self.cell(q, f), self.pool_cell(q, f));
        let (used, guaranteed) = (self.usage[cell], self.guaranteed[cell]);
        self.pool_usage[pool] += py_max(used + gpus - guaranteed, 0.0) - py_max(used - guaranteed, 0.0);
        self.usage[cell] = used + gpus;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two queues in one cohort, one flavor: a lends all 8 of its nominal, b lends none
    /// of its 4 and may borrow 6 more.
    fn book() -> QuotaBook {
        QuotaBook::new(
            false,
            1,
            vec![8.0, 4.0],
            vec![f64::INFINITY, 10.0],
            vec![0.0, 4.0],
            vec![0, 0],
            vec![8.0],
        )
    }

    #[test]
    fn a_queue_borrows_what_its_cohort_lends_up_to_its_limit() {
        let mut quotas = book();
        assert!(quotas.fits(1, 0, 4.0)); // its guaranteed quota
        quotas.add(1, 0, 4.0);
        assert_eq!(quotas.pool_usage[0], 0.0);
        assert!(quotas.fits(1, 0, 6.0)); // borrows 6 of a's 8
        assert!(!quotas.fits(1, 0, 7.0));
        assert_eq!(quotas.why_not(1, 0, 7.0), Limit::Borrowing);
        quotas.add(1, 0, 6.0);
        assert_eq!(quotas.pool_usage[0], 6.0);
        assert!(quotas.borrowing(1, 0));
        // a has 2 left in the pool, though its nominal is 8.
        assert!(quotas.fits(0, 0, 2.0));
        assert!(!quotas.fits(0, 0, 3.0));
        assert_eq!(quotas.why_not(0, 0, 3.0), Limit::CohortLent);
        assert!(quotas.within_nominal(0, 0, 3.0));
        quotas.remove(1, 0, 6.0);
        assert_eq!(quotas.pool_usage[0], 0.0);
        assert!(!quotas.borrowing(1, 0));
    }

    #[test]
    fn a_queue_without_borrowing_stops_at_its_nominal() {
        let quotas = QuotaBook::new(false, 1, vec![4.0], vec![4.0], vec![4.0], vec![0], vec![0.0]);
        assert!(quotas.fits(0, 0, 4.0));
        assert!(!quotas.fits(0, 0, 5.0));
        assert_eq!(quotas.why_not(0, 0, 5.0), Limit::Nominal);
    }

    #[test]
    fn no_queues_admit_everything() {
        let infinite = vec![f64::INFINITY; 2];
        let mut quotas = QuotaBook::new(true, 2, infinite.clone(), infinite, vec![0.0; 2], vec![0], vec![0.0; 2]);
        quotas.add(0, 1, 1e9);
        assert!(quotas.fits(0, 1, 1e12));
    }
}
