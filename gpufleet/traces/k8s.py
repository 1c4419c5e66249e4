"""Kubernetes objects from files: multi-document YAML, JSON, and `kubectl get -o json|yaml` lists.

Every object keeps where it came from (file, document number, list item, the YAML node
for line numbers), so a problem names the file, the line, the document (number, kind and
name) and the field. A `FieldReader` records each field a reader uses; whatever it does
not use is listed afterwards as not modelled (see `FieldAccount`), so nothing is
dropped silently.

Quantities (`500m`, `16`, `1Gi`, `1e3`) are read exactly, as fractions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from gpufleet.errors import InputError, Problem
from gpufleet.spec.loader import locate

FieldPath = tuple[str | int, ...]

_MISSING = object()

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
            "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
            "P": Fraction(10**15), "E": Fraction(10**18)}


def parse_quantity(value: Any) -> Fraction:
    """A Kubernetes resource quantity as an exact fraction.

    Raises:
        ValueError: when `value` is not a quantity.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{value!r} is not a quantity")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    text = str(value).strip()
    for suffix, factor in _BINARY.items():
        if text.endswith(suffix):
            return _number(text[: -len(suffix)], value) * factor
    lower = text.lower()
    if "e" in lower and not lower.endswith("e"):
        mantissa, _, exponent = lower.partition("e")
        try:
            return _number(mantissa, value) * Fraction(10) ** int(exponent)
        except ValueError:
            raise ValueError(f"{value!r} is not a quantity") from None
    suffix = text[-1:] if text[-1:] in _DECIMAL and not text[-1:].isdigit() else ""
    return _number(text[: len(text) - len(suffix)], value) * _DECIMAL[suffix]


def _number(text: str, original: Any) -> Fraction:
    try:
        if not text or text.strip() != text or text in ("+", "-", "."):
            raise ValueError
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{original!r} is not a quantity (e.g. 8, 500m, 16Gi)") from None


def whole(quantity: Fraction) -> int | None:
    """The quantity as an int when it is a whole number, else None."""
    return int(quantity) if quantity.denominator == 1 else None


@dataclass
class Document:
    """One Kubernetes object and where it was read.

    Attributes:
        file: the file it came from.
        index: 1-based number of the YAML document (or JSON value) in the file.
        item: 0-based index in a List's items, or None for a top-level object.
        data: the object.
        node: its YAML node (None for JSON), for line numbers.
        item_path: where the object sits inside its document (('items', 3) for list items).
    """

    file: str
    index: int
    item: int | None
    data: dict[str, Any]
    node: yaml.Node | None = None
    item_path: FieldPath = ()

    @property
    def kind(self) -> str:
        return str(self.data.get("kind") or "")

    @property
    def api_version(self) -> str:
        return str(self.data.get("apiVersion") or "")

    @property
    def group(self) -> str:
        """The API group (`kueue.x-k8s.io`), empty for the core group."""
        version = self.api_version
        return version.rpartition("/")[0] if "/" in version else ""

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.data.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        meta = self.metadata
        return str(meta.get("name") or meta.get("generateName") or "")

    @property
    def namespace(self) -> str:
        return str(self.metadata.get("namespace") or "default")

    def describe(self) -> str:
        """'document 3 (ClusterQueue team-a)', with the list item when there is one."""
        where = f"document {self.index}" + (f", item {self.item}" if self.item is not None else "")
        what = " ".join(part for part in (self.kind or "object", self.name) if part)
        return f"{where} ({what})"

    def problem(self, path: FieldPath, message: str) -> Problem:
        """A problem at field `path` of this object: file, line, document and field."""
        line = locate(self.node, (*self.item_path, *path)) if self.node is not None else None
        return Problem(f"{self.describe()}: {message}", path=path, file=self.file, line=line)

    def error(self, path: FieldPath, message: str) -> InputError:
        return InputError([self.problem(path, message)])


