"""One small hierarchy of errors for the atlas (after osmnx ``_errors.py``)."""

from __future__ import annotations

__all__ = ["AtlasError", "ConfigError", "DataError", "DownloadError"]


class AtlasError(Exception):
    """Base class: every error the atlas raises on purpose derives from it."""


class ConfigError(AtlasError):
    """A region or layer configuration is missing, malformed or inconsistent."""


class DataError(AtlasError):
    """An input file cannot be used: unreadable, empty, missing columns, wrong CRS."""


class DownloadError(AtlasError):
    """A download failed or its checksum does not match."""
