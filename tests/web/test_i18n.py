"""Both languages on every page, the switch that persists, and a complete catalog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.web.strings import STRINGS

ROOT = Path(__file__).resolve().parents[2]
#: page -> who must be signed in to see it (None: anyone)
PAGES = {"/": None, "/login": None, "/dashboard": "producer", "/audit": "certifier",
         "/verify/{eu}": None, "/verify/{revoked}": "buyer"}
MARKERS = {"zh": ('<html lang="zh-CN">', "验证声明"), "en": ('<html lang="en">', "Verify")}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_renders_in_both_languages(page, lang, client, signed_in, web_world):
    holder = PAGES[page]
    c = signed_in(holder) if holder else client
    path = page.format(eu=web_world.eu_declaration, revoked=web_world.revoked_declaration)
    answer = c.get(f"{path}?lang={lang}")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    for marker in MARKERS[lang]:
        assert marker in html
    other = "en" if lang == "zh" else "zh"
    assert f'id="lang-{other}"' in html  # the switch to the other language


def test_chinese_by_default_and_the_choice_persists(client):
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)
    answer = client.get("/login?lang=en")
    assert "lang=en" in answer.headers["Set-Cookie"]
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)
    client.get("/?lang=zh")
    assert '<html lang="zh-CN">' in client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in client.get("/?lang=klingon").get_data(as_text=True)


def test_the_switch_keeps_the_page_and_its_query(client, web_world):
    html = client.get("/lookup?id=nope").get_data(as_text=True)
    assert 'href="/lookup?id=nope&amp;lang=en"' in html


def test_every_message_has_both_languages():
    for key, texts in STRINGS.items():
        assert set(texts) == {"zh", "en"}, key
        assert texts["zh"].strip() and texts["en"].strip(), key
        fields = [set(re.findall(r"\{(\w+)\}", texts[lang])) for lang in ("zh", "en")]
        assert fields[0] == fields[1], key


def test_every_message_id_used_exists():
    sources = [*ROOT.glob("templates/web/*.html"), *ROOT.glob("api/web/*.py")]
    used = set()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'\bt\("([a-z_]+\.[a-z_-]+)"\s*[,)]', text))
        used |= set(re.findall(r'message="([a-z_]+\.[a-z_]+)"', text))
        used |= set(re.findall(r'_flash\("\w+", "([a-z_]+\.[a-z_]+)"', text))
    assert used, "found no message ids"
    assert sorted(used - set(STRINGS)) == []


def test_every_message_of_a_family_built_at_render_time_exists():
    from api.web.verifying import CHECK_NAMES
    from ledger.domain.rules import ROLES

    families = [f"role.{r}" for r in ROLES] + [f"check.{c}" for c in CHECK_NAMES]
    for status in ("valid", "revoked", "superseded"):
        families += [f"status.{status}", f"decl.status_{status}_text"]
    for outcome in ("valid", "invalid", "unknown"):
        families += [f"verdict.{outcome}", f"verdict.{outcome}_text"]
    families += [f"sig.{kind}" for kind in ("operator", "cosigner", "unknown")]
    families += [f"inclusion.{r}" for r in ("ok", "failed", "unsigned", "not_yet", "no_checkpoint",
                                            "no_operator_key")]
    assert sorted(set(families) - set(STRINGS)) == []
