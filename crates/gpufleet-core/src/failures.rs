//! Failure processes at run time (`gpufleet.failures.process.FailureProcess`): when the next
//! failure of each process comes and what it hits. The random draws stay in Python: the core
//! asks for them through `Draws` (the process's own numpy streams, in the Python engine's
//! order) and does the rest: which units are installed, the unit a draw picks, whether it is
//! up, the Weibull clocks.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::state::{FleetState, ACTIVE, DRAINING};
use crate::Time;

/// What one failure takes down (its blast radius).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    Gpu,
    Node,
    Rack,
    Block,
}

impl Component {
    pub fn parse(name: &str) -> Option<Component> {
        match name {
            "gpu" => Some(Component::Gpu),
            "node" => Some(Component::Node),
            "rack" => Some(Component::Rack),
            "block" => Some(Component::Block),
            _ => None,
        }
    }

    pub fn code(self) -> u8 {
        self as u8
    }
}

/// What one failure hits: whole racks (rack and block failures), or a node, or one of a
/// node's working GPUs (`gpu_index` 0 = the first working one).
#[derive(Clone, Debug, PartialEq)]
pub struct Strike {
    pub component: Component,
    pub pool: usize,
    pub racks: Vec<usize>,
    pub node: Option<usize>,
    pub gpu_index: i64,
}

/// The draws of the failure processes, from their numpy streams (`gpufleet.sim.native_failures`).
pub trait Draws {
    /// Seconds to process `process`'s next candidate failure at `rate` candidates a second.
    fn gap(&mut self, process: usize, rate: f64) -> f64;
    /// A uniform unit index in 0..units.
    fn unit(&mut self, process: usize, units: i64) -> i64;
    /// Failure times of `count` Weibull clocks started at `now`.
    fn clocks(&mut self, process: usize, now: f64, count: usize) -> Vec<f64>;
    /// The cause (an index into the process's causes) and repair seconds of a strike.
    fn cause_and_repair(&mut self, process: usize) -> (usize, f64);
}

/// A pool as the processes see it.
#[derive(Clone, Debug)]
pub struct PoolUnits {
    pub rack_lo: usize,
    pub rack_hi: usize,
    pub racks_per_block: usize,
    pub gpus_per_node: i64,
    pub nodes_per_rack: usize,
}

/// The fleet's shape as the processes see it.
#[derive(Clone, Debug)]
pub struct Units {
    pub pools: Vec<PoolUnits>,
    pub rack_pool: Vec<usize>,
    pub rack_block: Vec<i64>,
    pub rack_node_lo: Vec<usize>,
    pub node_gpus: Vec<i64>,
    /// Per global block, its racks lo..hi.
    pub block_racks: Vec<(usize, usize)>,
}

impl Units {
    fn rack_of_node(&self, node: usize) -> usize {
        self.rack_node_lo.partition_point(|&lo| lo <= node) - 1
    }
}

fn live(state: &FleetState, rack: usize) -> bool {
    matches!(state.rack_state[rack], ACTIVE | DRAINING)
}

fn down(state: &FleetState, rack: usize) -> bool {
    state.nodes.as_ref().is_some_and(|nodes| nodes.rack_down[rack])
}

fn failed(state: &FleetState, node: usize) -> i64 {
    state.nodes.as_ref().map_or(0, |nodes| nodes.failed[node])
}

/// The racks lo..hi in service and up.
fn racks_up(state: &FleetState, lo: usize, hi: usize) -> Vec<usize> {
    (lo..hi).filter(|&r| live(state, r) && !down(state, r)).collect()
}

/// One configured process over the pools it strikes.
pub struct Process {
    pub index: usize,
    pub component: Component,
    pub weibull: bool,
    pub pools: Vec<usize>,
    pub rate_per_s: f64,
    /// Bumped at every (re)scheduling: an older event is stale.
    pub version: u64,
    /// Exponential: the installed racks per pool at the last re-arm (blocks: their first racks).
    racks: Vec<Vec<usize>>,
    units_per_rack: Vec<i64>,
    units_end: Vec<i64>,
    candidate_rate: f64,
    /// Weibull: (failure time, unit), earliest first.
    clocks: BinaryHeap<Reverse<(Time, i64)>>,
}

