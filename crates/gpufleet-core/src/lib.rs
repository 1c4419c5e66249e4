//! gpufleet's native engine core (`gpufleet._core`): the event loop and scheduler of a run,
//! bit-identical to the Python engine for the subset it covers (docs/engine.md).

pub mod capacity;
pub mod failures;
pub mod layout;
pub mod nodes;
pub mod placement;
pub mod policy;
pub mod predictor;
pub mod preemption;
pub mod progress;
pub mod quota;
pub mod reservation;
pub mod scheduler;
pub mod serving;
pub mod sim;
pub mod state;

use std::cmp::Ordering;

/// A time in seconds, ordered as Python orders floats (never NaN here; -0.0 == 0.0).
#[derive(Clone, Copy, Debug)]
pub struct Time(pub f64);

impl PartialEq for Time {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Time {}

impl PartialOrd for Time {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Time {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.partial_cmp(&other.0).unwrap_or(Ordering::Equal)
    }
}

mod python {
    use numpy::{IntoPyArray, PyReadonlyArray1};
    use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyValueError};
    use pyo3::prelude::*;
    use pyo3::types::PyDict;

    use std::cell::RefCell;

    use crate::failures::{Component, Draws, PoolUnits, Process, Strike, Units};
    use crate::layout::{Change, Layout, Pool};
    use crate::nodes::{NodeLayout, Nodes};
    use crate::policy::Kind;
    use crate::preemption::{Reclaim, Rules, Within};
    use crate::progress::Progress;
    use crate::quota::QuotaBook;
    use crate::scheduler::{Backfill, Scheduler, SchedulerConfig, Shape};
    use crate::serving::autoscaler::{goals, Autoscaler};
    use crate::serving::victims::{self, RunningView};
    use crate::sim::{Failure, FailureInputs, Injected, RunInputs, Simulation};
    use crate::state::FleetState;

    fn item<'py, T: FromPyObject<'py>>(spec: &Bound<'py, PyDict>, name: &str) -> PyResult<T> {
        let value = spec
            .get_item(name)?
            .ok_or_else(|| PyKeyError::new_err(format!("run spec lacks {name:?}")))?;
        value
            .extract()
            .map_err(|err| PyValueError::new_err(format!("run spec {name:?}: {err}")))
    }

    fn floats(spec: &Bound<'_, PyDict>, name: &str) -> PyResult<Vec<f64>> {
        Ok(item::<PyReadonlyArray1<f64>>(spec, name)?.as_array().to_vec())
    }

    fn ints(spec: &Bound<'_, PyDict>, name: &str) -> PyResult<Vec<i64>> {
        Ok(item::<PyReadonlyArray1<i64>>(spec, name)?.as_array().to_vec())
    }

    fn indexes(spec: &Bound<'_, PyDict>, name: &str) -> PyResult<Vec<usize>> {
        ints(spec, name)?
            .into_iter()
            .map(|v| {
                usize::try_from(v).map_err(|_| PyValueError::new_err(format!("run spec {name:?}: negative index {v}")))
            })
            .collect()
    }

    fn flags(spec: &Bound<'_, PyDict>, name: &str) -> PyResult<Vec<bool>> {
        Ok(item::<PyReadonlyArray1<bool>>(spec, name)?.as_array().to_vec())
    }

    type PoolRow = (usize, usize, i64, usize, usize);
    type ChangeRow = (f64, usize, usize, usize, bool);
    type ShapeRow = (i64, i64, bool, Vec<usize>);

    type Built = (FleetState, Progress, SchedulerConfig, RunInputs);

    /// The policy: (name, las' thresholds in GPU-seconds, las' starvation factor or None).
    fn policy(spec: &Bound<'_, PyDict>) -> PyResult<Kind> {
        let (name, thresholds_gpu_s, starvation_factor): (String, Vec<f64>, Option<f64>) = item(spec, "policy")?;
        Ok(match name.as_str() {
            "static" => Kind::Static,
            "sjf" => Kind::Sjf,
            "fgf_preemptive" => Kind::FgfPreemptive,
            "srtf" => Kind::Srtf,
            "srsf" => Kind::Srsf,
            "las" => Kind::Las {
                thresholds_gpu_s,
                starvation_factor,
            },
            "drf" => Kind::Drf {
                weights: floats(spec, "drf_weights")?,
                flavor_of_pool: indexes(spec, "drf_flavor_of_pool")?,
                n_flavors: item(spec, "drf_n_flavors")?,
                decay: item(spec, "drf_decay")?,
            },
            other => return Err(PyValueError::new_err(format!("run spec: unknown policy {other:?}"))),
        })
    }

