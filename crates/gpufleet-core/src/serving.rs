//! Inference services (`gpufleet.sim.serving`), the parts that know nothing of the fleet:
//! the autoscaler's decisions and the replicas it manages (`autoscaler.rs`).

pub mod autoscaler;
pub mod victims;
