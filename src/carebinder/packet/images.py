"""Photos and scans as PDF images: upright per their EXIF, at most MAX_IMAGE_SIDE pixels on
a side, in colours a printer shows as the camera saw them.

A JPEG that needs no change is embedded as it is (its own bytes, untouched); anything else
is decoded with Pillow, turned and scaled, flattened onto white where it is transparent,
brought to 8 bits (16-bit scans would otherwise print white), and stored as a JPEG.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Name

from carebinder.sandbox import MAX_IMAGE_PIXELS

# Photos are scaled down to this many pixels on their long side before embedding.
MAX_IMAGE_SIDE = 3000
JPEG_QUALITY = 90
_SPACES = {"L": Name.DeviceGray, "RGB": Name.DeviceRGB}


def image_xobject(
    pdf: pikepdf.Pdf, path: Path, frame: int, frames: int
) -> tuple[Any, tuple[int, int]]:
    """An image XObject in `pdf` for one frame of the image at `path`, and its size."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    with Image.open(path) as image:
        if frames > 1:
            image.seek(frame)
        orientation = image.getexif().get(0x0112, 1)
        if (
            image.format == "JPEG"
            and orientation in (0, 1)
            and image.mode in _SPACES
            and max(image.size) <= MAX_IMAGE_SIDE
        ):
            data, size, mode = path.read_bytes(), image.size, image.mode
        else:
            data, size, mode = _printable_jpeg(image)
    stream = pikepdf.Stream(pdf, data)
    stream.Type = Name.XObject
    stream.Subtype = Name.Image
    stream.Width, stream.Height = size
    stream.ColorSpace = _SPACES[mode]
    stream.BitsPerComponent = 8
    stream.Filter = Name.DCTDecode
    return pdf.make_indirect(stream), size


def _printable_jpeg(image: Any) -> tuple[bytes, tuple[int, int], str]:
    from PIL import Image, ImageOps

    if image.format == "JPEG":
        # Decode a big photo at a half, quarter or eighth of its size straight away: faster,
        # and a 50-megapixel photo never sits in memory whole.
        image.draft(image.mode, (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    image.load()
    upright = ImageOps.exif_transpose(image) or image
    upright.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    upright = _eight_bits(upright)
    if upright.mode not in _SPACES:
        if "A" in upright.getbands() or "transparency" in upright.info:
            rgba = upright.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            upright = Image.alpha_composite(white, rgba)
        upright = upright.convert("RGB")
    buffer = io.BytesIO()
    upright.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue(), upright.size, upright.mode


def _eight_bits(image: Any) -> Any:
    """16-bit and 32-bit greyscale brought to 8 bits by scale, not by clipping."""
    sixteen = image.mode.startswith("I;16")
    if sixteen:
        image = image.convert("I")
    if image.mode == "I":
        _, high = image.getextrema()
        top = 65535 if sixteen or high > 255 else 255
        return image.point(lambda v: v * (255 / top)).convert("L")
    if image.mode == "F":
        return image.convert("L")
    return image