    /// Per queue, its Kueue preemption settings: (within_cluster_queue, reclaim_within_cohort,
    /// borrow_within_cohort) as Kueue spells them.
    fn rules(spec: &Bound<'_, PyDict>) -> PyResult<Vec<Rules>> {
        let rows: Vec<(String, String, String)> = item(spec, "preemption")?;
        let unknown = |name: &str, value: &str| PyValueError::new_err(format!("run spec: unknown {name} {value:?}"));
        rows.into_iter()
            .map(|(within, reclaim, borrow)| {
                Ok(Rules {
                    within: match within.as_str() {
                        "Never" => Within::Never,
                        "LowerPriority" => Within::LowerPriority,
                        "LowerOrNewerEqualPriority" => Within::LowerOrNewerEqualPriority,
                        other => return Err(unknown("within_cluster_queue", other)),
                    },
                    reclaim: match reclaim.as_str() {
                        "Never" => Reclaim::Never,
                        "Any" => Reclaim::Any,
                        "LowerPriority" => Reclaim::LowerPriority,
                        other => return Err(unknown("reclaim_within_cohort", other)),
                    },
                    borrow_lower_priority: match borrow.as_str() {
                        "Never" => false,
                        "LowerPriority" => true,
                        other => return Err(unknown("borrow_within_cohort", other)),
                    },
                })
            })
            .collect()
    }

