"""Revision 0009 on a binder that holds scans and photos: they wait for their words."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from carebinder import migrate
from carebinder.db import make_engine


def test_scans_and_photos_attached_before_0009_wait_for_their_words(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        migrate.upgrade(engine, "0008")
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO patient (id, name, born) VALUES (1, 'Ana', '1964-04-12')")
            )
            conn.execute(
                text("INSERT INTO record (id, patient_id, kind, title) VALUES (1, 1, 'other', 'R')")
            )
            rows = [  # id, name, media type, pages, has_text, unreadable
                (1, "scan.pdf", "application/pdf", 3, False, None),
                (2, "typed.pdf", "application/pdf", 1, True, None),
                (3, "photo.jpg", "image/jpeg", 1, None, None),
                (4, "broken.jpg", "image/jpeg", None, None, "the image cannot be read"),
                (5, "old.pdf", "application/pdf", 2, None, None),  # words never read
                (6, "disc.zip", "application/zip", None, None, None),
            ]
            for ident, name, media, pages, has_text, bad in rows:
                conn.execute(
                    text(
                        "INSERT INTO file (id, record_id, original_name, media_type, size,"
                        " page_count, sha256, has_text, unreadable)"
                        " VALUES (:i, 1, :n, :m, 10, :p, :s, :t, :u)"
                    ),
                    {"i": ident, "n": name, "m": media, "p": pages, "s": f"{ident:064x}",
                     "t": has_text, "u": bad},
                )  # fmt: skip
        migrate.upgrade(engine)
        with engine.connect() as conn:
            waiting = conn.execute(
                text("SELECT file_id, pages, sha256, failed FROM text_layer ORDER BY file_id")
            ).all()
        assert [tuple(row) for row in waiting] == [(1, 3, None, None), (3, 1, None, None)]
        migrate.downgrade(engine, "0008")
        migrate.upgrade(engine)
    finally:
        engine.dispose()
