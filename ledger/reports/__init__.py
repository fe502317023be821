"""Reports on the Yunnan plan's own targets (云工信原材〔2024〕6号; issue #11), from the projections.

- :mod:`~ledger.reports.green_share` — green-electricity share per facility and period: certificate
  MWh allocated to the period's metered consumption, counted once, by technology, tradability and
  vintage, voucher coverage, the gap to each target, the inventory that does not count;
- :mod:`~ledger.reports.efficiency` — kWh per tonne against the benchmark (标杆) and baseline (基准)
  levels, and the share of output at benchmark or better;
- :mod:`~ledger.reports.recycled` — recycled input, its share, the shipments' pro-rata claims on it
  and their mass balance;
- :mod:`~ledger.reports.provincial_export` — per product and period, the footprint per tonne for the
  provincial product life-cycle carbon database, only from a ledger that audits clean;
- :mod:`~ledger.reports.targets` (``sample_data/targets.csv``, every figure with its source and
  [C]/[U] status), :mod:`~ledger.reports.periods`, :mod:`~ledger.reports.quantities`,
  :mod:`~ledger.reports.labels` (zh/en labels of the stable figure keys).

Every report returns a dataclass whose ``to_json()`` is JSON-ready (decimal strings, stable keys)
and validates against its schema in ``sample_data/schemas/``; the producer dashboard can chart it
as is. Reports read; they never append or commit. Who may read which facility's report is the
caller's decision (``ledger/access.py`` / ``domain/visibility.py``): these functions take an
optional facility and do not filter by reader.
"""

from ledger.reports.efficiency import efficiency
from ledger.reports.green_share import green_share
from ledger.reports.periods import Period
from ledger.reports.provincial_export import audited_export, export_rows
from ledger.reports.recycled import recycled
from ledger.reports.targets import load_targets

__all__ = ["Period", "audited_export", "efficiency", "export_rows", "green_share", "load_targets", "recycled"]