    fn build(spec: &Bound<'_, PyDict>) -> PyResult<Built> {
        let pools: Vec<PoolRow> = item(spec, "pools")?;
        let changes: Vec<ChangeRow> = item(spec, "changes")?;
        let layout = Layout {
            pools: pools
                .into_iter()
                .map(|(rack_lo, rack_hi, rack_gpus, racks_per_block, n_blocks)| Pool {
                    rack_lo,
                    rack_hi,
                    rack_gpus,
                    racks_per_block,
                    n_blocks,
                })
                .collect(),
            rack_gpus: ints(spec, "rack_gpus")?,
            rack_installed_gpus: ints(spec, "rack_installed_gpus")?,
            rack_block: ints(spec, "rack_block")?,
            block_in_pool: indexes(spec, "block_in_pool")?,
            rack_pool: indexes(spec, "rack_pool")?,
            changes: changes
                .into_iter()
                .map(|(time_s, pool, rack_lo, rack_hi, retire)| Change {
                    time_s,
                    pool,
                    rack_lo,
                    rack_hi,
                    retire,
                })
                .collect(),
        };
        let groups: Vec<i64> = item(spec, "groups")?;
        let state = FleetState::new(layout, &groups);
        let progress = Progress::new(
            floats(spec, "work_s")?,
            floats(spec, "estimate_s")?,
            floats(spec, "checkpoint_s")?,
            floats(spec, "limit_s")?,
            item(spec, "restart_overhead_s")?,
            item(spec, "write_s")?,
        );
        let mut progress = progress;
        if let Some(rates) = spec.get_item("rate_per_s")? {
            if !rates.is_none() {
                progress.rate_per_s = Some(rates.extract::<PyReadonlyArray1<f64>>()?.as_array().to_vec());
            }
        }
        progress.gpus = floats(spec, "gpus")?;
        progress.free_preemption = item(spec, "free_preemption")?;
        let shapes: Vec<ShapeRow> = item(spec, "shapes")?;
        let backfill = match item::<String>(spec, "backfill")?.as_str() {
            "none" => Backfill::None,
            "greedy" => Backfill::Greedy,
            "easy" => Backfill::Easy,
            other => return Err(PyValueError::new_err(format!("unknown backfill {other:?}"))),
        };
        let cfg = SchedulerConfig {
            queue_of: indexes(spec, "queue_of")?,
            policy_value: ints(spec, "policy_value")?,
            shape_of: indexes(spec, "shape_of")?,
            shapes: shapes
                .into_iter()
                .map(|(gpus, group, within_block, pools)| Shape {
                    gpus,
                    group,
                    within_block,
                    pools,
                })
                .collect(),
            strict: item(spec, "strict")?,
            backfill,
            max_job_test: item(spec, "max_job_test")?,
            flavor_of_pool: indexes(spec, "flavor_of_pool")?,
            quotas: QuotaBook::new(
                item(spec, "quota_unlimited")?,
                item(spec, "n_flavors")?,
                floats(spec, "quota_nominal")?,
                floats(spec, "quota_cap")?,
                floats(spec, "quota_guaranteed")?,
                indexes(spec, "quota_pool_of")?,
                floats(spec, "quota_pool_capacity")?,
            ),
            quota_reason_base: item(spec, "quota_reason_base")?,
            priority: ints(spec, "priority")?,
            rules: rules(spec)?,
            any_scope: item(spec, "any_scope")?,
            policy: policy(spec)?,
            predict_team: match spec.get_item("predict_team")? {
                Some(value) if !value.is_none() => Some(
                    value
                        .extract::<Vec<i64>>()?
                        .into_iter()
                        .map(|t| usize::try_from(t).map_err(|_| PyValueError::new_err("run spec: negative team")))
                        .collect::<PyResult<_>>()?,
                ),
                _ => None,
            },
        };
        let inputs = RunInputs {
            submit_s: floats(spec, "submit_s")?,
            hits_limit: flags(spec, "hits_limit")?,
            never_fits: flags(spec, "never_fits")?,
            until_s: item(spec, "until_s")?,
            sample_times: floats(spec, "sample_times")?,
            progress_every: item(spec, "progress_every")?,
            time_passes: match spec.get_item("time_passes")? {
                Some(value) => value.extract()?,
                None => false,
            },
        };
        let n = inputs.submit_s.len();
        let lengths = [
            ("hits_limit", inputs.hits_limit.len()),
            ("never_fits", inputs.never_fits.len()),
            ("queue_of", cfg.queue_of.len()),
            ("policy_value", cfg.policy_value.len()),
            ("shape_of", cfg.shape_of.len()),
            ("priority", cfg.priority.len()),
            ("work_s", progress.work_s.len()),
            ("estimate_s", progress.estimate_s.len()),
            ("checkpoint_s", progress.checkpoint_s.len()),
            ("limit_s", progress.limit_s.len()),
            ("gpus", progress.gpus.len()),
        ];
        for (name, length) in lengths {
            if length != n {
                return Err(PyValueError::new_err(format!(
                    "run spec {name:?} has {length} entries for {n} jobs"
                )));
            }
        }
        Ok((state, progress, cfg, inputs))
    }

    type ProcessRow = (String, bool, Vec<usize>, f64, Vec<crate::scheduler::reason::Code>);
    type InjectedRow = (
        f64,
        String,
        usize,
        Vec<usize>,
        i64,
        i64,
        f64,
        crate::scheduler::reason::Code,
    );

    /// A run's failures: processes, injected failures, the nodes they strike, and the rules.
    struct Failures {
        inputs: FailureInputs,
        nodes: Nodes,
        draws: PyObject,
        max_restarts: Option<i64>,
        failed_reason: crate::scheduler::reason::Code,
    }

    fn component(name: &str) -> PyResult<Component> {
        Component::parse(name).ok_or_else(|| PyValueError::new_err(format!("unknown failure component {name:?}")))
    }

