"""Loading the sample scenario for ``greenledger demo``: the fictitious Yunnan 2025 year of
``sample_data/scenario/`` (parties, facilities, GECs, vouchers, batches, shipments,
allocations), through the same import path as ``greenledger import``."""

from __future__ import annotations

from pathlib import Path

from api.cli.context import Context
from ledger.importing import load_scenario as load

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "scenario"


def load_scenario(ctx: Context, out: Path) -> int:
    reports = load(ctx.log, SAMPLE)
    out.mkdir(parents=True, exist_ok=True)
    return sum(r.taken for r in reports.values())
