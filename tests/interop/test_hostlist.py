"""Slurm hostlist expressions, by hand-worked cases and a round-trip property."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpufleet.interop.hostlist import compress, expand


@pytest.mark.parametrize(("text", "names"), [
    ("node[01-04,07]", ["node01", "node02", "node03", "node04", "node07"]),
    ("n[8-10]", ["n8", "n9", "n10"]),
    ("gn[001-002]", ["gn001", "gn002"]),
    ("rack[1-2]-n[1-2]", ["rack1-n1", "rack1-n2", "rack2-n1", "rack2-n2"]),
    ("a1,b[2-3],c", ["a1", "b2", "b3", "c"]),
    ("gpu-dy-gpu-p3dn24xlarge-[1-10]", [f"gpu-dy-gpu-p3dn24xlarge-{k}" for k in range(1, 11)]),
    ("srv[1101-1108]", [f"srv{k}" for k in range(1101, 1109)]),
    ("cpn-f13-03-[01-02],cpn-f13-04-[01-02]", ["cpn-f13-03-01", "cpn-f13-03-02", "cpn-f13-04-01", "cpn-f13-04-02"]),
    ("solo", ["solo"]),
])
def test_expand(text: str, names: list[str]) -> None:
    assert expand(text) == names


@pytest.mark.parametrize(("text", "problem"), [
    ("node[1-", "'[' without ']'"),
    ("node1-3]", "']' without '['"),
    ("node[4-2]", "runs backwards"),
    ("node[a-b]", "not a number or a range"),
    ("n[1,[2]]", "nested brackets"),
    ("a,,b", "empty name"),
])
def test_bad_hostlists(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        expand(text)


def test_compress_hand_worked() -> None:
    assert compress(["node01", "node02", "node03", "node07"]) == "node[01-03,07]"
    assert compress(["n8", "n9", "n10"]) == "n[8-10]"
    assert compress(["x"]) == "x"


names = st.lists(st.builds(lambda prefix, number, width: f"{prefix}{str(number).zfill(width)}",
                           st.sampled_from(["n", "gpu-", "rack1-n"]), st.integers(0, 300), st.integers(0, 3)),
                 min_size=1, max_size=30)


@given(names)
def test_compress_round_trips(hosts: list[str]) -> None:
    assert expand(compress(hosts)) == hosts
