"""Static files: addressed with a digest of their content, kept a year by browsers."""

import hashlib
import os
import re
from pathlib import Path

import pytest

from sharing.core.assets import static_digest

YEAR = "max-age=31536000"


def stylesheet_address(page: str) -> str:
    (address,) = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    return address


def test_pages_ask_for_their_stylesheet_by_its_digest(app, client):
    address = stylesheet_address(client.get("/login").get_data(as_text=True))
    content = (Path(app.static_folder) / "sharing.css").read_bytes()
    assert address == f"/static/sharing.css?v={hashlib.sha256(content).hexdigest()[:16]}"
    answer = client.get(address)
    assert answer.status_code == 200 and answer.data == content
    assert set(answer.headers["Cache-Control"].split(", ")) == {"public", YEAR, "immutable"}


def test_a_revalidation_of_the_current_address_keeps_the_year(client):
    address = stylesheet_address(client.get("/login").get_data(as_text=True))
    etag = client.get(address).headers["ETag"]
    answer = client.get(address, headers={"If-None-Match": etag})
    assert answer.status_code == 304
    assert YEAR in answer.headers["Cache-Control"]


@pytest.mark.parametrize("query", ["", "?v=", "?v=0123456789abcdef", "?v=5&v=6"])
def test_without_the_current_digest_the_browser_asks_again_next_time(client, query):
    answer = client.get(f"/static/sharing.css{query}")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("filename", ["nothing-here.css", "../sharing/__init__.py", ".",
                                      "sharing.css\x00.js"])
def test_no_file_no_digest(app, filename):
    assert static_digest(app.static_folder, filename) is None
    with app.test_request_context():
        assert "v=" not in app.url_for("static", filename=filename)


def test_a_changed_file_gets_a_new_digest(tmp_path):
    style = tmp_path / "site.css"
    style.write_text("body { color: black; }")
    first = static_digest(str(tmp_path), "site.css")
    style.write_text("body { color: navy; }")
    os.utime(style, ns=(0, style.stat().st_mtime_ns + 1))  # a later time, as an edit gives
    assert static_digest(str(tmp_path), "site.css") not in (None, first)
    assert static_digest(None, "site.css") is None
