"""Experiments on banner copy, as pure functions (no Flask, no database): who sees which variant, and what
the figures say.

Assignment (mirrored exactly by widget.js; the paywall uses it with the reader id)
-------------------------------------------------------------------------------------
The progress document stays one cacheable document per campaign and locale: its `banner` is the control
and `banner.variants` lists the running variants `[{id, weight, ...}]` in ascending id order. Each
reader picks one from a stable visitor id, the same on every page:

1. `key = slug + ":" + visitor_id`, encoded as UTF-8.
2. `h` = FNV-1a 32-bit of those bytes: start at 2166136261 (0x811c9dc5); for each byte,
   `h = ((h XOR byte) * 16777619) mod 2**32` (in JS: `h = Math.imul(h ^ byte, 0x01000193) >>> 0`).
3. `bucket = h mod 100` (weights are whole percents, 1-99; they add up to at most 99).
4. Walk the variants in the listed (id) order adding up their weights; the first whose running total
   exceeds `bucket` is the reader's. None: the control (`CONTROL`, id 0), which so gets 100 - sum(weights)
   percent.

Variant ids start at 1, so 0 is never a variant: beacons and checkouts send `variant: 0` for the control.

Verdict
-------
Each arm (the control and every variant) is judged on sign-ups per impression, with a 95% Wilson score
interval. `too_early` while fewer than two arms ran or any arm has fewer than `MIN_SIGNUPS` sign-ups;
`leader` when one arm's interval lies wholly above every other arm's; `no_difference_yet` otherwise. So a
winner is never declared on a handful of sign-ups, nor on intervals that overlap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

CONTROL = 0
MIN_SIGNUPS = 30  # per arm, before any leader is named
Z_95 = 1.959963984540054  # two-sided 95% normal quantile
FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193


def fnv1a_32(data: bytes) -> int:
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return h


def bucket(slug: str, visitor_id: str) -> int:
    """The visitor's place in [0, 100) for this campaign (see the module docstring)."""
    return fnv1a_32(f"{slug}:{visitor_id}".encode()) % 100


def assign(slug: str, visitor_id: str | None, variants: Sequence[Any]) -> int:
    """The id of the variant this visitor sees, or CONTROL. `variants`: mappings or objects with `id` and
    `weight`, as listed in `banner.variants` (their id order is used whatever the order given). No visitor
    id: the control."""
    if not visitor_id or not variants:
        return CONTROL
    b = bucket(slug, visitor_id)
    running = 0
    for v in sorted(variants, key=lambda v: _get(v, "id")):
        running += int(_get(v, "weight"))
        if b < running:
            return int(_get(v, "id"))
    return CONTROL


def _get(v: Any, name: str) -> Any:
    return v[name] if isinstance(v, dict) else getattr(v, name)


def wilson(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default); [0, 1] when there were no trials.
    Successes above the trials (sign-ups the widget never showed, e.g. from the paywall) count as trials."""
    if trials <= 0 and successes <= 0:
        return (0.0, 1.0)
    n = max(trials, successes)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Arm:
    id: int
    impressions: int
    clicks: int
    checkouts: int
    signups: int

    @property
    def click_rate(self) -> float | None:
        return self.clicks / self.impressions if self.impressions else None

    @property
    def conversion_rate(self) -> float | None:
        return self.signups / self.impressions if self.impressions else None

    @property
    def interval(self) -> tuple[float, float]:
        """95% Wilson interval of the conversion rate (sign-ups per impression)."""
        return wilson(self.signups, self.impressions)

    @property
    def click_interval(self) -> tuple[float, float]:
        return wilson(self.clicks, self.impressions)


def verdict(arms: Sequence[Arm], min_signups: int = MIN_SIGNUPS) -> tuple[str, int | None]:
    """(`leader` | `no_difference_yet` | `too_early`, the leading arm's id or None); see the module docstring."""
    if len(arms) < 2 or any(a.signups < min_signups for a in arms):
        return "too_early", None
    best = max(arms, key=lambda a: (a.interval[0], -a.id))
    if all(best.interval[0] > other.interval[1] for other in arms if other is not best):
        return "leader", best.id
    return "no_difference_yet", None


def first_arm(subscriptions: Sequence[tuple[Any, int]]) -> int | None:
    """A member's arm: that of their earliest subscription carrying one ((sort key, variant id) pairs, e.g.
    (Stripe creation time, id)), like their other checkout attribution (members/status.py)."""
    return min(subscriptions, key=lambda s: s[0])[1] if subscriptions else None
