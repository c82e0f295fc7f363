"""carebinder and the outside world: exports (JSON, CSV, FHIR), imports and calendars.

Each module turns a Session's data into plain data or a file format (or back); none commits.
The command-line side lives in `carebinder.cli`.
"""
