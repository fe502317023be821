"""The verify pages: the upload verdict (valid, tampered, revoked, refused uploads), the id
look-up, the QR landing page with its public facts, proofs and cosigners, the PDF download."""

from __future__ import annotations

import io
import re

from sqlmodel import Session

from ledger.store.engine import make_engine
from ledger.store.tables import LogEntry
from tests.web.conftest import COSIGNER, csrf_token


def _upload(client, data: bytes, path: str = "/verify", page: str = "/", token: str | None = None):
    html = client.get(page).get_data(as_text=True)
    form = {"csrf_token": csrf_token(html) if token is None else token,
            "pdf": (io.BytesIO(data), "declaration.pdf", "application/pdf")}
    return client.post(path, data=form, content_type="multipart/form-data")


def _check(html: str, name: str) -> str:
    found = re.search(rf'data-check="{re.escape(name)}" data-ok="(\w+)"', html)
    assert found, f"no check {name}"
    return found.group(1)


def test_a_valid_declaration_passes_every_check_including_the_online_ones(client, web_world):
    answer = _upload(client, web_world.sample_pdf.read_bytes())
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'data-outcome="valid"' in html and "有效" in html
    for name in ("pdf-readable", "signature-intact", "signer-trusted", "attachment-present",
                 "payload-signature", "printed-figures", "ledger-entry", "inclusion-proof",
                 "online-status", "online-consistency"):
        assert _check(html, name) == "pass", name
    assert web_world.eu_declaration in html
    assert COSIGNER in html  # the certifier cosigned a checkpoint covering it
    assert "PDF 签名完整" in html  # bilingual labels


def test_a_tampered_copy_fails_signature_intact(client, web_world):
    answer = _upload(client, web_world.tampered_pdf.read_bytes())
    html = answer.get_data(as_text=True)
    assert 'data-outcome="invalid"' in html
    assert _check(html, "signature-intact") == "fail"
    assert "signed bytes were changed" in html


def test_a_revoked_declaration_is_invalid_with_its_reason(client, web_world):
    from certificates.issuing import declaration_pdf

    engine = make_engine(web_world.settings.database_url)
    pdf = declaration_pdf(engine, web_world.revoked_declaration)
    engine.dispose()
    html = _upload(client, pdf).get_data(as_text=True)
    assert 'data-outcome="invalid"' in html
    assert _check(html, "signature-intact") == "pass"
    assert _check(html, "online-status") == "fail"
    assert "tonnage corrected" in html


def test_not_a_pdf_is_invalid_not_an_error(client):
    html = _upload(client, b"hello").get_data(as_text=True)
    assert 'data-outcome="invalid"' in html and _check(html, "pdf-readable") == "fail"


def test_an_upload_without_its_csrf_token_is_refused(client, web_world):
    answer = _upload(client, web_world.sample_pdf.read_bytes(), token="forged")
    assert answer.status_code == 400
    assert "data-outcome" not in answer.get_data(as_text=True)
    assert "页面已过期" in answer.get_data(as_text=True)


def test_an_upload_over_20_mb_is_refused(client):
    big = b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024)
    answer = _upload(client, big)
    assert answer.status_code == 400 and "文件超过 20 MB" in answer.get_data(as_text=True)


def test_a_body_over_the_service_limit_is_a_413_page(client):
    from api.app import MAX_CONTENT_LENGTH

    token = csrf_token(client.get("/").get_data(as_text=True))
    answer = client.post("/verify", data={"csrf_token": token, "pdf": (
        io.BytesIO(b"0" * (MAX_CONTENT_LENGTH + 1)), "x.pdf")},
        content_type="multipart/form-data")
    assert answer.status_code == 413
    assert answer.mimetype == "text/html" and "上传的文件过大" in answer.get_data(as_text=True)


