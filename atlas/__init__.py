"""Atlas de servicios de salud: pure analysis functions over GeoDataFrames (no Streamlit here)."""

from ._errors import AtlasError, ConfigError, DataError, DownloadError
from .settings import Region, available_regions, load_region

__all__ = ["AtlasError", "ConfigError", "DataError", "DownloadError", "Region", "available_regions", "load_region"]
__version__ = "0.1.0"
