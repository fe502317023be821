"""Entry encoding refuses anything that could give one entry two byte forms."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import encoding
from ledger.errors import InputError

GOOD = ('{"actor":"op","at":"2024-02-01T08:00:00.123456Z","body":{"mwh":"1.000"},'
        '"kind":"party.registered","nonce":"BqCAvfjPNGYHk_CqspEdEg","seq":0,"v":1}')


def test_a_canonical_entry_parses():
    assert encoding.parse_entry(GOOD).body == {"mwh": "1.000"}


@pytest.mark.parametrize("text, field", [
    (GOOD.replace('"actor":"op",', '"actor": "op",'), "entry"),  # whitespace
    ('{"v":1,' + GOOD[1:].replace(',"v":1', ""), "entry"),  # key order
    (GOOD.replace('"1.000"', '1.0'), "entry.body.mwh"),  # float
    (GOOD.replace('"1.000"', str(2**53)), "entry.body.mwh"),  # unsafe integer
    (GOOD.replace('"seq":0', '"seq":-1'), "seq"),
    (GOOD.replace('"v":1', '"v":2'), "v"),
    (GOOD.replace("party.registered", "Party"), "kind"),
    (GOOD.replace("08:00:00.123456Z", "08:00:00Z"), "at"),
    (GOOD.replace("BqCAvfjPNGYHk_CqspEdEg", "short"), "nonce"),
    (GOOD.replace('"body":{"mwh":"1.000"}', '"body":[]'), "body"),
    (GOOD[:-1] + ',"extra":1}', "entry"),
    (GOOD.replace('{"mwh":"1.000"}', '{"a":"1","a":"2"}'), "entry"),  # duplicate key
    ('{"actor":"\\u4e91"' + GOOD[12:], "entry"),  # escaped non-ASCII is not canonical
    (b"\xff\xfe", "entry"),
    ("[1,2]", "entry"),
])
def test_malformed_or_non_canonical_entries_are_refused(text, field):
    with pytest.raises(InputError) as err:
        encoding.parse_entry(text)
    assert err.value.field == field


def test_floats_in_a_body_are_refused_before_hashing():
    with pytest.raises(InputError, match="decimal strings"):
        encoding.canonical_bytes({"body": {"mwh": 0.1}})


def test_nonce_is_16_random_bytes():
    a, b = encoding.new_nonce(), encoding.new_nonce()
    assert a != b and len(a) == 22 and "=" not in a


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(st.characters(exclude_categories=("Cs",))),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), max_size=8), json_values,
                       max_size=6))
def test_the_fast_encoder_writes_exactly_rfc8785(obj):
    assert encoding.canonical_bytes(obj) == rfc8785.dumps(obj)


def test_control_characters_and_non_bmp_keys_are_canonical():
    obj = {"\U0001f600": 1, "\ue000": 2, "a": "\x00\x1f\x7f\u2028\"\\\n\t\b\f\r云"}
    assert encoding.canonical_bytes(obj) == rfc8785.dumps(obj)


def test_lone_surrogates_are_refused():
    with pytest.raises(InputError):
        encoding.canonical_bytes({"a": "\ud800"})


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), max_size=8), json_values,
                       max_size=6),
       st.integers(0, 2**53 - 1), st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8}){1,2}", fullmatch=True),
       st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,20}", fullmatch=True))
def test_assembled_entry_bytes_equal_the_canonical_entry(body, seq, kind, actor):
    at, nonce = encoding.now(), encoding.new_nonce()
    whole = encoding.Entry(seq, kind, at, actor, nonce, body).canonical()
    assert encoding.entry_bytes(seq, kind, at, actor, nonce, encoding.canonical_bytes(body)) == whole
