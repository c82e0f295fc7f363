"""How long a big packet takes, and how much memory, next to qpdf merging the same files.

A binder with 300 records, each with a PDF of about 10 pages (about 3,000 pages in all),
and one second-opinion appointment. The packet is built by the real command
(`carebinder packet`) in a child process; qpdf merges the same stored files with
`qpdf --keep-files-open=y --empty --pages … -- out.pdf`. Each is run several times,
alternating, and the medians are reported with the peak memory (max RSS) of the child.

Run: make bench-packet   (needs qpdf: apt-get install qpdf)
Goals: packet time at most 1.3x qpdf's, peak memory under 300 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from carebinder import config
from carebinder.choices import RecordKind
from carebinder.db import open_binder, session_scope
from carebinder.services import appointments, doctors, patients, records
from carebinder.store import Store


def make_pdf(path: Path, pages: int, seed: int) -> None:
    """A report-like PDF as hospitals send them: compressed text, and on every page an
    image (a scanned stamp or figure) that does not compress."""
    from PIL import Image
    from reportlab import rl_config
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    rl_config.useA85 = 0  # plain Flate, as scanners and hospital systems write images
    rng = random.Random(seed)
    pdf = canvas.Canvas(str(path), pagesize=letter, pageCompression=1)
    for page in range(pages):
        pdf.setFont("Helvetica-Bold", 14)
        pdf.drawString(72, 720, f"Report {seed}, page {page + 1}")
        pdf.setFont("Helvetica", 9)
        for line in range(40):
            words = " ".join(rng.choice(WORDS) for _ in range(14))
            pdf.drawString(72, 690 - line * 14, words)
        noise = Image.frombytes("L", (200, 200), rng.randbytes(200 * 200))
        pdf.drawImage(ImageReader(noise), 380, 60, 160, 160)
        pdf.showPage()
    pdf.save()


WORDS = [
    "specimen",
    "margin",
    "tumor",
    "grade",
    "invasive",
    "ductal",
    "carcinoma",
    "lymph",
    "node",
    "negative",
    "positive",
    "receptor",
    "estrogen",
    "progesterone",
    "biopsy",
    "core",
    "axillary",
    "sentinel",
    "lesion",
    "mass",
    "findings",
]


def build_binder(home: Path, sources: Path, count: int, pages: int) -> list[Path]:
    sources.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(count):
        path = sources / f"record-{i:03}.pdf"
        if not path.exists():
            make_pdf(path, pages + (i % 5) - 2, i)
        files.append(path)
    settings = config.resolve(home=home, environ={})
    engine = open_binder(settings, create=True)
    store = Store(settings.store_dir)
    stored: list[Path] = []
    with session_scope(engine) as s:
        patient = patients.add_patient(s, name="Nguyễn Thị Ánh", born=date(1958, 3, 9))
        doctor = doctors.add_doctor(s, patient.id, name="Dr. Øyvind Berg", specialty="Oncology")
        kinds = list(RecordKind)
        for i, path in enumerate(files):
            record = records.add_record(
                s,
                store,
                patient.id,
                kind=kinds[i % len(kinds)],
                title=f"Report {i}",
                date=date(2024, 1, 1) + timedelta(days=i),
                doctor=doctor.id,
                files=[path],
            )
            stored.append(store.path_for(record.files[0].sha256))
        appointments.add_appointment(
            s,
            patient.id,
            doctor=doctor.id,
            time_zone="Europe/Oslo",
            starts_at=datetime(2026, 12, 3, 9, 30, tzinfo=ZoneInfo("Europe/Oslo")),
        )
    engine.dispose()
    return stored


def run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(
            f"{command[0]} failed: {child.stderr.read().decode() if child.stderr else ''}"
        )
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--pages", type=int, default=10, help="average pages per record")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "carebinder-bench-pdfs"
    )
    args = parser.parse_args()
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        raise SystemExit("qpdf is needed as the yardstick: apt-get install qpdf")

    program = str(Path(sys.executable).with_name("carebinder"))
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        stored = build_binder(
            home, args.cache / f"{args.records}x{args.pages}", args.records, args.pages
        )
        size = sum(p.stat().st_size for p in stored) / 2**20
        env = {**os.environ, config.HOME_ENV: str(home)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        packet_cmd = [program, "packet", "1", "-o", f"{tmp}/packet.pdf", "--force"]
        qpdf_cmd = [
            qpdf,
            "--keep-files-open=y",
            "--empty",
            "--pages",
            *map(str, stored),
            "--",
            f"{tmp}/qpdf.pdf",
        ]
        run(packet_cmd, env)  # warm caches (and compile bytecode) once
        # qpdf as the goal states it, and (for an honest second look) qpdf told to pass
        # streams through untouched, as the packet does.
        passthrough_cmd = [qpdf, "--compress-streams=n", "--decode-level=none", *qpdf_cmd[1:]]
        commands = {"qpdf": qpdf_cmd, "qpdf-passthrough": passthrough_cmd, "packet": packet_cmd}
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                results[name].append(run(command, env))

        import pikepdf

        with pikepdf.open(f"{tmp}/qpdf.pdf") as merged, pikepdf.open(f"{tmp}/packet.pdf") as packet:
            source_pages, packet_pages = len(merged.pages), len(packet.pages)
    print(
        f"{args.records} records, {source_pages} pages of attachments ({size:.0f} MiB);"
        f" packet: {packet_pages} pages; median of {args.runs} runs"
    )
    medians = {}
    for name, rows in results.items():
        wall = statistics.median(r[0] for r in rows)
        peak = max(r[1] for r in rows)
        medians[name] = wall
        print(f"  {name:<17} {wall:6.2f} s   peak {peak:5.0f} MiB")
    print(f"  packet / qpdf time: {medians['packet'] / medians['qpdf']:.2f}x (goal: at most 1.3x)")
    print(
        f"  packet / qpdf-passthrough time: {medians['packet'] / medians['qpdf-passthrough']:.2f}x"
    )


if __name__ == "__main__":
    main()
