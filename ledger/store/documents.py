"""Issued documents kept beside the log: the signed PDF of each declaration and its payload.

The log holds the declaration's entry (with the payload's hash); this table holds the bytes
the buyer received, so they can be fetched again. It is written in the same transaction as
the ``declaration.issued`` entry, so neither exists without the other.
"""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field, SQLModel


class DeclarationDocument(SQLModel, table=True):
    __tablename__ = "declaration_document"
    declaration_id: str = Field(primary_key=True, max_length=36)
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))  # RFC 8785 JSON text
    jws: str = Field(sa_column=Column(Text, nullable=False))
    created_at: str = Field(max_length=32)
