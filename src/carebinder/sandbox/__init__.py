"""Reading untrusted files (PDFs and images from anywhere) in a child process with limits.

A malformed file must never crash, hang or exhaust the memory of a command. So the first
look at each file (can it be opened? how many pages or frames?) happens in a separate
Python process with a cap on its address space, and a deadline per file: a file that
makes it die, overrun the deadline or run out of memory is reported "could not be read"
with the reason, and the child is restarted for the files after it. Only files that
passed are then opened by the command itself. This module is the command's side; the
child is `carebinder.sandbox.child`.

The child also checks every page of a PDF as the packet will print it (carebinder.pdfpages:
its size, its content and resources): a file that cannot be printed is still readable, and
says why (`unprintable`), so the patient hears of it when attaching it rather than the night
before the visit. What the PDF library said while reading (pages repaired, form fields
dropped) becomes a one-line `notice`.

When asked (`read_text`), the child also reads the words of each PDF (with PDFium), for
search. That is a second, separate answer: a PDF whose text makes the reader die or overrun
the deadline keeps its pages and is only left without text.

Protocol: the parent writes one JSON line per file (`path`, `media_type`, `text`) to the
child's stdin, a few files ahead, so the child is never idle while the parent works; the
child answers one JSON line per file (`pages`, `error`, `unprintable`, `notice`) as soon as
it is done, then, for a readable PDF whose text was asked for, a second line (`text`,
`has_text`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

# Per file; generous, since a big scan can take a second or two to decode.
DEADLINE_SECONDS = 30.0
# The child's address space: room for Python, pikepdf, Pillow and one large image.
MEMORY_LIMIT = 2 << 30
MEMORY_ENV = "CAREBINDER_SANDBOX_MEMORY"  # how the parent hands the limit to the child
# Pillow refuses larger images as possible decompression bombs.
MAX_IMAGE_PIXELS = 120_000_000
# The words kept of one PDF: about 600 dense pages. Search sees no further.
MAX_TEXT_CHARS = 2_000_000
# Reading text stops after this long (pages read so far are kept), well inside the deadline.
TEXT_SECONDS = 10.0
# Requests written ahead of the answers read: the child reads the next file while the
# parent is busy with the last one (the packet copies pages meanwhile).
AHEAD = 8
# A page whose content decodes to more than this is not printed (a decompression bomb).
MAX_CONTENT_BYTES = 64 << 20

IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/tiff", "image/gif", "image/bmp", "image/webp"}
)
# Why a file could not be read, when the reader itself failed on it.
STOPPED = "the file could not be read safely (the reader stopped)"
LATE = "the file could not be read in time"


@dataclass(frozen=True)
class Finding:
    """What the child made of one file: pages (or image frames), or why it cannot be read;
    for a PDF whose text was asked for, its words and whether it has a text layer."""

    pages: int | None
    error: str | None
    # The PDF's words (None when it has none, or they were not read).
    text: str | None = None
    # True: a text layer; False: pages that are pictures without one (a scan); None: not read.
    has_text: bool | None = None
    # How many pages are pictures without words (what OCR reads); None: not read.
    scanned: int | None = None
    # Why the packet cannot print a readable file (e.g. "page 3 is too small to print").
    unprintable: str | None = None
    # What a reader should know of a readable file (e.g. it was damaged and repaired).
    notice: str | None = None
    # A printable PDF's pages as the packet fits them: (x0, y0, x1, y1, rotate) each. Not
    # part of what a finding is compared by: it follows from the pages.
    boxes: tuple[tuple[float, float, float, float, int], ...] | None = field(
        default=None, compare=False
    )


def readable(media_type: str) -> bool:
    """Whether the child reads files of this type (PDFs and images)."""
    return media_type == "application/pdf" or media_type in IMAGE_TYPES


def inspect_files(
    files: Sequence[tuple[Path, str]],
    *,
    deadline: float = DEADLINE_SECONDS,
    read_text: bool = False,
) -> list[Finding]:
    """Findings for `files` ((path, media type) pairs), in order. Never raises for content.
    With `read_text`, PDFs are also read for their words."""
    with Reading(files, deadline=deadline, read_text=read_text) as reading:
        return list(reading)


class Reading:
    """The findings of `inspect_files`, one at a time, in order. The child starts at once,
    so it gets ready (Python, pikepdf) while the caller does other work, and it goes on
    with the next files while the caller uses a finding. A child that fails on a file is
    replaced for the files after it. Use it in a `with` block: leaving it stops the child.
    """

    def __init__(
        self,
        files: Sequence[tuple[Path, str]],
        *,
        deadline: float = DEADLINE_SECONDS,
        read_text: bool = False,
        digests: Mapping[Path, str] | None = None,
    ) -> None:
        """`digests`: for files kept in a binder's store, the SHA-256 that names each; the
        child checks the bytes against it first, and a damaged copy is not read."""
        self.deadline, self.read_text = deadline, read_text
        self._kinds = [media_type for _, media_type in files]
        # What the child reads, in order; `_read` of them are answered.
        self._queue = [(Path(p), t) for p, t in files if readable(t)]
        self._given = self._read = 0
        self._digests = {Path(p): d for p, d in (digests or {}).items()}
        self._child = self._start(0) if self._queue else None

    def _start(self, first: int) -> _Child:
        return _Child(self._queue, first, self.read_text, self._digests)

    def __enter__(self) -> Reading:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __iter__(self) -> Reading:
        return self

    def __next__(self) -> Finding:
        if self._given == len(self._kinds):
            self.close()
            raise StopIteration
        media_type = self._kinds[self._given]
        self._given += 1
        if not readable(media_type):
            return Finding(None, None)
        if self._child is None:
            self._child = self._start(self._read)
        finding, alive = self._child.answer(self._read, self.deadline)
        self._read += 1
        if not alive:
            self._child.close()
            self._child = None
        return finding

    def close(self) -> None:
        if self._child is not None:
            self._child.close()
            self._child = None


def _spawn() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "carebinder.sandbox.child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, MEMORY_ENV: str(MEMORY_LIMIT)},
    )


_spare: subprocess.Popen[bytes] | None = None


def warm_up() -> None:
    """Start a reader now, for the next `Reading` to use: a command that will read files
    after other work (the packet: after its imports and its queries) gets a reader that
    is ready by then. An unused one ends with this process."""
    global _spare
    if _spare is None:
        _spare = _spawn()
        atexit.register(_end_spare)


def _take_spare() -> subprocess.Popen[bytes]:
    global _spare
    spare, _spare = _spare, None
    if spare is not None and spare.poll() is None:
        return spare
    return _spawn()


def _end_spare() -> None:
    global _spare
    if _spare is not None:
        _spare.kill()
        _spare.wait()
        _spare = None


class _Child:
    """One reader process, given `files[first:]`, a few requests ahead of the answers."""

    def __init__(
        self,
        files: list[tuple[Path, str]],
        first: int,
        read_text: bool,
        digests: Mapping[Path, str],
    ) -> None:
        self.files, self.read_text, self.digests = files, read_text, digests
        self.process = _take_spare()
        assert self.process.stdout is not None
        self.answers = Lines(self.process.stdout.fileno())
        self.sent = first
        self.gone = False
        self._send_up_to(first + AHEAD)

    def _wants_text(self, index: int) -> bool:
        return self.read_text and self.files[index][1] == "application/pdf"

    def _send_up_to(self, end: int) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        while not self.gone and self.sent < min(len(self.files), end):
            path, media_type = self.files[self.sent]
            request = {
                "path": os.fsdecode(path),
                "media_type": media_type,
                "text": self._wants_text(self.sent),
                "sha256": self.digests.get(path),
            }
            try:
                stdin.write(json.dumps(request).encode() + b"\n")
                stdin.flush()
            except BrokenPipeError:
                self.gone = True  # the child is gone: its answers so far are still to be read
                return
            self.sent += 1

    def answer(self, index: int, deadline: float) -> tuple[Finding, bool]:
        """The finding for `files[index]`, and whether this child can go on to the next."""
        self._send_up_to(index + 1 + AHEAD)
        line = self.answers.next(time.monotonic() + deadline)
        if not line:
            return Finding(None, STOPPED if line is not None else LATE), False
        answer = json.loads(line)
        boxes = answer.get("boxes")
        finding = Finding(
            answer.get("pages"),
            answer.get("error"),
            unprintable=answer.get("unprintable"),
            notice=answer.get("notice"),
            boxes=tuple((*box[:4], int(box[4])) for box in boxes) if boxes else None,
        )
        if not self._wants_text(index) or finding.error is not None:
            return finding, True
        line = self.answers.next(time.monotonic() + deadline)
        if not line:  # the words could not be read: the pages still count
            return finding, False
        words = json.loads(line)
        found = replace(
            finding,
            text=words.get("text"),
            has_text=words.get("has_text"),
            scanned=words.get("scanned"),
        )
        return found, True

    def close(self) -> None:
        process = self.process
        self.answers.close()
        if process.poll() is None:
            process.kill()
        process.wait()
        assert process.stdin is not None and process.stdout is not None
        with contextlib.suppress(BrokenPipeError):  # requests it never read
            process.stdin.close()
        process.stdout.close()


class Lines:
    """The child's answers, one line each, read with a deadline.

    Read from the pipe itself, never through a buffered reader: a reader that took two
    answers in one read would hold the second where `select` cannot see it.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = bytearray()
        self.selector = selectors.DefaultSelector()
        self.selector.register(fd, selectors.EVENT_READ)

    def next(self, until: float) -> bytes | None:
        """The next answer; b"" when the child is gone, None when the deadline passed."""
        while (end := self.pending.find(b"\n")) < 0:
            left = until - time.monotonic()
            if left <= 0:
                return None
            if not self.selector.select(timeout=left):
                continue
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return b""
            self.pending += chunk
        line = bytes(self.pending[: end + 1])
        del self.pending[: end + 1]
        return line

    def close(self) -> None:
        self.selector.close()
