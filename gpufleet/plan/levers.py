"""The planner's levers: what it may change in a scenario, and the values it may try.

| lever | changes | values | more capacity |
|---|---|---|---|
| `scale:POOL` | every delivery of the pool x factor (racks, nodes or GPUs; half up; 0 drops it) | factors | higher |
| `shift:POOL` | every delivery date of the pool, by days (not before the scenario start) | days | lower (earlier) |
| `racks:POOL[i]` | racks added to delivery i of the pool | racks | higher |
| `expansion:[CONTRACT/]NAME` | racks of an option (0: not exercised); its value scales with them | racks | higher |
| `move:JOB@P1,P2,...` | the named job runs at provider P(value) only (0: P1, 1: P2, ...) | index | neither |
| `share:SERVICE@PROVIDER` | its demand share there (fixed split; the others fill the rest) | share | neither |
| `spares` | hot spare nodes per rack (`failures.spares.nodes_per_rack`) | nodes | neither |
| `quota:QUEUE.FLAVOR` | nominal quota of a queue for a GPU type | GPUs | neither |
| `buy:KIND:GPU` | a pool bought outside the commitment (`purchase`), from `start` for `days` | racks | higher |

`buy` kinds are `on_demand`, `capacity_block` and `spot`; prices and lead times come from
`plan.prices` (calibration.md section 3) unless the plan file gives them. A purchase
must start at least its lead time after the decision date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field, NonNegativeFloat, PositiveFloat, model_validator

from gpufleet.plan.prices import offer
from gpufleet.plan.sweep_spec import RangeSpec
from gpufleet.spec.base import SpecModel, Timestamp
from gpufleet.spec.purchase import PurchaseKind

KINDS = ("scale", "shift", "racks", "expansion", "spares", "quota", "buy", "move", "share")
MONOTONE = {"scale": 1, "shift": -1, "racks": 1, "expansion": 1, "buy": 1, "spares": 0, "quota": 0, "move": 0,
            "share": 0}
"""+1: a higher value is more capacity; -1: a lower one is; 0: neither (no pruning)."""


class LeverSpec(SpecModel):
    """One lever and its values (a list, or a range)."""

    lever: Annotated[str, Field(description="e.g. expansion:2027-h1, scale:gb300, buy:capacity_block:GB200.")]
    values: list[float] | RangeSpec
    start: Annotated[Timestamp | None, Field(description="buy: when the capacity arrives.")] = None
    days: Annotated[PositiveFloat | None, Field(description="buy: how long it is kept (none: to the end).")] = None
    price_usd_per_gpu_hour: PositiveFloat | None = None
    lead_days: NonNegativeFloat | None = None
    interruptions_per_rack_day: NonNegativeFloat | None = None
    reclaim_hours: PositiveFloat | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _known(self) -> LeverSpec:
        kind = self.lever.split(":")[0].split("=")[0]
        if kind not in KINDS:
            raise ValueError(f"unknown lever {kind!r}; choose one of: {', '.join(KINDS)}")
        if kind == "buy" and self.start is None:
            raise ValueError("a buy lever needs `start` (and usually `days`)")
        return self


def _choice(target: str, value: float) -> str | None:
    """move:JOB@P1,P2,...: the provider a value picks (None when out of range or not whole)."""
    choices = [part.strip() for part in target.partition("@")[2].split(",") if part.strip()]
    index = int(value)
    return choices[index] if index == value and 0 <= index < len(choices) else None


_VALUES = re.compile(r"^\s*(-?[\d.]+)\s*\.\.\s*(-?[\d.]+)\s*(?:/\s*([\d.]+))?\s*$")


def parse_values(text: str) -> list[float]:
    """`a..b/step` (step 1 by default) or `a,b,c`."""
    match = _VALUES.match(text)
    if match:
        low, high, step = float(match.group(1)), float(match.group(2)), float(match.group(3) or 1)
        if high < low or step <= 0:
            raise ValueError(f"{text!r}: write LOW..HIGH/STEP with LOW <= HIGH and STEP > 0")
        return RangeSpec.model_validate({"from": low, "to": high, "step": step}).values()
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"{text!r}: write LOW..HIGH/STEP or a comma-separated list of numbers") from None


def parse_lever(text: str) -> LeverSpec:
    """`KIND:TARGET=VALUES`, `spares=VALUES`, or `buy:KIND:GPU@START+DAYS=VALUES` from the command line."""
    name, sep, values = text.partition("=")
    if not sep:
        raise ValueError(f"{text!r}: write LEVER=VALUES, e.g. expansion:2027-h1=0..500/100")
    fields: dict[str, Any] = {"lever": name.strip(), "values": parse_values(values)}
    if name.startswith("buy:") and "@" in name:
        lever, _, window = name.partition("@")
        start, _, days = window.partition("+")
        fields.update(lever=lever.strip(), start=start.strip())
        if days:
            fields["days"] = float(days.strip().removesuffix("d"))
    return LeverSpec.model_validate(fields)


@dataclass(frozen=True)
class Lever:
    """A lever ready to apply: kind, what it acts on, its values ordered from least to most capacity."""

    spec: LeverSpec
    kind: str
    target: str
    values: tuple[float, ...]

    @classmethod
    def of(cls, spec: LeverSpec) -> Lever:
        kind, _, target = spec.lever.partition(":")
        raw = spec.values.values() if isinstance(spec.values, RangeSpec) else list(spec.values)
        values = sorted(dict.fromkeys(raw), reverse=MONOTONE[kind] < 0)
        return cls(spec, kind, target, tuple(values))

    @property
    def label(self) -> str:
        return self.spec.lever

    @property
    def monotone(self) -> bool:
        return MONOTONE[self.kind] != 0

    def describe(self, value: float) -> str:
        shown = f"{value:g}"
        return {"scale": f"deliveries of {self.target} x{shown}",
                "shift": f"deliveries of {self.target} {'+' if value >= 0 else ''}{shown} days",
                "racks": f"+{shown} racks to {self.target}",
                "expansion": f"option {self.target}: {shown} racks" if value else f"option {self.target} not exercised",
                "spares": f"{shown} spare nodes per rack",
                "quota": f"quota {self.target} = {shown} GPUs",
                "move": f"{self.target.partition('@')[0]} at "
                        f"{_choice(self.target, value) if _choice(self.target, value) else '?'}",
                "share": f"{shown} of {self.target.partition('@')[0]} at {self.target.partition('@')[2]}",
                "buy": f"{shown} rack{'' if value == 1 else 's'} of {self.target.replace(':', ' ')} from "
                       f"{self.spec.start.date() if self.spec.start else '?'}"
                       + (f" for {self.spec.days:g} days" if self.spec.days else "")}[self.kind]

    def apply(self, data: dict[str, Any], value: float, decided: datetime) -> None:
        """Change the scenario's JSON form; ValueError when the lever does not fit the scenario."""
        getattr(self, f"_{self.kind}")(data, value, decided)

    def _pool(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        for pool in data["fleet"]["pools"]:
            if pool["name"] == name:
                return pool
        raise ValueError(f"{self.label}: no pool called {name!r}")

    def _scale(self, data: dict[str, Any], value: float, decided: datetime) -> None:
        pool = self._pool(data, self.target)
        kept = []
        for delivery in pool["deliveries"]:
            unit = next(name for name in ("racks", "nodes", "gpus") if delivery.get(name) is not None)
            delivery[unit] = int(delivery[unit] * value + 0.5)
            if delivery[unit] > 0:
                kept.append(delivery)
        if not kept:
            raise ValueError(f"{self.label}: x{value:g} leaves the pool no racks")
        pool["deliveries"] = kept

    def _shift(self, data: dict[str, Any], value: float, decided: datetime) -> None:
        start = datetime.fromisoformat(data["start"])
        for delivery in self._pool(data, self.target)["deliveries"]:
            when = datetime.fromisoformat(delivery["date"]) + timedelta(days=value)
            delivery["date"] = max(when, start).isoformat()

    def _racks(self, data: dict[str, Any], value: float, decided: datetime) -> None:
        match = re.fullmatch(r"(.+)\[(\d+)\]", self.target)
        if match is None:
            raise ValueError(f"{self.label}: write racks:POOL[DELIVERY INDEX]")
        deliveries = self._pool(data, match.group(1))["deliveries"]
        index = int(match.group(2))
        if index >= len(deliveries) or deliveries[index]["racks"] is None:
            raise ValueError(f"{self.label}: the pool has no delivery {index} given in racks")
        deliveries[index]["racks"] += int(value)

    def _expansion(self, data: dict[str, Any], value: float, decided: datetime) -> None:
        contract_name, _, name = self.target.rpartition("/")
        contracts = [data["contract"]] if data.get("contract") else list(data.get("contracts") or [])
        options = [o for contract in contracts if not contract_name or contract.get("name") == contract_name
                   for o in contract.get("expansions") or [] if o["name"] == name]
        if len(options) > 1:
            raise ValueError(f"{self.label}: several contracts have an option {name!r}; write expansion:CONTRACT/NAME")
        option = options[0] if options else None
        if option is None:
            raise ValueError(f"{self.label}: no contract has an expansion option {self.target!r}")
        if value <= 0:
            option["exercise"] = False
            return
        per_rack = option["value_usd"] / option["racks"]
        option.update(racks=int(value), exercise=True, value_usd=per_rack * int(value))

    def _move(self, data: dict[str, Any], value: float, decided: datetime) -> None:
        job_name = self.target.partition("@")[0]
        provider = _choice(self.target, value)
        if provider is None:
            raise ValueError(f"{self.label}: write move:JOB@PROVIDER,PROVIDER,... with values 0, 1, ... "
                             f"(got {value:g})")
        for entry in data["workloads"]:
            for job in (entry.get("jobs") or {}).get("items") or []:
                if job["name"] == job_name:
                    job["providers"] = [provider]
                    return
        raise ValueError(f"{self.label}: no named job {job_name!r}")

    def _share(self, data: dict[str, Any], value: float, decided: datetime) -> None:
        name, _, provider = self.target.partition("@")
        service = next((s for s in data.get("services") or [] if s["name"] == name), None)
        if service is None or not provider or not 0.0 <= value <= 1.0:
            raise ValueError(f"{self.label}: write share:SERVICE@PROVIDER with shares from 0 to 1")
        split = service.get("providers") or {}
        among = list(split.get("among") or []) or list(split.get("shares") or {})
        if not among:
            among = list(dict.fromkeys(pool.get("provider", "default") for pool in data["fleet"]["pools"]
                                       if pool["gpu"].upper() in {f.upper() for f in service["flavors"]}))
        others = [p for p in among if p != provider]
        old = split.get("shares") or {p: 1.0 / len(among) for p in among}
        rest = sum(old.get(p, 0.0) for p in others)
        shares = {provider: value}
        for p in others:  # the others keep their proportions in what is left
            shares[p] = (1.0 - value) * (old.get(p, 0.0) / rest if rest else 1.0 / len(others))
        if not others and value != 1.0:
            raise ValueError(f"{self.label}: {provider} is the service's only provider")
        service["providers"] = {"split": "fixed", "among": [provider, *others], "shares": shares,
                                "source": split.get("source", "") or "planner lever"}

    def _spares(self, data: dict[str, Any], value: float, decided: datetime) -> None:
        if data.get("failures") is None:
            raise ValueError(f"{self.label}: the scenario has no failures section")
        data["failures"]["spares"]["nodes_per_rack"] = int(value)

    def _quota(self, data: dict[str, Any], value: float, decided: datetime) -> None:
        queue_name, _, flavor = self.target.partition(".")
        queue = next((q for q in data["scheduler"]["queues"] if q["name"] == queue_name), None)
        if queue is None or not flavor:
            raise ValueError(f"{self.label}: write quota:QUEUE.FLAVOR with a queue of the scenario")
        queue["nominal"][flavor] = float(value)

    def _buy(self, data: dict[str, Any], value: float, decided: datetime) -> None:
        if value <= 0:
            return
        spec = self.spec
        kind, _, gpu = self.target.partition(":")
        try:
            PurchaseKind(kind)
        except ValueError:
            raise ValueError(f"{self.label}: buy on_demand, capacity_block or spot") from None
        known = offer(kind, gpu)
        price = spec.price_usd_per_gpu_hour or (known.price_usd_per_gpu_hour if known else None)
        if price is None:
            raise ValueError(f"{self.label}: no sourced {kind} price for {gpu}; give price_usd_per_gpu_hour "
                             "(and its source) in a plan file")
        lead = spec.lead_days if spec.lead_days is not None else (known.lead_days if known else 0.0)
        start = spec.start
        assert start is not None
        if start < decided + timedelta(days=lead):
            raise ValueError(f"{self.label}: starts {start.date()}, less than its {lead:g}-day lead time after "
                             f"the decision on {decided.date()}")
        source = spec.source or (known.source if known else "assumption")
        purchase = {"kind": kind, "price_usd_per_gpu_hour": price, "lead_days": lead, "source": source,
                    "interruptions_per_rack_day": spec.interruptions_per_rack_day
                    if spec.interruptions_per_rack_day is not None else (known.interruptions_per_rack_day
                                                                        if known else 0.0),
                    "reclaim_hours": spec.reclaim_hours or (known.reclaim_hours if known else 2.0)}
        racks = int(value)
        pool: dict[str, Any] = {"name": f"buy-{kind}-{gpu}".lower().replace("_", "-"), "gpu": gpu,
                                "deliveries": [{"date": start.isoformat(), "racks": racks, "source": source}],
                                "purchase": purchase}
        if spec.days:
            pool["retirements"] = [{"date": (start + timedelta(days=spec.days)).isoformat(), "racks": racks,
                                    "source": "end of the purchase window"}]
        data["fleet"]["pools"].append(pool)