def load_documents(path: str | Path) -> list[Document]:
    """The objects of a YAML (one or many documents) or JSON file; List objects are expanded.

    Raises:
        InputError: unreadable file, bad YAML/JSON, or a document that is not an object.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError([Problem("file not found", file=str(path))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(f"cannot read: {exc}", file=str(path))]) from None
    return parse_documents(text, str(path))


def parse_documents(text: str, source: str) -> list[Document]:
    """`load_documents` on text already read; `source` names it in messages."""
    documents: list[Document] = []
    for index, data, node in _raw_documents(text, source):
        if data is None:
            continue  # an empty document (e.g. a leading `---`)
        if not isinstance(data, dict):
            raise InputError([Problem(f"document {index} is a {type(data).__name__}, not a Kubernetes object "
                                      "(a mapping with apiVersion and kind)", file=source,
                                      line=node.start_mark.line + 1 if node is not None else None)])
        documents.extend(_expand(Document(source, index, None, data, node)))
    return documents


def _raw_documents(text: str, source: str) -> Iterator[tuple[int, Any, yaml.Node | None]]:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            yield 1, json.loads(text), None
            return
        except json.JSONDecodeError as exc:
            if stripped.startswith("["):
                raise InputError([Problem(f"not valid JSON: {exc.msg}", file=source, line=exc.lineno)]) from None
            # `{` may also open YAML flow style: fall through to the YAML reader
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            index += 1
            yield index, loader.construct_document(node), node
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        raise InputError([Problem(f"not valid YAML (document {index + 1}): {reason}", file=source,
                                  line=mark.line + 1 if mark is not None else None)]) from None
    finally:
        loader.dispose()


def _expand(document: Document) -> list[Document]:
    """A List (kind List or FooList with items) becomes its items; items of a typed list get its kind."""
    data = document.data
    kind = str(data.get("kind") or "")
    items = data.get("items")
    if not (kind.endswith("List") and isinstance(items, list)):
        return [document]
    item_kind = kind[: -len("List")]
    out = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise document.error(("items", position), "a list item is not a Kubernetes object")
        if item_kind and "kind" not in item:
            item = {"kind": item_kind, "apiVersion": data.get("apiVersion", ""), **item}
        out.append(Document(document.file, document.index, position, item, document.node, ("items", position)))
    return out


# -- which fields were used ---------------------------------------------------------


@dataclass
class FieldUse:
    """What became of one field of one kind: mapped (to what) or not modelled (why)."""

    kind: str
    field: str
    mapped_to: str | None
    reason: str | None
    objects: set[tuple[str, int, int | None]] = field(default_factory=set)

    @property
    def count(self) -> int:
        return len(self.objects)


class FieldReader:
    """Reads the fields of one object, recording what is used, mapped to what, or not modelled.

    `get` reads a scalar (or a container handed over whole with `whole=True`) and records
    it as mapped; `skip` marks a subtree as read but not modelled, with the reason.
    Anything never touched is reported as not modelled by `FieldAccount.add`.
    """

    def __init__(self, document: Document) -> None:
        self.document = document
        self.used: dict[FieldPath, str] = {}
        self.skipped: dict[FieldPath, str] = {}

    def get(self, *path: str | int, to: str = "", default: Any = None, whole: bool = False) -> Any:
        """The value at `path` (or `default`); a scalar or `whole` value is recorded as used (`to`: where it goes)."""
        value = dig(self.document.data, path)
        if value is _MISSING:
            return default
        if whole or not isinstance(value, dict | list) or not value:
            self.used[path] = to
        return value

    def has(self, *path: str | int) -> bool:
        return dig(self.document.data, path) is not _MISSING

    def skip(self, *path: str | int, reason: str) -> None:
        """Mark the subtree at `path` as read and not modelled."""
        if dig(self.document.data, path) is not _MISSING:
            self.skipped.setdefault(path, reason)

    def error(self, path: FieldPath, message: str) -> InputError:
        return self.document.error(path, message)


def dig(data: Any, path: FieldPath) -> Any:
    """The value at `path` inside nested dicts and lists, or the missing marker."""
    for part in path:
        if isinstance(part, int):
            if not isinstance(data, list) or not -len(data) <= part < len(data):
                return _MISSING
            data = data[part]
        else:
            if not isinstance(data, dict) or part not in data:
                return _MISSING
            data = data[part]
    return data


def is_missing(value: Any) -> bool:
    return value is _MISSING


def leaves(data: Any, prefix: FieldPath = ()) -> Iterator[FieldPath]:
    """Paths of the scalars and empty containers inside `data`."""
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from leaves(value, (*prefix, str(key)))
    elif isinstance(data, list) and data:
        for position, value in enumerate(data):
            yield from leaves(value, (*prefix, position))
    else:
        yield prefix


def generic(path: FieldPath) -> str:
    """('spec', 'resourceGroups', 0, 'flavors') -> 'spec.resourceGroups[].flavors'; keys with
    dots or slashes (labels) in brackets: metadata.labels[kueue.x-k8s.io/queue-name]."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += "[]"
        elif "." in part or "/" in part:
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(object)"