impl Process {
    pub fn new(index: usize, component: Component, weibull: bool, pools: Vec<usize>, rate_per_s: f64) -> Self {
        Process {
            index,
            component,
            weibull,
            pools,
            rate_per_s,
            version: 0,
            racks: Vec::new(),
            units_per_rack: Vec::new(),
            units_end: Vec::new(),
            candidate_rate: 0.0,
            clocks: BinaryHeap::new(),
        }
    }

    /// Take the installed units as they are now and draw the next candidate failure.
    pub fn rearm(&mut self, now: f64, state: &FleetState, units: &Units, draws: &mut dyn Draws) -> Option<f64> {
        if self.weibull {
            return self.next_candidate(now, draws);
        }
        self.racks.clear();
        self.units_per_rack.clear();
        self.units_end.clear();
        let mut total = 0i64;
        for &p in &self.pools {
            let pool = &units.pools[p];
            let mut installed: Vec<usize> = (pool.rack_lo..pool.rack_hi).filter(|&r| live(state, r)).collect();
            if self.component == Component::Block {
                let per = pool.racks_per_block;
                installed = installed
                    .iter()
                    .map(|&r| pool.rack_lo + (r - pool.rack_lo) / per * per)
                    .collect();
                installed.dedup(); // ascending, so equal firsts are adjacent
            }
            let per_rack = match self.component {
                Component::Gpu => pool.gpus_per_node * pool.nodes_per_rack as i64,
                Component::Node => pool.nodes_per_rack as i64,
                _ => 1,
            };
            total += installed.len() as i64 * per_rack;
            self.racks.push(installed);
            self.units_per_rack.push(per_rack);
            self.units_end.push(total);
        }
        self.candidate_rate = self.rate_per_s * total as f64;
        self.next_candidate(now, draws)
    }

    /// When the next candidate failure comes (None: nothing installed). Weibull: the earliest clock.
    pub fn next_candidate(&mut self, now: f64, draws: &mut dyn Draws) -> Option<f64> {
        if self.weibull {
            return self.clocks.peek().map(|Reverse((when, _))| when.0);
        }
        if self.candidate_rate == 0.0 {
            return None;
        }
        Some(now + draws.gap(self.index, self.candidate_rate))
    }

    /// Start Weibull clocks for new (or repaired) units.
    pub fn install(&mut self, installed: &[i64], now: f64, draws: &mut dyn Draws) {
        if !self.weibull || installed.is_empty() {
            return;
        }
        let times = draws.clocks(self.index, now, installed.len());
        for (when, &unit) in times.into_iter().zip(installed) {
            self.clocks.push(Reverse((Time(when), unit)));
        }
    }

    /// Unit ids of racks lo..hi for this component (GPU ids are node * 64 + index).
    pub fn units_of_racks(&self, units: &Units, lo: usize, hi: usize) -> Vec<i64> {
        match self.component {
            Component::Rack => (lo..hi).map(|r| r as i64).collect(),
            Component::Block => {
                let mut blocks: Vec<i64> = units.rack_block[lo..hi].to_vec();
                blocks.sort_unstable();
                blocks.dedup();
                blocks
            }
            Component::Node => (units.rack_node_lo[lo]..units.rack_node_lo[hi])
                .map(|n| n as i64)
                .collect(),
            Component::Gpu => (units.rack_node_lo[lo]..units.rack_node_lo[hi])
                .flat_map(|node| (0..units.node_gpus[node]).map(move |i| node as i64 * 64 + i))
                .collect(),
        }
    }

    /// The unit this candidate failure hits (None: it found its unit down, or nothing is up).
    pub fn strike(&mut self, now: f64, state: &FleetState, units: &Units, draws: &mut dyn Draws) -> Option<Strike> {
        if self.weibull {
            return self.strike_clock(now, state, units);
        }
        if self.candidate_rate == 0.0 {
            return None;
        }
        let mut unit = draws.unit(self.index, *self.units_end.last().expect("installed units"));
        let local = self.units_end.partition_point(|&end| end <= unit);
        let p = self.pools[local];
        let pool = &units.pools[p];
        if local > 0 {
            unit -= self.units_end[local - 1];
        }
        let per_rack = self.units_per_rack[local];
        let rack = self.racks[local][(unit / per_rack) as usize];
        let strike = |component, racks, node, gpu_index| Strike {
            component,
            pool: p,
            racks,
            node,
            gpu_index,
        };
        if self.component == Component::Block {
            let racks = racks_up(state, rack, (rack + pool.racks_per_block).min(pool.rack_hi));
            return (!racks.is_empty()).then(|| strike(Component::Block, racks, None, -1));
        }
        if !live(state, rack) || down(state, rack) {
            return None; // retired since, or down
        }
        match self.component {
            Component::Rack => Some(strike(Component::Rack, vec![rack], None, -1)),
            Component::Node => {
                let node = units.rack_node_lo[rack] + (unit % per_rack) as usize;
                (failed(state, node) == 0).then(|| strike(Component::Node, Vec::new(), Some(node), -1))
            }
            _ => {
                let within = unit % per_rack;
                let (node, index) = (within / pool.gpus_per_node, within % pool.gpus_per_node);
                let node = node as usize + units.rack_node_lo[rack];
                // Failed GPUs cannot fail again.
                (index < pool.gpus_per_node - failed(state, node))
                    .then(|| strike(Component::Gpu, Vec::new(), Some(node), index))
            }
        }
    }

