import pytest

from settings import MissingSetting, load_file, load_settings

TEXT = "name = shop\ncurrency = EUR\n[db]\nhost = db.internal\n"


def write(path, text, *, bom=False, newline="\n"):
    data = text.replace("\n", newline).encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def test_load_file(tmp_path):
    values = load_file(write(tmp_path / "app.ini", TEXT))
    assert values == {"name": "shop", "currency": "EUR", "db.host": "db.internal"}


def test_windows_line_endings(tmp_path):
    values = load_file(write(tmp_path / "app.ini", TEXT, newline="\r\n"))
    assert values["db.host"] == "db.internal"


def test_non_ascii_values(tmp_path):
    values = load_file(write(tmp_path / "app.ini", "name = Café Noël\n"))
    assert values["name"] == "Café Noël"


def test_file_saved_by_notepad(tmp_path):
    values = load_file(write(tmp_path / "app.ini", TEXT, bom=True, newline="\r\n"))
    assert values == {"name": "shop", "currency": "EUR", "db.host": "db.internal"}


def test_required_first_key_found_in_notepad_file(tmp_path):
    base = write(tmp_path / "base.ini", TEXT)
    local = write(tmp_path / "local.ini", "name = shop-test\n", bom=True)
    assert load_settings(base, local, required=["name", "db.host"])["name"] == "shop-test"


def test_later_files_win(tmp_path):
    base = write(tmp_path / "base.ini", TEXT)
    local = write(tmp_path / "local.ini", "currency = USD\n")
    assert load_settings(base, local)["currency"] == "USD"


def test_missing_required_key(tmp_path):
    with pytest.raises(MissingSetting, match="db.port"):
        load_settings(write(tmp_path / "app.ini", TEXT), required=["name", "db.port"])
