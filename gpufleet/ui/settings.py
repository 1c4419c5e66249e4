"""What the dashboard serves and how safely: the runs folder, its store, the address, the
token, the folders a scenario may read, and the limits on requests and background runs."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
UPLOADS = "uploads"
STATE = ".gpufleet-ui"
"""Hidden folder in the runs folder for the dashboard's own state (its background jobs)."""
RESERVED = frozenset({"store", UPLOADS, "runs", "catalog"})
"""Names in the runs folder that a sweep launched from the dashboard may not take."""


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) only reaches this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def store_of(runs_dir: Path) -> Path:
    """The run store of a runs folder: `DIR/store`, or DIR itself when it is a store (it
    holds `runs/` and no `store/`)."""
    if not (runs_dir / "store").exists() and (runs_dir / "runs").is_dir():
        return runs_dir
    return runs_dir / "store"


def new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class UiSettings:
    """The dashboard's configuration (`gpufleet ui` options).

    Attributes:
        runs_dir: the runs folder: its store, and the sweep, plan and replication outputs beside it.
        store_dir: the run store (`store_of(runs_dir)` unless given).
        host, port: where it listens.
        token: required on every request when set; `for_address` sets one for any address
            that is not loopback.
        data_dirs: folders (besides `runs_dir/uploads`) a scenario in the editor may name files in.
        max_body_bytes: largest request body (scenario text, JSON); uploads have their own limit.
        max_upload_bytes: largest uploaded data file.
        max_jobs: background jobs (runs or sweeps) running at once.
        max_runs_per_job: most runs one background job may ask for (replications x sweep points).
        page_size: rows per page of the runs and jobs tables.
    """

    runs_dir: Path
    store_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    data_dirs: tuple[Path, ...] = ()
    max_body_bytes: int = 1 * MIB
    max_upload_bytes: int = 64 * MIB
    max_jobs: int = 2
    max_runs_per_job: int = 200
    page_size: int = 50
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def for_address(cls, runs_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
                    data_dirs: tuple[str | Path, ...] = (), **limits: int) -> UiSettings:
        """Settings for serving `runs_dir` at host:port: any address that is not loopback gets
        a token (the one given, or a new random one)."""
        root = Path(runs_dir).expanduser().resolve()
        if token is None and not is_loopback(host):
            token = new_token()
        hosts = frozenset(LOOPBACK_NAMES) if is_loopback(host) else frozenset()
        return cls(root, store_of(root), host, port, token or None,
                   tuple(Path(d).expanduser().resolve() for d in data_dirs), allowed_hosts=hosts, **limits)

    @property
    def uploads_dir(self) -> Path:
        return self.runs_dir / UPLOADS

    @property
    def state_dir(self) -> Path:
        return self.runs_dir / STATE

    @property
    def allowed_dirs(self) -> tuple[Path, ...]:
        """Folders a scenario in the editor may name files in."""
        return (self.uploads_dir, *self.data_dirs)

    def url(self, port: int | None = None) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port or self.port}/"
