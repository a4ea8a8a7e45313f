from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from accounts.models import User


def profile(request, pk):
    seller = get_object_or_404(User, pk=pk, is_active=True)
    return render(request, "accounts/profile.html", {"seller": seller})


@login_required
def settings_view(request):
    return render(request, "accounts/settings.html")
