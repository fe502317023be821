"""The log's own tables (DESIGN §3): entries, complete-subtree hashes, the head row that
serializes appends, and signed checkpoints.

Hashes are stored as raw 32-byte values (BLOB / bytea). ``tree_node.node_id`` packs a perfect
subtree's ``(level, index)`` into one integer, ``level << 48 | index``, so that every node a
proof needs is fetched with one indexed ``IN`` query; 2^48 leaves is far beyond any log.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

NODE_INDEX_BITS = 48


def node_id(level: int, index: int) -> int:
    return (level << NODE_INDEX_BITS) | index


class LogHead(SQLModel, table=True):
    """One row (id = 1): the current size and chain hash. Appenders lock it first."""

    __tablename__ = "log_head"
    id: int = Field(default=1, primary_key=True)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    chain_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class LogEntry(SQLModel, table=True):
    __tablename__ = "log_entry"
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    kind: str = Field(index=True, max_length=64)
    actor: str = Field(index=True, max_length=64)
    at: str = Field(max_length=32)
    #: the canonical JSON text; its UTF-8 bytes are the entry bytes
    entry: str = Field(sa_column=Column(Text, nullable=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    chain_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class TreeNode(SQLModel, table=True):
    __tablename__ = "tree_node"
    node_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class StoredCheckpoint(SQLModel, table=True):
    """A signed checkpoint note; cosignatures are added to ``note`` as certifiers sign."""

    __tablename__ = "checkpoint"
    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    signed_at: str = Field(max_length=32)
