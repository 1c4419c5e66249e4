"""`gpufleet admit` on hand-worked snapshots of the TAS sample cluster and the two-cohort cluster."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.interop.kueue import import_kueue
from gpufleet.interop.report import read_report, report_path
from gpufleet.interop.scenario import write_import
from gpufleet.sim.load import load_scenario


@pytest.fixture
def tas(interop: Path, data: Path, tmp_path: Path) -> tuple:
    out = tmp_path / "tas.yaml"
    imported = import_kueue([interop / "kueue" / "kueue_tas_sample-gpu-queues.yaml", data / "tas-priorities.yaml"],
                            out, nodes=data / "tas-nodes.json",
                            workloads=[data / "workloads-v1beta2.yaml", data / "workloads-v1beta1.yaml",
                                       data / "jobs-with-status.yaml"])
    return write_import(imported, out, load_scenario), read_report(report_path(out))


def test_quota_full_and_when_it_frees(tas: tuple, data: Path) -> None:
    """At 10:00 train-b (16 GPUs, admitted 08:11:40, 24 h limit) holds all 16 GPUs of quota. No job that
    finished ran longer than its 1 h 48 min so far, so each draw runs it to its limit: the probe (8 GPUs,
    priority high, ahead of the two priority-0 jobs queued before it) starts when the limit frees the quota,
    at 08:11:40 the next day, in every replication."""
    scenario, report = tas
    answer = api.admit(scenario, data / "tas-job.yaml", at=datetime(2026, 3, 2, 10), replications=4, report=report)
    decision = answer.decision
    assert not decision.admitted
    assert decision.reason == "quota: tas-flavor nominal quota of queue tas-cluster-queue reached"
    (check,) = decision.checks
    assert (check.kind, check.detail) == (
        "quota", "quota: tas-flavor nominal 16 of queue tas-cluster-queue reached (queue uses 16, the job needs 8)")
    assert answer.notes[0] == ("at 2026-03-02 10:00:00: 1 jobs running, 2 queued, 7 finished earlier (their run times "
                               "are drawn from)")
    outlook = answer.forecast
    assert outlook.started == 4 and set(outlook.start.values()) == {datetime(2026, 3, 3, 8, 11, 40)}
    assert outlook.wait_h["p50"] == pytest.approx(22 + 11 / 60 + 40 / 3600)


def test_admitted_now_on_a_named_rack(tas: tuple, data: Path) -> None:
    """At 08:05 only train-a runs (8 GPUs in one rack): the probe goes to another rack, by its real name."""
    scenario, report = tas
    answer = api.admit(scenario, data / "tas-job.yaml", at=datetime(2026, 3, 2, 8, 5), replications=2, report=report)
    decision = answer.decision
    assert decision.admitted and decision.pool == "tas-flavor" and len(decision.racks) == 1
    assert decision.racks[0] in {f"block-{b}-rack-{r} (block block-{b})" for b in (1, 2) for r in (1, 2)}
    assert decision.blocks[0] in {"block-1", "block-2"}
    assert answer.forecast.wait_h["p50"] == 0.0


def test_recorded_ends(tas: tuple, data: Path) -> None:
    scenario, report = tas
    answer = api.admit(scenario, data / "tas-job.yaml", at=datetime(2026, 3, 2, 10), recorded=True, report=report)
    assert answer.forecast.replications == 1 and answer.forecast.started == 1


def test_strict_fifo_head_of_line(interop: Path, data: Path, tmp_path: Path) -> None:
    """In the two-cohort cluster at 18:00, research-vision (StrictFIFO) is held by its first job, 128 GPUs at
    the queue's borrowing limit: a small job behind it fits quota and room but waits for it."""
    folder = data / "two-cohorts"
    out = tmp_path / "two.yaml"
    scenario = write_import(import_kueue([folder / "cluster.yaml"], out, nodes=folder / "nodes.json",
                                         workloads=[folder / "workloads.yaml"]), out, load_scenario)
    answer = api.admit(scenario, folder / "job-small.yaml", at=datetime(2026, 4, 7, 18), replications=3,
                       report=read_report(report_path(out)))
    decision = answer.decision
    assert not decision.admitted and decision.reason == "behind_head_strict_order"
    assert [check.kind for check in decision.checks] == ["fits"]
    assert decision.blocked_by.endswith("(128 GPUs): quota: gb200 borrowing limit of queue research-vision reached")
    assert answer.forecast.started == 3 and answer.forecast.wait_h["p10"] > 24
    block = api.admit(scenario, folder / "job-block.yaml", at=datetime(2026, 4, 7, 18), replications=3,
                      report=read_report(report_path(out)))
    assert [check.kind for check in block.decision.checks] == ["borrowing"]
    assert block.forecast.started == 3 and block.forecast.pools == {"gb200": 3}


def test_bad_jobs(tas: tuple, tmp_path: Path) -> None:
    scenario, _ = tas
    two = tmp_path / "two.yaml"
    two.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\n"
                   "metadata: {name: b}\n")
    with pytest.raises(InputError, match="expected one job, found 2 objects"):
        api.admit(scenario, two)
    cpu = tmp_path / "cpu.yaml"
    cpu.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {kueue.x-k8s.io/queue-name: "
                   "tas-user-queue}}\nspec: {containers: [{name: c, resources: {requests: {cpu: '1'}}}]}\n")
    with pytest.raises(InputError, match="the job asks for no GPUs"):
        api.admit(scenario, cpu)
    plain = tmp_path / "plain.yaml"
    plain.write_text("name: x\ngpus: 8\nteam: nobody/none\n")
    with pytest.raises(InputError, match="no queue serves the job's team 'nobody/none'"):
        api.admit(scenario, plain)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("name: x\ngpus: 8\nqueue: q\n")
    with pytest.raises(InputError, match="nor a gpufleet job"):
        api.admit(scenario, wrong)
