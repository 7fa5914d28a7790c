"""Service-level agreements: business calendars, policies and the per-conversation clock."""

from helpline.domain.sla.calendar import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
    calendar_from_data,
)
from helpline.domain.sla.clock import (
    Pause,
    SlaClock,
    SlaTarget,
    TargetState,
    TargetStatus,
    pause_reason,
)
from helpline.domain.sla.policy import SlaPolicyRule, SlaTargets, match_policy

__all__ = [
    "BusinessCalendar",
    "Pause",
    "SlaClock",
    "SlaPolicyRule",
    "SlaTarget",
    "SlaTargets",
    "TargetState",
    "TargetStatus",
    "add_business_time",
    "business_time_between",
    "calendar_from_data",
    "match_policy",
    "pause_reason",
]
