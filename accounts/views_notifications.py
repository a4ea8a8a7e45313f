"""Pages for notifications: the list, opening one, preferences, unsubscribe."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors_notifications as selectors
from accounts import services_notifications as services
from accounts.forms_notifications import NotificationPreferencesForm
from accounts.models import NotificationKind
from core.errors import DomainError, NotFound, ValidationError
from core.pages import add_error_to_form

PAGE_SIZE = 20


def _local_url(request, url: str) -> str | None:
    """`url` when it is a path on this site, else None (no open redirects)."""
    if (
        url
        and url.startswith("/")
        and not url.startswith("//")
        and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return url
    return None


def _masked(email: str) -> str:
    """d***@example.com: enough for the owner to recognise, little to others."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


@login_required
@require_GET
def notifications(request):
    unread_only = request.GET.get("filter") == "unread"
    qs = selectors.notification_list(user=request.user, unread_only=unread_only)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/notifications.html",
        {"page": page, "notifications": page.object_list, "unread_only": unread_only},
    )


@login_required
@require_GET
def notification_open(request, pk):
    """Follow a notification: mark it read and go where it points."""
    try:
        notification = services.notification_mark_read(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from None
    return redirect(_local_url(request, notification.url) or "accounts:notifications")


@login_required
@require_POST
def notifications_mark_read(request):
    """Mark one notification read (`pk` posted) or all of them (no `pk`)."""
    pk = request.POST.get("pk")
    if pk:
        try:
            services.notification_mark_read(user=request.user, pk=pk)
        except NotFound as exc:
            raise Http404(exc.message) from None
    else:
        count = services.notification_mark_all_read(user=request.user)
        messages.success(
            request,
            f"Marked {count} notification{'s' if count != 1 else ''} as read."
            if count
            else "You have no unread notifications.",
        )
    return redirect(
        _local_url(request, request.POST.get("next", "")) or "accounts:notifications"
    )


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    preferences = selectors.notification_preferences_get(user=request.user)
    form = NotificationPreferencesForm(request.POST or None, preferences=preferences)
    if request.method == "POST" and form.is_valid():
        try:
            services.notification_preferences_update(
                user=request.user, frequencies=form.cleaned_data
            )
        except DomainError as exc:
            add_error_to_form(form, exc)
        else:
            messages.success(request, "Your notification settings are saved.")
            return redirect("accounts:notification_settings")
    return render(
        request,
        "accounts/notification_settings.html",
        {
            "form": form,
            "can_receive_email": selectors.user_can_receive_email(user=request.user),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@csrf_exempt  # the signed token is the credential; mail clients POST one-click
@never_cache
@require_http_methods(["GET", "POST"])
def notifications_unsubscribe(request, token):
    """GET: confirm page; POST: unsubscribe. No login needed (RFC 8058)."""
    try:
        if request.method == "POST":
            user, kinds = services.notification_unsubscribe(token=token)
        else:
            user, kinds = selectors.notification_unsubscribe_target(token=token)
    except ValidationError as exc:
        return render(
            request,
            "accounts/notification_unsubscribe_invalid.html",
            {"message": exc.message},
            status=400,
        )
    labels = dict(NotificationKind.choices)
    return render(
        request,
        "accounts/notification_unsubscribe.html",
        {
            "done": request.method == "POST",
            "email": _masked(user.email),
            "kind_labels": [labels[k] for k in kinds],
            "token": token,
        },
    )
