"""How well and how fast carebinder reads scans: word recall against the known text, and
seconds per page (`make bench-ocr`).

Report pages with realistic text (a pathology report and an oncology consultation, in
English and in Spanish, each with a table of marker results and small print) are drawn
with DejaVu Sans, rasterised at 150, 200 and 300 dpi, tilted by a few degrees, given
noise and JPEG artefacts, and put in PDFs as a scanner makes them (pictures, no text).
Each PDF is read by carebinder's own engine (carebinder.ocr: OCRmyPDF and Tesseract in
the reader process, as `record attach` runs it), and the words read are compared with the
words drawn: recall = words found / words drawn (each word counted as often as it
appears; case, accents kept; punctuation at the ends of words ignored).

Goal: recall >= 95% at 200 dpi and above, in both languages.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
# The reader process imports carebinder too: this checkout's, whatever is installed.
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
)

from carebinder.ocr import Item, Recognising  # noqa: E402

FONT = ROOT / "src/carebinder/packet/fonts/DejaVuSans.ttf"
BOLD = ROOT / "src/carebinder/packet/fonts/DejaVuSans-Bold.ttf"

PAGES = {
    "eng": [
        {
            "title": "SURGICAL PATHOLOGY REPORT",
            "body": [
                "Patient: Ana Souza   MRN: MGH-0042117   Date of birth: 04/12/1964",
                "Specimen received: left breast, ultrasound-guided core needle biopsy",
                "at 2 o'clock, 4 cm from the nipple, three cores in formalin.",
                "Gross description: three tan-white cores, each 1.2 to 1.6 cm in length,",
                "entirely submitted in one cassette labelled A1.",
                "Microscopic description: the cores show an infiltrating carcinoma",
                "arranged in nests and cords with moderate nuclear pleomorphism and",
                "occasional mitoses. No lymphovascular invasion is identified.",
                "Ductal carcinoma in situ, cribriform type, is present in one core.",
                "Diagnosis: invasive ductal carcinoma, Nottingham grade 2 of 3",
                "(tubules 3, nuclei 2, mitoses 1), with associated DCIS.",
            ],
            "table": [
                ("Marker", "Result", "Interpretation"),
                ("Estrogen receptor", "95%, strong", "Positive"),
                ("Progesterone receptor", "40%, moderate", "Positive"),
                ("HER2 (IHC)", "Score 1+", "Negative"),
                ("Ki-67", "22%", "Intermediate"),
            ],
            "small": [
                "Electronically signed by Dr. Marcus Bell, pathologist, on 10/21/2026.",
                "Controls were appropriate. Results apply to the specimen as received.",
            ],
        },
        {
            "title": "MEDICAL ONCOLOGY CONSULTATION",
            "body": [
                "Reason for visit: second opinion on the staging and the treatment plan.",
                "History: a 62-year-old woman with a screen-detected left breast mass.",
                "Imaging showed a 1.8 cm irregular mass with one suspicious axillary node.",
                "Sentinel lymph node biopsy found a micrometastasis of 1.5 millimetres.",
                "Performance status: ECOG 0. No weight loss, no bone pain, no dyspnea.",
                "Assessment: pathologic stage IB, pT1c pN1mi M0, hormone receptor",
                "positive, HER2 negative. Genomic recurrence score is recommended",
                "before a decision on adjuvant chemotherapy.",
                "Plan: endocrine therapy for at least five years after radiation.",
            ],
            "table": [
                ("Medication", "Dose", "Frequency"),
                ("Anastrozole", "1 mg", "Once daily"),
                ("Calcium carbonate", "600 mg", "Twice daily"),
                ("Vitamin D3", "1000 units", "Once daily"),
            ],
            "small": [
                "This note was dictated and may contain transcription errors.",
                "Questions: call the oncology clinic at (617) 555-0120, Monday to Friday.",
            ],
        },
    ],
    "spa": [
        {
            "title": "INFORME DE ANATOMÍA PATOLÓGICA",
            "body": [
                "Paciente: María López García   Historia clínica: 0042117",
                "Muestra recibida: mama izquierda, biopsia con aguja gruesa guiada",
                "por ecografía, tres cilindros fijados en formol.",
                "Descripción macroscópica: tres cilindros blanquecinos de 1,2 a 1,6 cm",
                "de longitud, incluidos en su totalidad en un casete.",
                "Descripción microscópica: carcinoma infiltrante dispuesto en nidos y",
                "cordones, con pleomorfismo nuclear moderado y mitosis ocasionales.",
                "No se identifica invasión linfovascular. Se observa carcinoma ductal",
                "in situ de tipo cribiforme en uno de los cilindros.",
                "Diagnóstico: carcinoma ductal infiltrante, grado histológico 2 de 3",
                "(túbulos 3, núcleos 2, mitosis 1), con componente in situ asociado.",
            ],
            "table": [
                ("Marcador", "Resultado", "Interpretación"),
                ("Receptor de estrógenos", "95%, intenso", "Positivo"),
                ("Receptor de progesterona", "40%, moderado", "Positivo"),
                ("HER2 (inmunohistoquímica)", "Puntuación 1+", "Negativo"),
                ("Ki-67", "22%", "Intermedio"),
            ],
            "small": [
                "Firmado electrónicamente por la Dra. Elena Martín, patóloga, el 21/10/2026.",
                "Los controles fueron adecuados. El resultado se refiere a la muestra recibida.",
            ],
        },
        {
            "title": "CONSULTA DE ONCOLOGÍA MÉDICA",
            "body": [
                "Motivo de consulta: segunda opinión sobre la estadificación y el tratamiento.",
                "Antecedentes: mujer de 62 años con un nódulo en la mama izquierda.",
                "La ecografía mostró una masa irregular de 1,8 cm y un ganglio axilar.",
                "La biopsia del ganglio centinela encontró una micrometástasis de 1,5 mm.",
                "Estado funcional: ECOG 0. Sin pérdida de peso, sin dolor óseo ni disnea.",
                "Valoración: estadio patológico IB, pT1c pN1mi M0, receptores hormonales",
                "positivos, HER2 negativo. Se recomienda una plataforma genómica antes",
                "de decidir la quimioterapia adyuvante.",
                "Plan: hormonoterapia durante al menos cinco años tras la radioterapia.",
            ],
            "table": [
                ("Medicamento", "Dosis", "Frecuencia"),
                ("Anastrozol", "1 mg", "Una vez al día"),
                ("Carbonato cálcico", "600 mg", "Dos veces al día"),
                ("Vitamina D3", "1000 unidades", "Una vez al día"),
            ],
            "small": [
                "Esta nota fue dictada y puede contener errores de transcripción.",
                "Dudas: llame a la consulta de oncología al 91 555 01 20, de lunes a viernes.",
            ],
        },
    ],
}
LANGUAGES = {"eng": "eng", "spa": "spa+eng"}  # as a Spanish-speaking patient's default


def words(text: str) -> list[str]:
    """The words of `text`, punctuation at their ends stripped, empty ones dropped."""
    stripped = (re.sub(r"^[^\w%+]+|[^\w%+]+$", "", w) for w in text.split())
    return [w for w in stripped if w]


def draw_page(page: dict, dpi: int) -> tuple[Image.Image, list[str]]:
    """A letter page at `dpi` and the words drawn on it."""
    scale = dpi / 72
    image = Image.new("L", (int(8.5 * dpi), int(11 * dpi)), 255)
    draw = ImageDraw.Draw(image)
    title = ImageFont.truetype(str(BOLD), round(14 * scale))
    body = ImageFont.truetype(str(FONT), round(10.5 * scale))
    small = ImageFont.truetype(str(FONT), round(7.5 * scale))
    drawn: list[str] = []
    x, y = int(0.9 * dpi), int(0.9 * dpi)

    def line(text: str, font: ImageFont.FreeTypeFont, at: int, step: float) -> None:
        nonlocal y
        draw.text((at, y), text, font=font, fill=0)
        drawn.extend(words(text))
        y += round(step * scale)

    line(page["title"], title, x, 26)
    for text in page["body"]:
        line(text, body, x, 15)
    y += round(10 * scale)
    columns = [x, x + int(2.6 * dpi), x + int(4.6 * dpi)]
    top = y - round(3 * scale)
    for row in page["table"]:
        for column, cell in zip(columns, row, strict=True):
            draw.text((column + round(4 * scale), y), cell, font=body, fill=0)
            drawn.extend(words(cell))
        y += round(17 * scale)
        draw.line([(x, y - round(3 * scale)), (x + int(6.7 * dpi), y - round(3 * scale))], 0, 1)
    for column in [*columns, x + int(6.7 * dpi)]:
        draw.line([(column, top), (column, y - round(3 * scale))], 0, 1)
    y = int(10.1 * dpi)
    for text in page["small"]:
        line(text, small, x, 10)
    return image, drawn


def scanned(image: Image.Image, rng: random.Random, dpi: int) -> Image.Image:
    """As a scanner or fax gives it: a few degrees of skew, noise, a little blur, JPEG."""
    tilted = image.rotate(rng.uniform(-3, 3), expand=False, fillcolor=255, resample=Image.BICUBIC)
    noise = Image.effect_noise(tilted.size, 28).point(lambda v: (v - 128) // 3 + 128)
    grainy = Image.blend(tilted, noise, 0.12).filter(ImageFilter.GaussianBlur(0.4 * dpi / 200))
    buffer = io.BytesIO()
    grainy.save(buffer, "JPEG", quality=55)
    buffer.seek(0)
    with Image.open(buffer) as artefacts:
        return artefacts.convert("L")


def recall(truth: list[str], found: list[str]) -> float:
    wanted, got = Counter(truth), Counter(found)
    return sum(min(count, got[word]) for word, count in wanted.items()) / sum(wanted.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dpi", type=int, nargs="*", default=[150, 200, 300])
    parser.add_argument("--keep", type=Path, help="keep the scans made here")
    args = parser.parse_args()
    rng = random.Random(15)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'language':<9}{'dpi':>5}{'pages':>7}{'recall':>9}{'min page':>10}{'s/page':>8}")
    for code, pages in PAGES.items():
        for dpi in args.dpi:
            items, truths = [], []
            for number, page in enumerate(pages, 1):
                image, truth = draw_page(page, dpi)
                path = folder / f"{code}-{dpi}-{number}.pdf"
                scanned(image, rng, dpi).save(path, "PDF", resolution=dpi)
                items.append(Item(number, path, "application/pdf"))
                truths.append(truth)
            started = time.perf_counter()
            with Recognising(items, LANGUAGES[code]) as reading:
                results = list(reading)
            seconds = time.perf_counter() - started
            recalls = []
            for result, truth in zip(results, truths, strict=True):
                if result.error:
                    print(f"  {code} {dpi} page {result.key}: {result.error}")
                recalls.append(recall(truth, words(result.text or "")))
            overall = statistics.fmean(recalls)
            print(
                f"{code:<9}{dpi:>5}{len(items):>7}{overall:>8.1%}{min(recalls):>10.1%}"
                f"{seconds / len(items):>8.1f}"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
