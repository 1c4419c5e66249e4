"""Number formatting shared by the terminal summary and the HTML report."""

from __future__ import annotations


def hours(value: float | None) -> str:
    """'3.2 h', or '4.5 d' from two days up; '-' for None."""
    if value is None:
        return "-"
    return f"{value / 24:,.1f} d" if value >= 48 else f"{value:,.1f} h"


def usd(value: float | None) -> str:
    """'$1.23B', '$4.56M', '$7.89k', '$12' or '$0.19'; '-' for None."""
    if value is None:
        return "-"
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"${value / scale:,.2f}{unit}"
    return f"${value:,.2f}" if abs(value) < 10 else f"${value:,.0f}"
