"""Reading untrusted files (PDFs and images from anywhere) in a child process with limits.

A malformed file must never crash, hang or exhaust the memory of a command. So the first
look at each file (can it be opened? how many pages or frames?) happens in a separate
Python process with a cap on its address space, and a deadline per file: a file that
makes it die, overrun the deadline or run out of memory is reported "could not be read"
with the reason, and the child is restarted for the files after it. Only files that
passed are then opened by the command itself.

When asked (`read_text`), the child also reads the words of each PDF (with PDFium), for
search. That is a second, separate answer: a PDF whose text makes the reader die or overrun
the deadline keeps its pages and is only left without text.

Protocol: the parent writes one JSON line per file (`path`, `media_type`, `text`) to the
child's stdin; the child answers one JSON line per file (`pages`, `error`) as soon as it is
done, then, for a readable PDF whose text was asked for, a second line (`text`, `has_text`).
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carebinder.faults import SANDBOX_POINT, SANDBOX_TEXT_POINT, checkpoint

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


def inspect_files(
    files: Sequence[tuple[Path, str]],
    *,
    deadline: float = DEADLINE_SECONDS,
    read_text: bool = False,
) -> list[Finding]:
    """Findings for `files` ((path, media type) pairs), in order. Never raises for content.
    With `read_text`, PDFs are also read for their words."""
    findings: list[Finding] = []
    pending = [(Path(p), t) for p, t in files if t == "application/pdf" or t in IMAGE_TYPES]
    wanted = {i for i, (_, t) in enumerate(files) if t == "application/pdf" or t in IMAGE_TYPES}
    results: list[Finding] = []
    while pending:
        done = _run_child(pending, deadline, read_text)
        results += done
        pending = pending[len(done) :]
    answers = iter(results)
    for index in range(len(files)):
        findings.append(next(answers) if index in wanted else Finding(None, None))
    return findings


def _run_child(files: list[tuple[Path, str]], deadline: float, read_text: bool) -> list[Finding]:
    """Inspect `files` in one child until it finishes them or fails on one (whose finding,
    the failure, is the last one returned)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "carebinder.sandbox"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, MEMORY_ENV: str(MEMORY_LIMIT)},
    )
    assert child.stdin is not None and child.stdout is not None
    done: list[Finding] = []
    answers = _Lines(child.stdout.fileno())
    try:
        for path, media_type in files:
            wants_text = read_text and media_type == "application/pdf"
            request = {"path": os.fsdecode(path), "media_type": media_type, "text": wants_text}
            try:
                child.stdin.write(json.dumps(request).encode() + b"\n")
                child.stdin.flush()
            except BrokenPipeError:
                return [*done, Finding(None, STOPPED)]
            line = answers.next(time.monotonic() + deadline)
            if not line:
                return [*done, Finding(None, STOPPED if line is not None else LATE)]
            answer = json.loads(line)
            finding = Finding(answer.get("pages"), answer.get("error"))
            if not wants_text or finding.error is not None:
                done.append(finding)
                continue
            line = answers.next(time.monotonic() + deadline)
            if not line:  # the words could not be read: the pages still count
                return [*done, finding]
            words = json.loads(line)
            done.append(Finding(finding.pages, None, words.get("text"), words.get("has_text")))
        return done
    finally:
        answers.close()
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdin.close()
        child.stdout.close()


class _Lines:
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


# --- the child -----------------------------------------------------------------------------


def _limit_memory() -> None:
    try:
        import resource
    except ImportError:  # not on Windows: the deadline still applies
        return
    wanted = int(os.environ.get(MEMORY_ENV, MEMORY_LIMIT))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _inspect_pdf(path: Path) -> dict[str, Any]:
    import pikepdf

    try:
        with pikepdf.open(path) as pdf:
            pages = len(pdf.pages)
    except FileNotFoundError:
        raise
    except pikepdf.PasswordError:
        return {"pages": None, "error": "the PDF is password-protected"}
    except (pikepdf.PdfError, ValueError, RecursionError, OSError) as error:
        return {"pages": None, "error": f"the PDF is damaged ({type(error).__name__})"}
    if pages == 0:
        return {"pages": None, "error": "the PDF has no pages"}
    return {"pages": pages, "error": None}


def _read_words(path: Path) -> dict[str, Any]:
    """The words of a PDF, page by page, and whether it has a text layer at all: a PDF
    whose pages hold pictures and no text is a scan, whose words search cannot see."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    started = time.monotonic()
    parts: list[str] = []
    size = 0
    pictures = False
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError:
        return {"text": None, "has_text": None}
    try:
        for index in range(len(pdf)):
            if size >= MAX_TEXT_CHARS or time.monotonic() - started > TEXT_SECONDS:
                break
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    words = _plain(textpage.get_text_range())
                finally:
                    textpage.close()
                if words:
                    parts.append(words)
                    size += len(words)
                elif not pictures:
                    images = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4)
                    pictures = next(images, None) is not None
            finally:
                page.close()
    except pdfium.PdfiumError:
        pass  # keep the pages read so far
    finally:
        pdf.close()
    if parts:
        return {"text": "\n\n".join(parts)[:MAX_TEXT_CHARS], "has_text": True}
    # No words: a scan if it shows pictures; otherwise blank pages, with nothing to miss.
    return {"text": None, "has_text": not pictures}


# Control characters become spaces (line breaks and tabs stay): what a PDF holds must not
# reach a terminal as escape sequences, nor collide with search's highlight marks.
_CONTROLS = {code: " " for code in (*range(0x20), *range(0x7F, 0xA0)) if chr(code) not in "\n\t"}


def _plain(text: str) -> str:
    """`text` with plain line breaks and without control characters, stripped."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROLS).strip()


def _inspect_image(path: Path, media_type: str) -> dict[str, Any]:
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1) if media_type == "image/tiff" else 1
            for frame in range(frames):  # decode everything: a photo cut short shows here
                image.seek(frame)
                image.load()
    except FileNotFoundError:
        raise
    except Image.DecompressionBombError:
        return {"pages": None, "error": "the image is too large to print"}
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as error:
        return {"pages": None, "error": f"the image cannot be read ({type(error).__name__})"}
    return {"pages": frames, "error": None}


def _serve() -> None:
    _limit_memory()
    for line in sys.stdin:
        request = json.loads(line)
        path, media_type = Path(request["path"]), request["media_type"]
        checkpoint(SANDBOX_POINT)
        try:
            if media_type == "application/pdf":
                answer = _inspect_pdf(path)
            else:
                answer = _inspect_image(path, media_type)
        except MemoryError:
            answer = {"pages": None, "error": "the file needs too much memory to read"}
        except FileNotFoundError:
            answer = {
                "pages": None,
                "error": "missing from the binder's file store (run `carebinder verify`)",
            }
        _answer(answer)
        if request.get("text") and answer["error"] is None:
            checkpoint(SANDBOX_TEXT_POINT)
            try:
                words = _read_words(path)
            except MemoryError:
                words = {"text": None, "has_text": None}
            _answer(words)


def _answer(answer: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    _serve()
