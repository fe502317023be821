"""Headers, and that the pages' exemption from the JSON body check stays theirs."""

from __future__ import annotations

from api.web.blueprint import CSP


def test_pages_allow_only_this_sites_style_sheet_and_forms(client, signed_in):
    for c, path in ((client, "/"), (client, "/login"), (signed_in("producer"), "/dashboard")):
        answer = c.get(path)
        assert answer.headers["Content-Security-Policy"] == CSP
        assert "script-src" not in CSP and "'unsafe-inline'" not in CSP
        assert "form-action 'self'" in CSP and "frame-ancestors 'none'" in CSP
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Cache-Control"] == "no-store"
        html = answer.get_data(as_text=True)
        assert "<script" not in html and "style=" not in html and "<style" not in html


def test_the_style_sheet_is_served(client):
    answer = client.get("/web/static/web.css")
    assert answer.status_code == 200 and answer.mimetype == "text/css"


def test_the_api_keeps_its_own_policy_and_its_body_check(client, web_world):
    answer = client.get("/api/v1/log/checkpoint")
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'; frame-ancestors")
    form = client.post("/api/v1/certificates", data={"registry": "CN-GEC"},
                       headers={"Authorization": f"Bearer {web_world.keys['producer']}"})
    assert form.status_code == 415 and form.mimetype == "application/problem+json"


def test_form_posts_reach_the_pages(client):
    answer = client.post("/login", data={"api_key": "x"})
    assert answer.status_code == 400 and answer.mimetype == "text/html"


def test_an_unexpected_failure_is_a_page_that_names_no_internals(app, web_world, monkeypatch):
    import api.web.verifying as verifying

    def boom(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(verifying, "public_facts", boom)
    answer = app.test_client().get(f"/verify/{web_world.eu_declaration}?lang=en")
    assert answer.status_code == 500 and answer.mimetype == "text/html"
    html = answer.get_data(as_text=True)
    assert "secret internals" not in html and "Traceback" not in html
    assert "The service failed" in html
