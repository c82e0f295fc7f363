"""The packet: the PDF a patient brings to a second-opinion visit.

Three stages, each ignorant of the one before it:
  gather   (gather.py)   database → frozen plain data; no ReportLab
  render   (render.py)   plain data → ReportLab pages; no Session
  assemble (assemble.py) rendered pages + the records' own files → one stamped,
                         bookmarked (optionally encrypted) PDF, with pikepdf
"""
