"""Kubernetes object files: quantities, documents, lists, and where a problem is."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from gpufleet.errors import InputError
from gpufleet.traces.k8s import FieldReader, load_documents, parse_quantity


@pytest.mark.parametrize(("text", "value"), [
    (8, Fraction(8)), ("16", Fraction(16)), ("500m", Fraction(1, 2)), ("1Gi", Fraction(2**30)),
    ("1e3", Fraction(1000)), ("0.75", Fraction(3, 4)), ("2k", Fraction(2000)), (1.5, Fraction(3, 2)),
])
def test_quantities(text: object, value: Fraction) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "Gi", None, True])
def test_bad_quantities(text: object) -> None:
    with pytest.raises(ValueError):
        parse_quantity(text)


def test_documents_lists_and_json(tmp_path: Path) -> None:
    multi = tmp_path / "multi.yaml"
    multi.write_text("---\n---\napiVersion: v1\nkind: Node\nmetadata: {name: a}\n---\n"
                     "apiVersion: v1\nkind: NodeList\nitems:\n- metadata: {name: b}\n- metadata: {name: c}\n")
    found = load_documents(multi)
    # documents are numbered as they stand in the file, empty ones included
    assert [(d.index, d.item, d.kind, d.name) for d in found] == [(2, None, "Node", "a"), (3, 0, "Node", "b"),
                                                                 (3, 1, "Node", "c")]
    as_json = tmp_path / "nodes.json"
    as_json.write_text('{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Node", '
                       '"metadata": {"name": "x"}}]}')
    assert [d.name for d in load_documents(as_json)] == ["x"]


def test_problems_name_file_line_document_and_field(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text("apiVersion: v1\nkind: Node\nmetadata: {name: a}\n---\napiVersion: kueue.x-k8s.io/v1beta2\n"
                    "kind: ClusterQueue\nmetadata:\n  name: team-a\nspec:\n  queueingStrategy: Fast\n")
    document = load_documents(path)[1]
    problem = FieldReader(document).error(("spec", "queueingStrategy"), "bad").problems[0]
    assert str(problem) == f"{path}:10: spec.queueingStrategy: document 2 (ClusterQueue team-a): bad"


def test_not_an_object_and_bad_yaml(tmp_path: Path) -> None:
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(InputError, match="document 1 is a list, not a Kubernetes object"):
        load_documents(listed)
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: Node\nmetadata: [\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_documents(broken)
    with pytest.raises(InputError, match="file not found"):
        load_documents(tmp_path / "missing.yaml")
