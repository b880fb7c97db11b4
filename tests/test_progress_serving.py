"""One progress document for every surface (service/campaigns/serving.py): the progress JSON, the widget's
fragment and iframe page and the paywall's prompt fill the same cache entry with the same bytes, so a reader
gets the same body and ETag whichever of them asked first."""

import pytest

PROGRESS = "/v1/campaigns/members-25k/progress?locale=uk"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PROGRESS_CACHE_SECONDS": 60.0}


def fill_with_json(app, client):
    assert client.get(PROGRESS).status_code == 200


def fill_with_fragment(app, client):
    assert client.get("/v1/campaigns/members-25k/banner.html?locale=uk").status_code == 200


def fill_with_iframe(app, client):
    assert client.get("/embed/campaigns/members-25k?locale=uk").status_code == 200


def fill_with_paywall_prompt(app, client):
    from service.extensions import db
    from service.paywall.prompts import _banner

    assert _banner(db.session, app.extensions["paywall"], "members-25k", "uk", app.extensions["clock"].now())


FILLERS = [fill_with_json, fill_with_fragment, fill_with_iframe, fill_with_paywall_prompt]


@pytest.mark.parametrize("fill", FILLERS, ids=lambda f: f.__name__)
def test_the_same_request_gets_the_same_bytes_and_etag_whichever_surface_filled_the_entry(
        app, client, demo_campaign, fill):
    cache = app.extensions["progress_cache"]
    reference = client.get(PROGRESS)
    assert "учасник".encode() in reference.data  # UTF-8 as is, not \\u escapes
    cache.clear()

    fill(app, client)
    assert cache.misses == 2 and len(cache.entries) == 1  # the surface filled the entry the JSON then reads
    served = client.get(PROGRESS)
    assert cache.misses == 2
    assert served.data == reference.data
    assert served.headers["ETag"] == reference.headers["ETag"]
    assert client.get(PROGRESS, headers={"If-None-Match": reference.headers["ETag"]}).status_code == 304


def test_the_widget_and_the_paywall_show_what_the_json_says(app, client, demo_campaign):
    fill_with_fragment(app, client)
    banner = client.get(PROGRESS).get_json()["banner"]
    fragment = client.get("/v1/campaigns/members-25k/banner.html?locale=uk").get_data(as_text=True)
    assert banner["headline"] in fragment
    from service.extensions import db
    from service.paywall.prompts import _banner

    assert _banner(db.session, app.extensions["paywall"], "members-25k", "uk-UA", app.extensions["clock"].now()) \
        == banner
