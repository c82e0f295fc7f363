"""How fast `carebinder search` answers on a binder of 10,000 records.

Run: make bench-search   (or .venv/bin/python benchmarks/search.py [--records N] [--runs N])
On PostgreSQL: make bench-search-postgres (a throwaway server from .ci/postgres.sh), or
`--db postgresql+psycopg://…` for a server of your own. It works in a schema of its own
(`bench_search_<pid>`), dropped at the end: no binder in that database is touched.
Without --db it also takes CAREBINDER_TEST_DATABASE_URL (what .ci/postgres.sh sets), but
never CAREBINDER_DATABASE_URL, which names a real binder.
Goal: under 100 ms per query, in-process.

Builds, through the real migrations (so the index is filled by its triggers), a binder whose
patient has 10,000 records with realistic titles and notes, 2,500 files with the extracted
text of 2 to 12 pages each (and a few scans), 40 doctors, 60 opinions and 300 questions; and
a second patient with 1,000 records of the same words, whom no search must show. Then it
measures, for common words, rare words, prefixes and phrases:
- in-process: the whole service call (`services.search.search`: query, snippets, titles,
  the scans and unread PDFs) and the backend's query alone (FTS5 or PostgreSQL's), as
  medians of many runs;
- the whole command, `carebinder search WORDS`, as wall time from a shell, with
  `python -c pass` and `carebinder --help` measured in the same run as yardsticks;
- on SQLite, the tokenizer: the same queries and the index size with Porter stemming (what
  migration 0004 uses) and without it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, make_url, text
from sqlalchemy.orm import Session

from carebinder import config
from carebinder.choices import RecordKind
from carebinder.db import open_binder, session_scope
from carebinder.models import Doctor, File, Opinion, Question, Record
from carebinder.search import backend_for, parse_query
from carebinder.search.fts5 import match_expression
from carebinder.services import patients
from carebinder.services import search as service

WORDS = (
    "specimen margin tumor grade invasive ductal lobular carcinoma lymph node negative positive"
    " receptor estrogen progesterone biopsy core axillary sentinel lesion mass findings"
    " mammogram ultrasound calcifications hypoechoic irregular spiculated left right breast"
    " quadrant clock centimeter millimeter resection excision lumpectomy mastectomy radiation"
    " chemotherapy endocrine tamoxifen letrozole anastrozole trastuzumab pertuzumab docetaxel"
    " carboplatin cyclophosphamide neoadjuvant adjuvant metastasis metastatic micrometastasis"
    " staging pathology immunohistochemistry fluorescence hybridization amplification Ki-67"
    " proliferation index Nottingham mitotic pleomorphism tubule formation vascular invasion"
    " perineural necrosis fibrosis benign atypical hyperplasia in situ comedo cribriform"
    " follow-up imaging contrast enhancement MRI PET CT bone scan liver lungs brain patient"
    " reports pain fatigue nausea appetite weight blood count hemoglobin platelets neutrophils"
    " creatinine bilirubin albumin alkaline phosphatase referral consultation discussed plan"
)
VOCABULARY = WORDS.split()
TITLES = (
    "Core biopsy pathology report",
    "Diagnostic mammogram",
    "Breast ultrasound",
    "MRI both breasts with contrast",
    "PET-CT staging",
    "Surgical pathology, lumpectomy",
    "Sentinel lymph node biopsy",
    "Oncotype DX recurrence score",
    "Complete blood count",
    "Comprehensive metabolic panel",
    "Medical oncology consultation",
    "Radiation oncology consultation",
    "Discharge summary",
    "Medication list",
    "Genetic counselling letter",
    "Chemotherapy treatment plan",
    "Echocardiogram before trastuzumab",
    "Bone scan",
)
INSTITUTIONS = (
    "Mercy General Hospital",
    "Northeastern Cancer Institute",
    "Dana-Farber Cancer Institute",
    "Massachusetts General Hospital",
    "Beth Israel Deaconess",
    "Boston Medical Center",
)
NAMES = (
    "Maria Wei Priya Marcus Ana João Ingrid Adán Sofia Kwame Yusuf Elena Hiro Amara",
    "Lopez Chen Raman Bell Souza Berg Muñoz Okafor Haddad Rossi Tanaka Nguyen Park",
)
FIRST, LAST = (names.split() for names in NAMES)
RARE = "xanthogranulomatous"  # planted in a handful of file texts
PAGE_CHARS = 2_500

QUERIES = {
    "common word": "carcinoma",
    "common words": "invasive ductal carcinoma",
    "rare word (in 5 PDFs)": RARE,
    "name": "muñoz",
    "prefix": "metasta*",
    "short prefix": "ca*",
    "phrase": '"sentinel lymph node"',
    "no match": "osteosarcoma",
}


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(count))


def page(rng: random.Random) -> str:
    lines = []
    size = 0
    while size < PAGE_CHARS:
        line = words(rng, rng.randint(8, 16)).capitalize() + "."
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def build_binder(engine: Engine, records: int, seed: int = 7) -> dict[str, int]:
    """The binder described above; returns the counts of what it holds."""
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    with session_scope(engine) as s:
        ana = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
        bob = patients.add_patient(s, name="Bob Lee", born=date(1950, 1, 2))
        for patient, scale in ((ana.id, 1.0), (bob.id, 0.1)):
            n_records = int(records * scale)
            doctor_ids = _add_doctors(s, rng, patient, max(4, int(40 * scale)))
            record_ids = _add_records(s, rng, patient, n_records, doctor_ids)
            n_files = _add_files(s, rng, record_ids[: n_records // 4], plant=patient == ana.id)
            _add_opinions(s, rng, patient, doctor_ids, max(2, int(60 * scale)))
            _add_questions(s, rng, patient, max(5, int(300 * scale)))
            if patient == ana.id:
                counts = {
                    "records": n_records,
                    "files": n_files,
                    "doctors": len(doctor_ids),
                    "opinions": max(2, int(60 * scale)),
                    "questions": max(5, int(300 * scale)),
                }
    return counts


def _add_doctors(s: Session, rng: random.Random, patient: int, count: int) -> list[int]:
    rows = [
        {
            "patient_id": patient,
            "name": f"Dr. {rng.choice(FIRST)} {rng.choice(LAST)}",
            "specialty": rng.choice(("Breast surgery", "Medical oncology", "Radiology")),
            "institution": rng.choice(INSTITUTIONS),
            "notes": words(rng, 10) if rng.random() < 0.3 else None,
        }
        for _ in range(count)
    ]
    s.execute(insert(Doctor), rows)
    return list(s.scalars(text("SELECT id FROM doctor WHERE patient_id = :p"), {"p": patient}))


def _add_records(
    s: Session, rng: random.Random, patient: int, count: int, doctors: list[int]
) -> list[int]:
    kinds = list(RecordKind)
    rows = [
        {
            "patient_id": patient,
            "kind": kinds[i % len(kinds)],
            "title": f"{rng.choice(TITLES)} {date(2020, 1, 1) + timedelta(days=i % 2000)}",
            "date": date(2020, 1, 1) + timedelta(days=i % 2000),
            "doctor_id": rng.choice(doctors),
            "institution": rng.choice(INSTITUTIONS),
            "notes": words(rng, rng.randint(10, 60)) if rng.random() < 0.7 else None,
        }
        for i in range(count)
    ]
    s.execute(insert(Record), rows)
    return list(s.scalars(text("SELECT id FROM record WHERE patient_id = :p"), {"p": patient}))


def _add_files(s: Session, rng: random.Random, record_ids: list[int], *, plant: bool) -> int:
    rows = []
    for n, record in enumerate(record_ids):
        scan = n % 50 == 0
        body = None if scan else "\n\n".join(page(rng) for _ in range(rng.randint(2, 12)))
        if plant and body is not None and n % 500 == 1:
            body += f"\nHistology shows {RARE} inflammation."
        digest = hashlib.sha256(f"{record}-{n}".encode()).hexdigest()
        rows.append(
            {
                "record_id": record,
                "original_name": f"report-{record}.pdf",
                "media_type": "application/pdf",
                "size": 50_000 + len(body or ""),
                "page_count": 4,
                "sha256": digest,
                "text": body,
                "has_text": not scan,
            }
        )
    s.execute(insert(File), rows)
    return len(rows)


def _add_opinions(
    s: Session, rng: random.Random, patient: int, doctors: list[int], count: int
) -> None:
    rows = [
        {
            "patient_id": patient,
            "doctor_id": rng.choice(doctors),
            "diagnosis": "Invasive ductal carcinoma, ER+/PR+/HER2-",
            "stage": rng.choice(("IA", "IB", "IIA", "IIB")),
            "plan": words(rng, 20),
            "notes": words(rng, 30),
        }
        for _ in range(count)
    ]
    s.execute(insert(Opinion), rows)


def _add_questions(s: Session, rng: random.Random, patient: int, count: int) -> None:
    rows = [
        {
            "patient_id": patient,
            "text": f"What about the {words(rng, 6)}?",
            "answer": words(rng, 25) if rng.random() < 0.5 else None,
        }
        for _ in range(count)
    ]
    s.execute(insert(Question), rows)


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm up
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def in_process(engine: Engine, runs: int) -> None:
    backend = backend_for(engine.dialect.name)
    print(f"In-process, medians of {runs} runs (ms):")
    print(f"  {'query':<24} {'service':>8} {'index only':>10} {'results':>8}")
    overall = []
    with Session(engine) as s:
        for label, query in QUERIES.items():
            terms = parse_query(query)
            whole = median_ms(lambda q=query: service.search(s, 1, q), runs)
            alone = median_ms(lambda t=terms: backend.find(s, 1, t, 20), runs)
            hits = len(service.search(s, 1, query, limit=1000).hits)
            overall.append(whole)
            shown = f"{hits}" if hits < 1000 else "1000+"
            print(f"  {label + ':':<24} {whole:8.1f} {alone:10.1f} {shown:>8}")
    print(f"  slowest query: {max(overall):.1f} ms (goal: under 100 ms)")


def whole_command(home: Path, url: str | None, runs: int) -> None:
    program = str(Path(sys.executable).with_name("carebinder"))
    env = {**os.environ, config.HOME_ENV: str(home)}
    env.pop(config.DATABASE_ENV, None)
    if url is not None:
        env[config.DATABASE_ENV] = url
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # what a user sees: compiled modules cached

    def wall(command: list[str]) -> float:
        def run() -> None:
            subprocess.run(command, env=env, check=True, capture_output=True)

        return median_ms(run, runs)

    print(f"The whole command, wall time, medians of {runs} runs (ms):")
    rows = [
        ("python -c pass (yardstick)", [sys.executable, "-c", "pass"]),
        ("carebinder --help", [program, "--help"]),
        ("carebinder doctor list", [program, "--patient", "1", "doctor", "list"]),
        ("carebinder search carcinoma", [program, "--patient", "1", "search", "carcinoma"]),
        (f"carebinder search {RARE}", [program, "--patient", "1", "search", RARE]),
        ("carebinder search 'metasta*'", [program, "--patient", "1", "search", "metasta*"]),
    ]
    for label, command in rows:
        print(f"  {label + ':':<42} {wall(command):7.1f}")


def tokenizers(engine: Engine, runs: int) -> None:
    """The same queries on a copy of the index without the Porter stemmer."""
    with Session(engine) as s:
        s.execute(
            text(
                "CREATE VIRTUAL TABLE bench_plain USING fts5(title, body, patient_id UNINDEXED,"
                " tokenize = 'unicode61 remove_diacritics 2')"
            )
        )
        s.execute(
            text("INSERT INTO bench_plain (bench_plain, rank) VALUES ('rank', 'bm25(10, 1, 0)')")
        )
        start = time.perf_counter()
        s.execute(
            text(
                "INSERT INTO bench_plain (rowid, title, body, patient_id)"
                " SELECT rowid, title, body, patient_id FROM search_index"
            )
        )
        plain_build = time.perf_counter() - start
        s.commit()

        def size(name: str) -> float:
            query = text("SELECT sum(pgsize) FROM dbstat WHERE name LIKE :n")
            return float(s.execute(query, {"n": f"{name}%"}).scalar_one()) / 1e6

        def median(table: str, query: str) -> float:
            sql = text(
                f"SELECT rowid, snippet({table}, -1, '[', ']', '…', 16) FROM {table}"
                f" WHERE {table} MATCH :m AND patient_id = 1 ORDER BY rank LIMIT 20"
            )
            match = match_expression(parse_query(query))
            return median_ms(lambda: s.execute(sql, {"m": match}).all(), runs)

        def count(table: str, query: str) -> int:
            sql = text(f"SELECT count(*) FROM {table} WHERE {table} MATCH :m AND patient_id = 1")
            return int(s.execute(sql, {"m": match_expression(parse_query(query))}).scalar_one())

        print(f"Tokenizer: FTS5 query alone, medians of {runs} runs (ms), and matches:")
        print(f"  {'query':<24} {'porter':>8} {'plain':>8}  matches porter / plain")
        for label, query in QUERIES.items():
            print(
                f"  {label + ':':<24} {median('search_index', query):8.1f}"
                f" {median('bench_plain', query):8.1f}"
                f"  {count('search_index', query)} / {count('bench_plain', query)}"
            )
        print(
            f"  index size: porter {size('search_index'):.1f} MB, plain {size('bench_plain'):.1f}"
            f" MB (text stored in both: file.text and the index's own copy);"
            f" plain index filled in {plain_build:.1f} s"
        )
        s.execute(text("DROP TABLE bench_plain"))
        s.commit()


@contextmanager
def bench_schema(server: str) -> Iterator[str]:
    """A URL for an empty schema of its own in the PostgreSQL database `server`, dropped
    afterwards (the benchmark has closed its connections by then)."""
    schema = f"bench_search_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def database_size(engine: Engine, home: Path) -> float:
    """The binder's database in MB: the SQLite file, or the PostgreSQL schema's relations."""
    if engine.dialect.name == "sqlite":
        return (home / config.DATABASE_FILE).stat().st_size / 1e6
    with engine.connect() as conn:
        size = conn.execute(
            text(
                "SELECT sum(pg_total_relation_size(oid)) FROM pg_class"
                " WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'"
            )
        ).scalar_one()
    return float(size) / 1e6


def run(home: Path, url: str | None, args: argparse.Namespace) -> None:
    settings = config.resolve(home=home, database_url=url, environ={})
    engine = open_binder(settings, create=True)
    version = ".".join(map(str, engine.dialect.server_version_info or ()))
    print(f"Database: {engine.dialect.name} {version}")
    start = time.perf_counter()
    counts = build_binder(engine, args.records)
    built = time.perf_counter() - start
    with Session(engine) as s:
        characters = s.execute(text("SELECT sum(length(text)) FROM file")).scalar_one()
        entries = s.execute(text("SELECT count(*) FROM search_index")).scalar_one()
        if engine.dialect.name == "postgresql":
            s.execute(text("ANALYZE"))  # as autovacuum soon would: the planner's statistics
            s.commit()
    print(
        "Binder: "
        + ", ".join(f"{n:,} {what}" for what, n in counts.items())
        + f" for the patient searched (and a tenth as much for another);"
        f" {characters / 1e6:.1f} million characters of PDF text; {entries:,} index"
        f" entries; built with its index in {built:.1f} s;"
        f" database {database_size(engine, home):.0f} MB"
    )
    in_process(engine, args.runs)
    with Session(engine) as s:
        start = time.perf_counter()
        s.execute(OPTIMIZE[engine.dialect.name])
        s.commit()
        print(f"  (optimize: {time.perf_counter() - start:.1f} s; after it:)")
    in_process(engine, args.runs)
    whole_command(home, url, args.command_runs)
    if engine.dialect.name == "sqlite":
        tokenizers(engine, args.runs)
    engine.dispose()


# Compacting the index after the bulk load, for a second look at the queries: FTS5 merges
# its segments; PostgreSQL merges the GIN index's pending list (recent writes, which every
# query otherwise scans; autovacuum does it in time). carebinder never needs either.
OPTIMIZE = {
    "sqlite": text("INSERT INTO search_index (search_index) VALUES ('optimize')"),
    "postgresql": text(
        "SELECT gin_clean_pending_list(c.oid) FROM pg_class AS c"
        " WHERE c.oid = to_regclass('search_index_document') AND pg_has_role(c.relowner, 'USAGE')"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--command-runs", type=int, default=11)
    parser.add_argument(
        "--db",
        metavar="URL",
        default=os.environ.get("CAREBINDER_TEST_DATABASE_URL"),
        help="a PostgreSQL database to run in (a schema of its own there); default: SQLite",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        if args.db is None:
            run(home, None, args)
        else:
            with bench_schema(args.db) as url:
                run(home, url, args)


if __name__ == "__main__":
    main()
