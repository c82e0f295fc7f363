"""The packet's record pages: a separator per record, then its images placed on pages."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, PageBreak, Spacer

from carebinder.packet.layout import Mark, Rendered, build, fmt_date, markup, p, pairs
from carebinder.packet.styles import geometry, text
from carebinder.packet.triage import ImagePart, PdfPart, RecordPlan

# Photos are scaled down to this many pixels on their long side before embedding.
MAX_IMAGE_SIDE = 3000


class ImagePage(Flowable):
    """One image (or one frame of a TIFF), upright per its EXIF, fitted to the page."""

    def __init__(self, part: ImagePart, frame: int, width: float, height: float) -> None:
        super().__init__()
        self.part, self.frame = part, frame
        self.width, self.height = width, height

    def draw(self) -> None:
        reader, (w, h) = _image_source(self.part, self.frame)
        scale = min(self.width / w, self.height / h)
        dw, dh = w * scale, h * scale
        self.canv.drawImage(
            reader, (self.width - dw) / 2, self.height - dh, dw, dh, preserveAspectRatio=True
        )


def _image_source(part: ImagePart, frame: int) -> tuple[Any, tuple[int, int]]:
    from PIL import Image, ImageOps

    with Image.open(part.file.path) as image:
        if part.frames > 1:
            image.seek(frame)
        orientation = image.getexif().get(0x0112, 1)
        if image.format == "JPEG" and orientation == 1 and max(image.size) <= MAX_IMAGE_SIDE:
            # Embed the JPEG's own bytes, untouched.
            return ImageReader(str(part.file.path)), image.size
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        buffer = io.BytesIO()
        upright.save(buffer, format="JPEG", quality=90)
        buffer.seek(0)
        return ImageReader(buffer), upright.size


def _separator(plan: RecordPlan, number: int, total: int, width: float) -> list[Flowable]:
    r = plan.record
    story: list[Flowable] = [
        p(f"Record {number} of {total}", "muted"),
        p(r.title, "title"),
        pairs(
            [
                ("Date", fmt_date(r.date)),
                ("Kind", r.kind.replace("-", " ")),
                ("Source", r.source),
                ("Notes", r.notes),
            ],
            width,
        ),
        Spacer(1, 5 * mm),
    ]
    if plan.parts:
        story.append(p("In this packet", "h2"))
        for part in plan.parts:
            what = (
                f"{part.pages} page{'s' if part.pages != 1 else ''}"
                if isinstance(part, PdfPart)
                else f"image, {part.frames} page{'s' if part.frames != 1 else ''}"
            )
            story.append(markup(f"•&nbsp;{text(part.file.name)} ({what})", "check"))
    if plan.separately:
        story.append(p("Bring separately", "h2"))
        for name, reason in plan.separately:
            story.append(markup(f"☐&nbsp;&nbsp;<b>{text(name)}</b>: {text(reason)}", "check"))
    if not r.files:
        story.append(p("No file is attached to this record.", "muted"))
    return story


def render_records(plans: Sequence[RecordPlan], paper: str) -> tuple[Rendered, list[Any]]:
    """One document of every record's own pages. Marks carry keys: ("record", id) before a
    separator, ("image", id, n) before the pages of the record's n-th part."""
    geo = geometry(paper)
    _, _, width, height = geo.frame
    story: list[Flowable] = []
    for number, plan in enumerate(plans, 1):
        if story:
            story.append(PageBreak())
        story.append(Mark(plan.record.title, 1, ("record", plan.record.id)))
        story += _separator(plan, number, len(plans), width)
        for index, part in enumerate(plan.parts):
            if isinstance(part, ImagePart):
                for frame in range(part.frames):
                    story.append(PageBreak())
                    if frame == 0:
                        story.append(Mark(part.file.name, 2, ("image", plan.record.id, index)))
                    story.append(ImagePage(part, frame, width, height))
    return build(story, paper, "records")
