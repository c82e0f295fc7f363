"""Which library reads the words of a PDF: pypdfium2 (PDFium) against pypdf.

Run: .venv/bin/python benchmarks/pdf_text.py [--pages 100] [--runs 5]

Builds a report-like PDF (ReportLab: 40 lines of text and an image on each page), then
measures, each in a fresh process: the import of the library, and the time to extract the
text of every page. Prints medians and the number of characters each found.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from packet import make_pdf

READERS = {
    "pypdfium2": """
import pypdfium2 as pdfium
pdf = pdfium.PdfDocument(path)
parts = []
for page in pdf:
    textpage = page.get_textpage()
    parts.append(textpage.get_text_bounded())
    textpage.close(); page.close()
pdf.close()
""",
    "pypdf": """
from pypdf import PdfReader
reader = PdfReader(path)
parts = [page.extract_text() for page in reader.pages]
""",
}

PROBE = """
import json, sys, time
path = sys.argv[1]
start = time.perf_counter()
{body}
took = time.perf_counter() - start
print(json.dumps({{"seconds": took, "chars": sum(len(p) for p in parts)}}))
"""

IMPORT = "import time; s = time.perf_counter(); import {module}; print(time.perf_counter() - s)"


def run(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.pdf"
        make_pdf(path, args.pages, seed=7)
        size = path.stat().st_size / 1e6
        print(f"{args.pages}-page PDF, {size:.1f} MB; medians of {args.runs} runs")
        for name, body in READERS.items():
            imports = [float(run(IMPORT.format(module=name))) for _ in range(args.runs)]
            runs = [json.loads(run(PROBE.format(body=body), str(path))) for _ in range(args.runs)]
            extract = statistics.median(r["seconds"] for r in runs)
            print(
                f"  {name:<10} import {statistics.median(imports) * 1000:6.0f} ms"
                f"   extract {extract * 1000:7.0f} ms ({extract / args.pages * 1000:.1f} ms/page)"
                f"   {runs[0]['chars']:,} characters"
            )


if __name__ == "__main__":
    main()
