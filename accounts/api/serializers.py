from rest_framework import serializers

from accounts.models import User


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "display_name",
            "phone",
            "city",
            "bio",
            "is_verified",
            "date_joined",
        ]
        read_only_fields = fields
