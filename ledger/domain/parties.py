"""Parties and facilities (DESIGN §4).

Party ids are chosen by the operator (``p-...``); facilities belong to one producer party.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from ledger.domain import fields as f
from ledger.domain.rules import ROLES
from ledger.domain.tables import Facility, Party
from ledger.encoding import Entry
from ledger.errors import Conflict, InputError, NotFound, PermissionDenied, RuleViolation


def party(session: Session, party_id: str, *, field: str = "party") -> Party:
    row = session.get(Party, party_id)
    if row is None:
        raise NotFound(f"no party {party_id!r}", field=field)
    return row


def has_role(row: Party, role: str) -> bool:
    return role in row.roles.split("|")


def require_role(session: Session, party_id: str, role: str, *, field: str) -> Party:
    row = party(session, party_id, field=field)
    if not has_role(row, role):
        raise RuleViolation("party.role", f"{party_id} is not a {role}", field=field,
                            limit=role, got=row.roles)
    return row


def require_actor(session: Session, entry: Entry, owner: str, *, field: str) -> None:
    """The actor must be the owner, or the operator acting for it."""
    if entry.actor == owner:
        return
    actor = session.get(Party, entry.actor)
    if actor is None or not has_role(actor, "operator"):
        raise PermissionDenied(f"{entry.actor} may not act for {owner}", field=field)


def apply_party_registered(session: Session, entry: Entry) -> None:
    b = entry.body
    pid = f.ident(b, "party")
    roles = b.get("roles")
    if not isinstance(roles, list) or not roles or not all(r in ROLES for r in roles):
        raise InputError(f"roles must be a non-empty list of {', '.join(ROLES)}", field="roles")
    if session.get(Party, pid) is not None:
        raise Conflict(f"party {pid} is already registered", field="party")
    is_first = session.scalars(select(Party.party_id).limit(1)).first() is None
    if is_first:
        if "operator" not in roles or entry.actor != pid:
            raise RuleViolation("party.bootstrap", "the first party is the operator, registering "
                                "itself", field="roles", limit="operator", got=roles)
    else:
        require_role(session, entry.actor, "operator", field="actor")
    uscc = f.text(b, "uscc", max_len=18, optional=True)
    if uscc and len(uscc) != 18:
        raise InputError("a unified social credit code has 18 characters", field="uscc")
    session.add(Party(party_id=pid, name=f.text(b, "name"), roles="|".join(sorted(set(roles))),
                      uscc=uscc or None, seq=entry.seq))


def apply_facility_registered(session: Session, entry: Entry) -> None:
    b = entry.body
    fid = f.ident(b, "facility")
    owner = f.ident(b, "owner")
    require_role(session, owner, "producer", field="owner")
    require_actor(session, entry, owner, field="owner")
    if session.get(Facility, fid) is not None:
        raise Conflict(f"facility {fid} is already registered", field="facility")
    session.add(Facility(facility_id=fid, owner=owner, name=f.text(b, "name"),
                         province=f.text(b, "province", max_len=16),
                         grid_region=f.text(b, "grid_region", max_len=32),
                         country=f.country(b, "country"), process=f.text(b, "process"),
                         seq=entry.seq))
