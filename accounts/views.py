from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.models import User


def profile(request, pk):
    seller = get_object_or_404(User, pk=pk, is_active=True)
    return render(request, "accounts/profile.html", {"seller": seller})


@login_required
def settings_view(request):
    return render(request, "accounts/settings.html")


@login_required
def notifications(request):
    items = selectors.notification_list(user=request.user)[:100]
    return render(request, "accounts/notifications.html", {"notifications": items})


@login_required
@require_POST
def notifications_mark_read(request):
    services.notification_mark_read(user=request.user, pk=request.POST.get("pk"))
    messages.success(request, "Marked as read.")
    return redirect("accounts:notifications")
