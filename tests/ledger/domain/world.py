"""A small world for domain tests: an operator, two producers, a buyer, a certifier,
facilities, a GEC range and a batch. Bodies are built here once so tests change one field."""

from __future__ import annotations

from typing import Any

from ledger.domain import domain_log
from ledger.log import Log

GEC_BLOCK = "31200808265308017"


def gec(n: int, month: str = "202503") -> str:
    return f"{GEC_BLOCK}{month}{n:09d}"


def certificate(a: int = 1, b: int = 1000, **over: Any) -> dict[str, Any]:
    body = {"registry": "CN-GEC", "first": gec(a), "last": gec(b),
            "mwh": f"{b - a + 1}.000", "technology": "hydro",
            "plant": "澜沧江示例水电站", "plant_province": "CN-YN", "country": "CN",
            "generation_month": "2025-03", "tradable": False, "owner": "p-a",
            "evidence": {"ref": "KMPX-1", "sha256": "ab" * 32}}
    body.update(over)
    return body


def batch(bid: str = "AL-1", **over: Any) -> dict[str, Any]:
    body = {"batch": bid, "lot": bid, "facility": "f-a", "product": "primary aluminium ingot",
            "metal": "Al", "grade": "Al99.70", "cn_code": "76011000", "tonnes": "100.000",
            "period_start": "2025-03-01", "period_end": "2025-03-31",
            "electricity_mwh": "1300.000", "fuels": [{"fuel": "diesel", "amount": "2", "unit": "t"}],
            "process_emissions": [{"gas": "CO2", "kg": "150000"}, {"gas": "CF4", "kg": "2.5"}],
            "inputs": [], "recycled": {"tonnes": "0", "origin": ""}}
    body.update(over)
    return body


def allocation(aid: str = "A1", a: int = 1, b: int = 500, **over: Any) -> dict[str, Any]:
    body = {"allocation": aid, "certificate": f"CN-GEC:{gec(1)}", "first": gec(a),
            "last": gec(b), "mwh": f"{b - a + 1}.000", "batch": "AL-1",
            "beneficiary": "p-a"}
    body.update(over)
    return body


def shipment(sid: str = "S1", tonnes: str = "40.000", **over: Any) -> dict[str, Any]:
    body = {"shipment": sid, "seller": "p-a", "buyer": "p-buyer", "date": "2025-04-02",
            "destination_country": "CN", "lines": [{"batch": "AL-1", "tonnes": tonnes}]}
    body.update(over)
    return body


def build(engine) -> Log:
    log = domain_log(engine)
    log.append_many([
        ("party.registered", "p-op", {"party": "p-op", "name": "Operator", "roles": ["operator"]}),
        ("party.registered", "p-op", {"party": "p-a", "name": "示例铝业 A", "roles": ["producer"]}),
        ("party.registered", "p-op", {"party": "p-b", "name": "示例铝业 B",
                                      "roles": ["producer", "buyer"]}),
        ("party.registered", "p-op", {"party": "p-buyer", "name": "Buyer", "roles": ["buyer"]}),
        ("party.registered", "p-op", {"party": "p-cert", "name": "Verifier",
                                      "roles": ["certifier"]}),
        ("facility.registered", "p-a", {"facility": "f-a", "owner": "p-a", "name": "Smelter A",
                                        "province": "CN-YN", "grid_region": "CN-SOUTH",
                                        "country": "CN", "process": "aluminium electrolysis"}),
        ("facility.registered", "p-b", {"facility": "f-b", "owner": "p-b", "name": "Mill B",
                                        "province": "CN-GD", "grid_region": "CN-SOUTH",
                                        "country": "CN", "process": "extrusion"}),
        ("certificate.registered", "p-a", certificate()),
        ("batch.registered", "p-a", batch()),
    ])
    return log