    fn failures(spec: &Bound<'_, PyDict>, layout: &Layout) -> PyResult<Option<Failures>> {
        if spec.get_item("failure_processes")?.is_none() {
            return Ok(None);
        }
        let rack_node_lo = indexes(spec, "rack_node_lo")?;
        let node_gpus = ints(spec, "node_gpus")?;
        let pool_nodes: Vec<(usize, i64, usize)> = item(spec, "pool_nodes")?;
        let node_layout = NodeLayout {
            rack_node_lo: rack_node_lo.clone(),
            node_gpus: node_gpus.clone(),
            spare_nodes: pool_nodes.iter().map(|p| p.0).collect(),
            gpus_per_node: pool_nodes.iter().map(|p| p.1).collect(),
            nodes_per_rack: pool_nodes.iter().map(|p| p.2).collect(),
        };
        let n_blocks = layout.rack_block.iter().map(|&b| b as usize + 1).max().unwrap_or(0);
        let mut block_racks = vec![(usize::MAX, 0); n_blocks];
        for (rack, &block) in layout.rack_block.iter().enumerate() {
            let entry = &mut block_racks[block as usize];
            entry.0 = entry.0.min(rack);
            entry.1 = entry.1.max(rack + 1);
        }
        let units = Units {
            pools: layout
                .pools
                .iter()
                .zip(&pool_nodes)
                .map(|(pool, &(_, gpus_per_node, nodes_per_rack))| PoolUnits {
                    rack_lo: pool.rack_lo,
                    rack_hi: pool.rack_hi,
                    racks_per_block: pool.racks_per_block,
                    gpus_per_node,
                    nodes_per_rack,
                })
                .collect(),
            rack_pool: layout.rack_pool.clone(),
            rack_block: layout.rack_block.clone(),
            rack_node_lo,
            node_gpus,
            block_racks,
        };
        let rows: Vec<ProcessRow> = item(spec, "failure_processes")?;
        let mut processes = Vec::new();
        let mut cause_reasons = Vec::new();
        for (index, (name, weibull, pools, rate_per_s, reasons)) in rows.into_iter().enumerate() {
            processes.push(Process::new(index, component(&name)?, weibull, pools, rate_per_s));
            cause_reasons.push(reasons);
        }
        let rows: Vec<InjectedRow> = item(spec, "injected")?;
        let mut injected = Vec::new();
        for (time_s, name, pool, racks, node, gpu_index, repair_s, reason) in rows {
            injected.push(Injected {
                time_s,
                strike: Strike {
                    component: component(&name)?,
                    pool,
                    racks,
                    node: usize::try_from(node).ok(),
                    gpu_index,
                },
                repair_s,
                reason,
            });
        }
        Ok(Some(Failures {
            inputs: FailureInputs {
                processes,
                injected,
                cause_reasons,
                units,
            },
            nodes: Nodes::new(node_layout),
            draws: item(spec, "failure_draws")?,
            max_restarts: item(spec, "max_restarts")?,
            failed_reason: item(spec, "failed_reason")?,
        }))
    }

