"""The recognising process: run as `python -m carebinder.ocr.child`, with its memory capped
(and Tesseract's, which inherits the cap), it makes the text-layer version of each file the
parent asks for, with OCRmyPDF and Tesseract. Nothing here runs in a command's own process.

Protocol (one JSON line each way per file, as carebinder.sandbox): the parent writes
`path`, `media_type`, `sha256`, `out`, `languages`; the child answers `{"progress": [done,
all]}` lines while Tesseract reads pages, then one line with `pages`, `recognised`,
`confidence`, `text`, `error` and `late` (pages Tesseract gave up on).

What it does to a file:
- a PDF: only its pages without words are read (OCRmyPDF's skip mode); pages with text are
  copied as they are, and a scanned page's picture is not changed (no deskew), only turned
  upright when Tesseract's orientation check says it lies sideways;
- a photo or an image: it becomes a PDF page first, turned upright by its EXIF orientation,
  then by the orientation check, and straightened (deskew) before it is read.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from carebinder.ocr import hocr
from carebinder.sandbox import MAX_IMAGE_PIXELS, MAX_TEXT_CHARS
from carebinder.sandbox.child import limit_memory, plain, stored_copy_problem

# Tesseract gives up on a page after this long; the page keeps no words and the rest go on.
PAGE_TIMEOUT = 120.0
# How sure Tesseract's orientation check must be to turn a page (OCRmyPDF's default: 14).
ROTATE_SCAN = 14.0
ROTATE_PHOTO = 5.0
# A photo of a page fills about this many inches on its longer side.
PAGE_INCHES = 11.0


class _Late(logging.Handler):
    """The pages Tesseract gave up on, from OCRmyPDF's log (its workers' records included)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.pages: set[int] = set()

    def emit(self, record: logging.LogRecord) -> None:
        page = getattr(record, "pageno", None)
        if isinstance(page, int) and "took too long" in record.getMessage():
            self.pages.add(page + 1)


def _photo_pdf(path: Path, target: Path) -> int:
    """A PDF of the image's frames, each turned upright by its EXIF orientation; its pages."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    pages = []
    with Image.open(path) as image:
        for frame in range(getattr(image, "n_frames", 1)):
            image.seek(frame)
            upright = ImageOps.exif_transpose(image)
            pages.append(upright.convert("L" if upright.mode in ("1", "L", "LA") else "RGB"))
    first = pages[0]
    dpi = first.info.get("dpi", (0, 0))[0] if isinstance(first.info.get("dpi"), tuple) else 0
    if not 100 <= float(dpi) <= 1200 or max(first.size) / float(dpi) > 17:
        dpi = min(600.0, max(72.0, max(first.size) / PAGE_INCHES))  # a phone's 72 is no guide
    first.save(
        target, "PDF", save_all=True, append_images=pages[1:], resolution=float(dpi), quality=92
    )
    return len(pages)


def _words(pdf: Path, work: Path) -> str | None:
    """The words of the text-layer version, page by page: Tesseract's own text for the
    pages it read (in reading order: PDFium reads an invisible layer's lines out of
    order), the PDF's text for the others."""
    import pypdfium2 as pdfium

    read = {int(p.name[:6]): p for p in work.rglob("*_ocr_hocr.txt") if p.name[:6].isdigit()}
    parts: list[str] = []
    document = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(document)):
            if index + 1 in read:
                words = plain(read[index + 1].read_text(encoding="utf-8", errors="replace"))
            else:
                page = document[index]
                textpage = page.get_textpage()
                words = plain(textpage.get_text_range())
                textpage.close()
                page.close()
            if words:
                parts.append(words)
    finally:
        document.close()
    return "\n\n".join(parts)[:MAX_TEXT_CHARS] or None


def recognise(request: dict[str, Any], work: Path, say: Any) -> dict[str, Any]:
    """Make the text-layer version of one file; what became of it."""
    import ocrmypdf
    from ocrmypdf import exceptions

    from carebinder.ocr import plugin

    path, out = Path(request["path"]), Path(request["out"])
    stored = stored_copy_problem(path, request.get("sha256"))
    if stored is not None:
        return {"error": stored}
    photo = request["media_type"] != "application/pdf"
    source = path
    if photo:
        source = work / "photo.pdf"
        try:
            _photo_pdf(path, source)
        except Exception as error:  # noqa: BLE001 - any fault of a hostile image is its own
            return {"error": f"the image cannot be read ({type(error).__name__})"}
    plugin.sink = lambda done, total: say({"progress": [done, total]})
    os.environ[plugin.STRAIGHTEN] = "0" if photo else "1"
    late = _Late()
    logging.getLogger("ocrmypdf").addHandler(late)
    tempfile.tempdir = str(work)  # OCRmyPDF's working folder, kept for its hOCR
    try:
        ocrmypdf.ocr(
            source,
            out,
            language=request["languages"].split("+"),
            output_type="pdf",  # no PDF/A conversion: pages with text stay as they are
            mode="skip",
            rotate_pages=True,
            # A photo is often taken sideways; a page with few lines gives Tesseract's
            # orientation check little to go on (10 where OCRmyPDF's default wants 14).
            rotate_pages_threshold=ROTATE_PHOTO if photo else ROTATE_SCAN,
            deskew=photo,
            optimize=1 if photo else 0,
            jobs=2,
            progress_bar=True,
            plugins=["carebinder.ocr.plugin"],
            keep_temporary_files=True,
            fast_web_view=1e9,  # never linearized: the packet rewrites the file anyway
            tesseract_timeout=PAGE_TIMEOUT,
            max_image_mpixels=MAX_IMAGE_PIXELS / 1e6,
            invalidate_digital_signatures=True,  # the original, signature and all, stays
        )
    except exceptions.EncryptedPdfError:
        return {"error": "the PDF is password-protected"}
    except exceptions.InputFileError:
        return {"error": "the file cannot be read for its words"}
    except exceptions.MissingDependencyError:
        return {"error": "Tesseract is not installed"}
    except exceptions.ExitCodeException as error:
        return {"error": f"the words could not be recognised ({type(error).__name__})"}
    finally:
        logging.getLogger("ocrmypdf").removeHandler(late)
        plugin.sink = None
    pages, confidences = hocr.read_folder(work)
    return {
        "error": None,
        "pages": len(pages),
        "recognised": sum(1 for count in pages if count),
        "confidence": sum(confidences) / len(confidences) if confidences else None,
        "text": _words(out, work),
        "late": sorted(late.pages),
    }


def serve() -> None:
    """Answer the parent's requests until its stdin closes."""
    limit_memory()
    # Only answers go to the parent: anything a library prints goes nowhere.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)

    def say(answer: dict[str, Any]) -> None:
        answers.write(json.dumps(answer) + "\n")
        answers.flush()

    for line in sys.stdin:
        request = json.loads(line)
        work = Path(tempfile.mkdtemp(prefix="ocr-", dir=os.environ.get("TMPDIR")))
        started = time.monotonic()
        try:
            answer = recognise(request, work, say)
        except MemoryError:
            answer = {"error": "the file needs too much memory to read its words"}
        except FileNotFoundError:
            answer = {"error": "missing from the binder's file store (run `carebinder verify`)"}
        except Exception as error:  # noqa: BLE001 - a hostile file's fault ends with the file
            answer = {"error": f"the words could not be recognised ({type(error).__name__})"}
        finally:
            with contextlib.suppress(OSError):
                shutil.rmtree(work)
        say({**answer, "seconds": round(time.monotonic() - started, 2)})


if __name__ == "__main__":
    serve()
