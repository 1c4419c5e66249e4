//! Which node holds what, and the hardware in repair (`gpufleet.fleet.state.FleetState` with
//! `track_nodes`): kept only in runs with failures, where what is on a node matters.

use crate::state::{FleetState, ACTIVE, RETIRED};

/// The fleet's nodes: which racks hold which, and per pool its node shape.
#[derive(Clone, Debug)]
pub struct NodeLayout {
    /// Index of each rack's first node (one more entry than racks).
    pub rack_node_lo: Vec<usize>,
    pub node_gpus: Vec<i64>,
    /// Per pool: hot spare nodes at the end of each rack, GPUs per node, nodes per rack.
    pub spare_nodes: Vec<usize>,
    pub gpus_per_node: Vec<i64>,
    pub nodes_per_rack: Vec<usize>,
}

/// Per-node state, failures and the log of hardware in repair.
#[derive(Clone, Debug)]
pub struct Nodes {
    pub layout: NodeLayout,
    /// Free GPUs per node (0 on a spare).
    pub free: Vec<i64>,
    pub spare: Vec<bool>,
    /// Failed GPUs per node.
    pub failed: Vec<i64>,
    /// The whole rack is down (switch, power).
    pub rack_down: Vec<bool>,
    /// (time_s, pool, GPUs failed (+) or repaired (-)) for every change of hardware in repair.
    pub failed_log: Vec<(f64, usize, i64)>,
}

impl Nodes {
    pub fn new(layout: NodeLayout) -> Self {
        let n_nodes = layout.node_gpus.len();
        let n_racks = layout.rack_node_lo.len() - 1;
        Nodes {
            free: layout.node_gpus.clone(),
            spare: vec![false; n_nodes],
            failed: vec![0; n_nodes],
            rack_down: vec![false; n_racks],
            failed_log: Vec::new(),
            layout,
        }
    }

    /// The rack that holds `node`.
    pub fn rack_of_node(&self, node: usize) -> usize {
        self.layout.rack_node_lo.partition_point(|&lo| lo <= node) - 1
    }

    /// The nodes of `rack`.
    pub fn of_rack(&self, rack: usize) -> std::ops::Range<usize> {
        self.layout.rack_node_lo[rack]..self.layout.rack_node_lo[rack + 1]
    }

    /// Racks lo..hi arrive: the last nodes of each rack of a pool with spares are hot spares.
    pub fn deliver(&mut self, pool: usize, lo: usize, hi: usize) {
        let spares = self.layout.spare_nodes[pool];
        if spares == 0 {
            return;
        }
        for rack in lo..hi {
            let end = self.layout.rack_node_lo[rack + 1];
            for node in end - spares..end {
                self.spare[node] = true;
                self.free[node] = 0;
            }
        }
    }

    /// The nodes that hand out `gpus[i]` GPUs of each rack `racks[i]`, and how many each:
    /// per rack the fullest partly-used nodes first (stable: then the lowest), so whole nodes stay whole.
    pub fn take(&mut self, racks: &[usize], gpus: &[i64]) -> (Vec<usize>, Vec<i64>) {
        let (mut nodes, mut counts) = (Vec::new(), Vec::new());
        for (&rack, &want) in racks.iter().zip(gpus) {
            let (lo, hi) = (self.layout.rack_node_lo[rack], self.layout.rack_node_lo[rack + 1]);
            if hi - lo == 1 {
                self.free[lo] -= want;
                nodes.push(lo);
                counts.push(want);
                continue;
            }
            let mut order: Vec<usize> = (lo..hi).collect();
            order.sort_by_key(|&node| self.free[node]); // stable
            let mut want = want;
            for node in order {
                let have = self.free[node];
                if have == 0 {
                    continue;
                }
                nodes.push(node);
                if have >= want {
                    self.free[node] = have - want;
                    counts.push(want);
                    break;
                }
                self.free[node] = 0;
                counts.push(have);
                want -= have;
            }
        }
        (nodes, counts)
    }

    /// Give back GPUs taken by `take`.
    pub fn give_back(&mut self, nodes: &[usize], counts: &[i64]) {
        for (&node, &count) in nodes.iter().zip(counts) {
            self.free[node] += count;
        }
    }

    /// An idle, healthy spare node of the rack.
    pub fn healthy_spare(&self, rack: usize) -> Option<usize> {
        self.of_rack(rack)
            .find(|&node| self.spare[node] && self.failed[node] == 0)
    }
}

const TRACKS: &str = "a fleet state that tracks nodes";

impl FleetState {
    /// `count` free GPUs of `node` break (jobs holding them were stopped first).
    pub fn fail_gpus(&mut self, node: usize, count: i64, now: f64) {
        let nodes = self.nodes.as_mut().expect(TRACKS);
        let rack = nodes.rack_of_node(node);
        let pool = self.layout.rack_pool[rack];
        nodes.failed[node] += count;
        nodes.failed_log.push((now, pool, count));
        if nodes.spare[node] {
            return; // an idle spare: nothing placeable is lost
        }
        nodes.free[node] -= count;
        if self.rack_state[rack] == ACTIVE {
            let free = self.avail[rack];
            self.change(pool, rack, free, free - count);
            self.avail_gpus[pool] -= count;
        }
    }