    /// The failure processes' draws, from the Python object's numpy streams (with the GIL).
    /// An exception there is kept in `raised` and stops the run (as a panic, caught).
    struct PyDraws<'a> {
        object: PyObject,
        raised: &'a RefCell<Option<PyErr>>,
    }

    impl PyDraws<'_> {
        fn call<T: for<'py> FromPyObject<'py>>(
            &self,
            method: &str,
            args: impl for<'py> IntoPyObject<'py, Target = pyo3::types::PyTuple>,
        ) -> T {
            let result = Python::with_gil(|py| {
                self.object
                    .call_method1(py, method, args)
                    .and_then(|value| value.extract::<T>(py))
            });
            match result {
                Ok(value) => value,
                Err(err) => {
                    let message = format!("failure draws ({method}): {err}");
                    *self.raised.borrow_mut() = Some(err);
                    panic!("{message}");
                }
            }
        }
    }

    impl Draws for PyDraws<'_> {
        fn gap(&mut self, process: usize, rate: f64) -> f64 {
            self.call("gap", (process, rate))
        }

        fn unit(&mut self, process: usize, units: i64) -> i64 {
            self.call("unit", (process, units))
        }

        fn clocks(&mut self, process: usize, now: f64, count: usize) -> Vec<f64> {
            self.call("clocks", (process, now, count))
        }

        fn cause_and_repair(&mut self, process: usize) -> (usize, f64) {
            self.call("cause_and_repair", (process,))
        }
    }

    /// The autoscaler's goal at each decision of a service (`serving::autoscaler::goals`):
    /// `policy` is (min_replicas, max_replicas, target_qps_per_replica, upscale_periods,
    /// downscale_periods), `rates` the requests/s of each interval.
    #[pyfunction]
    fn autoscale<'py>(
        py: Python<'py>,
        policy: (i64, i64, Option<f64>, i64, i64),
        rates: PyReadonlyArray1<'py, f64>,
        warm: bool,
    ) -> Bound<'py, numpy::PyArray1<i64>> {
        let (min, max, per_replica, up, down) = policy;
        let mut scaler = Autoscaler::new(min, max, per_replica, up, down);
        goals(&mut scaler, &rates.as_array().to_vec(), warm).into_pyarray(py)
    }

    /// A running job as the snapshot gives it: (job, priority, GPUs, started, racks, GPUs on each).
    type RunningJob = (usize, i64, i64, f64, Vec<usize>, Vec<i64>);

    /// The running jobs and free room a victim search reads (`serving::victims`), from a
    /// snapshot of the Python scheduler (`gpufleet.sim.native_serving.victims_view`).
    struct Snapshot {
        range: (usize, usize),
        usable: Vec<bool>,
        groups_free: i64,
        avail: Vec<i64>,
        ranked: Vec<(i64, i64, f64, usize)>,
        holdings: std::collections::HashMap<usize, (Vec<usize>, Vec<i64>)>,
        on_rack: std::collections::HashMap<usize, Vec<usize>>,
        priority: std::collections::HashMap<usize, i64>,
        job_gpus: std::collections::HashMap<usize, i64>,
        started: std::collections::HashMap<usize, f64>,
    }

    impl RunningView for Snapshot {
        fn rack_range(&self, _: usize) -> (usize, usize) {
            self.range
        }
        fn usable(&self, rack: usize) -> bool {
            self.usable[rack]
        }
        fn groups_free(&self, _: usize, _: i64) -> i64 {
            self.groups_free
        }
        fn avail(&self, rack: usize) -> i64 {
            self.avail[rack]
        }
        fn cheapest_first(&self, _: usize) -> Vec<(i64, i64, f64, usize)> {
            self.ranked.clone()
        }
        fn holding(&self, job: usize) -> (&[usize], &[i64]) {
            let (racks, gpus) = &self.holdings[&job];
            (racks, gpus)
        }
        fn rack_jobs(&self, rack: usize) -> Vec<usize> {
            self.on_rack.get(&rack).cloned().unwrap_or_default()
        }
        fn priority(&self, job: usize) -> i64 {
            self.priority[&job]
        }
        fn job_gpus(&self, job: usize) -> i64 {
            self.job_gpus[&job]
        }
        fn started_at(&self, job: usize) -> f64 {
            self.started[&job]
        }
    }

    /// The jobs whose preemption frees room for a replica of `gpus` GPUs in groups of
    /// `group` (`serving::victims::gang_victims`), on a snapshot of the Python scheduler;
    /// `allowed`: the jobs it may preempt (None: any). None when they cannot.
    #[pyfunction]
    #[pyo3(signature = (view, gpus, group, allowed=None))]
    fn gang_victims(
        view: &Bound<'_, PyDict>,
        gpus: i64,
        group: i64,
        allowed: Option<Vec<usize>>,
    ) -> PyResult<Option<Vec<usize>>> {
        let running: Vec<RunningJob> = item(view, "running")?;
        let mut snapshot = Snapshot {
            range: item(view, "range")?,
            usable: item(view, "usable")?,
            groups_free: item(view, "groups_free")?,
            avail: item(view, "avail")?,
            ranked: item(view, "cheapest_first")?,
            holdings: Default::default(),
            on_rack: Default::default(),
            priority: Default::default(),
            job_gpus: Default::default(),
            started: Default::default(),
        };
        for (job, priority, job_gpus, started, racks, held) in running {
            for &rack in &racks {
                snapshot.on_rack.entry(rack).or_default().push(job);
            }
            snapshot.holdings.insert(job, (racks, held));
            snapshot.priority.insert(job, priority);
            snapshot.job_gpus.insert(job, job_gpus);
            snapshot.started.insert(job, started);
        }
        let allowed: Option<std::collections::HashSet<usize>> = allowed.map(|jobs| jobs.into_iter().collect());
        let check = |job: usize| allowed.as_ref().is_some_and(|jobs| jobs.contains(&job));
        let may_preempt: Option<&dyn Fn(usize) -> bool> = if allowed.is_some() { Some(&check) } else { None };
        Ok(victims::gang_victims(&snapshot, 0, gpus, group, may_preempt))
    }

    /// Run a whole simulation from a spec of pre-drawn arrays (built by `gpufleet.sim.native`);
    /// returns its columns. The GIL is released while it runs; `progress(now, finished, events)`
    /// is called with the GIL every `progress_every` events, and Ctrl-C stops the run.
    #[pyfunction]
    #[pyo3(signature = (spec, progress=None))]
    fn run<'py>(
        py: Python<'py>,
        spec: &Bound<'py, PyDict>,
        progress: Option<PyObject>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (mut state, progress_state, cfg, inputs) = build(spec)?;
        let failures = failures(spec, &state.layout)?;
        let outcome = py.allow_threads(move || {
            let raised_by_draws = RefCell::new(None);
            let mut raised: Option<PyErr> = None;
            let mut report = |now: f64, finished: u64, events: u64| -> Result<(), ()> {
                Python::with_gil(|py| {
                    py.check_signals()?;
                    if let Some(callback) = &progress {
                        callback.call1(py, (now, finished, events))?;
                    }
                    Ok(())
                })
                .map_err(|err: PyErr| raised = Some(err))
            };
            let mut scheduler;
            let mut simulation;
            match failures {
                Some(failures) => {
                    state.nodes = Some(failures.nodes);
                    scheduler = Scheduler::new(state, progress_state, cfg);
                    scheduler.track_failures(failures.max_restarts, failures.failed_reason);
                    simulation = Simulation::new(scheduler, inputs, Some(&mut report));
                    let draws = PyDraws {
                        object: failures.draws,
                        raised: &raised_by_draws,
                    };
                    simulation.set_failures(failures.inputs, Box::new(draws));
                }
                None => {
                    scheduler = Scheduler::new(state, progress_state, cfg);
                    simulation = Simulation::new(scheduler, inputs, Some(&mut report));
                }
            }
            let result = simulation.run();
            let raised = raised.or_else(|| raised_by_draws.into_inner());
            (result, raised)
        });
        let output = match outcome {
            (Ok(output), _) => output,
            (Err(Failure::Panic { .. }), Some(err)) => return Err(err),
            (Err(Failure::Stopped), Some(err)) => return Err(err),
            (Err(Failure::Stopped), None) => return Err(PyRuntimeError::new_err("the native run was stopped")),
            (
                Err(Failure::Panic {
                    time_s,
                    events,
                    message,
                }),
                _,
            ) => {
                return Err(PyRuntimeError::new_err(format!(
                    "gpufleet native core failed at simulated second {time_s} after {events} events: {message} \
                     (a bug: please report it; `--engine python` runs the reference engine)"
                )))
            }
        };
        let out = PyDict::new(py);
        out.set_item("start_s", output.start_s.into_pyarray(py))?;
        out.set_item("end_s", output.end_s.into_pyarray(py))?;
        out.set_item("status", output.status.into_pyarray(py))?;
        out.set_item("reason", output.reason.into_pyarray(py))?;
        out.set_item("pool", output.pool.into_pyarray(py))?;
        out.set_item("racks", output.racks.into_pyarray(py))?;
        out.set_item("blocks", output.blocks.into_pyarray(py))?;
        out.set_item("reserved_s", output.reserved_s.into_pyarray(py))?;
        out.set_item(
            "history_job",
            output
                .history
                .iter()
                .map(|h| h.0 as i64)
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        out.set_item(
            "history_time",
            output.history.iter().map(|h| h.1).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item(
            "history_reason",
            output.history.iter().map(|h| h.2).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item("productive_s", output.productive_s.into_pyarray(py))?;
        out.set_item("lost_s", output.lost_s.into_pyarray(py))?;
        out.set_item("overhead_s", output.overhead_s.into_pyarray(py))?;
        out.set_item("limit_lost_s", output.limit_lost_s.into_pyarray(py))?;
        out.set_item("writing_s", output.writing_s.into_pyarray(py))?;
        out.set_item("preemptions", output.preemptions.into_pyarray(py))?;
        let segments = &output.segments;
        out.set_item(
            "segment_job",
            segments.iter().map(|s| s.0 as i64).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item(
            "segment_pool",
            segments.iter().map(|s| s.1 as i64).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item(
            "segment_start_s",
            segments.iter().map(|s| s.2).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item(
            "segment_end_s",
            segments.iter().map(|s| s.3).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item(
            "samples",
            output
                .samples
                .iter()
                .flatten()
                .copied()
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        let log = &output.capacity_log;
        out.set_item(
            "capacity_time",
            log.iter().map(|c| c.0).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item(
            "capacity_pool",
            log.iter().map(|c| c.1 as i64).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item(
            "capacity_gpus",
            log.iter().map(|c| c.2).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item("events", output.events)?;
        out.set_item("interruptions", output.interruptions.into_pyarray(py))?;
        out.set_item("failure_lost_s", output.failure_lost_s.into_pyarray(py))?;
        out.set_item("failure_overhead_s", output.failure_overhead_s.into_pyarray(py))?;
        let log = &output.failures;
        let column = |f: &dyn Fn(&crate::sim::FailureRecord) -> i64| log.iter().map(f).collect::<Vec<i64>>();
        out.set_item(
            "failure_time_s",
            log.iter().map(|r| r.time_s).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item(
            "failure_process",
            column(&|r| r.process.map_or(-1, |p| p as i64)).into_pyarray(py),
        )?;
        out.set_item("failure_cause", column(&|r| r.cause as i64).into_pyarray(py))?;
        out.set_item(
            "failure_component",
            column(&|r| r.component.code() as i64).into_pyarray(py),
        )?;
        out.set_item("failure_pool", column(&|r| r.pool as i64).into_pyarray(py))?;
        out.set_item("failure_rack", column(&|r| r.rack as i64).into_pyarray(py))?;
        out.set_item("failure_node", column(&|r| r.node).into_pyarray(py))?;
        out.set_item("failure_gpus_down", column(&|r| r.gpus_down).into_pyarray(py))?;
        out.set_item("failure_jobs_hit", column(&|r| r.jobs_hit).into_pyarray(py))?;
        out.set_item(
            "failure_spare_used",
            log.iter().map(|r| r.spare_used).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item(
            "failure_repaired_s",
            log.iter().map(|r| r.repaired_s).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item("failure_n_nodes", column(&|r| r.nodes.len() as i64).into_pyarray(py))?;
        let flat: Vec<(usize, i64)> = log.iter().flat_map(|r| r.nodes.iter().copied()).collect();
        out.set_item(
            "failure_nodes",
            flat.iter().map(|n| n.0 as i64).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item(
            "failure_node_gpus",
            flat.iter().map(|n| n.1).collect::<Vec<_>>().into_pyarray(py),
        )?;
        let failed = &output.failed_log;
        out.set_item(
            "failed_time_s",
            failed.iter().map(|f| f.0).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item(
            "failed_pool",
            failed.iter().map(|f| f.1 as i64).collect::<Vec<_>>().into_pyarray(py),
        )?;
        out.set_item(
            "failed_gpus",
            failed.iter().map(|f| f.2).collect::<Vec<_>>().into_pyarray(py),
        )?;
        if !output.pass_timings.is_empty() {
            let timings = &output.pass_timings;
            out.set_item(
                "pass_time_s",
                timings.iter().map(|t| t.0).collect::<Vec<_>>().into_pyarray(py),
            )?;
            out.set_item(
                "pass_ns",
                timings.iter().map(|t| t.1).collect::<Vec<_>>().into_pyarray(py),
            )?;
        }
        Ok(out)
    }

    #[pymodule]
    fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
        module.add_function(wrap_pyfunction!(run, module)?)?;
        module.add_function(wrap_pyfunction!(autoscale, module)?)?;
        module.add_function(wrap_pyfunction!(gang_victims, module)?)?;
        module.add("__version__", env!("CARGO_PKG_VERSION"))?;
        Ok(())
    }
}
