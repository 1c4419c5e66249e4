"""Coverage-guided fuzzing (atheris, libFuzzer's engine) of the scenario loader, each trace
reader and the fault-log fit, through the same entry points and property as the
hypothesis fuzzing (targets.py).

    python -m tests.fuzz.atheris_fuzz ENTRY -runs=10000 -seed=1

ENTRY is `scenario`, `faults` or `trace:FORMAT` (e.g. `trace:azure-llm`). The seed corpus
is the built-in scenarios or the first rows of the real file (../shared). A crash prints
the input and its traceback and exits non-zero; `make fuzz` runs every entry point.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["gpufleet"]):
    import importlib
    import pkgutil

    import gpufleet

    for module in pkgutil.walk_packages(gpufleet.__path__, "gpufleet."):
        if not module.name.endswith(".__main__"):  # importing it runs the command
            importlib.import_module(module.name)
    from tests.fuzz import targets, test_fuzz


def _corpus(entry: str) -> list[bytes]:
    if entry == "scenario":
        return [text.encode("utf-8") for text in test_fuzz._scenario_texts()]
    if entry == "faults":
        return [test_fuzz._faults(120).encode("utf-8")]
    _, text, _, _ = test_fuzz._trace_bases()[entry.removeprefix("trace:")]
    return [text.encode("utf-8")]


def main() -> None:
    entry = sys.argv[1]
    work = Path(tempfile.mkdtemp(prefix="gpufleet-fuzz-"))
    corpus = work / "corpus"
    corpus.mkdir()
    for index, data in enumerate(_corpus(entry)):
        (corpus / f"seed-{index}").write_bytes(data)

    def one_input(data: bytes) -> None:
        with tempfile.TemporaryDirectory(dir=work) as folder:
            targets.parse_case(entry, data, Path(folder))

    atheris.Setup([sys.argv[0], *sys.argv[2:], str(corpus)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
