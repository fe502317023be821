"""Bilingual labels of the reports' figures: every figure has a stable key (the JSON field name,
never translated); pages and printed tables look the label up here, in Chinese or English.

Keys are shared by the reports where they mean the same thing (``electricity_mwh`` is metered
electricity everywhere). A report's ``to_json`` carries the labels of its own keys, so a page can
render it without importing this module.
"""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    # common
    "period": {"zh": "报告期", "en": "Reporting period"},
    "facility_id": {"zh": "设施", "en": "Facility"},
    "batches": {"zh": "批次数", "en": "Batches"},
    "tonnes": {"zh": "产量（吨）", "en": "Output (t)"},
    "electricity_mwh": {"zh": "计量用电量（兆瓦时）", "en": "Metered electricity (MWh)"},
    "targets": {"zh": "目标", "en": "Targets"},
    "gap_percentage_points": {"zh": "差距（百分点）", "en": "Gap (percentage points)"},
    "met": {"zh": "是否达标", "en": "Met"},
    # green share
    "green_mwh": {"zh": "计入的绿证电量（兆瓦时）", "en": "Green MWh counted (allocated certificates)"},
    "gec_mwh": {"zh": "计入的绿证（GEC）电量（兆瓦时）", "en": "China GEC MWh counted"},
    "green_share_percent": {"zh": "绿色电力消费比例（%）", "en": "Green-electricity share (%)"},
    "gec_share_percent": {"zh": "绿证核算的绿电比例（%）", "en": "Share counted in GECs (%)"},
    "attested_mwh": {"zh": "经核查的绿证电量（兆瓦时）", "en": "Attested green MWh"},
    "voucher_mwh": {"zh": "绿电溯源凭证电量（兆瓦时）", "en": "Traceability-voucher MWh"},
    "voucher_covered_mwh": {"zh": "有溯源凭证支撑的绿证电量（兆瓦时）", "en": "Green MWh backed by vouchers"},
    "certificate_only_mwh": {"zh": "仅有证书的绿证电量（兆瓦时）", "en": "Certificate-only green MWh"},
    "by_technology": {"zh": "按发电类型", "en": "By technology"},
    "by_tradable": {"zh": "按可交易性", "en": "Tradable or not"},
    "by_vintage": {"zh": "按生产年月", "en": "By vintage (month of generation)"},
    "by_registry": {"zh": "按登记系统", "en": "By registry"},
    "allocated_not_counted": {"zh": "已分配但不计入", "en": "Allocated, not counted"},
    "inventory_not_counted": {"zh": "持有未计入的证书（库存）", "en": "Inventory, not counted"},
    "gap_mwh": {"zh": "距目标还差的电量（兆瓦时）", "en": "MWh short of the target"},
    "available": {"zh": "可用未分配", "en": "Available, unallocated"},
    "expired": {"zh": "已过有效期", "en": "Expired"},
    "vintage_outside_year": {"zh": "生产年份不在报告年度", "en": "Vintage outside the year"},
    "generated_after_consumption": {"zh": "发电晚于用电", "en": "Generated after consumption"},
    "cancelled": {"zh": "已核销", "en": "Cancelled"},
    # efficiency
    "electricity_kwh_per_t": {"zh": "吨产品用电量（千瓦时/吨）", "en": "Electricity per tonne (kWh/t)"},
    "compared_kwh_per_t": {"zh": "对标电耗（千瓦时/吨原铝）", "en": "Compared intensity (kWh/t primary)"},
    "benchmark": {"zh": "能效标杆水平", "en": "Benchmark level (标杆水平)"},
    "baseline": {"zh": "能效基准水平", "en": "Baseline level (基准水平)"},
    "level": {"zh": "能效水平", "en": "Efficiency level"},
    "benchmark_or_better": {"zh": "达到标杆水平", "en": "At or better than benchmark"},
    "between": {"zh": "标杆与基准之间", "en": "Between benchmark and baseline"},
    "below_baseline": {"zh": "低于基准水平", "en": "Worse than baseline"},
    "share_benchmark_or_better_percent": {"zh": "标杆水平以上产量比例（%）",
                                          "en": "Output share at benchmark or better (%)"},
    "comparable": {"zh": "可对标", "en": "Comparable"},
    "missing": {"zh": "缺少的数据", "en": "What is missing"},
    # recycled
    "recycled_tonnes": {"zh": "再生原料投入（吨）", "en": "Recycled input (t)"},
    "recycled_share_percent": {"zh": "再生原料比例（%）", "en": "Recycled share (%)"},
    "by_origin": {"zh": "按来源", "en": "By origin"},
    "shipped_tonnes": {"zh": "已发运（吨）", "en": "Shipped (t)"},
    "claimed_recycled_tonnes": {"zh": "发运中声明的再生量（吨）",
                                "en": "Recycled tonnes claimed in shipments"},
    "unclaimed_recycled_tonnes": {"zh": "未声明的再生量（吨）", "en": "Recycled tonnes not yet claimed"},
    "mass_balance_holds": {"zh": "质量平衡成立", "en": "Mass balance holds"},
    # provincial export
    "market_per_tonne": {"zh": "市场法（千克CO2e/吨）", "en": "Market-based (kg CO2e/t)"},
    "location_per_tonne": {"zh": "位置法（千克CO2e/吨）", "en": "Location-based (kg CO2e/t)"},
    "upstream": {"zh": "上游", "en": "Upstream"},
    "direct": {"zh": "直接排放", "en": "Direct"},
    "electricity": {"zh": "电力", "en": "Electricity"},
    "total": {"zh": "合计", "en": "Total"},
    "family": {"zh": "电力因子体系", "en": "Electricity factor family"},
    "factors": {"zh": "因子及来源", "en": "Factors and sources"},
}

REPORT_KEYS: dict[str, tuple[str, ...]] = {
    "green_share": ("period", "facility_id", "batches", "electricity_mwh", "green_mwh", "gec_mwh",
                    "green_share_percent", "gec_share_percent", "attested_mwh", "voucher_mwh",
                    "voucher_covered_mwh", "certificate_only_mwh", "by_technology", "by_tradable",
                    "by_vintage", "by_registry", "allocated_not_counted", "inventory_not_counted",
                    "available", "expired", "vintage_outside_year", "generated_after_consumption",
                    "cancelled", "targets", "gap_percentage_points", "gap_mwh", "met"),
    "efficiency": ("period", "facility_id", "tonnes", "electricity_mwh", "electricity_kwh_per_t",
                   "compared_kwh_per_t", "benchmark", "baseline", "level", "benchmark_or_better",
                   "between", "below_baseline", "share_benchmark_or_better_percent", "comparable",
                   "missing", "recycled_tonnes", "targets", "gap_percentage_points", "met"),
    "recycled": ("period", "facility_id", "batches", "tonnes", "recycled_tonnes",
                 "recycled_share_percent", "by_origin", "shipped_tonnes", "claimed_recycled_tonnes",
                 "unclaimed_recycled_tonnes", "mass_balance_holds", "targets", "met"),
    "provincial_export": ("period", "tonnes", "market_per_tonne", "location_per_tonne", "upstream",
                          "direct", "electricity", "total", "family", "electricity_mwh", "green_mwh",
                          "green_share_percent", "recycled_share_percent", "factors"),
}


def label(key: str, lang: str = "en") -> str:
    """The label of ``key`` in ``lang`` (``zh`` or ``en``); the key itself if it has none."""
    return LABELS.get(key, {}).get(lang, key)


def labels_for(report: str) -> dict[str, dict[str, str]]:
    return {k: LABELS[k] for k in REPORT_KEYS[report]}
