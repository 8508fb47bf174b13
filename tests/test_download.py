"""Downloads against a local HTTP server: cached, resumable, atomic, checksummed."""

from __future__ import annotations

import hashlib
import http.server
import threading

import pytest

from atlas import DownloadError
from atlas.download import denue_sources, download_file
from atlas.settings import load_region

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes


class _Handler(http.server.BaseHTTPRequestHandler):
    requests: list = []

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        type(self).requests.append((self.path, self.headers.get("Range")))
        if self.path != "/denue_11_csv.zip":
            self.send_error(404, "Not Found")
            return
        rng = self.headers.get("Range")
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
            body = PAYLOAD[start:]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        else:
            body = PAYLOAD
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def server():
    _Handler.requests = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", _Handler.requests
    srv.shutdown()
    srv.server_close()


def test_download_then_cache(server, tmp_path):
    base, requests = server
    dest = tmp_path / "denue_11_csv.zip"
    got = download_file(f"{base}/denue_11_csv.zip", dest, sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert dest.read_bytes() == PAYLOAD and not got.cached
    assert (tmp_path / "denue_11_csv.zip.sha256.json").is_file()
    again = download_file(f"{base}/denue_11_csv.zip", dest)
    assert again.cached and len(requests) == 1  # no second request
    assert not (tmp_path / "denue_11_csv.zip.part").exists()


def test_resume_from_partial_file(server, tmp_path):
    base, requests = server
    dest = tmp_path / "denue_11_csv.zip"
    (tmp_path / "denue_11_csv.zip.part").write_bytes(PAYLOAD[:40_000])
    got = download_file(f"{base}/denue_11_csv.zip", dest)
    assert got.resumed_from == 40_000
    assert requests[-1][1] == "bytes=40000-"
    assert dest.read_bytes() == PAYLOAD


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    base, _ = server
    dest = tmp_path / "denue_11_csv.zip"
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download_file(f"{base}/denue_11_csv.zip", dest, sha256="0" * 64)
    assert not dest.exists() and not (tmp_path / "denue_11_csv.zip.part").exists()


def test_http_error_is_clear(server, tmp_path):
    base, _ = server
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_file(f"{base}/nope.zip", tmp_path / "nope.zip")


def test_offline_says_what_to_download_and_where(tmp_path):
    with pytest.raises(DownloadError, match=r"download it by hand from that address and save it as .*x\.zip"):
        download_file("http://127.0.0.1:9/x.zip", tmp_path / "x.zip", timeout=2)


def test_sources_follow_the_url_pattern(tmp_path):
    src = denue_sources(load_region("leon"), tmp_path, "http://mirror.local/denue_{cve_ent}_csv.zip")
    assert src == [("http://mirror.local/denue_11_csv.zip", tmp_path / "denue_11_csv.zip")]
    with pytest.raises(DownloadError, match="cve_ent"):
        denue_sources(load_region("leon"), tmp_path, "http://mirror.local/denue.zip")


def test_cli_download_against_the_mirror(server, tmp_path, capsys):
    from atlas.cli import main

    base, _ = server
    rc = main(["download", "--region", "leon", "--url", base + "/denue_{cve_ent}_csv.zip", "--dest", str(tmp_path), "--json"])
    assert rc == 0
    assert (tmp_path / "denue_11_csv.zip").read_bytes() == PAYLOAD
    assert '"bytes": 102400' in capsys.readouterr().out
