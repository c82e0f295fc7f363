"""The web face of the binder: `carebinder serve`, for a patient or caregiver who has never
opened a terminal.

As thin as the command line: each page parses its form, makes one service call in
`db.session_scope()`, and renders a template (or redirects after a change). The door is
locked (security.py): loopback only, a one-time key turned into a cookie, the Host header
checked, a CSRF token and a checked Origin on every change, a strict Content-Security-Policy.

- app.py: the Starlette application, built from the pages of each noun;
- security.py: the lock, as ASGI middleware, and the log that names no patient;
- core.py: what every page shares (the binder session, forms, rendering, refusals);
- pages/: one module per noun, like cli/;
- server.py: uvicorn on 127.0.0.1, a free port, a clean stop on Ctrl-C or SIGTERM.
"""

from __future__ import annotations
