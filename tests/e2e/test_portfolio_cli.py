"""The built-in portfolio, `openai-portfolio-2026`, through the command (cut short with --until)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from tests.e2e.test_cli import gpufleet


def test_the_portfolio_runs_with_a_ledger_per_contract(tmp_path: Path) -> None:
    out = tmp_path / "portfolio"
    done = gpufleet("run", "openai-portfolio-2026", "--until", "2026-01-02", "--out", str(out))
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    money = summary["money"]
    names = [row["name"] for row in money["contracts"]]
    assert names == ["openai-aws-2025", "microsoft-azure", "oracle-oci", "coreweave"]
    by_name = {row["name"]: row for row in money["contracts"]}
    # Oracle's term starts in 2027: nothing billed yet; Azure is a minimum-spend commitment.
    assert by_name["oracle-oci"]["billed_usd"] == 0.0 and by_name["oracle-oci"]["value_usd"] == 300e9
    assert by_name["microsoft-azure"]["kind"] == "minimum_spend"
    assert by_name["microsoft-azure"]["billed_usd"] == by_name["microsoft-azure"]["used_usd"] > 0
    assert money["portfolio"]["value_usd"] == 38e9 + 3.88e9 + 3.71e9 + 250e9 + 300e9 + 22.4e9
    assert money["billed_usd"] == sum(row["billed_usd"] for row in money["contracts"])
    # Work runs at AWS, Azure and CoreWeave (Oracle's and Google's capacity comes later).
    pools = {row["name"]: row for row in summary["capacity"]["pools"]}
    assert all(pools[name]["allocated_gpu_hours"] > 0 for name in ("gb200", "azure-gb200", "coreweave-gb200"))
    # Serving split across providers: ChatGPT by capacity (AWS and Azure), the API by fixed shares.
    services = [row["name"] for row in summary["serving"]["services"]]
    assert services == ["chatgpt@aws", "chatgpt@azure", "api@aws", "api@azure", "api@coreweave", "agents"]
    ledger = pq.read_table(out / "contracts_ledger.parquet")
    assert set(ledger["contract"].to_pylist()) == set(names) and any(ledger["projected"].to_pylist())
    assert "Contracts:" in done.stdout and "portfolio" in done.stdout
    assert "<h2>Contracts</h2>" in (out / "report.html").read_text()
