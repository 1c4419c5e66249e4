"""The catalog's failure processes: the 2024 set (`catalog_defaults: true`) and the calibrated
set (fitted repairs, NVL72 rack failures, rate scales), by hand."""

from __future__ import annotations

import numpy as np
import pytest

from gpufleet import api
from gpufleet.failures.defaults import (
    LLAMA3_GPUS,
    LLAMA3_HOURS,
    STEPFUN_HARDWARE_REPAIR,
    catalog_defaults,
    llama3_processes,
)
from gpufleet.failures.scenario import failure_processes
from gpufleet.fleet.build import build_layout
from gpufleet.spec.failures import CatalogDefaultsSpec, Component, RepairModel
from gpufleet.testing import scenario

SWITCH_CABLE = 35 / (LLAMA3_GPUS * LLAMA3_HOURS)  # 1.648e-6 per GPU-hour


def by_name(processes: list) -> dict:  # noqa: ANN401
    return {process.name: process for process in processes}


def test_true_keeps_the_2024_set() -> None:
    assert catalog_defaults("H100", 8) == llama3_processes(8)
    gb200 = by_name(catalog_defaults("GB200", 4, None, 72, 18))
    assert set(gb200) == {"gpu", "software", "network", "host"}
    assert gb200["gpu"].repair.median_hours == 4.0


def test_calibrated_set_fits_repairs_and_adds_rack_failures() -> None:
    processes = by_name(catalog_defaults("GB200", 4, CatalogDefaultsSpec(), 72, 18))
    assert set(processes) == {"gpu", "software", "network", "host", "nvlink-switch", "power-shelf", "cooling"}
    for name in ("gpu", "network", "host", "nvlink-switch", "power-shelf", "cooling"):
        assert processes[name].repair == STEPFUN_HARDWARE_REPAIR
    assert processes["software"].repair.hours == 0.05  # software clears in 3 minutes: no hardware down
    assert processes["gpu"].rate_per_unit_hour == llama3_processes(4)[0].rate_per_unit_hour
    # Rack processes: per rack-hour, 72 GPUs x the switch-and-cable rate x 1/2, 1/4, 1/4.
    rates = {name: processes[name].rate_per_unit_hour for name in ("nvlink-switch", "power-shelf", "cooling")}
    assert rates == pytest.approx({"nvlink-switch": 72 * SWITCH_CABLE / 2, "power-shelf": 72 * SWITCH_CABLE / 4,
                                   "cooling": 72 * SWITCH_CABLE / 4}, rel=1e-12)
    assert all(processes[name].component is Component.rack for name in rates)
    assert sum(rates.values()) == pytest.approx(5.93e-5 * 2, rel=1e-3)  # 1.187e-4 per rack-hour
    # HGX servers (one node per NVLink domain) get no rack processes; assumed repairs on request.
    assert "cooling" not in by_name(catalog_defaults("H100", 8, CatalogDefaultsSpec(), 8, 1))
    assumed = by_name(catalog_defaults("GB200", 4, CatalogDefaultsSpec(repair=RepairModel.assumed), 72, 18))
    assert assumed["gpu"].repair.median_hours == 4.0 and assumed["cooling"].repair.median_hours == 4.0


def test_rate_scale_multiplies_every_rate_of_its_type() -> None:
    options = CatalogDefaultsSpec(rate_scale={"gb300": 2.0})
    plain = by_name(catalog_defaults("GB300", 4, CatalogDefaultsSpec(), 72, 18))
    scaled = by_name(catalog_defaults("GB300", 4, options, 72, 18))
    for name, process in plain.items():
        assert scaled[name].rate_per_unit_hour == 2.0 * process.rate_per_unit_hour
    assert by_name(catalog_defaults("GB200", 4, options, 72, 18))["gpu"] == by_name(
        catalog_defaults("GB200", 4, CatalogDefaultsSpec(), 72, 18))["gpu"]


def test_a_run_with_the_calibrated_set() -> None:
    # 200 NVL72 racks for 60 days: rack failures at ~1.19e-4 per rack-hour come to ~34; every
    # hardware repair time comes from the fitted table (0.0096 h to 2,207 h).
    fleet = {"pools": [{"name": "gb200", "gpu": "GB200", "deliveries": [{"date": "2026-01-01", "racks": 200}]}]}
    spec = scenario(fleet, [], end="2026-03-02", seed=3, failures={"catalog_defaults": {}})
    names = [process.name for process, _ in failure_processes(spec, build_layout(spec))]
    assert names == [f"{name}:gb200" for name in ("gpu", "software", "network", "host", "nvlink-switch",
                                                  "power-shelf", "cooling")]
    rows = api.run(spec).failures.to_pylist()
    racks = [row for row in rows if row["component"] == "rack"]
    expected = 200 * 60 * 24 * 72 * SWITCH_CABLE
    assert len(racks) == pytest.approx(expected, abs=4 * expected ** 0.5)
    # A rack failure takes down the rack's working GPUs (some may be in repair already).
    assert all(0 < row["gpus_down"] <= 72 for row in racks)
    assert sum(row["gpus_down"] == 72 for row in racks) > len(racks) / 2
    hardware = [row for row in rows if not row["process"].startswith("software") and not np.isnan(row["repaired_s"])]
    hours = np.array([(row["repaired_s"] - row["t_s"]) / 3600 for row in hardware])
    assert hours.min() >= 0.0096 - 1e-9 and hours.max() <= 2206.8216 + 1e-6
    assert np.median(hours) > 4.0  # the assumed set's median; the fitted one is 32.6 h


def test_mapping_and_bool_forms_load() -> None:
    fleet = {"pools": [{"name": "gb200", "gpu": "GB200", "deliveries": [{"date": "2026-01-01", "racks": 1}]}]}
    assert scenario(fleet, [], failures={"catalog_defaults": True}).failures.catalog_options is None
    options = scenario(fleet, [], failures={"catalog_defaults": {"repair": "assumed"}}).failures.catalog_options
    assert options is not None and options.repair is RepairModel.assumed and options.rack_failures
