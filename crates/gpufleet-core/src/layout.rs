//! The fleet's fixed shape: pools of racks grouped in blocks, and the scheduled capacity changes.

/// One pool: a contiguous range of racks of one GPU type (`gpufleet.fleet.layout.PoolLayout`).
#[derive(Clone, Debug)]
pub struct Pool {
    pub rack_lo: usize,
    pub rack_hi: usize,
    /// Placeable GPUs per rack (hot spares excluded).
    pub rack_gpus: i64,
    pub racks_per_block: usize,
    /// Blocks of the pool (the width of its group histograms).
    pub n_blocks: usize,
}

/// Racks of a pool that arrive or retire together (`PoolCapacity`).
#[derive(Clone, Debug)]
pub struct Change {
    pub time_s: f64,
    pub pool: usize,
    pub rack_lo: usize,
    pub rack_hi: usize,
    pub retire: bool,
}

/// Pools, per-rack figures and the capacity changes in time order.
#[derive(Clone, Debug)]
pub struct Layout {
    pub pools: Vec<Pool>,
    pub rack_gpus: Vec<i64>,
    pub rack_installed_gpus: Vec<i64>,
    /// Global block index of each rack.
    pub rack_block: Vec<i64>,
    /// Block of each rack within its pool.
    pub block_in_pool: Vec<usize>,
    /// Pool of each rack.
    pub rack_pool: Vec<usize>,
    pub changes: Vec<Change>,
}

impl Layout {
    pub fn n_racks(&self) -> usize {
        self.rack_gpus.len()
    }

    /// How many blocks the ascending `racks` touch (a block's racks are adjacent).
    pub fn blocks_spanned(&self, racks: &[usize]) -> i64 {
        if racks.len() == 1 {
            return 1;
        }
        1 + racks
            .windows(2)
            .filter(|pair| self.rack_block[pair[1]] != self.rack_block[pair[0]])
            .count() as i64
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One pool of `racks` racks of `rack_gpus` GPUs, `per_block` racks to a block, all delivered at 0.
    pub fn one_pool(racks: usize, rack_gpus: i64, per_block: usize) -> Layout {
        let n_blocks = racks.div_ceil(per_block);
        Layout {
            pools: vec![Pool {
                rack_lo: 0,
                rack_hi: racks,
                rack_gpus,
                racks_per_block: per_block,
                n_blocks,
            }],
            rack_gpus: vec![rack_gpus; racks],
            rack_installed_gpus: vec![rack_gpus; racks],
            rack_block: (0..racks).map(|r| (r / per_block) as i64).collect(),
            block_in_pool: (0..racks).map(|r| r / per_block).collect(),
            rack_pool: vec![0; racks],
            changes: vec![Change {
                time_s: 0.0,
                pool: 0,
                rack_lo: 0,
                rack_hi: racks,
                retire: false,
            }],
        }
    }

    #[test]
    fn blocks_spanned_counts_block_changes() {
        let layout = one_pool(8, 72, 2);
        assert_eq!(layout.blocks_spanned(&[3]), 1);
        assert_eq!(layout.blocks_spanned(&[0, 1]), 1);
        assert_eq!(layout.blocks_spanned(&[1, 2, 5]), 3);
    }
}
