from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from accounts.validators import clean_display_name


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return getattr(settings, "ACCOUNT_ALLOW_SIGNUP", True)

    def save_user(self, request, user, form, commit=True):
        # The display name asked for by SignupExtraForm (page and app API),
        # already validated by the form.
        display_name = form.cleaned_data.get("display_name") or ""
        if display_name:
            user.display_name = clean_display_name(display_name)
        return super().save_user(request, user, form, commit=commit)
