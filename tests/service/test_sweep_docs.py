"""/docs works offline: Swagger UI's script and styles come from the sidecar, not a CDN."""

from __future__ import annotations

import re


def test_the_docs_page_loads_nothing_from_another_host(client):
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    sources += re.findall(r"""url: ?["']([^"']+)["']""", page.text)
    assert sources, "the page names no assets"
    for source in sources:
        assert not source.startswith(("http:", "https:", "//")), source


def test_the_docs_assets_are_served(client):
    js = client.get("/docs-assets/swagger-ui-bundle.js")
    css = client.get("/docs-assets/swagger-ui.css")
    assert js.status_code == 200 and "SwaggerUIBundle" in js.text
    assert css.status_code == 200 and ".swagger-ui" in css.text


def test_docs_off_means_no_assets_either(make_client):
    c = make_client(docs=False)
    assert c.get("/docs-assets/swagger-ui.css").status_code == 404


def test_the_printed_api_url_answers(client):
    index = client.get("/v1")
    assert index.status_code == 200
    body = index.json()
    assert body["api"] == "/v1" and body["docs"] == "/docs" and body["openapi"] == "/openapi.json"
    assert body["console"] == "/ui/"


def test_the_index_hides_turned_off_docs(make_client):
    assert make_client(docs=False).get("/v1").json()["docs"] is None


def test_the_index_hides_a_turned_off_console(make_client):
    assert make_client(console=False).get("/v1").json()["console"] is None
