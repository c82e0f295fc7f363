"""Work longer than a page: a packet being built, in a thread of its own.

The page that starts a job redirects to the job's own page, which reloads itself (a
`<meta http-equiv="refresh">`, no JavaScript) and shows what the work last said, until the
result is ready to download. The result is a file in a private temporary folder (owner
only), removed once downloaded, after `KEEP_SECONDS` when nobody fetches it, or when the
server stops. A job is known by a random id only, and lives in memory: a restarted server
has none.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carebinder.errors import CarebinderError
from carebinder.web.security import log

# A finished job's file waits this long for its download.
KEEP_SECONDS = 30 * 60
# At most this many jobs are kept (the oldest finished ones go first).
MAX_JOBS = 20


@dataclass
class Job:
    """One piece of work: what it last said, then its result or why it has none."""

    folder: Path  # private (0700), removed with the job
    file_name: str  # the name the download gets
    encrypted: bool = False  # the file opens with a password only
    said: str = "Starting…"
    result: Any = None
    refused: str | None = None
    finished: float | None = None  # time.monotonic() when done
    started: float = field(default_factory=time.monotonic)

    @property
    def path(self) -> Path:
        return self.folder / self.file_name

    @property
    def done(self) -> bool:
        return self.finished is not None

    def say(self, message: str) -> None:
        """The progress callback the work is given."""
        self.said = message


class Jobs:
    """The jobs of one server, by random id."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def start(self, work: Callable[[Job], Any], *, file_name: str, encrypted: bool = False) -> str:
        """Run `work(job)` in a thread; its return value becomes `job.result`."""
        self.tidy()
        folder = Path(tempfile.mkdtemp(prefix="carebinder-"))  # mode 0700
        job = Job(folder, file_name, encrypted)
        ident = secrets.token_urlsafe(16)
        with self.lock:
            self.jobs[ident] = job
        threading.Thread(target=run, args=(job, work), name="carebinder-job", daemon=True).start()
        return ident

    def get(self, ident: str) -> Job | None:
        with self.lock:
            return self.jobs.get(ident)

    def take(self, ident: str) -> Job | None:
        """The finished job, no longer listed: its file is downloaded once."""
        with self.lock:
            job = self.jobs.get(ident)
            if job is None or not job.done:
                return None
            return self.jobs.pop(ident)

    def tidy(self) -> None:
        """Forget the jobs whose file nobody fetched in time, and the oldest beyond MAX_JOBS."""
        now = time.monotonic()
        with self.lock:
            finished = sorted(
                (job.finished, ident) for ident, job in self.jobs.items() if job.finished
            )
            stale = [i for at, i in finished if now - at > KEEP_SECONDS]
            extra = max(0, len(self.jobs) - len(stale) - MAX_JOBS + 1)
            stale += [i for _, i in finished if i not in stale][:extra]
            gone = [self.jobs.pop(i) for i in stale]
        for job in gone:
            shutil.rmtree(job.folder, ignore_errors=True)

    def close(self) -> None:
        """Remove every job's file (the server stops); a job still running writes nothing
        that outlives it, since its folder is gone."""
        with self.lock:
            gone = list(self.jobs.values())
            self.jobs.clear()
        for job in gone:
            shutil.rmtree(job.folder, ignore_errors=True)


def run(job: Job, work: Callable[[Job], Any]) -> None:
    try:
        job.result = work(job)
    except CarebinderError as error:
        job.refused = error.message
    except Exception as error:  # noqa: BLE001 - said on the job's page, no traceback, no data
        log.error("unexpected %s in a background job", type(error).__name__)
        job.refused = (
            f"Unexpected error ({type(error).__name__}). Nothing was written."
            " Please report this to the carebinder team."
        )
    finally:
        job.finished = time.monotonic()
