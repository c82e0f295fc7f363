"""Reading untrusted files (PDFs and images from anywhere) in a child process with limits.

A malformed file must never crash, hang or exhaust the memory of a command. So the first
look at each file (can it be opened? how many pages or frames?) happens in a separate
Python process with a cap on its address space, and a deadline per file: a file that
makes it die, overrun the deadline or run out of memory is reported "could not be read"
with the reason, and the child is restarted for the files after it. Only files that
passed are then opened by the command itself.

Protocol: the parent writes one JSON line per file (`path`, `media_type`) to the child's
stdin; the child answers one JSON line per file (`pages`, `error`) as soon as it is done.
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

from carebinder.faults import SANDBOX_POINT, checkpoint

# Per file; generous, since a big scan can take a second or two to decode.
DEADLINE_SECONDS = 30.0
# The child's address space: room for Python, pikepdf, Pillow and one large image.
MEMORY_LIMIT = 2 << 30
MEMORY_ENV = "CAREBINDER_SANDBOX_MEMORY"  # how the parent hands the limit to the child
# Pillow refuses larger images as possible decompression bombs.
MAX_IMAGE_PIXELS = 120_000_000

IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/tiff", "image/gif", "image/bmp", "image/webp"}
)


@dataclass(frozen=True)
class Finding:
    """What the child made of one file: pages (or image frames), or why it cannot be read."""

    pages: int | None
    error: str | None


def inspect_files(
    files: Sequence[tuple[Path, str]], *, deadline: float = DEADLINE_SECONDS
) -> list[Finding]:
    """Findings for `files` ((path, media type) pairs), in order. Never raises for content."""
    findings: list[Finding] = []
    pending = [(Path(p), t) for p, t in files if t == "application/pdf" or t in IMAGE_TYPES]
    wanted = {i for i, (_, t) in enumerate(files) if t == "application/pdf" or t in IMAGE_TYPES}
    results: list[Finding] = []
    while pending:
        done, failure = _run_child(pending, deadline)
        results += done
        pending = pending[len(done) :]
        if failure is not None and pending:
            results.append(Finding(None, failure))
            pending = pending[1:]
    answers = iter(results)
    for index in range(len(files)):
        findings.append(next(answers) if index in wanted else Finding(None, None))
    return findings


def _run_child(files: list[tuple[Path, str]], deadline: float) -> tuple[list[Finding], str | None]:
    """Inspect `files` in one child until it finishes them or fails on one."""
    child = subprocess.Popen(
        [sys.executable, "-m", "carebinder.sandbox"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, MEMORY_ENV: str(MEMORY_LIMIT)},
    )
    assert child.stdin is not None and child.stdout is not None
    done: list[Finding] = []
    selector = selectors.DefaultSelector()
    selector.register(child.stdout, selectors.EVENT_READ)
    try:
        for path, media_type in files:
            request = json.dumps({"path": os.fsdecode(path), "media_type": media_type})
            try:
                child.stdin.write(request.encode() + b"\n")
                child.stdin.flush()
            except BrokenPipeError:
                return done, "the file could not be read safely (the reader stopped)"
            line = _read_line(child, selector, time.monotonic() + deadline)
            if line is None:
                return done, "the file could not be read in time"
            if not line:
                return done, "the file could not be read safely (the reader stopped)"
            answer = json.loads(line)
            done.append(Finding(answer.get("pages"), answer.get("error")))
        return done, None
    finally:
        selector.close()
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdin.close()
        child.stdout.close()


def _read_line(
    child: subprocess.Popen[bytes], selector: selectors.BaseSelector, until: float
) -> bytes | None:
    """The child's next answer; b"" when it is gone, None when the deadline passed."""
    assert child.stdout is not None
    while (left := until - time.monotonic()) > 0:
        if selector.select(timeout=left):
            return child.stdout.readline()
    return None


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
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
