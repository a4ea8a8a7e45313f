from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from accounts import selectors, services
from accounts.forms import ProfileForm
from core.errors import DomainError, NotFound
from core.pages import add_error_to_form


def profile(request, pk):
    """A seller's public profile."""
    try:
        seller = selectors.user_public_get(pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(request, "accounts/profile.html", {"seller": seller})


@login_required
def settings_view(request):
    """Account settings: the profile form and links to security pages."""
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.user_profile_update(user=request.user, **form.service_kwargs())
            except DomainError as exc:
                add_error_to_form(form, exc)
            else:
                messages.success(request, "Your profile is saved.")
                return redirect("accounts:settings")
    else:
        form = ProfileForm(initial=ProfileForm.initial_for(request.user))
    # A refused form is a 400, as on the listing form: the page shows why.
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "accounts/settings.html", {"form": form}, status=status)
