"""Region configuration: validated, with errors that name the file, key and expectation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from atlas import ConfigError, load_region
from atlas.settings import CONFIG_DIR, available_regions, default_data_dir


def _copy_config(tmp_path: Path, text_edit=None) -> Path:
    d = tmp_path / "config"
    d.mkdir()
    text = (CONFIG_DIR / "leon.toml").read_text(encoding="utf-8")
    if text_edit:
        text = text_edit(text)
    (d / "leon.toml").write_text(text, encoding="utf-8")
    return d


def test_leon_loads_with_its_municipio_and_metric_crs():
    r = load_region("leon")
    assert r.municipios == ("11020",)
    assert r.crs_metric == "EPSG:6372"
    assert r.states == ("11",)
    assert r.catchment.minutes == (60, 120, 180)
    assert "leon" in available_regions()


def test_unknown_region_names_the_known_ones():
    with pytest.raises(ConfigError, match='Region "atlantis" is unknown: expected one of .*leon'):
        load_region("atlantis")


def test_unknown_key_is_an_error(tmp_path):
    d = _copy_config(tmp_path, lambda t: t.replace("zoom = 12", "zoom = 12\nzoon = 3"))
    with pytest.raises(ConfigError, match="unknown key.*zoon"):
        load_region("leon", config_dir=d)


def test_wrong_type_is_an_error(tmp_path):
    d = _copy_config(tmp_path, lambda t: t.replace("zoom = 12", 'zoom = "doce"'))
    with pytest.raises(ConfigError, match="zoom was 'doce' but is expected to be int"):
        load_region("leon", config_dir=d)


def test_centre_outside_mexico_is_an_error(tmp_path):
    d = _copy_config(tmp_path, lambda t: t.replace("center = [21.1221, -101.6823]", "center = [-101.68, 21.12]"))
    with pytest.raises(ConfigError, match="not in Mexico"):
        load_region("leon", config_dir=d)


def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ATLAS_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path.resolve()
    assert load_region("leon").data_dir == tmp_path.resolve()
    assert load_region("leon", data_dir=tmp_path / "x").data_dir == (tmp_path / "x").resolve()


def test_settings_are_frozen():
    r = load_region("leon")
    with pytest.raises(AttributeError):
        r.zoom = 3  # type: ignore[misc]


def test_shared_data_is_the_default_when_present(monkeypatch):
    monkeypatch.delenv("ATLAS_DATA_DIR", raising=False)
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    if shared.is_dir():
        assert default_data_dir() == shared.resolve()
    else:
        assert default_data_dir().name == "data"
    assert shutil.which("python3")
