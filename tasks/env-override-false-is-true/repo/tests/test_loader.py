import pytest

from appconf import ConfigError, load_config


def test_defaults_without_environment():
    assert load_config(environ={})["port"] == 8000


@pytest.mark.parametrize(
    "raw, expected",
    [("true", True), ("1", True), ("yes", True), ("false", False), ("0", False), ("no", False), ("False", False), ("OFF", False)],
)
def test_bool_values(raw, expected):
    assert load_config(environ={"APP_DEBUG": raw})["debug"] is expected


def test_bool_typo_is_an_error():
    with pytest.raises(ConfigError, match="APP_DEBUG"):
        load_config(environ={"APP_DEBUG": "flase"})


def test_int_override():
    assert load_config(environ={"APP_PORT": "9000"})["port"] == 9000


def test_bad_int_is_an_error():
    with pytest.raises(ConfigError, match="APP_PORT"):
        load_config(environ={"APP_PORT": "ninety"})


def test_float_override():
    assert load_config(environ={"APP_TIMEOUT": "0.5"})["timeout"] == 0.5


def test_list_override():
    assert load_config(environ={"APP_HOSTS": "a.example, b.example,"})["hosts"] == ["a.example", "b.example"]


def test_none_default_takes_string():
    assert load_config(environ={"APP_SECRET_KEY": "s3cr3t"})["secret_key"] == "s3cr3t"


def test_unrelated_variables_are_ignored():
    assert load_config(environ={"DEBUG": "1", "APP_UNKNOWN": "x"})["debug"] is False