    /// `count` failed GPUs of `node` are back.
    pub fn repair_gpus(&mut self, node: usize, count: i64, now: f64) {
        let nodes = self.nodes.as_mut().expect(TRACKS);
        let rack = nodes.rack_of_node(node);
        let pool = self.layout.rack_pool[rack];
        nodes.failed[node] -= count;
        nodes.failed_log.push((now, pool, -count));
        if nodes.spare[node] || self.rack_state[rack] == RETIRED {
            return;
        }
        nodes.free[node] += count;
        if self.rack_state[rack] == ACTIVE {
            let free = self.avail[rack];
            self.change(pool, rack, free, free + count);
            self.avail_gpus[pool] += count;
        }
    }

    /// The healthy spare takes the failed node's place (its jobs and free GPUs); the failed
    /// node becomes the rack's spare once repaired. GPUs of the failed node already in repair
    /// come back into placeable capacity (the spare's all work).
    pub fn swap_in_spare(&mut self, node: usize, spare: usize) {
        let nodes = self.nodes.as_mut().expect(TRACKS);
        let in_repair = nodes.failed[node];
        nodes.spare[spare] = false;
        nodes.free[spare] = nodes.free[node] + in_repair;
        nodes.spare[node] = true;
        nodes.free[node] = 0;
        let rack = nodes.rack_of_node(node);
        if in_repair != 0 && self.rack_state[rack] == ACTIVE {
            let pool = self.layout.rack_pool[rack];
            let free = self.avail[rack];
            self.change(pool, rack, free, free + in_repair);
            self.avail_gpus[pool] += in_repair;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::layout::tests::one_pool;
    use crate::state::Placement;

    /// Node layout of `one_pool`: `nodes_per_rack` nodes of `rack_gpus / nodes_per_rack` GPUs.
    pub fn node_layout(racks: usize, rack_gpus: i64, nodes_per_rack: usize, spares: usize) -> NodeLayout {
        let per_node = rack_gpus / (nodes_per_rack - spares) as i64;
        NodeLayout {
            rack_node_lo: (0..=racks).map(|r| r * nodes_per_rack).collect(),
            node_gpus: vec![per_node; racks * nodes_per_rack],
            spare_nodes: vec![spares],
            gpus_per_node: vec![per_node],
            nodes_per_rack: vec![nodes_per_rack],
        }
    }

    #[test]
    fn gangs_fill_partly_used_nodes_first() {
        let mut nodes = Nodes::new(node_layout(1, 16, 4, 0));
        assert_eq!(nodes.take(&[0], &[3]), (vec![0], vec![3]));
        // Node 0 has 1 free: it is the fullest partly-used node, then the lowest whole ones.
        assert_eq!(nodes.take(&[0], &[6]), (vec![0, 1, 2], vec![1, 4, 1]));
        assert_eq!(nodes.free, vec![0, 0, 3, 4]);
        nodes.give_back(&[0, 1], &[1, 4]);
        assert_eq!(nodes.free, vec![1, 4, 3, 4]);
    }

    #[test]
    fn a_failed_node_swaps_for_the_spare_and_repairs_come_back() {
        let mut layout = one_pool(1, 12, 1);
        layout.rack_installed_gpus = vec![16];
        let mut state = FleetState::new(layout, &[]);
        state.nodes = Some(Nodes::new(node_layout(1, 12, 4, 1)));
        state.deliver(0, 0, 1, 0.0);
        assert_eq!(state.nodes.as_ref().unwrap().healthy_spare(0), Some(3));
        let job = state.allocate(Placement {
            pool: 0,
            racks: vec![0],
            gpus: vec![6],
        });
        assert_eq!((job.nodes.clone(), job.node_gpus.clone()), (vec![0, 1], vec![4, 2]));
        // A GPU of node 2 (idle) fails: one GPU less to place.
        state.fail_gpus(2, 1, 1.0);
        assert_eq!(state.avail[0], 5);
        // Node 1 fails under the job: the spare takes its place (and its free GPUs).
        state.swap_in_spare(1, 3);
        state.fail_gpus(1, 4, 2.0);
        assert_eq!(state.avail[0], 5);
        let nodes = state.nodes.as_ref().unwrap();
        assert_eq!(
            (nodes.spare.clone(), nodes.free.clone()),
            (vec![false, true, false, false], vec![0, 0, 3, 2])
        );
        state.repair_gpus(1, 4, 3.0);
        state.repair_gpus(2, 1, 3.0);
        assert_eq!(state.avail[0], 6);
        let nodes = state.nodes.as_ref().unwrap();
        assert_eq!(nodes.healthy_spare(0), Some(1));
        assert_eq!(
            nodes.failed_log,
            vec![(1.0, 0, 1), (2.0, 0, 4), (3.0, 0, -4), (3.0, 0, -1)]
        );
    }
}
