//! Free capacity as placement reads it (`gpufleet.fleet.capacity`): the live fleet's
//! indexes, or any array of free GPUs per rack.

use std::borrow::Cow;

use crate::layout::Layout;

/// Racks per block by whole groups they hold: `rows` blocks of `width` = groups per rack + 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    pub width: usize,
    pub data: Vec<i64>,
}

impl Histogram {
    pub fn zeros(rows: usize, width: usize) -> Self {
        Histogram {
            width,
            data: vec![0; rows * width],
        }
    }

    pub fn rows(&self) -> usize {
        self.data.len() / self.width
    }

    pub fn row(&self, block: usize) -> &[i64] {
        &self.data[block * self.width..(block + 1) * self.width]
    }

    /// Whole groups each block holds (histogram times groups per rack).
    pub fn block_groups(&self) -> Vec<i64> {
        (0..self.rows())
            .map(|b| self.row(b).iter().enumerate().map(|(k, n)| n * k as i64).sum())
            .collect()
    }

    /// From free GPUs per rack of one pool (`capacity.histogram_of`).
    pub fn of(avail: &[i64], per_block: usize, group: i64, most: i64) -> Self {
        let width = most as usize + 1;
        let mut histogram = Histogram::zeros(avail.len().div_ceil(per_block), width);
        for (rack, free) in avail.iter().enumerate() {
            histogram.data[(rack / per_block) * width + (free / group) as usize] += 1;
        }
        histogram
    }
}

/// What placement needs to know about free capacity (`CapacityView`).
pub trait Capacity {
    fn layout(&self) -> &Layout;
    fn avail(&self) -> &[i64];
    /// The fewest free GPUs >= `gpus` that any live rack of the pool has.
    fn tightest_level(&self, pool: usize, gpus: i64) -> Option<i64>;
    /// The lowest rack of the pool with exactly `free` free GPUs (one must exist).
    fn first_rack_at(&self, pool: usize, free: i64) -> usize;
    fn group_histogram(&self, pool: usize, group: i64) -> Cow<'_, Histogram>;
    /// Whole groups of `group` GPUs the pool's racks hold in all.
    fn groups_free(&self, pool: usize, group: i64) -> i64;
}

/// A capacity view over a plain array of free GPUs (`ArrayCapacity`), computed on demand.
pub struct ArrayCapacity<'a> {
    pub avail: &'a [i64],
    pub layout: &'a Layout,
    /// Whole groups per (pool, group size) already counted by the caller.
    pub known: Vec<((usize, i64), i64)>,
}

impl<'a> ArrayCapacity<'a> {
    pub fn new(avail: &'a [i64], layout: &'a Layout) -> Self {
        ArrayCapacity {
            avail,
            layout,
            known: Vec::new(),
        }
    }

    fn view(&self, pool: usize) -> &[i64] {
        let pool = &self.layout.pools[pool];
        &self.avail[pool.rack_lo..pool.rack_hi]
    }
}

impl Capacity for ArrayCapacity<'_> {
    fn layout(&self) -> &Layout {
        self.layout
    }

    fn avail(&self) -> &[i64] {
        self.avail
    }

    fn tightest_level(&self, pool: usize, gpus: i64) -> Option<i64> {
        self.view(pool).iter().copied().filter(|&free| free >= gpus).min()
    }

    fn first_rack_at(&self, pool: usize, free: i64) -> usize {
        let lo = self.layout.pools[pool].rack_lo;
        lo + self.view(pool).iter().position(|&f| f == free).unwrap_or(0)
    }

    fn group_histogram(&self, pool: usize, group: i64) -> Cow<'_, Histogram> {
        let layout_pool = &self.layout.pools[pool];
        Cow::Owned(Histogram::of(
            self.view(pool),
            layout_pool.racks_per_block,
            group,
            layout_pool.rack_gpus / group,
        ))
    }

    fn groups_free(&self, pool: usize, group: i64) -> i64 {
        if let Some((_, known)) = self.known.iter().find(|(key, _)| *key == (pool, group)) {
            return *known;
        }
        self.view(pool).iter().map(|free| free / group).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::tests::one_pool;

    #[test]
    fn histogram_counts_racks_per_block_by_groups() {
        let histogram = Histogram::of(&[72, 8, 0, 16, 64], 2, 8, 9);
        assert_eq!(histogram.rows(), 3);
        assert_eq!(histogram.row(0)[9], 1);
        assert_eq!(histogram.row(0)[1], 1);
        assert_eq!(histogram.row(1)[0], 1);
        assert_eq!(histogram.row(1)[2], 1);
        assert_eq!(histogram.row(2)[8], 1);
        assert_eq!(histogram.block_groups(), vec![10, 2, 8]);
    }

    #[test]
    fn array_view_answers_by_scanning() {
        let layout = one_pool(4, 72, 2);
        let avail = [10, 72, 10, 3];
        let view = ArrayCapacity::new(&avail, &layout);
        assert_eq!(view.tightest_level(0, 4), Some(10));
        assert_eq!(view.tightest_level(0, 73), None);
        assert_eq!(view.first_rack_at(0, 10), 0);
        assert_eq!(view.groups_free(0, 8), 1 + 9 + 1);
    }
}
