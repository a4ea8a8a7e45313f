"""The OpenAPI schema: drf-spectacular's, plus the error answers each
operation can give, all in the one shape of `core.api.exceptions`."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers

# Permission classes that never answer 403 to a safe (read) request.
_READ_OPEN = (
    permissions.AllowAny,
    permissions.IsAuthenticated,
    permissions.IsAuthenticatedOrReadOnly,
)


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API (see docs/api.md)."""

    detail = serializers.CharField(
        help_text="What went wrong, for people (the first message if several)."
    )
    code = serializers.CharField(
        help_text="What went wrong, for programs: invalid, not_authenticated, "
        "invalid_token, permission_denied, not_found, method_not_allowed, "
        "conflict, parse_error, unsupported_media_type, ..."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by input field (nested fields as dotted paths, "
        "messages about no field under `non_field_errors`); {} when the error "
        "is not about input fields.",
    )


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `errors` names the fields.",
    "401": "No, invalid or expired access token.",
    "403": "Not allowed, or the token lacks a scope.",
    "404": "Not found (or not yours to see).",
    "409": "The object is not in a state that allows this.",
    "415": "The body's Content-Type (or its absence) is not one the operation "
    "takes: see its request body.",
}


class AutoSchema(SpectacularAutoSchema):
    """Adds the 4xx answers an operation can give, each with the `Error` body:
    400 when it takes input (a body or query parameters), 401 always (a bad
    token is refused even where no login is needed), 403 where a permission
    or a service can refuse, 404 where the path names an object, 409 for
    changes to an object, 415 where it takes a body. Errors an operation
    documents itself keep their description and get the `Error` body when
    they had none (4xx and the 5xx an operation documents alike)."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(
            path, path_regex, path_prefix, method, registry
        )
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._error_codes(operation):
            existing = responses.get(code)
            if existing is not None and existing.get("content"):
                continue
            description = (existing or {}).get("description") or (
                ERROR_DESCRIPTIONS[code]
            )
            responses[code] = self._get_response_for_code(
                OpenApiResponse(ErrorSerializer, description), code
            )
        # A 5xx an operation documents (503 busy) comes from a domain error
        # too, in the same shape.
        for code, existing in list(responses.items()):
            if code[0] in "45" and not existing.get("content"):
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, existing.get("description")),
                    code,
                )
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_codes(self, operation) -> list[str]:
        is_write = self.method not in permissions.SAFE_METHODS
        parameters = operation.get("parameters", [])
        has_query = any(p.get("in") == "query" for p in parameters)
        has_path = any(p.get("in") == "path" for p in parameters)
        codes = ["401"]
        if is_write or has_query or "requestBody" in operation:
            codes.append("400")
        permission_classes = getattr(self.view, "permission_classes", [])
        if is_write or not all(
            issubclass(cls, _READ_OPEN) for cls in permission_classes
        ):
            codes.append("403")
        if has_path:
            codes.append("404")
        if is_write and has_path:
            codes.append("409")
        if "requestBody" in operation:
            codes.append("415")
        return codes
