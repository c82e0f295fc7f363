"""Cancer markers: the results a new oncologist looks for first, known by name or by LOINC code.

The packet's summary shows these (and every result typed by hand); other laboratory
results, such as a cholesterol imported from a portal, stay in the binder and its exports.
The FHIR importer can name an imported result after its marker (`by_loinc`), so that its
values line up with those typed by hand ("CA 15-3", not "Cancer Ag 15-3 [Units/volume] in
Serum or Plasma").

A name is a marker's when, without case or punctuation, it is one of the marker's names
("CA 15-3", "ca15-3", "CA 15.3"), or starts with one of its longer names as whole words
("HER2 IHC", "Estrogen receptor Ag [Presence] in Tissue by Immune stain"). Short names
("ER", "PR") must match whole: an ECG's "PR interval" is no progesterone receptor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carebinder.services.results import marker_key


@dataclass(frozen=True)
class Marker:
    name: str  # as the summary names it
    aliases: tuple[str, ...] = ()
    loinc: tuple[str, ...] = ()
    # Whether `name` alone names it: "EGFR" alone is more often a kidney test (eGFR).
    bare: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


# In the order the summary lists them: receptors and tissue markers, genes, then blood markers.
MARKERS: tuple[Marker, ...] = (
    Marker(
        "ER",
        ("estrogen receptor", "oestrogen receptor", "ER status", "ER IHC"),
        ("16112-5", "85337-4", "40556-3", "14228-1", "85310-1"),
    ),
    Marker(
        "PR",
        ("PgR", "progesterone receptor", "PR status", "PR IHC"),
        ("16113-3", "85339-0", "40557-1", "14230-7", "85325-9"),
    ),
    Marker(
        "HER2",
        ("HER2/neu", "HER-2", "ERBB2", "HER2 IHC", "HER2 FISH"),
        ("48676-1", "85319-2", "85318-4", "18474-7", "49683-6"),
    ),
    Marker("Ki-67", ("Ki67", "Ki-67 index", "MIB-1"), ("29593-1", "33055-5", "85330-9")),
    Marker("PD-L1", ("PDL1",), ("83052-1", "83055-4", "83057-0", "85147-7")),
    Marker("Oncotype DX", ("Oncotype DX recurrence score", "recurrence score")),
    Marker("MammaPrint"),
    Marker("BRCA1", loinc=("21636-6", "38531-0")),
    Marker("BRCA2", loinc=("21637-4",)),
    Marker("PALB2"),
    Marker("CHEK2"),
    Marker("PIK3CA"),
    Marker("ESR1"),
    Marker(
        "EGFR",
        ("EGFR mutation", "EGFR gene", "epidermal growth factor receptor"),
        ("39004-7", "21667-1"),
        bare=False,
    ),
    Marker("ALK", ("anaplastic lymphoma kinase",), ("47303-3", "46993-7")),
    Marker("ROS1"),
    Marker("KRAS", loinc=("21702-6",)),
    Marker("NRAS"),
    Marker("BRAF", loinc=("53037-8",)),
    Marker("MET"),
    Marker("RET"),
    Marker("NTRK"),
    Marker("IDH1"),
    Marker("IDH2"),
    Marker("MGMT"),
    Marker("TP53", ("p53",), ("14229-9",)),
    Marker("MSI", ("microsatellite instability", "MSI status"), ("81695-9",)),
    Marker("MMR", ("mismatch repair",), ("81691-8", "81692-6", "81693-4", "81694-2")),
    Marker("TMB", ("tumor mutational burden", "tumour mutational burden"), ("94076-7",)),
    Marker(
        "PSA",
        ("prostate specific antigen", "prostate specific ag"),
        ("2857-1", "19199-9", "35741-8"),
    ),
    Marker("Free PSA", ("PSA free", "prostate specific ag free"), ("10886-0",)),
    Marker("CEA", ("carcinoembryonic antigen", "carcinoembryonic ag"), ("2039-6",)),
    Marker("CA-125", ("CA 125", "cancer antigen 125", "cancer ag 125"), ("10334-1", "83085-1")),
    Marker("CA 15-3", ("cancer antigen 15-3", "cancer ag 15-3"), ("6875-9", "83083-6")),
    Marker("CA 27-29", ("CA 27.29", "cancer antigen 27-29", "cancer ag 27-29"), ("17842-6",)),
    Marker("CA 19-9", ("cancer antigen 19-9", "cancer ag 19-9"), ("24108-3", "83084-4")),
    Marker("AFP", ("alpha-fetoprotein", "alpha-1-fetoprotein"), ("1834-1", "19177-5", "19176-7")),
    Marker("hCG", ("beta-hCG", "choriogonadotropin"), ("19080-1", "21198-7")),
    Marker("Chromogranin A", ("CgA",), ("9811-1", "1953-5")),
    Marker("Calcitonin", loinc=("1992-7",)),
    Marker("Thyroglobulin"),
    Marker("Gleason score", ("Gleason",)),
    Marker("CYFRA 21-1", loinc=("25390-6",)),
    Marker(
        "SCC antigen",
        ("squamous cell carcinoma antigen", "squamous cell carcinoma ag"),
        ("9679-2",),
    ),
    Marker("Beta-2 microglobulin", ("B2M",), ("15056-5",)),
    Marker("M protein", ("monoclonal protein", "protein monoclonal"), ("33358-3",)),
)

# Names this short match only whole, never as the first word of a longer name.
WHOLE_ONLY = 3


def _words(name: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[^\W_]+", name.casefold()))


def _index() -> tuple[dict[str, Marker], list[tuple[tuple[str, ...], Marker]], dict[str, Marker]]:
    """The lookup tables: by whole name, by leading words (longest first), by LOINC code."""
    exact: dict[str, Marker] = {}
    leading: list[tuple[tuple[str, ...], Marker]] = []
    loinc: dict[str, Marker] = {}
    for marker in MARKERS:
        for name in marker.names if marker.bare else marker.aliases:
            exact.setdefault(marker_key(name), marker)
            if len(marker_key(name)) > WHOLE_ONLY:
                leading.append((_words(name), marker))
        loinc.update(dict.fromkeys(marker.loinc, marker))
    leading.sort(key=lambda pair: -len(pair[0]))  # the longest name that fits wins
    return exact, leading, loinc


_EXACT, _LEADING, _LOINC = _index()
_RANK = {marker.name: index for index, marker in enumerate(MARKERS)}


def find(name: str) -> Marker | None:
    """The cancer marker `name` is a value of, or None."""
    found = _EXACT.get(marker_key(name))
    if found is not None:
        return found
    words = _words(name)
    for lead, marker in _LEADING:
        if words[: len(lead)] == lead:
            return marker
    return None


def is_cancer_marker(name: str, loinc: str | None = None) -> bool:
    """Whether a result of this name (and LOINC code, when known) is a cancer marker."""
    return (loinc is not None and by_loinc(loinc) is not None) or find(name) is not None


def by_loinc(code: str) -> Marker | None:
    """The cancer marker a LOINC code measures ("6875-9" → CA 15-3), or None."""
    return _LOINC.get(code.strip())


def rank(name: str) -> int:
    """Where a result of `name` comes in the summary: markers in MARKERS' order, then
    everything else."""
    marker = find(name)
    return len(MARKERS) if marker is None else _RANK[marker.name]
