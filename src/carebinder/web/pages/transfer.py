"""stub."""

from __future__ import annotations

from carebinder.web.core import Pages

pages = Pages()
