"""The JSON API, version 1 (``/api/v1``): one blueprint per resource (DESIGN §7, §9).

``checkpoints`` adds its routes to the ``log`` blueprint; importing it registers them.
"""

from __future__ import annotations

from flask_openapi3 import OpenAPI

from api.v1 import (  # checkpoints: its routes join the log blueprint
    allocations,
    audit,
    batches,
    certificates,
    checkpoints,  # noqa: F401
    declarations,
    facilities,
    log,
    openapi,
    parties,
    reports,
    shipments,
    vouchers,
)

API_BLUEPRINTS = (log, parties, facilities, certificates, vouchers, batches,
                  allocations, shipments, declarations, audit, reports)


def register(app: OpenAPI) -> None:
    for module in API_BLUEPRINTS:
        app.register_api(module.bp)
    app.register_blueprint(openapi.bp)
