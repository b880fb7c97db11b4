"""Words the staff templates share (registered on the staff blueprint): `of_goal` turns a percentage of
the goal into "171% of goal" (truths.percent_label); the copy editor's "Add a locale" choices and the
plural categories of a locale (copy_editing)."""

from __future__ import annotations

from service.staff import copy_editing, truths
from service.staff.views import bp

bp.add_app_template_filter(truths.percent_label, "of_goal")
bp.add_app_template_global(copy_editing.locale_choices, "copy_locale_choices")
bp.add_app_template_global(copy_editing.plural_hint, "plural_hint")
