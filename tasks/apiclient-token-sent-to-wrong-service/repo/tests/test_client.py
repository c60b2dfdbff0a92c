from apiclient import Client, backoff_delays


def test_get_builds_url_and_params():
    client = Client("https://catalog.test/", transport=lambda req: 204)
    assert client.get("/items", page=3) == 204
    assert client.sent[0].url == "https://catalog.test/items?page=3"


def test_token_becomes_bearer_header():
    client = Client("https://billing.test", token="s3cret")
    client.get("invoices")
    assert client.sent[0].headers["Authorization"] == "Bearer s3cret"


def test_anonymous_client_after_authenticated_one():
    Client("https://billing.test", token="s3cret").get("invoices")
    public = Client("https://catalog.test")
    public.get("items")
    assert "Authorization" not in public.sent[0].headers


def test_post_json_then_get_has_no_content_type():
    client = Client("https://billing.test")
    client.post_json("invoices", "{}")
    client.get("invoices")
    assert "Content-Type" not in client.sent[1].headers


def test_backoff_delays_are_capped():
    assert backoff_delays(6, base=1.0, cap=8.0) == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
