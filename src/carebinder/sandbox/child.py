"""The reader process of carebinder.sandbox: run as `python -m carebinder.sandbox.child`,
with its memory capped, it answers the parent's requests one JSON line at a time (see the
package's docstring for the protocol). Nothing here runs in a command's own process."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from carebinder.faults import SANDBOX_POINT, SANDBOX_TEXT_POINT, checkpoint
from carebinder.sandbox import (
    MAX_CONTENT_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_TEXT_CHARS,
    MEMORY_ENV,
    MEMORY_LIMIT,
    TEXT_SECONDS,
)


def limit_memory() -> None:
    """Cap this process's address space (and its children's) at the parent's limit."""
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

    from carebinder.pdfpages import flatten_annotations, notice, quiet_libraries

    with quiet_libraries() as said:
        try:
            with pikepdf.open(path) as pdf:
                pages = len(pdf.pages)
                boxes: list[list[float]] = []
                unprintable = _unprintable(pdf, boxes) if pages else None
                if unprintable is None:
                    flatten_annotations(pdf)
                    said += [str(warning) for warning in pdf.get_warnings()]
        except FileNotFoundError:
            raise
        except pikepdf.PasswordError:
            return {"pages": None, "error": "the PDF is password-protected"}
        except (pikepdf.PdfError, ValueError, RecursionError, OSError) as error:
            return {"pages": None, "error": f"the PDF is damaged ({type(error).__name__})"}
    if pages == 0:
        return {"pages": None, "error": "the PDF has no pages"}
    return {
        "pages": pages,
        "error": None,
        "unprintable": unprintable,
        "notice": notice(said),
        "boxes": None if unprintable else boxes,
    }


def _unprintable(pdf: Any, boxes: list[list[float]]) -> str | None:
    """Why the packet cannot print this PDF's pages (the first bad page), or None; each
    good page's box goes into `boxes`, as [x0, y0, x1, y1, rotate]."""
    from carebinder.errors import Unprintable
    from carebinder.pdfpages import check_content, check_structure, page_box, said_by

    try:
        said_by(pdf)
        for number, page in enumerate(pdf.pages, 1):
            box = page_box(page.obj, number)
            boxes.append([box.x0, box.y0, box.x1, box.y1, box.rotate])
            streams = check_structure(page.obj, number)
            check_content(streams, number, MAX_CONTENT_BYTES)
    except Unprintable as error:
        return error.message
    return None


def read_words(path: Path) -> dict[str, Any]:
    """The words of a PDF, page by page, whether it has a text layer at all (a PDF whose
    pages hold pictures and no text is a scan, whose words search cannot see), and how
    many of its pages are pictures without words (`scanned`: those OCR would read)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    started = time.monotonic()
    parts: list[str] = []
    size = 0
    pictures = 0
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
                    words = plain(textpage.get_text_range())
                finally:
                    textpage.close()
                if words:
                    parts.append(words)
                    size += len(words)
                else:
                    images = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4)
                    pictures += next(images, None) is not None
            finally:
                page.close()
    except pdfium.PdfiumError:
        pass  # keep the pages read so far
    finally:
        pdf.close()
    if parts:
        text = "\n\n".join(parts)[:MAX_TEXT_CHARS]
        return {"text": text, "has_text": True, "scanned": pictures}
    # No words: a scan if it shows pictures; otherwise blank pages, with nothing to miss.
    return {"text": None, "has_text": not pictures, "scanned": pictures}


# Control characters become spaces (line breaks and tabs stay): what a PDF holds must not
# reach a terminal as escape sequences, nor collide with search's highlight marks.
_CONTROLS = {code: " " for code in (*range(0x20), *range(0x7F, 0xA0)) if chr(code) not in "\n\t"}


def plain(text: str) -> str:
    """`text` with plain line breaks and without control characters, stripped."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROLS).strip()


def _inspect_image(path: Path, media_type: str) -> dict[str, Any]:
    from PIL import Image, UnidentifiedImageError

    from carebinder.pdfpages import image_unprintable

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1) if media_type == "image/tiff" else 1
            unprintable = None
            for frame in range(frames):  # decode everything: a photo cut short shows here
                image.seek(frame)
                image.load()
                unprintable = unprintable or image_unprintable(image.size)
    except FileNotFoundError:
        raise
    except Image.DecompressionBombError:
        return {"pages": None, "error": "the image is too large to print"}
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as error:
        return {"pages": None, "error": f"the image cannot be read ({type(error).__name__})"}
    return {"pages": frames, "error": None, "unprintable": unprintable}


def serve() -> None:
    """Answer the parent's requests, one JSON line per file, until its stdin closes."""
    limit_memory()
    for line in sys.stdin:
        request = json.loads(line)
        path, media_type = Path(request["path"]), request["media_type"]
        checkpoint(SANDBOX_POINT)
        try:
            stored = stored_copy_problem(path, request.get("sha256"))
            if stored is not None:
                answer = {"pages": None, "error": stored}
            elif media_type == "application/pdf":
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
                words = read_words(path)
            except MemoryError:
                words = {"text": None, "has_text": None}
            _answer(words)


def stored_copy_problem(path: Path, sha256: str | None) -> str | None:
    """Why a file of a binder's store cannot be used (damaged, missing, a folder or a pipe
    in its place), or None; checked against the SHA-256 that names it (`path` is where
    the store keeps it)."""
    if not sha256:
        return None
    from carebinder.errors import BlobUnusable
    from carebinder.store import Store

    try:
        Store(path.parents[1]).read(sha256, keep=False)
    except BlobUnusable as error:
        return f"the stored copy {error.reason}; `carebinder verify` says what to do"
    return None


def _answer(answer: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    serve()
