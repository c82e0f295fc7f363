"""Which results are cancer markers: the ones the packet's summary shows first.

A result is a cancer marker when its LOINC code is one of `LOINC` (the common tumor
marker and biomarker tests), or when its name says so ("ER", "HER2/neu", "CA 19-9",
"Prostate specific Ag [Mass/volume] in Serum or Plasma", "BRCA1 variant"…). The rest
(a glucose, a cholesterol) stay in the binder and its exports, out of the summary.

No database here: plain functions of a name and a code, for the importer and the packet.
"""

from __future__ import annotations

import re

# LOINC codes of common cancer marker tests, by the marker they measure. Not every code of
# each marker (LOINC has dozens for HER2 alone): the names below catch the others.
LOINC: dict[str, str] = {
    # Hormone receptors and HER2 (breast)
    "16112-5": "ER",  # Estrogen receptor [Interpretation] in Tissue
    "40556-3": "ER",  # Estrogen receptor Ag [Presence] in Tissue by Immune stain
    "85337-4": "ER",  # Estrogen receptor Ag [Presence] in Breast cancer specimen by IHC
    "85310-1": "ER",  # Estrogen receptor Ag [%] in Breast cancer specimen by IHC
    "16113-3": "PR",  # Progesterone receptor [Interpretation] in Tissue
    "40557-1": "PR",  # Progesterone receptor Ag [Presence] in Tissue by Immune stain
    "85339-0": "PR",  # Progesterone receptor Ag [Presence] in Breast cancer specimen by IHC
    "85325-9": "PR",  # Progesterone receptor Ag [%] in Breast cancer specimen by IHC
    "48676-1": "HER2",  # HER2 [Interpretation] in Tissue
    "85319-2": "HER2",  # HER2 [Presence] in Breast cancer specimen by Immune stain
    "85318-4": "HER2",  # HER2 [Presence] in Breast cancer specimen by FISH
    "18474-7": "HER2",  # HER2 Ag [Presence] in Tissue by Immune stain
    "49683-6": "HER2",  # HER2 [Interpretation] in Tissue by FISH
    "29593-1": "Ki-67",  # Ki-67 nuclear Ag [%] in Tissue by Immune stain
    "85330-9": "Ki-67",  # Ki-67 nuclear Ag [%] in Breast cancer specimen by Immune stain
    # Serum tumor markers
    "2857-1": "PSA",  # Prostate specific Ag [Mass/volume] in Serum or Plasma
    "35741-8": "PSA",  # Prostate specific Ag, ultrasensitive
    "10886-0": "PSA",  # Prostate Specific Ag Free [Mass/volume] in Serum or Plasma
    "2039-6": "CEA",  # Carcinoembryonic Ag [Mass/volume] in Serum or Plasma
    "10334-1": "CA-125",  # Cancer Ag 125 [Units/volume] in Serum or Plasma
    "24108-3": "CA 19-9",  # Cancer Ag 19-9 [Units/volume] in Serum or Plasma
    "6875-9": "CA 15-3",  # Cancer Ag 15-3 [Units/volume] in Serum or Plasma
    "17842-6": "CA 27-29",  # Cancer Ag 27-29 [Units/volume] in Serum or Plasma
    "1834-1": "AFP",  # Alpha-1-Fetoprotein [Mass/volume] in Serum or Plasma
    "19176-7": "AFP",  # Alpha-1-Fetoprotein [Units/volume] in Serum or Plasma
    "21198-7": "beta-hCG",  # Choriogonadotropin.beta subunit [Units/volume] in Serum or Plasma
    "19080-1": "beta-hCG",  # Choriogonadotropin [Units/volume] in Serum or Plasma
    "14804-9": "LDH",  # Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma
    "15056-5": "beta-2 microglobulin",  # Beta-2-Microglobulin [Mass/volume] in Serum or Plasma
    "1953-5": "chromogranin A",  # Chromogranin A [Mass/volume] in Serum or Plasma
    # Immunotherapy and genomic biomarkers
    "83052-1": "PD-L1",  # PD-L1 by clone 22C3 [Interpretation] in Tissue by Immune stain
    "85147-7": "PD-L1",  # PD-L1 by clone SP142 [Interpretation] in Tissue by Immune stain
    "21636-6": "BRCA1",  # BRCA1 gene mutations found in Blood or Tissue
    "21637-4": "BRCA2",  # BRCA2 gene mutations found in Blood or Tissue
    "38531-0": "BRCA1/2",  # BRCA1+BRCA2 gene mutations tested for in Blood or Tissue
    "21667-1": "EGFR",  # EGFR gene mutations found
    "21702-6": "KRAS",  # KRAS gene mutations found
    "53037-8": "BRAF",  # BRAF gene mutations found
    "46993-7": "ALK",  # ALK gene rearrangements
    "81695-9": "MSI",  # Microsatellite instability [Interpretation] in Cancer specimen
    "94076-7": "TMB",  # Mutations/Megabase [# Ratio] in Tumor
}

# Names as they are written, matched on whole words, capitals ignored: "ER", "ER status",
# "Estrogen receptor Ag", "HER2/neu", "HER-2", "CA 19-9", "CA19-9", "PSA", "Ki67"…
_NAMES = (
    r"er|pr|pgr|estrogen receptors?|oestrogen receptors?|progesterone receptors?",
    r"her[\s-]?2(?:/neu)?|erbb2|neu",
    r"ki[\s-]?67|mib[\s-]?1",
    r"pd[\s-]?l1",
    r"psa|prostate specific (?:ag|antigen)",
    r"cea|carcinoembryonic (?:ag|antigen)",
    r"ca[\s-]?125|cancer (?:ag|antigen) 125",
    r"ca[\s-]?19[\s-]?9|cancer (?:ag|antigen) 19[\s-]?9",
    r"ca[\s-]?15[\s-]?3|cancer (?:ag|antigen) 15[\s-]?3",
    r"ca[\s-]?27[\s.-]?29|cancer (?:ag|antigen) 27[\s.-]?29",
    r"afp|alpha[\s-]?1?[\s-]?feto ?protein",
    r"(?:beta|b|β)[\s-]?hcg|hcg|choriogonadotropin",
    r"brca[12]?(?:/2)?|palb2|chek2|tp53|egfr|kras|nras|braf|alk|ros1|ntrk[123]?",
    r"pik3ca|idh[12]|mgmt|msi(?:[\s-]?h)?|microsatellite instability|tmb",
    r"tumou?r mutational burden|mismatch repair|oncotype(?: dx)?|mammaprint|gleason",
    r"beta[\s-]?2[\s-]?microglobulin|chromogranin(?: a)?|calcitonin|thyroglobulin",
    r"tumou?r markers?",
)
_MARKER = re.compile(r"(?<![a-z0-9])(?:" + "|".join(_NAMES) + r")(?![a-z0-9])", re.IGNORECASE)


def is_cancer_marker(name: str, loinc: str | None = None) -> bool:
    """Whether a result of this name (and LOINC code, when known) is a cancer marker."""
    if loinc is not None and loinc.strip() in LOINC:
        return True
    return _MARKER.search(name.casefold()) is not None


def marker_of_loinc(loinc: str | None) -> str | None:
    """The marker a LOINC code measures ("2857-1" -> "PSA"), or None."""
    return None if loinc is None else LOINC.get(loinc.strip())


__all__ = ["LOINC", "is_cancer_marker", "marker_of_loinc"]
