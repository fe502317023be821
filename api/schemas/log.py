"""The log's public structure (entries' hashes, proofs, checkpoints) and the audit report."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import Public


class EntriesQuery(BaseModel):
    start: int = Field(0, ge=0, description="first seq")
    end: int | None = Field(None, ge=0, description="exclusive end (default: the log's size); "
                            "at most 1000 entries are returned, `next` links to the rest")


class InclusionQuery(BaseModel):
    seq: int = Field(ge=0)
    size: int | None = Field(None, ge=1, description="tree size (default: the current size)")


class ConsistencyQuery(BaseModel):
    first: int = Field(ge=1)
    second: int | None = Field(None, ge=1, description="default: the current size")


class EntryOut(Public):
    seq: int
    leaf_hash: str
    chain_hash: str
    kind: str | None = Field(None, description="only with a key that may read the entry")
    entry: str | None = Field(None, description="the canonical JSON text (RFC 8785), only "
                              "with a key that may read the entry")


class EntriesPage(Public):
    size: int = Field(description="the log's size now")
    entries: list[EntryOut]
    next: str | None = None


class InclusionProof(Public):
    seq: int
    size: int
    leaf_hash: str
    root: str
    proof: list[str]


class ConsistencyProof(Public):
    first: int
    second: int
    proof: list[str]


class CheckpointSigned(Public):
    size: int
    root: str
    note: str


class CosignatureAccepted(Public):
    size: int
    cosigner: str
    note: str


class FindingOut(Public):
    rule: str
    detail: str
    seq: int | None
    table: str
    key: str | None


class AuditReportOut(Public):
    clean: bool
    size: int
    root: str
    checkpoints: int
    witnessed: int
    findings: list[FindingOut]
    suppressed: dict[str, int]
