"""Hand-worked ledgers of a portfolio: take-or-pay, minimum spend with overage and with a
shortfall, capacity bought outside the commitments; the one-contract shorthand unchanged."""

from __future__ import annotations

from datetime import datetime

import pytest

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.testing import jobs_workload, scenario

HOURS_JAN, HOURS_FEB = 31 * 24, 28 * 24


def cents(expected: object) -> object:
    """Equal to the cent (each number, or each number of a list)."""
    return pytest.approx(expected, rel=0, abs=0.005)


def _pool(name: str, gpu: str, provider: str, **extra: object) -> dict:
    return {"name": name, "gpu": gpu, "provider": provider, "gpus_per_node": 8, "nodes_per_rack": 1,
            "deliveries": [{"date": "2026-01-01", "racks": extra.pop("racks", 1)}], **extra}


FLEET = {"pools": [
    _pool("aws-h100", "H100", "aws", racks=2),
    _pool("azure-h200", "H200", "azure"),
    _pool("oracle-b200", "B200", "oracle"),
    _pool("gcp-od", "H100", "gcp", purchase={"kind": "on_demand", "price_usd_per_gpu_hour": 6.0,
                                              "source": "assumption (test)"}),
]}
CONTRACTS = [
    {"name": "aws", "provider": "aws", "value_usd": 1.0e6, "start": "2026-01-01", "term_years": 2,
     "prices_usd_per_gpu_hour": {"H100": 2.0}},
    {"name": "azure", "provider": "azure", "kind": "minimum_spend", "value_usd": 1000.0, "start": "2026-01-01",
     "term_years": 1, "prices_usd_per_gpu_hour": {"H200": 3.0}, "overage_usd_per_gpu_hour": {"H200": 5.0}},
    {"name": "oracle", "pools": ["oracle-b200"], "kind": "minimum_spend", "value_usd": 5000.0,
     "start": "2026-01-01", "term_years": 0.1, "prices_usd_per_gpu_hour": {"B200": 4.0}},
]
JOBS = [{"name": "on-azure", "gpus": 8, "duration_hours": 100, "flavors": ["H200"]},
        {"name": "on-oracle", "gpus": 8, "duration_hours": 50, "flavors": ["B200"]}]


@pytest.fixture(scope="module")
def portfolio() -> api.RunResult:
    return api.run(scenario(FLEET, [jobs_workload(JOBS)], contracts=CONTRACTS))


def _contract(result: api.RunResult, name: str) -> dict:
    return next(row for row in result.summary["money"]["contracts"] if row["name"] == name)


def _rows(result: api.RunResult, name: str) -> list[dict]:
    assert result.contracts is not None
    return [row for row in result.contracts.to_pylist() if row["contract"] == name]


def test_take_or_pay_bills_installed_capacity_used_or_not(portfolio: api.RunResult) -> None:
    aws = _contract(portfolio, "aws")
    rows = _rows(portfolio, "aws")
    # 2 racks x 8 GPUs x $2, used by no job: billed in full, used nothing.
    assert [r["billed_usd"] for r in rows[:2]] == cents([16 * HOURS_JAN * 2.0, 16 * HOURS_FEB * 2.0])
    assert aws["billed_usd"] == cents(16 * (HOURS_JAN + HOURS_FEB) * 2.0)
    assert aws["used_usd"] == 0.0
    # Committed: $1M over 730.5 days, straight line.
    assert rows[0]["committed_usd"] == cents(1e6 * 31 / 730.5)
    assert aws["committed_to_date_usd"] == cents(1e6 * 59 / 730.5)
    # Projected at $32 an hour over the whole term: $561,024; the rest is unbilled, not owed.
    assert aws["projected_term_billed_usd"] == cents(32 * 730.5 * 24)
    assert aws["projected_shortfall_usd"] == cents(1e6 - 32 * 730.5 * 24)
    assert not aws["shortfall_owed"] and aws["projected_term_cost_usd"] == cents(32 * 730.5 * 24)
    assert rows[-1]["projected"] and rows[-1]["month"].isoformat() == "2028-01-01T00:00:00"
    assert rows[-1]["shortfall_usd"] == cents(1e6 - 32 * 730.5 * 24)
    assert aws["pools"] == ["aws-h100"]


def test_minimum_spend_bills_use_and_overage_beyond_the_commitment(portfolio: api.RunResult) -> None:
    azure = _contract(portfolio, "azure")
    # 800 GPU-hours x $3 = $2,400 of use; the first $1,000 consume the commitment, the other
    # $1,400 (466.67 GPU-hours) are billed at the $5 overage price: $2,333.33.
    assert azure["used_usd"] == cents(2400.0)
    assert azure["overage_usd"] == cents(1400.0 / 3.0 * 5.0)
    assert azure["billed_usd"] == cents(1000.0 + 1400.0 / 3.0 * 5.0)
    assert azure["remaining_commitment_usd"] == cents(0.0)
    assert azure["projected_shortfall_usd"] == 0.0
    assert azure["projected_term_cost_usd"] == cents(1000.0 + 1400.0 / 3.0 * 5.0)


