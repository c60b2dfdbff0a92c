from apiclient import RequestBuilder


def test_defaults():
    prepared = RequestBuilder("get", "https://x.test/items").prepare()
    assert prepared.method == "GET"
    assert prepared.headers["Accept"] == "application/json"
    assert prepared.headers["User-Agent"] == "apiclient/2.3"
    assert prepared.body is None


def test_params_are_encoded_and_sorted():
    prepared = RequestBuilder("GET", "https://x.test/s").param("q", "a b").param("page", 2).prepare()
    assert prepared.url == "https://x.test/s?page=2&q=a+b"


def test_params_append_to_existing_query():
    prepared = RequestBuilder("GET", "https://x.test/s?v=1").param("q", "x").prepare()
    assert prepared.url == "https://x.test/s?v=1&q=x"


def test_json_body_sets_content_type():
    prepared = RequestBuilder("POST", "https://x.test/s").json_body('{"a": 1}').prepare()
    assert prepared.body == b'{"a": 1}' and prepared.headers["Content-Type"] == "application/json"


def test_header_is_only_on_its_own_request():
    RequestBuilder("GET", "https://x.test/a").header("X-Trace", "abc").prepare()
    assert "X-Trace" not in RequestBuilder("GET", "https://x.test/b").prepare().headers
