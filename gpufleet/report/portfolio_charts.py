"""The report's contracts section: each contract's burn-down on one chart (to the horizon,
then projected to its term's end) and the per-contract ledger table."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from gpufleet.report.format import usd

if TYPE_CHECKING:
    from gpufleet.results.run_result import RunResult


def burn_down_figure(result: RunResult) -> go.Figure:
    """Commitment remaining per contract by month: solid to the horizon, dotted when projected."""
    assert result.contracts is not None
    table = result.contracts.to_pydict()
    figure = go.Figure()
    names = list(dict.fromkeys(table["contract"]))
    for index, name in enumerate(names):
        rows = [i for i, contract in enumerate(table["contract"]) if contract == name]
        color = f"hsl({(index * 360) // max(len(names), 1)}, 60%, 45%)"
        for projected in (False, True):
            # The projected line starts at the last actual point, so the two join.
            mine = [i for i in rows if table["projected"][i] == projected]
            if projected and mine:
                actual = [i for i in rows if not table["projected"][i]]
                mine = actual[-1:] + mine
            if not mine:
                continue
            figure.add_trace(go.Scatter(
                x=[table["month"][i] for i in mine], y=[table["remaining_commitment_usd"][i] for i in mine],
                name=f"{name}{' (projected)' if projected else ''}", legendgroup=name,
                line={"color": color, "dash": "dot" if projected else "solid", "shape": "hv"}))
    figure.update_layout(title="Commitment remaining per contract (dotted: projected to each term's end with the "
                               "planned racks, used as in the last 30 days)", yaxis_title="USD", hovermode="x unified")
    return figure


def contracts_html_table(result: RunResult) -> str:
    """The per-contract ledger as an HTML table, the portfolio last."""
    money = result.summary["money"]
    head = ("contract", "provider", "kind", "value", "term end", "committed to date", "billed", "used", "overage",
            "projected billed", "projected shortfall", "projected cost")
    rows = []
    for row in [*money["contracts"], {**money["portfolio"], "name": "portfolio", "provider": "", "kind": "",
                                      "term_end": money.get("term_end") or "", "shortfall_owed": False}]:
        cells = (row["name"], row["provider"] or "-", row["kind"].replace("_", "-"), usd(row["value_usd"]),
                 row["term_end"], usd(row["committed_to_date_usd"]), usd(row["billed_usd"]), usd(row["used_usd"]),
                 usd(row["overage_usd"]), usd(row["projected_term_billed_usd"]),
                 usd(row["projected_shortfall_usd"]) + (" (owed)" if row["shortfall_owed"]
                                                        and row["projected_shortfall_usd"] else ""),
                 usd(row["projected_term_cost_usd"]))
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in cells) + "</tr>")
    header = "<tr>" + "".join(f"<th>{html.escape(cell)}</th>" for cell in head) + "</tr>"
    portfolio = money["portfolio"]
    notes = [f"outside the commitments (purchased): {usd(portfolio['purchased_usd'])}"]
    if portfolio.get("usd_per_useful_gpu_hour") is not None:
        notes.append(f"billed + purchased per useful GPU-hour: ${portfolio['usd_per_useful_gpu_hour']:.2f}")
    if portfolio["contracts_at_risk"]:
        notes.append("projected not to reach their commitment: " + ", ".join(portfolio["contracts_at_risk"]))
    return (f"<table>{header}{''.join(rows)}</table>"
            f"<p class='note'>{html.escape('; '.join(notes))}. Shortfall: owed for minimum-spend contracts; for "
            "take-or-pay, the commitment the installed capacity did not bill.</p>" + _provider_table(portfolio))


def _provider_table(portfolio: dict) -> str:
    """Installed and allocated GPU-hours per provider, and their worth at the pools' prices."""
    head = ("provider", "pools", "installed GPU-hours", "allocated GPU-hours", "utilisation", "installed $",
            "allocated $")
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in (
            row["provider"], ", ".join(row["pools"]), f"{row['installed_gpu_hours']:,.0f}",
            f"{row['allocated_gpu_hours']:,.0f}", f"{row['utilisation']:.1%}", usd(row["installed_usd"]),
            usd(row["allocated_usd"]))) + "</tr>"
        for row in portfolio.get("providers", []))
    header = "<tr>" + "".join(f"<th>{html.escape(cell)}</th>" for cell in head) + "</tr>"
    return f"<h3>By provider</h3><table>{header}{rows}</table>"
