"""Reading a page's printable facts without trusting the file, and keeping what the PDF
libraries say off the user's terminal."""

from __future__ import annotations

import logging
import warnings

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name

from carebinder.errors import Unprintable
from carebinder.pdfpages import (
    FIELDS_LOST,
    PAGES_LOST,
    PRINT_AREA,
    REPAIRED,
    UNPRINTED_FIELDS,
    Box,
    image_unprintable,
    notice,
    page_box,
    quiet_libraries,
)


def page(**entries: object) -> Dictionary:
    return Dictionary(Type=Name.Page, **entries)


def test_the_print_area_is_the_smaller_of_the_packets_papers() -> None:
    from carebinder.packet.styles import geometry

    areas = [geometry(paper).frame[2:] for paper in ("letter", "a4")]
    assert (
        pytest.approx((min(w for w, _ in areas), min(h for _, h in areas)), abs=0.1) == PRINT_AREA
    )


def test_a_plain_page_reads_as_it_is() -> None:
    assert page_box(page(MediaBox=Array([0, 0, 612, 792])), 1) == Box(0, 0, 612, 792, 0)


def test_a_crop_box_inside_the_page_is_what_shows() -> None:
    box = page_box(page(MediaBox=Array([0, 0, 612, 792]), CropBox=Array([36, 36, 576, 756])), 1)
    assert box == Box(36, 36, 576, 756, 0)


@pytest.mark.parametrize(
    "crop",
    [Array([700, 900, 800, 1000]), Array([0, 0, Name.Wide, 700]), Array([0, 0, 10]), 7],
)
def test_a_crop_box_outside_the_page_or_malformed_is_ignored(crop: object) -> None:
    box = page_box(page(MediaBox=Array([0, 0, 612, 792]), CropBox=crop), 1)
    assert box == Box(0, 0, 612, 792, 0)


@pytest.mark.parametrize(("rotate", "turn"), [(90, 90), (-90, 270), (450, 90), (45, 0), ("x", 0)])
def test_a_rotation_that_is_not_a_multiple_of_90_counts_as_none(rotate: object, turn: int) -> None:
    value = Name.X if rotate == "x" else rotate
    assert page_box(page(MediaBox=Array([0, 0, 612, 792]), Rotate=value), 1).rotate == turn


def test_a_turned_page_shows_turned() -> None:
    assert Box(0, 0, 612, 792, 90).shown == (792, 612)


@pytest.mark.parametrize(
    ("media", "reason"),
    [
        (None, "page 2 is damaged: it has no page size"),
        (Array([0, 0, 612]), "page 2 is damaged: it has no page size"),
        (Array([0, 0, Name.Wide, 792]), "page 2 is damaged: it has no page size"),
        (Array([0, 0, True, 792]), "page 2 is damaged: it has no page size"),
        (Array([0, 0, 0, 792]), "page 2 is damaged: it has no width"),
        (Array([10, 0, 10, 792]), "page 2 is damaged: it has no width"),
        (Array([0, 5, 612, 5]), "page 2 is damaged: it has no height"),
        (Array([0, 0, 0.72, 0.72]), "page 2 is too small to print (0.01 × 0.01 in)"),
        (Array([0, 0, 14400, 792]), "page 2 is too large to print on one sheet (200 × 11 in)"),
    ],
)
def test_pages_that_cannot_be_printed_say_why(media: object, reason: str) -> None:
    entries = {} if media is None else {"MediaBox": media}
    with pytest.raises(Unprintable) as refused:
        page_box(page(**entries), 2)
    assert refused.value.message == reason


def test_big_pages_print_until_they_would_shrink_below_a_quarter() -> None:
    width, height = PRINT_AREA
    assert page_box(page(MediaBox=Array([0, 0, 4 * width, 792])), 1)
    with pytest.raises(Unprintable):
        page_box(page(MediaBox=Array([0, 0, 4 * width + 10, 792])), 1)
    assert page_box(page(MediaBox=Array([0, 0, 612, 4 * height])), 1)


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        ((0, 10), "the image has no pixels"),
        ((1, 100_000), "the image is too thin to print (1 × 100000 pixels)"),
        ((20_000, 100), "the image is too thin to print (20000 × 100 pixels)"),
        ((50, 40), None),
        ((10_000, 500), None),  # an ECG strip still prints
    ],
)
def test_images_too_thin_to_print(size: tuple[int, int], reason: str | None) -> None:
    assert image_unprintable(size) == reason


def test_notices_say_only_what_changes_what_a_doctor_sees() -> None:
    assert notice([]) is None
    assert notice(["some stream has an unknown filter; leaving it as it is"]) is None
    assert notice(["file is damaged", "attempting to reconstruct cross-reference table"]) == (
        REPAIRED
    )
    assert notice(["Pages tree includes non-dictionary object; ignoring"]) == PAGES_LOST
    assert notice([UNPRINTED_FIELDS]) == FIELDS_LOST
    assert notice(["xref not found", UNPRINTED_FIELDS]) == f"{REPAIRED}; {FIELDS_LOST}"


def test_the_libraries_words_are_collected_not_printed(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with quiet_libraries() as said:
        logging.getLogger("pikepdf._core").warning("Pages tree includes non-dictionary object")
        warnings.warn("Copying pages does not preserve form fields", UserWarning, stacklevel=1)
    assert said == [
        "Pages tree includes non-dictionary object",
        "Copying pages does not preserve form fields",
    ]
    assert capsys.readouterr().err == ""
    assert caplog.records == []  # nothing went on to a handler that would print it
    # Without it, the same words go on to be printed (so the checks above can fail).
    logging.getLogger("pikepdf._core").warning("Pages tree includes non-dictionary object")
    assert [r.getMessage() for r in caplog.records] == ["Pages tree includes non-dictionary object"]


def test_qpdf_warnings_are_collected_too(tmp_path: object) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.Root.Pages.Kids.append(Array([1, 2]))
    from io import BytesIO

    buffer = BytesIO()
    pdf.save(buffer)
    from carebinder.pdfpages import said_by

    with quiet_libraries() as said, pikepdf.open(BytesIO(buffer.getvalue())) as odd:
        assert len(odd.pages) == 1
        said_by(odd)
    assert notice(said) == PAGES_LOST
