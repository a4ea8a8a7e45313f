from rest_framework import generics

from accounts.api.serializers import MeSerializer


class MeView(generics.RetrieveAPIView):
    serializer_class = MeSerializer

    def get_object(self):
        return self.request.user