NOT_MODELLED = "not modelled"
BOOKKEEPING = "Kubernetes bookkeeping (identity, versions, ownership), not a scheduling input"
COLLAPSED = ("metadata.managedFields", "metadata.ownerReferences", "metadata.finalizers",
             "metadata.annotations[kubectl.kubernetes.io/last-applied-configuration]")
BOOKKEEPING_FIELDS = ("apiVersion", "kind", "metadata.uid", "metadata.resourceVersion", "metadata.generation",
                      "metadata.selfLink", "metadata.managedFields", "metadata.ownerReferences",
                      "metadata.finalizers", "metadata.deletionTimestamp", "metadata.deletionGracePeriodSeconds",
                      "metadata.annotations[kubectl.kubernetes.io/last-applied-configuration]")


class FieldAccount:
    """Every field of every object read: mapped (to what) or not modelled (why), with object counts."""

    def __init__(self) -> None:
        self.uses: dict[tuple[str, str, str | None, str | None], FieldUse] = {}
        self.objects: dict[str, int] = {}
        self.left_out: dict[tuple[str, str], set[tuple[str, int, int | None]]] = {}

    def add(self, reader: FieldReader, collapse: tuple[str, ...] = ()) -> None:
        """Account for every leaf field of the reader's object."""
        document = reader.document
        kind = document.kind or "(no kind)"
        self.objects[kind] = self.objects.get(kind, 0) + 1
        identity = (document.file, document.index, document.item)
        for path in leaves(document.data):
            name = generic(path)
            for prefix in (*COLLAPSED, *collapse):
                if name == prefix or name.startswith(prefix + ".") or name.startswith(prefix + "["):
                    name = prefix
                    break
            mapped_to, reason = _classify(reader, path, name)
            key = (kind, name, mapped_to, reason)
            use = self.uses.get(key)
            if use is None:
                use = self.uses[key] = FieldUse(kind, name, mapped_to, reason)
            use.objects.add(identity)

    def leave_out(self, document: Document, reason: str) -> None:
        """A whole object not used, with the reason (e.g. a kind that is not modelled)."""
        kind = document.kind or "(no kind)"
        self.objects[kind] = self.objects.get(kind, 0) + 1
        self.left_out.setdefault((kind, reason), set()).add((document.file, document.index, document.item))

    def rows(self) -> list[dict[str, Any]]:
        """One row per (kind, field, outcome), mapped fields first, in kind and field order."""
        rows = [{"kind": use.kind, "field": use.field, "mapped_to": use.mapped_to, "not_modelled": use.reason,
                 "objects": use.count} for use in self.uses.values()]
        rows += [{"kind": kind, "field": "(whole object)", "mapped_to": None, "not_modelled": reason,
                  "objects": len(ids)} for (kind, reason), ids in self.left_out.items()]
        return sorted(rows, key=lambda row: (row["kind"], row["mapped_to"] is None, row["field"],
                                             row["not_modelled"] or ""))


def _classify(reader: FieldReader, path: FieldPath, name: str) -> tuple[str | None, str | None]:
    for end in range(len(path), -1, -1):
        prefix = path[:end]
        if prefix in reader.used:
            return reader.used[prefix] or "read", None
        if prefix in reader.skipped:
            return None, reader.skipped[prefix]
    if any(name == item or name.startswith(item + ".") or name.startswith(item + "[")
           for item in BOOKKEEPING_FIELDS):
        return None, BOOKKEEPING
    return None, NOT_MODELLED