def test_minimum_spend_shortfall_is_owed_at_the_term_end(portfolio: api.RunResult) -> None:
    oracle = _contract(portfolio, "oracle")
    rows = _rows(portfolio, "oracle")
    # 400 GPU-hours x $4 = $1,600 used of $5,000; the term (36.525 days) ends on 6 February.
    assert oracle["used_usd"] == cents(1600.0) and oracle["billed_usd"] == cents(1600.0)
    assert oracle["term_end"] == "2026-02-06"
    assert [r["shortfall_usd"] for r in rows[:2]] == cents([0.0, 3400.0])
    assert oracle["projected_shortfall_usd"] == cents(3400.0) and oracle["shortfall_owed"]
    assert oracle["projected_term_cost_usd"] == cents(5000.0)
    assert [r["committed_usd"] for r in rows[:2]] == cents([5000 * 31 / 36.525, 5000 * 5.525 / 36.525])
    assert not any(r["projected"] for r in rows)  # the term ended before the horizon


def test_portfolio_totals_are_the_sum_of_contracts_and_purchases(portfolio: api.RunResult) -> None:
    money = portfolio.summary["money"]
    contracts = money["contracts"]
    for key in ("billed_usd", "used_usd", "committed_to_date_usd", "projected_shortfall_usd"):
        assert money["portfolio"][key] == pytest.approx(sum(row[key] for row in contracts))
    assert money["billed_usd"] == pytest.approx(money["portfolio"]["billed_usd"])
    assert money["purchased_usd"] == pytest.approx(8 * (HOURS_JAN + HOURS_FEB) * 6.0)
    assert money["portfolio"]["projected_owed_shortfall_usd"] == pytest.approx(3400.0)
    assert money["portfolio"]["contracts_at_risk"] == ["aws", "oracle"]
    ledger = portfolio.ledger.to_pylist()
    assert sum(row["billed_usd"] for row in ledger) == pytest.approx(money["billed_usd"])
    assert sum(row["shortfall_usd"] for row in ledger) == pytest.approx(3400.0)
    providers = {row["provider"]: row for row in money["portfolio"]["providers"]}
    assert providers["azure"]["allocated_gpu_hours"] == pytest.approx(800.0)
    assert providers["gcp"]["installed_usd"] == pytest.approx(money["purchased_usd"])
    assert providers["aws"]["utilisation"] == 0.0 and providers["oracle"]["pools"] == ["oracle-b200"]
    # Useful work: 800 + 400 GPU-hours of jobs; spent: billed + purchased.
    assert money["portfolio"]["useful_gpu_hours"] == pytest.approx(1200.0)
    assert money["portfolio"]["usd_per_useful_gpu_hour"] == pytest.approx(
        (money["billed_usd"] + money["purchased_usd"]) / 1200.0)


def test_one_contract_in_contracts_matches_the_shorthand() -> None:
    fleet = {"pools": [_pool("a", "H100", "aws", racks=2), _pool("b", "H200", "aws")]}
    contract = {"value_usd": 5.0e5, "start": "2026-01-15", "term_years": 1,
                "prices_usd_per_gpu_hour": {"H100": 2.0, "H200": 3.0}}
    jobs = [jobs_workload(JOBS[:1])]
    shorthand = api.run(scenario(fleet, jobs, contract=contract))
    listed = api.run(scenario(fleet, jobs, contracts=[{**contract, "provider": "aws"}]))
    assert shorthand.contracts is None
    for key in ("committed_to_date_usd", "billed_usd", "used_usd", "remaining_commitment_usd"):
        assert listed.summary["money"][key] == pytest.approx(shorthand.summary["money"][key])
    for column in ("committed_usd", "billed_usd", "used_usd", "remaining_commitment_usd"):
        assert listed.ledger[column].to_pylist() == pytest.approx(shorthand.ledger[column].to_pylist())


@pytest.mark.parametrize(("contracts", "where", "message"), [
    ([CONTRACTS[0], {**CONTRACTS[1], "pools": ["aws-h100"], "provider": None}], r"contracts\[1\]\.pools\[0\]",
     "already in contract 'aws'"),
    (CONTRACTS[:2], r"fleet\.pools\[2\]\.name", "in no contract"),
    ([*CONTRACTS[:2], {**CONTRACTS[2], "pools": ["gcp-od"]}], r"contracts\[2\]\.pools\[0\]",
     "bought outside any commitment"),
    ([*CONTRACTS[:2], {**CONTRACTS[2], "pools": ["nope"]}], r"contracts\[2\]\.pools\[0\]", "no pool called"),
    ([{**CONTRACTS[0], "provider": "azure", "pools": ["aws-h100"]}, *CONTRACTS[1:]], r"contracts\[0\]\.pools\[0\]",
     "with provider 'aws'"),
    ([{**CONTRACTS[0], "expansions": [{"name": "x", "date": "2026-02-01", "pool": "azure-h200", "racks": 1}]},
      *CONTRACTS[1:]], r"contracts\[0\]\.expansions\[0\]\.pool", "not one this contract pays for"),
    ([{**CONTRACTS[0], "overage_usd_per_gpu_hour": {"H100": 3.0}}, *CONTRACTS[1:]], r"contracts\[0\]",
     "minimum_spend contracts only"),
    ([*CONTRACTS, {**CONTRACTS[2], "pools": []}], r"contracts\[3\]\.name", "used twice"),
    ([*CONTRACTS[:2], {**CONTRACTS[2], "start": "2025-01-01"}], r"contracts\[2\]\.term_years",
     "before the scenario starts"),
])
def test_bad_portfolios_name_the_field(contracts: list[dict], where: str, message: str) -> None:
    with pytest.raises(InputError, match=where + r".*" + message):
        scenario(FLEET, [], contracts=contracts)


