"""What an OPTIONS request to the API answers."""

from rest_framework.metadata import SimpleMetadata


class SchemaMetadata(SimpleMetadata):
    """The view's name, description and media types, without DRF's `actions`.

    DRF's `actions` describe `serializer_class`, which here is the output
    serializer (inputs have serializers of their own), and to build them DRF
    fetches the object for PUT, which broke on views without a lookup (500 on
    OPTIONS /me/avatar/). The fields of every operation are in the OpenAPI
    schema at /api/schema/.
    """

    def determine_actions(self, request, view):
        return {}
