"""Words the staff templates share (registered on the staff blueprint): `of_goal` turns a percentage of
the goal into "171% of goal" (truths.percent_label)."""

from __future__ import annotations

from service.staff import truths
from service.staff.views import bp

bp.add_app_template_filter(truths.percent_label, "of_goal")
