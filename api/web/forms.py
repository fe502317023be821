"""The pages' forms (flask-wtf): each one that posts carries a CSRF token tied to the session.

The declaration look-up is the only form without one: it is a GET whose answer is a public,
bookmarkable page (``/verify/<id>``) and changes nothing.

Error messages are message ids of :mod:`api.web.strings`, translated when the page renders.
"""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from certificates.verify import MAX_PDF_BYTES

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
#: a checkpoint note with its signature lines is a few hundred bytes; this is generous
MAX_NOTE_CHARS = 64 * 1024


class VerifyUploadForm(FlaskForm):
    pdf = FileField(validators=[FileRequired(message="form.pdf_required"),
                                FileSize(max_size=MAX_PDF_BYTES, message="form.pdf_too_large")])


class LoginForm(FlaskForm):
    api_key = PasswordField(validators=[DataRequired(message="form.key_required"),
                                        Length(max=200, message="form.key_malformed")])


class LogoutForm(FlaskForm):
    pass


def _lowercase(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


class AttestForm(FlaskForm):
    certificate = StringField(filters=[lambda v: v.strip() if isinstance(v, str) else v],
                              validators=[DataRequired(message="form.certificate_required"),
                                          Length(max=80, message="form.certificate_required")])
    evidence_sha256 = StringField(filters=[_lowercase],
                                  validators=[DataRequired(message="form.sha256_invalid"),
                                              Regexp(SHA256_HEX, message="form.sha256_invalid")])


def _note_text(value: Any) -> Any:
    """A pasted note as the signed-note format has it: browsers send a textarea's line breaks
    as CRLF, and a paste often loses the final newline."""
    if not isinstance(value, str):
        return value
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text + "\n" if text else text


class CosignForm(FlaskForm):
    note = TextAreaField(filters=[_note_text], validators=[DataRequired(message="form.note_required"),
                                     Length(max=MAX_NOTE_CHARS, message="form.note_too_long")])

    def validate_note(self, field: Any) -> None:
        if "\u2014" not in (field.data or ""):
            raise ValidationError("form.note_unsigned")


def first_error(form: FlaskForm) -> str | None:
    """The message id of the form's first error (CSRF first: an expired page)."""
    errors = form.errors
    if "csrf_token" in errors:
        return "form.csrf"
    for messages in errors.values():
        if messages:
            return str(messages[0])
    return None
