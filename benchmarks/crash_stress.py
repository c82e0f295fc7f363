"""Kill `carebinder record add --file` / `record attach` at hundreds of points and check
the binder after each: no inconsistency, nothing from before lost.

Run: .venv/bin/python benchmarks/crash_stress.py [--kills 240] [--seed 1]
Half the kills are injected at the marked steps (carebinder.faults.POINTS, at every
occurrence of each), the rest at random moments. Prints the kill points tried, the
inconsistencies found and the orphans left for `verify --repair`.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import crashkit

from carebinder.faults import POINTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=240)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        assert crashkit.run(home, "init", "--name", "Stress Test", "--born", "1960-01-01") == 0
        first = inbox / "first.pdf"
        first.write_bytes(b"%PDF-1.4\n" + rng.randbytes(200_000))
        assert crashkit.run(home, "record", "add", "lab", "crash-0", "--file", str(first)) == 0
        before = crashkit.check(home)
        tried = died = inconsistent = 0
        worst_leftovers = 0
        for n in range(args.kills):
            source = inbox / f"scan-{n}.pdf"
            source.write_bytes(b"%PDF-1.4\n" + rng.randbytes(rng.randint(1, 4 << 20)))
            command = (
                ["record", "add", "lab", f"crash-{n + 1}", "--file", str(source)]
                if n % 3
                else ["record", "attach", "1", str(source)]
            )
            if n % 2 == 0:
                point = POINTS[(n // 2) % len(POINTS)]
                nth = rng.randint(1, 4) if point == "store.write" else 1
                code = crashkit.run(home, *command, fault=f"{point}:kill:{nth}")
            else:
                code = crashkit.run(home, *command, kill_after=rng.uniform(0.02, 0.7))
            tried += 1
            died += code == -9
            state = crashkit.check(home)
            prefix_ok = state.rows["file"][: len(before.rows["file"])] == before.rows["file"]
            if state.problems or not prefix_ok:
                inconsistent += 1
                print(f"kill {n}: {state.problems or 'data from before changed'}")
            worst_leftovers = max(worst_leftovers, state.orphans + state.temporary)
        final = crashkit.check(home)
    print(f"kill points tried: {tried} (the child was really killed in {died})")
    print(f"inconsistencies found: {inconsistent}")
    print(
        f"orphans and temporary files left at the end: {final.orphans + final.temporary}"
        f" (at most {worst_leftovers} at once; verify --repair removes them)"
    )


if __name__ == "__main__":
    main()
