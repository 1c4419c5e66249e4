"""Hand-worked schedules for the research simulators' semantics: preemption scope `any`,
SRSF, fewest GPUs first, free preemption, LAS with the guard off and thresholds in
GPU-seconds, stable ties, and speed that depends on where a job runs."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from gpufleet import api
from gpufleet.sched.progress import JobProgress
from gpufleet.testing import scenario, small_fleet

H = 3600.0
RACK8 = small_fleet(racks=1, gpus_per_node=8, nodes_per_rack=1)
RACK4 = small_fleet(racks=1, gpus_per_node=4, nodes_per_rack=1)
RACK1 = small_fleet(racks=1, gpus_per_node=1, nodes_per_rack=1)
COST = {"interval_hours": 1.5, "restart_overhead_minutes": 10}


def at(seconds: float) -> str:
    whole = int(seconds)
    micro = round((seconds - whole) * 1e6)
    return f"2026-01-01T{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{micro:06d}"


def job(name: str, gpus: int, hours: float, at_h: float = 0.0, **extra: object) -> dict:
    return {"name": name, "gpus": gpus, "duration_hours": hours, "submit": at(at_h * H), **extra}


def run(jobs: list[dict], scheduler: dict, fleet: dict = RACK8, **extra: object) -> dict:
    scheduler = {"estimate": "exact", **scheduler}  # the research simulators know every run time
    spec = scenario(fleet, [{"jobs": {"name": "jobs", "items": jobs}}], end="2026-01-12", scheduler=scheduler,
                    checkpointing=COST, **extra)
    return {row["name"]: row for row in api.run(spec).jobs.to_pylist()}


def starts(rows: dict, *names: str) -> list[float]:
    return [rows[name]["start_s"] / H for name in names]


def test_any_scope_lets_the_second_job_in_order_preempt_where_the_first_cannot() -> None:
    # One rack of 8. r1 (4 GPUs, 100 h) and r2 (4 GPUs, 5 h) run from 0. At 1 h j1 (8 GPUs,
    # 8 h) and j2 (4 GPUs, 9 h) arrive; SRTF puts j1 first. j1 could preempt r1 (99 h left)
    # but not r2 (4 h left < 8 h): it cannot free 8 GPUs and is blocked.
    jobs = [job("r1", 4, 100), job("r2", 4, 5), job("j1", 8, 8, 1), job("j2", 4, 9, 1)]
    base = {"policy": "srtf", "preemption_cost": "none"}
    kueue = run(jobs, {**base, "preemption_scope": "first_blocked"})
    research = run(jobs, {**base, "preemption_scope": "any"})
    # first_blocked: j1's failure ends the queue's preemptions; at 5 h r2 ends and j1 takes
    # r1's place; j2 waits for j1 to end at 13 h (and r1 goes back on beside it).
    assert starts(kueue, "j1", "j2") == [5, 13]
    assert kueue["r1"]["end_s"] / H == pytest.approx(108)
    # any: j2, second in order, preempts r1 at 1 h (9 h < 99 h) and runs to 10 h; j1 cannot
    # preempt j2 (5 h left < 8 h) and starts when it ends.
    assert starts(research, "j2", "j1") == [1, 10]
    assert research["r1"]["preemptions"] == 1 and research["r1"]["end_s"] / H == pytest.approx(18 + 99)


def test_srsf_orders_by_remaining_gpu_time_where_srtf_orders_by_time() -> None:
    # A 4-GPU rack, busy until 1 h. a: 1 GPU for 10 h (10 GPU-h); b: 4 GPUs for 3 h (12 GPU-h).
    jobs = [job("blocker", 4, 1), job("a", 1, 10, 0.5), job("b", 4, 3, 0.5)]
    srtf = run(jobs, {"policy": "srtf"}, RACK4)
    srsf = run(jobs, {"policy": "srsf"}, RACK4)
    assert starts(srtf, "b", "a") == [1, 4]
    # SRSF starts a first; b (12 GPU-h) may not preempt a (10 GPU-h left at most).
    assert starts(srsf, "a", "b") == [1, 11]


def test_srsf_preempts_less_often_than_srtf_for_wide_jobs() -> None:
    # x: 1 GPU for 50 h from 0. y: 8 GPUs for 10 h at 1 h. SRTF: 10 h < 49 h, y preempts x.
    # SRSF: y needs 80 GPU-h, x has 49 left: no preemption; y waits for x.
    jobs = [job("x", 1, 50), job("y", 8, 10, 1)]
    assert run(jobs, {"policy": "srtf"})["y"]["start_s"] == 1 * H
    assert run(jobs, {"policy": "srsf"})["y"]["start_s"] == 50 * H


def test_fewest_gpus_first_with_and_without_preemption() -> None:
    jobs = [job("blocker", 4, 1), job("four", 4, 1, 0.5), job("one", 1, 1, 0.5), job("two", 2, 1, 0.5)]
    fifo = run(jobs, {"policy": "fifo"}, RACK4)
    fgf = run(jobs, {"policy": "fgf"}, RACK4)
    assert starts(fifo, "four", "one", "two") == [1, 2, 2]
    assert starts(fgf, "one", "two", "four") == [1, 1, 2]
    wide_then_narrow = [job("wide", 4, 10), job("narrow", 1, 1, 1)]
    assert run(wide_then_narrow, {"policy": "fgf"}, RACK4)["narrow"]["start_s"] == 10 * H
    preemptive = run(wide_then_narrow, {"policy": "fgf_preemptive"}, RACK4)
    assert preemptive["narrow"]["start_s"] == 1 * H and preemptive["wide"]["preemptions"] == 1


def test_free_preemption_keeps_every_second_of_work_exactly() -> None:
    # L (8 GPUs, 10 h) is preempted twice by shorter jobs at times that are not whole seconds.
    s1, s2 = 3960.1, 11880.3
    jobs = [job("L", 8, 10), job("s1", 8, 0.5, s1 / H), job("s2", 8, 0.25, s2 / H)]
    checkpointed = run(jobs, {"policy": "srtf"})
    free = run(jobs, {"policy": "srtf", "preemption_cost": "none"})
    assert checkpointed["L"]["lost_gpu_hours"] > 0 and checkpointed["L"]["overhead_gpu_hours"] > 0
    row = free["L"]
    assert row["preemptions"] == 2 and row["lost_gpu_hours"] == 0 and row["overhead_gpu_hours"] == 0
    assert row["productive_gpu_hours"] * 3600 / 8 == 36000.0  # work done equals the duration, exactly
    # The time held is the duration but for the rounding of the last end time, once.
    s1_end = free["s1"]["end_s"]
    s2_end = free["s2"]["end_s"]
    held = (Fraction(s1) - 0) + (Fraction(s2) - Fraction(s1_end)) + (Fraction(row["end_s"]) - Fraction(s2_end))
    assert abs(held - 36000) <= Fraction(math.ulp(row["end_s"]))
    assert row["run_s"] == pytest.approx(36000.0, abs=1e-9)


def test_free_preemption_does_not_drift_over_many_preemptions() -> None:
    progress = JobProgress([1000.0], [1000.0], [1], [1.5 * H], 600.0, free_preemption=True)
    now, segments = 0.1, []
    for _ in range(200):  # run 0.3 s, pause 0.7 s, at times that are not whole seconds
        progress.start(0, now)
        segments.append((now, now + 0.3))
        now += 0.3
        progress.stop(0, now, finished=False)
        now += 0.7
    worked = sum(Fraction(end) - Fraction(begin) for begin, end in segments)  # exact, from the float times
    assert progress.done_s[0] == float(worked)  # rounded once, however many preemptions
    assert progress.start(0, now) == float(Fraction(1000) - worked)
    assert progress.lost_s[0] == 0.0 and progress.overhead_s[0] == 0.0 and progress.preemptions[0] == 200


LAS = {"name": "las", "thresholds_gpu_hours": [8], "starvation_factor": 2}


def test_las_starvation_guard_off_and_thresholds_in_gpu_seconds() -> None:
    jobs = [job("long", 8, 10), job("s1", 8, 0.5, 0.5), job("s2", 8, 2.5, 1.4)]
    guarded = run(jobs, {"policy": LAS})
    assert (3.0, "preempted") in [(round(e["t_s"] / H, 4), e["reason"]) for e in guarded["s2"]["reasons"]]
    for off in (None, "off", False):
        unguarded = run(jobs, {"policy": {**LAS, "starvation_factor": off}})
        assert unguarded["s2"]["preemptions"] == 0  # nobody is promoted to preempt it
        assert unguarded["long"]["start_s"] == 0 and unguarded["s2"]["end_s"] == 4 * H
    seconds = run(jobs, {"policy": {"name": "las", "thresholds_gpu_seconds": [28800], "starvation_factor": 2}})
    assert {name: (row["start_s"], row["end_s"]) for name, row in seconds.items()} == \
        {name: (row["start_s"], row["end_s"]) for name, row in guarded.items()}


def test_las_thresholds_take_one_unit() -> None:
    from gpufleet.errors import InputError

    with pytest.raises(InputError, match="not both"):
        run([job("a", 1, 1)], {"policy": {"name": "las", "thresholds_gpu_hours": [1],
                                          "thresholds_gpu_seconds": [3600]}})


def test_stable_ties_put_a_demoted_job_at_the_head_of_the_lower_queue() -> None:
    # One GPU; LAS with one threshold at 100 GPU-seconds, no guard, free preemption. a, b, c
    # (300 s each) arrive at 0, 10, 20 s. a is demoted at 100 s and b preempts it; b at 200
    # s, c preempts it; c is demoted at 300 s with a and b waiting in the lower queue too.
    jobs = [{"name": name, "gpus": 1, "duration_hours": 300 / H, "submit": at(t)}
            for name, t in (("a", 0), ("b", 10), ("c", 20))]
    base = {"policy": {"name": "las", "thresholds_gpu_seconds": [100], "starvation_factor": None},
            "preemption_scope": "any", "preemption_cost": "none"}
    submit_order = run(jobs, base, RACK1)
    stable = run(jobs, {**base, "ties": "stable"}, RACK1)
    assert submit_order["c"]["end_s"] == stable["c"]["end_s"] == 500
    # Submit order: a (submitted first) resumes at 500 s. A list re-sorted stably at every
    # event keeps b before a: at 200 s b dropped from the first queue, where a had already gone.
    assert [submit_order[name]["end_s"] for name in ("a", "b")] == [700, 900]
    assert [stable[name]["end_s"] for name in ("b", "a")] == [700, 900]


def test_stable_ties_equal_submit_order_when_keys_never_move() -> None:
    jobs = [job("blocker", 4, 1)] + [job(f"j{k}", 2, 1 + k % 2, 0.5) for k in range(6)]
    for policy in ("fifo", "fgf", "sjf"):
        stable = run(jobs, {"policy": policy, "ties": "stable"}, RACK4)
        plain = run(jobs, {"policy": policy}, RACK4)
        assert {name: (row["start_s"], row["end_s"]) for name, row in stable.items()} == \
            {name: (row["start_s"], row["end_s"]) for name, row in plain.items()}


MIXED = {"pools": [
    {"name": "p200", "gpu": "GB200", "gpus_per_node": 8, "nodes_per_rack": 1,
     "deliveries": [{"date": "2026-01-01", "racks": 1}]},
    {"name": "p300", "gpu": "GB300", "gpus_per_node": 8, "nodes_per_rack": 1,
     "deliveries": [{"date": "2026-01-01", "racks": 1}]}]}
FASTER = {"reference": "GB200", "classes": [{"name": "fp4", "workloads": ["jobs"], "relative": {"GB300": 2.0},
                                             "source": "assumption: a test class twice as fast on GB300"}]}


def test_a_job_runs_faster_on_the_faster_type_and_is_rescaled_when_it_resumes_elsewhere() -> None:
    jobs = [job("b1", 8, 2, flavors=["GB200"]), job("L", 8, 10, 0.5), job("s", 8, 4, 1, flavors=["GB300"])]
    rows = run(jobs, {"policy": "srtf", "preemption_cost": "none"}, MIXED, throughput=FASTER)
    # L starts on GB300 at 0.5 h (GB200 is busy) and works at twice the speed: by 1 h it has
    # done 1 h of its 10. s (4 h, 2 h on GB300) preempts it; b1 leaves GB200 at 2 h and L
    # resumes there, at the reference speed, for its last 9 h.
    assert rows["L"]["pool"] == "p300" and rows["L"]["end_s"] == 11 * H
    assert rows["s"]["start_s"] == 1 * H and rows["s"]["end_s"] == 3 * H
    assert rows["L"]["speed"] == pytest.approx(10 / 9.5) and rows["L"]["job_class"] == "fp4"
    assert rows["b1"]["speed"] == 1.0


def test_speeds_are_exactly_the_reference_without_a_throughput_matrix() -> None:
    progress = JobProgress([100.0], [100.0], [8], [1.5 * H], 600.0)
    assert progress.start(0, 0.0, pool=3) == 100.0 and not progress.varied_speed
    progress.set_speeds([0], [[1.0, 2.0]], ["x"])
    progress.stop(0, 10.0, finished=False)  # (a checkpointed stop before any checkpoint keeps nothing)
    assert progress.start(0, 20.0, pool=1) == pytest.approx(600.0 + 50.0)  # restart overhead, then 100 s at 2x
