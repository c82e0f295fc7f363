"""How long `carebinder import` takes on real FHIR bundles.

Run: make bench-import   (or .venv/bin/python benchmarks/fhir_import.py [--runs N])

Measures, as whole commands on a fresh binder each run (median of N):
- the largest Synthea R4 sample of ../shared/samples/fhir (1.7 MB, one patient);
- a 5 MB bundle: the three R4 samples and a copy of the largest with new ids (four
  patients);
- the second import of that bundle (everything already in the binder).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "data" / "fhir"  # gzip-compressed
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CAREBINDER = [sys.executable, "-m", "carebinder"]


def unpacked(folder: Path, work: Path) -> list[Path]:
    """The R4 samples of `folder` as plain JSON files (they may be gzip-compressed)."""
    found = []
    for path in sorted(folder.glob("R4-*.json*")):
        target = work / path.name.removesuffix(".gz")
        raw = path.read_bytes()
        target.write_bytes(gzip.decompress(raw) if path.suffix == ".gz" else raw)
        found.append(target)
    return found


def run(home: Path, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [*CAREBINDER, *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "CAREBINDER_HOME": str(home)},
    )
    return time.perf_counter() - started


def merged(samples: list[Path], target: Path) -> Path:
    """The samples in one bundle, plus a copy of the largest with new ids (a fourth
    patient), to pass 4 MB with real content."""
    entries = []
    for sample in samples:
        entries += json.loads(sample.read_bytes())["entry"]
    largest = max(samples, key=lambda p: p.stat().st_size).read_text()
    for old in set(re.findall(UUID, largest)):
        largest = largest.replace(old, str(uuid.uuid4()))
    entries += json.loads(largest)["entry"]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    target.write_text(json.dumps(bundle, indent=2))  # laid out like the samples
    return target


def measure(bundle: Path, runs: int, work: Path) -> tuple[list[float], list[float]]:
    first, again = [], []
    for number in range(runs):
        home = work / f"home-{bundle.stem}-{number}"
        run(home, "init")
        first.append(run(home, "import", str(bundle)))
        again.append(run(home, "import", str(bundle)))
    return first, again


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--samples", type=Path, default=SAMPLES)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        samples = unpacked(options.samples, work)
        if not samples:
            sys.exit(f"No R4 samples in {options.samples}; give --samples DIR.")
        largest = max(samples, key=lambda p: p.stat().st_size)
        combined = merged(samples, work / "four-patients.json")
        for bundle in (largest, combined):
            first, again = measure(bundle, options.runs, work)
            size = bundle.stat().st_size / 1e6
            print(
                f"{bundle.name} ({size:.1f} MB): import {statistics.median(first):.2f} s"
                f" (min {min(first):.2f}), again {statistics.median(again):.2f} s,"
                f" median of {options.runs}"
            )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"Peak memory of any one command: {peak:.0f} MB")


if __name__ == "__main__":
    main()
