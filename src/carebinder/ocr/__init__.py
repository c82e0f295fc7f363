"""Reading scans and photos (OCR): the command's side.

Each file is recognised in a child process (`carebinder.ocr.child`, OCRmyPDF and
Tesseract) with its address space capped, as every untrusted file is read
(carebinder.sandbox), and a deadline that starts again with each page read: a file whose
reader dies or stops making progress is reported "could not be read" and the child is
replaced for the next file. A page Tesseract gives up on keeps no words; the others are
kept. The child writes the text-layer version into a private working folder of this
process; the caller stores it and it is removed with the folder.

Tesseract runs one thread per page and OCRmyPDF two pages at a time (both cores): on a
busy two-core machine Tesseract's own threads only fought each other (10 s of wall time
for a page that takes 3.5 s on one thread).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from carebinder.sandbox import MEMORY_ENV, Lines

# The reader's address space: Python, OCRmyPDF, and Tesseract on one large page each.
MEMORY_LIMIT = 3 << 30
# How long the reader may go without a word of progress (a page read, a file done).
PAGE_DEADLINE = 180.0
LATE = "its words could not be recognised in time"
STOPPED = "its words could not be recognised safely (the reader stopped)"


@dataclass(frozen=True)
class Item:
    """A file to recognise: `key` is the caller's (the file's id)."""

    key: int
    path: Path
    media_type: str
    sha256: str | None = None


@dataclass(frozen=True)
class Recognised:
    """What became of one file: its text-layer version (`output`, in the working folder)
    and what was read, or why there is none (`error`)."""

    key: int
    output: Path | None
    error: str | None
    pages: int = 0
    recognised: int = 0
    confidence: float | None = None
    text: str | None = None
    late: tuple[int, ...] = ()
    seconds: float = 0.0


@dataclass(frozen=True)
class Progress:
    """Where recognition is: file `number` of `files`, `done` of its `pages`."""

    number: int
    files: int
    name: str
    done: int
    pages: int


class Recognising:
    """Recognise `items` one after the other, in a `with` block (which removes the working
    folder and stops the child); iterate for each file's `Recognised`."""

    def __init__(
        self,
        items: Sequence[Item],
        languages: str,
        *,
        names: Sequence[str] | None = None,
        progress: Callable[[Progress], None] | None = None,
        deadline: float = PAGE_DEADLINE,
    ) -> None:
        self.items, self.languages, self.deadline = list(items), languages, deadline
        self.names = list(names) if names else [item.path.name for item in items]
        self.progress = progress or (lambda _: None)
        self.work = Path(tempfile.mkdtemp(prefix="carebinder-ocr-"))  # 0700
        self._process: subprocess.Popen[bytes] | None = None
        self._lines: Lines | None = None

    def __enter__(self) -> Recognising:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Recognised]:
        for number, item in enumerate(self.items):
            yield self._one(number, item)

    def _start(self) -> tuple[subprocess.Popen[bytes], Lines]:
        if self._process is None or self._lines is None:
            env = {
                **os.environ,
                MEMORY_ENV: str(MEMORY_LIMIT),
                "TMPDIR": str(self.work),
                "OMP_THREAD_LIMIT": "1",
            }
            self._process = subprocess.Popen(
                [sys.executable, "-m", "carebinder.ocr.child"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
                # Out of the terminal's process group: Ctrl-C stops the command, which then
                # stops the reader, rather than failing the file it was reading.
                start_new_session=True,
            )
            assert self._process.stdout is not None
            self._lines = Lines(self._process.stdout.fileno())
        return self._process, self._lines

    def _one(self, number: int, item: Item) -> Recognised:
        out = self.work / f"{item.key}-text.pdf"
        process, lines = self._start()
        request = {
            "path": os.fsdecode(item.path),
            "media_type": item.media_type,
            "sha256": item.sha256,
            "out": os.fsdecode(out),
            "languages": self.languages,
        }
        assert process.stdin is not None
        try:
            process.stdin.write(json.dumps(request).encode() + b"\n")
            process.stdin.flush()
        except BrokenPipeError:
            self._stop()
            return Recognised(item.key, None, STOPPED)
        self.progress(Progress(number + 1, len(self.items), self.names[number], 0, 0))
        while True:
            line = lines.next(time.monotonic() + self.deadline)
            if not line:
                self._stop()
                out.unlink(missing_ok=True)
                return Recognised(item.key, None, LATE if line is None else STOPPED)
            answer = json.loads(line)
            if "progress" in answer:
                done, pages = answer["progress"]
                name = self.names[number]
                self.progress(Progress(number + 1, len(self.items), name, int(done), int(pages)))
                continue
            if answer.get("error"):
                out.unlink(missing_ok=True)
                return Recognised(item.key, None, answer["error"], seconds=answer["seconds"])
            return Recognised(
                item.key,
                out,
                None,
                pages=answer["pages"],
                recognised=answer["recognised"],
                confidence=answer["confidence"],
                text=answer["text"],
                late=tuple(answer["late"]),
                seconds=answer["seconds"],
            )

    def _stop(self) -> None:
        process, self._process = self._process, None
        if self._lines is not None:
            self._lines.close()
            self._lines = None
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    with contextlib.suppress(BrokenPipeError):
                        pipe.close()

    def close(self) -> None:
        self._stop()
        shutil.rmtree(self.work, ignore_errors=True)
