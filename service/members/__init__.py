"""Members and their subscriptions: who is a member, and until when."""


def init_app(app) -> None:  # noqa: ANN001
    """Members have no routes of their own: payments and the paywall write them through records.py;
    campaigns, the paywall and staff read them."""
