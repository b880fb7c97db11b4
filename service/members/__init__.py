"""Members and their subscriptions: who is a member, and until when."""


def init_app(app) -> None:  # noqa: ANN001
    """Members have no routes of their own: payments write them, the paywall and staff read them."""