    fn strike_clock(&mut self, now: f64, state: &FleetState, units: &Units) -> Option<Strike> {
        while self.clocks.peek().is_some_and(|Reverse((when, _))| when.0 <= now) {
            let Reverse((_, unit)) = self.clocks.pop().expect("a clock");
            match self.component {
                Component::Gpu => {
                    let (node, index) = ((unit / 64) as usize, unit % 64);
                    let rack = units.rack_of_node(node);
                    let broken = failed(state, node);
                    if live(state, rack) && index >= broken {
                        return Some(Strike {
                            component: Component::Gpu,
                            pool: units.rack_pool[rack],
                            racks: Vec::new(),
                            node: Some(node),
                            gpu_index: index - broken,
                        });
                    }
                }
                Component::Node => {
                    let node = unit as usize;
                    let rack = units.rack_of_node(node);
                    if live(state, rack) && failed(state, node) == 0 {
                        return Some(Strike {
                            component: Component::Node,
                            pool: units.rack_pool[rack],
                            racks: Vec::new(),
                            node: Some(node),
                            gpu_index: -1,
                        });
                    }
                }
                Component::Rack => {
                    let rack = unit as usize;
                    if live(state, rack) && !down(state, rack) {
                        return Some(Strike {
                            component: Component::Rack,
                            pool: units.rack_pool[rack],
                            racks: vec![rack],
                            node: None,
                            gpu_index: -1,
                        });
                    }
                }
                Component::Block => {
                    let (lo, hi) = units.block_racks[unit as usize];
                    let racks = racks_up(state, lo, hi);
                    if let Some(&first) = racks.first() {
                        return Some(Strike {
                            component: Component::Block,
                            pool: units.rack_pool[first],
                            racks,
                            node: None,
                            gpu_index: -1,
                        });
                    }
                }
            }
        }
        None
    }

