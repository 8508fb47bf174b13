"""Download INEGI's official files: cached, resumable, atomic, with a checksum record.

A download goes to ``<dest>.part``; an interrupted one resumes with an HTTP ``Range`` request; the file
is renamed into place only when complete (and, when an expected SHA-256 is given, only when it
matches). Each finished file gets a ``<dest>.sha256.json`` record (URL, bytes, SHA-256, date); a file
whose record still matches is not downloaded again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ._errors import DownloadError
from .settings import PROJECT_ROOT, Region

__all__ = ["Downloaded", "download_file", "denue_sources", "default_download_dir", "sha256_of"]

log = logging.getLogger(__name__)
_CHUNK = 1 << 16


def default_download_dir() -> Path:
    return Path(os.environ.get("ATLAS_DOWNLOAD_DIR") or PROJECT_ROOT / "data" / "downloads")


@dataclass(frozen=True)
class Downloaded:
    path: Path
    url: str
    bytes: int
    sha256: str
    cached: bool
    resumed_from: int = 0


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _record_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".sha256.json")


def download_file(
    url: str,
    dest: Path | str,
    *,
    sha256: str | None = None,
    timeout: float = 60.0,
    progress: Callable[[int, int | None], None] | None = None,
) -> Downloaded:
    """Fetch ``url`` into ``dest`` unless a verified copy is already there.

    Parameters
    ----------
    sha256
        Expected checksum; a mismatch raises :class:`DownloadError` and removes the bad file.
    progress
        Called with (bytes so far, total bytes or None).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    record = _record_path(dest)
    if dest.is_file() and record.is_file():
        try:
            rec = json.loads(record.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            rec = {}
        if rec.get("bytes") == dest.stat().st_size and (sha256 is None or rec.get("sha256") == sha256):
            if rec.get("sha256") == sha256_of(dest):
                log.info("%s already downloaded and verified", dest)
                return Downloaded(dest, url, rec["bytes"], rec["sha256"], cached=True)
    part = dest.with_name(dest.name + ".part")
    start = part.stat().st_size if part.is_file() else 0
    req = urllib.request.Request(url, headers={"User-Agent": "atlas-salud/0.1"})
    if start:
        req.add_header("Range", f"bytes={start}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # the partial file is already complete
            resp = None
        else:
            raise DownloadError(f"{url}: the server answered HTTP {exc.code} ({exc.reason}).") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DownloadError(
            f"{url} could not be reached ({getattr(exc, 'reason', exc)}). Without internet, download it by hand "
            f"from that address and save it as {dest}."
        ) from exc
    resumed = 0
    if resp is not None:
        with resp:
            status = getattr(resp, "status", 200)
            if start and status == 206:
                resumed, mode = start, "ab"
            else:
                start, mode = 0, "wb"
            length = resp.headers.get("Content-Length")
            total = start + int(length) if length and length.isdigit() else None
            done = start
            try:
                with open(part, mode) as fh:
                    while True:
                        block = resp.read(_CHUNK)
                        if not block:
                            break
                        fh.write(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
            except (TimeoutError, OSError) as exc:
                raise DownloadError(f"{url}: the transfer stopped at {done:,} bytes ({exc}); run again to resume.") from exc
            if total is not None and done != total:
                raise DownloadError(f"{url}: got {done:,} of {total:,} bytes; run again to resume.")
    digest = sha256_of(part)
    if sha256 is not None and digest != sha256.lower():
        part.unlink(missing_ok=True)
        raise DownloadError(f"{url}: checksum mismatch (expected {sha256}, got {digest}); the file was removed.")
    os.replace(part, dest)
    size = dest.stat().st_size
    record.write_text(
        json.dumps(
            {"url": url, "bytes": size, "sha256": digest, "descargado": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")},
            indent=2,
        ),
        encoding="utf-8",
    )
    return Downloaded(dest, url, size, digest, cached=False, resumed_from=resumed)


def denue_sources(region: Region, dest_dir: Path | None = None, url_pattern: str | None = None) -> list[tuple[str, Path]]:
    """(url, destination) of INEGI's bulk DENUE file for each state of the region."""
    pattern = url_pattern or region.download.denue_url
    if "{cve_ent}" not in pattern:
        raise DownloadError(f'URL pattern "{pattern}" is expected to contain {{cve_ent}}.')
    dest_dir = Path(dest_dir or default_download_dir())
    out = []
    for ent in region.download.states or region.states:
        url = pattern.format(cve_ent=ent)
        out.append((url, dest_dir / Path(url.split("?")[0]).name))
    return out
