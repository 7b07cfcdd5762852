"""Where a campaign stands: upcoming, open, closed, frozen (pool locked for the draw) or
drawn. A pure function of the campaign, the time and two facts from the draw tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import duckdb

from warehouse.campaigns import Campaign, list_campaigns


class CampaignState(StrEnum):
    UPCOMING = "upcoming"  # before opens_at
    OPEN = "open"  # opens_at <= now <= closes_at
    CLOSED = "closed"  # after closes_at, not frozen yet
    FROZEN = "frozen"  # the draw pool is frozen (frozen_at set), no draw yet
    DRAWN = "drawn"  # a draw was run


def campaign_state(campaign: Campaign, now: datetime, *, drawn: bool) -> CampaignState:
    """The campaign's state at ``now`` (aware). A draw outranks a freeze, a freeze the
    window (a campaign may be frozen before its deadline)."""
    if drawn:
        return CampaignState.DRAWN
    if campaign.frozen_at is not None:
        return CampaignState.FROZEN
    if now < campaign.opens_at:
        return CampaignState.UPCOMING
    if now <= campaign.closes_at:
        return CampaignState.OPEN
    return CampaignState.CLOSED


@dataclass(frozen=True)
class CampaignWithState:
    campaign: Campaign
    state: CampaignState


def drawn_slugs(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Campaigns with at least one draw recorded."""
    return {str(r[0]) for r in con.execute("SELECT DISTINCT campaign_slug FROM draws").fetchall()}


def campaigns_with_state(con: duckdb.DuckDBPyConnection, now: datetime) -> list[CampaignWithState]:
    """Every campaign (by opening time) with its state at ``now``."""
    drawn = drawn_slugs(con)
    return [
        CampaignWithState(c, campaign_state(c, now, drawn=c.slug in drawn))
        for c in list_campaigns(con)
    ]