    /// The Weibull unit a repaired strike restarts the clock of (as the Python engine names it).
    pub fn repaired_unit(&self, strike: &Strike, units: &Units) -> i64 {
        match strike.component {
            Component::Gpu => strike.node.expect("a node") as i64 * 64 + strike.gpu_index,
            Component::Node => strike.node.expect("a node") as i64,
            Component::Rack => strike.racks.first().map_or(-1, |&r| r as i64),
            Component::Block => strike.racks.first().map_or(-1, |&r| units.rack_block[r]),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::layout::tests::one_pool;
    use crate::nodes::tests::node_layout;
    use crate::nodes::Nodes;

    /// Draws from fixed lists (what the numpy streams would give), recording what was asked.
    #[derive(Default)]
    pub struct Scripted {
        pub gaps: Vec<f64>,
        pub units: Vec<i64>,
        pub asked: Vec<String>,
    }

    impl Draws for Scripted {
        fn gap(&mut self, process: usize, rate: f64) -> f64 {
            self.asked.push(format!("gap {process} {rate}"));
            self.gaps.remove(0)
        }
        fn unit(&mut self, process: usize, units: i64) -> i64 {
            self.asked.push(format!("unit {process} {units}"));
            self.units.remove(0)
        }
        fn clocks(&mut self, process: usize, now: f64, count: usize) -> Vec<f64> {
            self.asked.push(format!("clocks {process} {count}"));
            (0..count).map(|i| now + 10.0 * (count - i) as f64).collect()
        }
        fn cause_and_repair(&mut self, process: usize) -> (usize, f64) {
            self.asked.push(format!("cause {process}"));
            (0, 100.0)
        }
    }

    /// 4 racks of 2 nodes of 4 GPUs, 2 racks to a block, racks 0..3 delivered.
    pub fn fleet() -> (FleetState, Units) {
        let mut layout = one_pool(4, 8, 2);
        layout.changes.clear();
        let mut state = FleetState::new(layout, &[]);
        state.nodes = Some(Nodes::new(node_layout(4, 8, 2, 0)));
        state.deliver(0, 0, 3, 0.0);
        let units = Units {
            pools: vec![PoolUnits {
                rack_lo: 0,
                rack_hi: 4,
                racks_per_block: 2,
                gpus_per_node: 4,
                nodes_per_rack: 2,
            }],
            rack_pool: vec![0; 4],
            rack_block: vec![0, 0, 1, 1],
            rack_node_lo: vec![0, 2, 4, 6, 8],
            node_gpus: vec![4; 8],
            block_racks: vec![(0, 2), (2, 4)],
        };
        (state, units)
    }

    #[test]
    fn candidates_come_at_the_rate_of_the_installed_units_and_pick_one_uniformly() {
        let (mut state, units) = fleet();
        let mut process = Process::new(0, Component::Gpu, false, vec![0], 0.5);
        let mut draws = Scripted {
            gaps: vec![2.0, 3.0],
            units: vec![13, 13],
            ..Scripted::default()
        };
        // 3 racks x 8 GPUs installed: 24 units at 0.5 a second each.
        assert_eq!(process.rearm(1.0, &state, &units, &mut draws), Some(3.0));
        assert_eq!(draws.asked, vec!["gap 0 12"]);
        // Unit 13: rack 1, its node 1 (node 3), GPU 1.
        let hit = process.strike(3.0, &state, &units, &mut draws).expect("a strike");
        assert_eq!((hit.node, hit.gpu_index, hit.pool), (Some(3), 1, 0));
        // With 3 of node 3's GPUs failed, its GPU 1 (of the one left working) cannot fail.
        state.fail_gpus(3, 3, 3.0);
        assert_eq!(process.strike(4.0, &state, &units, &mut draws), None);
        assert_eq!(process.next_candidate(4.0, &mut draws), Some(7.0));
    }

    #[test]
    fn block_candidates_strike_the_blocks_racks_that_are_up() {
        let (mut state, units) = fleet();
        let mut process = Process::new(0, Component::Block, false, vec![0], 1.0);
        let mut draws = Scripted {
            gaps: vec![1.0],
            units: vec![1, 0],
            ..Scripted::default()
        };
        // Racks 0..3 installed: blocks 0 and 1 (by their first racks 0 and 2).
        process.rearm(0.0, &state, &units, &mut draws);
        assert_eq!(draws.asked, vec!["gap 0 2"]);
        let hit = process.strike(1.0, &state, &units, &mut draws).expect("a strike");
        assert_eq!(hit.racks, vec![2]); // rack 3 is not delivered
        state.nodes.as_mut().unwrap().rack_down[0] = true;
        let hit = process.strike(1.0, &state, &units, &mut draws).expect("a strike");
        assert_eq!(hit.racks, vec![1]);
    }

    #[test]
    fn weibull_clocks_fire_in_time_order_and_skip_units_down() {
        let (mut state, units) = fleet();
        let mut process = Process::new(0, Component::Node, true, vec![0], 1.0);
        let mut draws = Scripted::default();
        let installed = process.units_of_racks(&units, 0, 2);
        assert_eq!(installed, vec![0, 1, 2, 3]);
        process.install(&installed, 0.0, &mut draws); // node 0 at 40 s, node 3 at 10 s
        assert_eq!(process.next_candidate(0.0, &mut draws), Some(10.0));
        state.fail_gpus(3, 4, 5.0);
        state.fail_gpus(2, 1, 5.0);
        // At 30 s: node 3 (10 s) and node 2 (20 s) are down; node 1 (30 s) strikes.
        let hit = process.strike(30.0, &state, &units, &mut draws).expect("a strike");
        assert_eq!(hit.node, Some(1));
        assert_eq!(process.next_candidate(30.0, &mut draws), Some(40.0));
        let gpus = Process::new(1, Component::Gpu, true, vec![0], 1.0);
        assert_eq!(gpus.units_of_racks(&units, 0, 1), vec![0, 1, 2, 3, 64, 65, 66, 67]);
    }
}
