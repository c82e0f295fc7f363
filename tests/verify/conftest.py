"""The `binder` of the verify tests: two patients, three records, four files, committed."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from carebinder import config
from carebinder.db import session_scope
from carebinder.models import RecordKind
from carebinder.services import patients, records
from carebinder.store import Store
from tests.verify.verifykit import Attached, Binder, MakeFile


@pytest.fixture
def binder(engine: Engine, settings: config.Settings, store: Store, make_file: MakeFile) -> Binder:
    inbox = [
        make_file("Ana-Souza-biopsy.txt", b"Pathology: invasive ductal carcinoma\n" * 40),
        make_file("Ana-Souza-scan.txt", b"CT chest: no lesions\n" * 30),
        make_file("Ana-Souza-labs.txt", b"CBC within normal limits\n" * 20),
        make_file("Bob-Lee-notes.txt", b"Consultation notes\n" * 50),
    ]
    with session_scope(engine) as s:
        ana = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
        bob = patients.add_patient(s, name="Bob Lee", born=date(1950, 1, 2))
        plan = [(ana, RecordKind.PATHOLOGY, inbox[:2]), (ana, RecordKind.LAB, inbox[2:3])]
        plan.append((bob, RecordKind.CONSULTATION, inbox[3:]))
        made = [
            records.add_record(s, store, who.id, kind=kind, title="Report", files=paths)
            for who, kind, paths in plan
        ]
        files = [
            Attached(f.id, r.id, r.patient_id, f.sha256, store.path_for(f.sha256))
            for r in made
            for f in r.files
        ]
    return Binder(files, settings, store)
