"""The names of everything a run reports, in one place.

Flow outputs are counted per step in model units and reported in real-world
units (divided by the scale). Gauges are stocks read at the end of a step.
"""

from __future__ import annotations

from flowsim.geography import ZONES

COUNTERS: tuple[str, ...] = (
    # research
    "projects_started",
    "projects_with_collaborator",
    "projects_cross_border",
    "projects_same_city_collaboration",
    "projects_repeat_collaboration",
    "collaborations_fallback_domestic",
    "projects_stopped",
    "projects_abandoned_waiting",
    "projects_completed",
    "papers",
    "papers_cross_border",
    "inventions",
    "invention_patents",
    "pct_applications",
    "pct_applications_GD",
    "pct_applications_HK",
    "pct_applications_MO",
    # the open region: co-authors in the rest of the mainland (CN) and of the world (ROW)
    "external_collaborations",
    "external_collaborations_refused",
    "papers_coauthored_CN",
    "papers_coauthored_ROW",
    # ... and places where the Bay Area's invention patents are also filed
    "patents_filed_CN",
    "patents_filed_ROW",
    # transfer
    "licences",
    "licences_cross_border",
    "licence_fees",
    "spinoffs",
    "inventions_abandoned",
    # firms and capital
    "startups",
    "firm_failures",
    "funds_raised",
    "vc_deals",
    "vc_deals_cross_border",
    "vc_volume",
    "guidance_coinvestment",
    "vc_refused",
    "vc_screened_out",
    "vc_over_quota",
    "vc_written_off",
    "vc_realised",
    "grants_cross_border",
    # the open region: VC rounds led from CN or ROW, funds' investment there
    "vc_deals_inward",
    "vc_volume_inward",
    "vc_volume_outward",
    # commercialization
    "developments_started",
    "developments_funded",
    "developments_dropped",
    "commercialized",
    "commercialized_value",
    # talent
    "researcher_moves",
    "researcher_moves_cross_border",
    "researcher_moves_refused",
    "researcher_moves_no_post",
    # the open region as a pool of talent: researchers arriving from and leaving for CN/ROW
    "researcher_arrivals",
    "researcher_arrivals_refused",
    "researcher_arrivals_no_post",
    "researcher_departures",
    "researcher_departures_refused",
    "visits",
    "visits_cross_border",
    "visits_refused",
    "collaborations_refused",
    # data and samples
    "data_requests",
    "data_transfers_cross_border",
    "data_refused",
    "data_substituted",
    "data_transfers_external",
    "samples_requests",
    "samples_shipments_cross_border",
    "samples_refused",
    "samples_substituted",
    "samples_delay_days",
    "samples_shipments_external",
    # friction
    "friction_cost",
    # relocation into cooperation zones (labs, firms, and the researchers who move with them)
    "relocations_labs",
    "relocations_firms",
    "relocations_researchers",
    *(f"relocations_{kind}_{zone}" for zone in ZONES for kind in ("labs", "firms", "researchers")),
)
"""Per-step counts (model units; money in RMB m, friction cost in thousand yuan).

Each is declared by the one module that counts it (a mechanism's ``OUTPUTS``,
:data:`flowsim.firms.OUTPUTS` or :data:`CROSSING_COUNTERS`), checked by
:mod:`flowsim.assembly`."""

CROSSING_COUNTERS: tuple[str, ...] = ("friction_cost",)
"""Counters of every border crossing (:mod:`flowsim.policy`), whichever mechanism's flow crosses."""

GAUGES: tuple[str, ...] = (
    "researchers",
    "labs",
    "firms_alive",
    "startups_alive",
    "projects_active",
    "developments_active",
    "lab_invention_stock",
    "capital_raised",
    "capital_held",
    "capital_invested",
    "capital_written_off",
    "capital_realised",
    "knowledge_stock",
    "knowledge_productivity",
    "knowledge_outside_city_share",
    "knowledge_outside_jurisdiction_share",
)
"""Stocks at the end of each step (real-world units)."""

SHARES: tuple[str, ...] = ("cross_border_collaboration_share",)
"""Ratios, identical in model and real-world units."""

YEARLY_SHARES: tuple[str, ...] = (
    "world_share_pct",
    "world_share_papers",
    "world_share_vc_deals",
    "gii_cluster_score",
)
"""GII-style shares of world totals, computed per year in the summary."""

UNITS: dict[str, str] = {
    "licence_fees": "RMB m",
    "funds_raised": "RMB m",
    "vc_volume": "RMB m",
    "guidance_coinvestment": "RMB m",
    "vc_written_off": "RMB m",
    "vc_realised": "RMB m",
    "vc_volume_inward": "RMB m",
    "vc_volume_outward": "RMB m",
    "commercialized_value": "RMB m",
    "friction_cost": "thousand yuan",
    "samples_delay_days": "shipment-days",
    "capital_raised": "RMB m",
    "capital_held": "RMB m",
    "capital_invested": "RMB m",
    "capital_written_off": "RMB m",
    "capital_realised": "RMB m",
    "cross_border_collaboration_share": "share",
    "knowledge_stock": "knowledge units",
    "knowledge_productivity": "factor",
    "knowledge_outside_city_share": "share",
    "knowledge_outside_jurisdiction_share": "share",
}
"""Unit of each output not counted in items (papers, deals, persons...)."""

REPORTED: tuple[str, ...] = COUNTERS + GAUGES + SHARES
"""Columns of a run's time series besides replicate, seed and step."""


def unit_of(output: str) -> str:
    """The unit of an output: money, days, a share, or ``count`` for items (papers, deals...)."""
    if output in YEARLY_SHARES:
        return "share of world total"
    return UNITS.get(output, "count")


COMPARED: tuple[str, ...] = (
    "papers",
    "invention_patents",
    "pct_applications",
    "licences",
    "spinoffs",
    "startups",
    "vc_deals",
    "vc_volume",
    "commercialized",
    "commercialized_value",
    "cross_border_collaboration_share",
    "gii_cluster_score",
)
"""Outputs ``flowsim compare`` compares when none are asked for."""