def test_contract_and_contracts_together_are_refused() -> None:
    with pytest.raises(InputError, match="not both"):
        scenario(FLEET, [], contract=CONTRACTS[0], contracts=CONTRACTS)


def test_outputs_show_each_contract(portfolio: api.RunResult, tmp_path) -> None:  # noqa: ANN001
    from rich.console import Console

    from gpufleet.report.terminal import summary_tables

    out = api.write(portfolio, tmp_path / "run")
    import pyarrow.parquet as pq

    written = pq.read_table(out / "contracts_ledger.parquet")
    assert written.equals(portfolio.contracts)
    assert set(written["contract"].to_pylist()) == {"aws", "azure", "oracle"}
    page = (out / "report.html").read_text()
    assert "<h2>Contracts</h2>" in page and "Commitment remaining per contract" in page and "By provider" in page
    console = Console(width=250, record=True)
    for table in summary_tables(portfolio.summary):
        console.print(table)
    text = console.export_text()
    assert "minimum-spend" in text and "portfolio" in text and "owed" in text and "By provider" in text


def test_what_was_consumed_before_the_scenario_counts_against_the_commitment() -> None:
    contracts = [CONTRACTS[0], {**CONTRACTS[1], "consumed_before_usd": 500.0},
                 {**CONTRACTS[2], "consumed_before_usd": 1000.0}]
    money = api.run(scenario(FLEET, [jobs_workload(JOBS)], contracts=contracts)).summary["money"]
    azure, oracle = money["contracts"][1], money["contracts"][2]
    # Azure: $500 left of $1,000 when the run starts; $1,900 of the $2,400 used is overage.
    assert azure["overage_usd"] == pytest.approx(1900.0 / 3.0 * 5.0)
    assert azure["billed_usd"] == pytest.approx(500.0 + 1900.0 / 3.0 * 5.0)
    # Oracle: $5,000 - $1,000 before - $1,600 used = $2,400 owed.
    assert oracle["projected_shortfall_usd"] == pytest.approx(2400.0)


def test_the_one_contract_shorthand_writes_what_it_always_wrote(tmp_path) -> None:  # noqa: ANN001
    import json

    fleet = {"pools": [_pool("a", "H100", "aws", racks=2)]}
    contract = {"value_usd": 5.0e5, "start": "2026-01-01", "term_years": 1, "prices_usd_per_gpu_hour": {"H100": 2.0}}
    jobs = [jobs_workload([{"name": "j", "gpus": 8, "duration_hours": 10}])]
    out = api.write(api.run(scenario(fleet, jobs, contract=contract)), tmp_path / "run")
    assert {path.name for path in out.iterdir()} == {"summary.json", "jobs.parquet", "timeseries.parquet",
                                                     "ledger.parquet", "scenario.json", "report.html"}
    written = json.loads((out / "scenario.json").read_text())
    assert "contracts" not in written and set(written["contract"]) == {
        "name", "value_usd", "start", "term_years", "prices_usd_per_gpu_hour", "expansions", "source"}
    money = json.loads((out / "summary.json").read_text())["money"]
    assert "contracts" not in money and "portfolio" not in money
    assert "<h2>Contracts</h2>" not in (out / "report.html").read_text()


def test_the_projection_counts_racks_still_to_come() -> None:
    # One rack arrives after the horizon; the projection bills it from its date to the term's end,
    # used at the fleet's utilisation over the last 30 days (none: no jobs).
    fleet = {"pools": [_pool("now", "H100", "x"), {**_pool("later", "H100", "x"),
                                                  "deliveries": [{"date": "2026-04-01", "racks": 1}]}]}
    contract = {"name": "x", "provider": "x", "value_usd": 2.0e5, "start": "2026-01-01", "term_years": 1,
                "prices_usd_per_gpu_hour": {"H100": 2.0}}
    result = api.run(scenario(fleet, [], end="2026-12-31", contracts=[contract]), until=datetime(2026, 3, 1))
    row = result.summary["money"]["contracts"][0]
    billed = 8 * 2.0 * (HOURS_JAN + HOURS_FEB)
    assert row["billed_usd"] == pytest.approx(billed)
    # "now" from 1 March and "later" from 1 April, each to 2027-01-01 06:00 (365.25 days after the start).
    assert row["projected_term_billed_usd"] == pytest.approx(billed + 8 * 2.0 * (306.25 + 275.25) * 24)
    assert row["projected_term_used_usd"] == 0.0  # nothing ran in the last 30 days
