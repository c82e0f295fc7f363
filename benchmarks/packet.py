"""How long a big packet takes, how much memory and how many bytes, next to qpdf merging the
same files, on two kinds of binder measured in one run:

- images: 300 records, each with one PDF of about 10 pages whose every page carries an
  image that does not compress (as scanners and hospital systems write them);
- text: 10 records, each with 30 text-only PDFs of 10 pages (plain ReportLab text pages).

The packet is built by the real command (`carebinder packet`) in a child process; qpdf
merges the same stored files with `qpdf --keep-files-open=y --empty --pages … -- out.pdf`.
Each is run several times, alternating, and the medians are reported with the peak memory
(max RSS) of the child and the size of what it wrote.

Run: make bench-packet   (needs qpdf: apt-get install qpdf)
Goals, on both binders: packet time at most 1.3x qpdf's, peak memory under 300 MB, packet
size at most 1.2x qpdf's.
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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from carebinder import config
from carebinder.choices import RecordKind
from carebinder.db import open_binder, session_scope
from carebinder.services import appointments, doctors, patients, records
from carebinder.store import Store


@dataclass(frozen=True)
class Corpus:
    name: str
    records: int
    files_per_record: int
    pages: int  # about this many pages per file
    images: bool

    @property
    def files(self) -> int:
        return self.records * self.files_per_record


CORPORA = (
    Corpus("images", records=300, files_per_record=1, pages=10, images=True),
    Corpus("text", records=10, files_per_record=30, pages=10, images=False),
)


def make_pdf(path: Path, pages: int, seed: int, images: bool) -> None:
    """A report-like PDF: compressed text, and (with `images`) on every page an image (a
    scanned stamp or figure) that does not compress."""
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
        if images:
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


def build_binder(home: Path, sources: Path, corpus: Corpus) -> list[Path]:
    """The corpus's binder in `home`; returns its stored files in packet order."""
    sources.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(corpus.files):
        path = sources / f"file-{i:03}.pdf"
        if not path.exists():
            make_pdf(path, corpus.pages + (i % 5) - 2, i, corpus.images)
        files.append(path)
    settings = config.resolve(home=home, environ={})
    engine = open_binder(settings, create=True)
    store = Store(settings.store_dir)
    stored: list[Path] = []
    with session_scope(engine) as s:
        patient = patients.add_patient(s, name="Nguyễn Thị Ánh", born=date(1958, 3, 9))
        doctor = doctors.add_doctor(s, patient.id, name="Dr. Øyvind Berg", specialty="Oncology")
        kinds = list(RecordKind)
        per = corpus.files_per_record
        for i in range(corpus.records):
            record = records.add_record(
                s,
                store,
                patient.id,
                kind=kinds[i % len(kinds)],
                title=f"Report {i}",
                date=date(2024, 1, 1) + timedelta(days=i),
                doctor=doctor.id,
                files=files[i * per : (i + 1) * per],
            )
            stored += [store.path_for(f.sha256) for f in record.files]
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


@dataclass
class Setup:
    corpus: Corpus
    env: dict[str, str]
    commands: dict[str, list[str]]
    outputs: dict[str, Path]
    source_mib: float


def prepare(corpus: Corpus, tmp: Path, cache: Path, program: str, qpdf: str) -> Setup:
    home = tmp / corpus.name / "home"
    stored = build_binder(home, cache / f"{corpus.name}-{corpus.files}x{corpus.pages}", corpus)
    env = {**os.environ, config.HOME_ENV: str(home)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    outputs = {
        name: tmp / corpus.name / f"{name}.pdf" for name in ("packet", "qpdf", "passthrough")
    }
    qpdf_cmd = [qpdf, "--keep-files-open=y", "--empty", "--pages", *map(str, stored), "--"]
    commands = {
        "qpdf": [*qpdf_cmd, str(outputs["qpdf"])],
        # For an honest second look: qpdf told to pass streams through untouched, as the
        # packet does.
        "passthrough": [
            qpdf,
            "--compress-streams=n",
            "--decode-level=none",
            *qpdf_cmd[1:],
            str(outputs["passthrough"]),
        ],
        "packet": [program, "packet", "1", "-o", str(outputs["packet"]), "--force"],
    }
    size = sum(p.stat().st_size for p in stored) / 2**20
    return Setup(corpus, env, commands, outputs, size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=[c.name for c in CORPORA], help="one corpus only")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "carebinder-bench-pdfs"
    )
    args = parser.parse_args()
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        raise SystemExit("qpdf is needed as the yardstick: apt-get install qpdf")

    import pikepdf

    program = str(Path(sys.executable).with_name("carebinder"))
    corpora = [c for c in CORPORA if args.only in (None, c.name)]
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        setups = [prepare(c, tmp, args.cache, program, qpdf) for c in corpora]
        for setup in setups:
            run(setup.commands["packet"], setup.env)  # warm caches (and bytecode) once
        results = {(s.corpus.name, name): [] for s in setups for name in s.commands}
        for _ in range(args.runs):
            for setup in setups:
                for name, command in setup.commands.items():
                    results[setup.corpus.name, name].append(run(command, setup.env))
        for setup in setups:
            c = setup.corpus
            with pikepdf.open(setup.outputs["qpdf"]) as merged:
                source_pages = len(merged.pages)
            with pikepdf.open(setup.outputs["packet"]) as packet:
                packet_pages = len(packet.pages)
            print(
                f"{c.name}: {c.records} records x {c.files_per_record} files,"
                f" {source_pages} pages of attachments ({setup.source_mib:.0f} MiB);"
                f" packet {packet_pages} pages; median of {args.runs} runs"
            )
            medians, sizes = {}, {}
            for name in setup.commands:
                rows = results[c.name, name]
                medians[name] = statistics.median(r[0] for r in rows)
                sizes[name] = setup.outputs[name].stat().st_size / 2**20
                peak = max(r[1] for r in rows)
                print(
                    f"  {name:<12} {medians[name]:6.2f} s   peak {peak:5.0f} MiB"
                    f"   wrote {sizes[name]:7.2f} MiB"
                )
            print(
                f"  packet / qpdf: time {medians['packet'] / medians['qpdf']:.2f}x"
                f" (goal at most 1.3x), size {sizes['packet'] / sizes['qpdf']:.2f}x"
                f" (goal at most 1.2x); time against passthrough"
                f" {medians['packet'] / medians['passthrough']:.2f}x"
            )


if __name__ == "__main__":
    main()
