"""Pydantic models of the JSON API: request bodies (``...Create``) that validate what the
API accepts, and public views (``...Public``) of the projections, from which the OpenAPI 3.1
document is generated (DESIGN §7). Quantities are decimal strings with three decimals at most
(``"1250.000"``), never JSON numbers; request models refuse unknown fields.

Split by idea: :mod:`.common` (field types, pages, problems), :mod:`.registry` (parties,
facilities, certificates, vouchers), :mod:`.production` (batches, allocations, shipments),
:mod:`.declarations`, :mod:`.log` (entries, proofs, checkpoints, audit).
"""
