"""Declarations: issuing, revoking, the public status a buyer's verifier reads (DESIGN §6)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.schemas.common import Links, Public, RecordId, RequestBody, Text500, page


class DeclarationCreate(RequestBody):
    shipment: RecordId = Field(description="the shipment to declare (the caller is its seller)")
    supersedes: str | None = Field(None, pattern=r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$",
                                   description="a valid declaration of the same shipment that "
                                   "this one corrects")


class DeclarationRevoke(RequestBody):
    reason: Text500


class DeclarationPublic(Public):
    id: str
    shipment: str
    issuer: str
    buyer: str
    payload_sha256: str
    status: str
    reason: str | None
    supersedes: str | None
    issued_seq: int
    seq: int
    links: Links


class DeclarationIssued(Public):
    id: str
    shipment: str
    seq: int = Field(description="seq of the declaration.issued entry")
    leaf_hash: str
    checkpoint_size: int = Field(description="size of the checkpoint signed with it")
    links: Links


class DeclarationRevoked(DeclarationPublic):
    leaf_hash: str = Field(description="leaf hash of the declaration.revoked entry")


class DeclarationStatus(Public):
    """What ``certificates/verify_online.py`` reads: ``status`` (and ``reason``)."""

    declaration: str
    id: str
    status: Literal["valid", "revoked", "superseded"]
    reason: str | None = None
    revoked_at: str | None = None
    superseded_by: str | None = None
    issued_seq: int
    checkpoint_size: int | None = Field(
        None, description="size of the latest signed checkpoint that includes the entry")


DeclarationPage = page(DeclarationPublic)
