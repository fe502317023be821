"""Loading the sample scenario for ``greenledger demo``.

Until the registry and footprint engine land, the demo records the scenario's parties and
facilities from ``sample_data/scenario/`` as plain log entries.
"""

from __future__ import annotations

import csv
from pathlib import Path

from api.cli.context import Context

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "scenario"


def load_scenario(ctx: Context, out: Path) -> int:
    items = []
    with (SAMPLE / "parties.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            items.append(("party.registered", "p-operator",
                          {"party": row["party_id"], "name": row["name"],
                           "roles": row["roles"].split("|")}))
    with (SAMPLE / "facilities.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            items.append(("facility.registered", row["owner"],
                          {"facility": row["facility_id"], "name": row["name"],
                           "province": row["province"], "grid_region": row["grid_region"],
                           "process": row["process"]}))
    out.mkdir(parents=True, exist_ok=True)
    return len(ctx.log.append_many(items))
