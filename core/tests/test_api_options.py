"""OPTIONS on the API describes the view; the fields are in the schema."""

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/me/avatar/",
        "/api/v1/notifications/preferences/",
        "/api/v1/me/",
        "/api/v1/listings/",
    ],
)
def test_options_answers_without_fetching_an_object(user_api_client, path):
    # Used to be a 500 on the first two: DRF's metadata fetched "the object"
    # for PUT, and these views have no lookup.
    response = user_api_client.options(path)
    assert response.status_code == 200
    body = response.json()
    assert "actions" not in body
    assert body["renders"] == ["application/json", "text/html"]
