"""The host's index configuration turned into build-container settings: variables, mounts, network, CA bundle."""

from __future__ import annotations

from pathlib import Path

from coder.envs.indexes import index_config, parse_pip_config
from coder.sandboxes.docker_image import HOST_CA_PATH

PIP_LIST = """global.cert='/etc/ssl/certs/ca-certificates.crt'
global.constraint='/etc/xdg/pip/constraints.txt'
global.extra-index-url='file:///opt/pypi/simple https://mirror.example/simple'
global.index-url='https://pypi.org/simple'
:env:.index-url='https://corp.example/simple'
:env:.find-links='/opt/wheels'
"""


def test_pip_config_list_is_parsed_with_the_environment_last() -> None:
    pip = parse_pip_config(PIP_LIST)
    assert pip["index-url"] == "https://corp.example/simple"
    assert pip["extra-index-url"] == "file:///opt/pypi/simple https://mirror.example/simple"
    assert pip["find-links"] == "/opt/wheels" and pip["constraint"] == "/etc/xdg/pip/constraints.txt"


def test_pip_settings_become_variables_and_local_indexes_mounts(tmp_path: Path) -> None:
    simple = tmp_path / "pypi" / "simple"
    simple.mkdir(parents=True)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    pip = {"index-url": "https://corp.example/simple", "extra-index-url": f"file://{simple} https://m.example/s",
           "find-links": str(wheels), "trusted-host": "corp.example", "constraint": "/etc/c.txt"}
    cfg = index_config(("python",), pip, {}, {}, {})
    assert cfg.env["PIP_INDEX_URL"] == "https://corp.example/simple" == cfg.env["UV_INDEX_URL"]
    assert cfg.env["PIP_EXTRA_INDEX_URL"] == f"file://{simple} https://m.example/s"
    assert cfg.env["PIP_FIND_LINKS"] == str(wheels) and cfg.env["PIP_TRUSTED_HOST"] == "corp.example"
    assert "PIP_CONSTRAINT" not in cfg.env  # a host file, not index configuration
    # a PEP 503 simple/ folder links to ../../files: its parent is mounted
    assert cfg.mounts == [str(simple.parent), str(wheels)] and cfg.network == "bridge"
    assert cfg.volumes()[str(wheels)] == {"bind": str(wheels), "mode": "ro"}


def test_settings_of_languages_the_repo_does_not_use_are_left_out() -> None:
    cfg = index_config(("node",), {"index-url": "https://x/simple"}, {"registry": "https://npm.corp/"},
                       {"GOPROXY": "https://goproxy.corp"}, {})
    assert "PIP_INDEX_URL" not in cfg.env and "GOPROXY" not in cfg.env
    assert cfg.env["npm_config_registry"] == "https://npm.corp/"


def test_a_loopback_index_or_proxy_needs_the_host_network() -> None:
    for languages, pip, npm, go, environ in [
        (("python",), {"index-url": "http://127.0.0.1:3141/root/pypi"}, {}, {}, {}),
        (("node",), {}, {"registry": "http://localhost:4873/"}, {}, {}),
        (("go",), {}, {}, {"GOPROXY": "http://[::1]:8080,direct"}, {}),
        (("rust",), {}, {}, {}, {"HTTPS_PROXY": "http://127.0.0.1:3128"}),
    ]:
        cfg = index_config(languages, pip, npm, go, environ)
        assert cfg.network == "host", (languages, cfg)
        assert any("host network" in line for line in cfg.said)
    assert index_config(("go",), {}, {}, {"GOPROXY": "https://goproxy.io,direct"}, {}).network == "bridge"


def test_go_checksum_settings_and_proxies_are_passed() -> None:
    cfg = index_config(("go",), {}, {}, {"GOPROXY": "https://g.corp", "GONOSUMDB": "corp.example/*"},
                       {"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "localhost"})
    assert cfg.env["GOPROXY"] == "https://g.corp" and cfg.env["GONOSUMDB"] == "corp.example/*"
    assert cfg.env["HTTPS_PROXY"] == "http://proxy.corp:3128" and cfg.env["NO_PROXY"] == "localhost"


def test_the_ca_bundle_includes_pips_own_cert_file(tmp_path: Path) -> None:
    cert = tmp_path / "corp.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\ncorp\n-----END CERTIFICATE-----\n")
    cfg = index_config(("python",), {"cert": str(cert)}, {}, {}, {})
    assert cfg.ca_bundle is not None and cert.read_bytes() in cfg.ca_bundle
    assert cfg.env["PIP_CERT"] == HOST_CA_PATH == cfg.env["SSL_CERT_FILE"] == cfg.env["NODE_EXTRA_CA_CERTS"]
