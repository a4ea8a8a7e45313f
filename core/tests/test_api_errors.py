"""Every error answer of the API has one shape: {"detail", "code", "errors"}."""

import pytest
from django.test import override_settings
from rest_framework import serializers
from rest_framework.exceptions import ValidationError as DRFValidationError

from core import errors
from core.api.exceptions import exception_handler, flatten_errors
from listings.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


def test_missing_credentials_are_401_in_the_one_shape(api_client):
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
        "errors": {},
    }


def test_a_garbage_token_is_401_with_its_own_code(api_client):
    response = api_client.get("/api/v1/me/", headers={"Authorization": "Bearer x.y"})
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "invalid_token"
    assert body["detail"].startswith("Invalid or expired access token")
    assert body["errors"] == {}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_serializer_errors_name_the_fields(user_api_client):
    response = user_api_client.post(
        "/api/v1/listings/",
        {"title": "x", "price": -1, "condition": "mint"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {
        "category",
        "title",  # at least 5 characters
        "description",
        "price",
        "condition",
        "city",
    }
    assert body["errors"]["price"] == [
        "Ensure this value is greater than or equal to 0."
    ]
    assert body["detail"] in {m for ms in body["errors"].values() for m in ms}


def test_nested_errors_are_dotted_paths(user, user_api_client):
    listing = ListingFactory(owner=user)
    response = user_api_client.post(
        f"/api/v1/listings/{listing.pk}/images/reorder/",
        {"image_ids": [1, "x"]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "image_ids.1": ["A valid integer is required."]
    }


def test_malformed_json_is_a_400_parse_error(user_api_client):
    response = user_api_client.generic(
        "POST", "/api/v1/listings/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert response.json()["errors"] == {}


def test_an_unsupported_media_type_is_415(user_api_client):
    response = user_api_client.generic(
        "POST", "/api/v1/listings/", "a=1", content_type="text/csv"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_body_without_a_content_type_is_415(user_api_client):
    response = user_api_client.generic(
        "PUT", "/api/v1/me/avatar/", b"--x\r\n", content_type=""
    )
    assert response.status_code == 415
    assert response.json() == {
        "detail": 'Unsupported media type "" in request.',
        "code": "unsupported_media_type",
        "errors": {},
    }


def test_a_method_the_endpoint_lacks_is_405(user_api_client):
    response = user_api_client.put("/api/v1/me/", {}, format="json")
    assert response.status_code == 405
    assert response.json() == {
        "detail": 'Method "PUT" not allowed.',
        "code": "method_not_allowed",
        "errors": {},
    }


def test_a_path_no_api_route_matches_is_a_json_404(user_api_client):
    # listings/{id} takes digits only: "abc" never reaches a view.
    response = user_api_client.get("/api/v1/listings/abc/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "Not found.",
        "code": "not_found",
        "errors": {},
    }


def test_a_path_no_page_matches_is_still_the_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_domain_errors_keep_their_status_code_and_field():
    response = exception_handler(errors.Conflict("Sold already.", field="status"), {})
    assert response.status_code == 409
    assert response.data == {
        "detail": "Sold already.",
        "code": "conflict",
        "errors": {"status": ["Sold already."]},
    }
    response = exception_handler(errors.Busy(), {})
    assert response.status_code == 503
    assert response["Retry-After"] == "1"


def test_django_validation_errors_become_400_with_fields():
    from django.core.exceptions import ValidationError

    exc = ValidationError({"title": ["Too short."], "__all__": ["Bad pair."]})
    response = exception_handler(exc, {})
    assert response.status_code == 400
    assert response.data == {
        "detail": "Too short.",
        "code": "invalid",
        "errors": {"title": ["Too short."], "non_field_errors": ["Bad pair."]},
    }


def test_flatten_errors_handles_every_drf_nesting():
    class Inner(serializers.Serializer):
        n = serializers.IntegerField()

    class Outer(serializers.Serializer):
        items = Inner(many=True)
        tags = serializers.DictField(child=serializers.IntegerField())

    form = Outer(data={"items": [{"n": 1}, {"n": "x"}], "tags": {"a": "b"}})
    assert not form.is_valid()
    assert flatten_errors(DRFValidationError(form.errors).detail) == {
        "items.1.n": ["A valid integer is required."],
        "tags.a": ["A valid integer is required."],
    }
    assert flatten_errors(["plain"]) == {"non_field_errors": ["plain"]}


@override_settings(DEBUG=False)
def test_the_schema_documents_the_error_shape_on_every_operation(client):
    schema = client.get("/api/schema/?format=json").json()
    error_ref = "#/components/schemas/Error"
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {
        "detail",
        "code",
        "errors",
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "401" in responses, (method, path)
            for code, response in responses.items():
                if code[0] in "45":  # 503 busy is a domain error too
                    content = response["content"]["application/json"]
                    assert content["schema"] == {"$ref": error_ref}, (
                        method,
                        path,
                        code,
                    )
            if "{" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in operation:
                # A body without a Content-Type, or one the operation does
                # not parse, is a 415 (found by tests/test_api_fuzz.py).
                assert "415" in responses, (method, path)
