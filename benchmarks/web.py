"""The web face on a navigator's binder: 500 patients x 50 records (the binder of
benchmarks/many_patients.py), each page timed in-process.

Run: make bench-web   (or .venv/bin/python benchmarks/web.py [--patients N] [--runs N])

- Every GET page of the application (read from its routes, so a new page is timed without
  being listed here) is requested --runs times for the last patient of the binder, through
  Starlette's TestClient with the key's cookie: median and p95. Goal: p95 under 50 ms for
  every page except the packet's download. (The binder's check and the packet's build run
  in the background: their pages are timed, their work is not.)
- `carebinder serve` as a person starts it: the time from launching the process to the
  first page answered (goal: within 1.5 s), then its resident memory once idle (goal:
  under 150 MB).
"""

from __future__ import annotations

import argparse
import gc
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from many_patients import DOCTORS, MATERIALS, OPINIONS, QUESTIONS, RECORDS, build, make_pdfs

from carebinder import config
from carebinder.web.security import COOKIE

GOAL_P95_MS = 50.0
GOAL_START_S = 1.5
GOAL_RSS_MB = 150.0
# Not pages but a job's own: the packet's download (timed by bench-packet).
SLOW_BY_NATURE = ("/packet/jobs",)


def ids_of(patient: int) -> dict[str, int]:
    """The first row of each noun belonging to `patient` in the benchmark's binder."""
    return {
        "patients": patient,
        "doctors": (patient - 1) * DOCTORS + 1,
        "records": (patient - 1) * RECORDS + 1,
        "files": (patient - 1) * RECORDS + 1,
        "opinions": (patient - 1) * OPINIONS + 1,
        "appointments": patient,
        "questions": (patient - 1) * QUESTIONS + 1,
        "materials": (patient - 1) * MATERIALS + 1,
        "packet": patient,  # a packet is made for a visit: the appointment's id
    }


# What a download's link carries (the choices made on its page).
QUERIES = {"/export/file": "?format=json", "/search": "?q=findings"}


def page_paths(app: object, patient: int) -> list[tuple[str, str]]:
    """(route template, a path of this patient's) for every GET page."""
    from starlette.routing import Route

    ids = ids_of(patient)
    paths = []
    for route in app.router.routes:  # type: ignore[attr-defined]
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        template = route.path
        nouns = re.findall(r"/(\w+)/\{", template)
        path = template
        for noun in nouns:
            if noun not in ids:
                break
            path = re.sub(r"\{[^}]+\}", str(ids[noun]), path, count=1)
        if "{" in path:
            print(f"  (not timed: {template}: no id for it in this binder)")
            continue
        paths.append((template, path + QUERIES.get(template, "")))
    return paths


def time_pages(
    settings: config.Settings, patient: int, runs: int
) -> list[tuple[str, float, float]]:
    from starlette.testclient import TestClient

    from carebinder.web.app import create_app

    key = "benchmark-key"
    app = create_app(settings, key=key, port=8000, patient=patient)
    gc.freeze()  # as `serve` does once started (web/server.py)
    results = []
    # One client for the run (one event loop, as a server has), not one per request.
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        client.cookies.set(COOKIE, key)
        for template, path in page_paths(app, patient):
            client.get(path)  # warm: templates compiled, caches filled
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            results.append((template, statistics.median(times), p95))
    app.state.web.engine.dispose()
    return results


def time_start(home: Path) -> tuple[float, float]:
    """Seconds from launch to the first page answered, and the idle process's RSS in MB."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "carebinder", "--home", str(home), "serve", "--no-browser"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"http://\S+", line)
        assert match, line
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with browser.open(match.group(0), timeout=10) as answer:  # the key, then its cookie
            assert answer.status == 200
        ready = time.perf_counter() - started
        time.sleep(1.0)
        status = Path(f"/proc/{process.pid}/status").read_text(encoding="ascii")
        rss_kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        return ready, rss_kb / 1024
    finally:
        process.terminate()
        process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "pdfs").mkdir()
        home = root / "home"
        started = time.perf_counter()
        build(home, None, args.patients, make_pdfs(root / "pdfs"))
        print(f"Built {args.patients} patients x {RECORDS} records in"
              f" {time.perf_counter() - started:.1f} s")  # fmt: skip
        settings = config.resolve(home=home, environ={})
        results = time_pages(settings, args.patients, args.runs)
        print(f"page (patient #{args.patients}, {args.runs} runs)     median      p95")
        for template, median, p95 in results:
            slow = template.startswith(SLOW_BY_NATURE)
            verdict = "(not a goal)" if slow else ("ok" if p95 < GOAL_P95_MS else "OVER")
            print(f"  {template:36} {median:7.1f} ms {p95:7.1f} ms  {verdict}")
        ready, rss = time_start(home)
        print(f"serve: first page answered {ready:.2f} s after launch (goal {GOAL_START_S} s):"
              f" {'met' if ready <= GOAL_START_S else 'NOT met'}")  # fmt: skip
        print(f"serve: idle resident memory {rss:.0f} MB (goal under {GOAL_RSS_MB:.0f} MB):"
              f" {'met' if rss < GOAL_RSS_MB else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
