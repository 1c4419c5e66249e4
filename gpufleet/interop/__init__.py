"""Real clusters in: Kueue and Slurm configurations and job records as scenarios, and back.

Modules (domain layer: they use spec, fleet, workload and traces, never the simulator):

- hostlist: Slurm hostlist expressions, expanded and compressed
- report: the import report (every field mapped or listed as not modelled, with counts)
- nodes, pools: cluster nodes and their topology as homogeneous pools of racks and blocks
- kueue_config, kueue_nodes, kueue_workloads, kueue: Kueue objects to a scenario
- slurm_conf, slurm_topology, slurm_jobs, slurm: slurm.conf, topology and sacct to a scenario
- scenario: the scenario's common sections (dates, GPU types) and its YAML
- export: the modelled subset of a scenario back in Kueue's or Slurm's own format
- snapshot: the cluster at one instant, for `gpufleet admit`

See docs/interop.md.
"""
