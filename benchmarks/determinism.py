"""The default scenario, whole, with numpy's vector code for this CPU on and off: the
same bytes in every output (docs/validation.md, "Same bits on every CPU").

numpy picks AVX-512 or AVX2 code for its ufuncs by the CPU it finds at start-up; the
variable NPY_DISABLE_CPU_FEATURES turns that dispatch off. Where the CPU lacks a feature,
its row compares numpy's same path twice (the script says which features it has).

    python benchmarks/determinism.py [SCENARIO] [--until YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = {
    "as the CPU allows": None,
    "AVX-512 off": "X86_V4 AVX512_ICL AVX512_SPR",
    "AVX-512 and AVX2 off": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="openai-aws-2025")
    parser.add_argument("--until", default=None)
    args = parser.parse_args()
    from numpy._core._multiarray_umath import __cpu_features__

    found = [name for name in ("AVX2", "FMA3", "AVX512F", "AVX512_SKX", "AVX512_ICL", "AVX512_SPR")
             if __cpu_features__.get(name)]
    print(f"CPU features numpy can use: {', '.join(found) or 'none beyond the baseline'}")
    digests: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, disabled in VARIANTS.items():
            env = {key: value for key, value in os.environ.items() if key != "NPY_DISABLE_CPU_FEATURES"}
            if disabled:
                env["NPY_DISABLE_CPU_FEATURES"] = disabled
            out = Path(folder) / label.replace(" ", "-")
            command = [sys.executable, "-m", "gpufleet.cli", "run", args.scenario, "--out", str(out)]
            if args.until:
                command += ["--until", args.until]
            began = time.perf_counter()
            subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
            digests[label] = {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
                              for path in sorted(out.iterdir())}
            print(f"{label:>22}: {time.perf_counter() - began:6.1f} s, "
                  f"{len(digests[label])} files, jobs.parquet {digests[label]['jobs.parquet'][:16]}")
    reference = digests["as the CPU allows"]
    same = True
    for label, files in digests.items():
        differing = sorted(name for name in reference if files.get(name) != reference[name])
        same &= not differing
        print(f"{label:>22}: {'same bytes as the first' if not differing else 'DIFFERENT: ' + ', '.join(differing)}")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