def test_the_lookup_leads_to_the_qr_page(client, web_world):
    answer = client.get(f"/lookup?id={web_world.eu_declaration.upper()}")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/verify/{web_world.eu_declaration}")
    bad = client.get("/lookup?id=SH-AL-EU-2025-01")
    assert bad.status_code == 400 and "这不是声明编号" in bad.get_data(as_text=True)


def test_the_qr_page_shows_public_facts_only(client, web_world):
    answer = client.get(f"/verify/{web_world.eu_declaration}")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'data-status="valid"' in html
    seq = int(re.search(r'id="issued-seq">(\d+)<', html).group(1))
    engine = make_engine(web_world.settings.database_url)
    with Session(engine) as session:
        leaf = bytes(session.get(LogEntry, seq).leaf_hash).hex()
    engine.dispose()
    assert f'id="leaf-hash">{leaf}<' in html
    assert 'id="inclusion" data-ok="pass"' in html
    assert COSIGNER in html
    # nothing confidential without signing in: no shipment, no buyer, no PDF link
    for secret in ("SH-AL-EU-2025-01", "p-eu-importer", "Beispiel", 'id="pdf-link"'):
        assert secret not in html
    assert "登录后可下载" in html


def test_the_qr_page_of_a_revoked_declaration_says_why(client, web_world):
    html = client.get(f"/verify/{web_world.revoked_declaration}?lang=en").get_data(as_text=True)
    assert 'data-status="revoked"' in html and "tonnage corrected" in html
    assert "do not rely on it" in html


def test_an_unknown_or_malformed_id_is_a_404_page(client):
    for path in ("/verify/7c1e6a9e-0000-4000-8000-000000000000", "/verify/not-an-id"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.mimetype == "text/html"


def test_the_pdf_is_for_its_issuer_buyer_operators_and_certifiers(web_world, signed_in, client):
    declaration = web_world.api.declaration  # p-smelter's, for p-buyer-gd
    page = f"/verify/{declaration}"
    pdf = f"/declarations/{declaration}.pdf"
    for holder in ("producer", "buyer", "operator", "certifier"):
        c = signed_in(holder)
        html = c.get(page).get_data(as_text=True)
        assert 'id="pdf-link"' in html and "SH-AL-GD-2025-01" in html, holder
        answer = c.get(pdf)
        assert answer.status_code == 200 and answer.data.startswith(b"%PDF-"), holder
        assert answer.headers["Cache-Control"] == "no-store"
    for holder in ("copper", "cable"):
        c = signed_in(holder)
        html = c.get(page).get_data(as_text=True)
        assert 'id="pdf-link"' not in html and "SH-AL-GD-2025-01" not in html, holder
        assert c.get(pdf).status_code == 404, holder
    assert client.get(pdf).status_code == 302  # anonymous: sign in first


def test_the_buyer_verifies_its_own_copy_on_the_qr_page(client, web_world):
    page = f"/verify/{web_world.eu_declaration}"
    html = _upload(client, web_world.sample_pdf.read_bytes(), path=page,
                   page=page).get_data(as_text=True)
    assert 'data-outcome="valid"' in html and 'id="same-declaration"' in html
    assert "此文件就是声明" in html
    other = f"/verify/{web_world.api.declaration}"
    html = _upload(client, web_world.sample_pdf.read_bytes(), path=other,
                   page=other).get_data(as_text=True)
    assert "此文件不是声明" in html


def test_a_superseded_declaration_links_to_its_correction(fresh, web_world):
    from certificates.issuing import issue_declaration

    settings = fresh.extensions["greenledger"].settings
    engine = make_engine(settings.database_url)
    newer = issue_declaration(engine, settings, "SH-AL-GD-2025-01", actor="p-smelter",
                              supersedes=web_world.api.declaration)
    engine.dispose()
    html = fresh.test_client().get(f"/verify/{web_world.api.declaration}").get_data(as_text=True)
    assert 'data-status="superseded"' in html and "已被更正后的声明取代" in html
    assert f'href="/verify/{newer.declaration_id}"' in html
