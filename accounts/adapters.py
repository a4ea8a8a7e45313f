from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings

from accounts.validators import clean_display_name


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return getattr(settings, "ACCOUNT_ALLOW_SIGNUP", True)

    def clean_email(self, email):
        # Every allauth form that takes an address passes here (sign-up, adding
        # an address, password reset; pages and headless API alike). A longer
        # address than the column holds was cut to fit on sign-up (an account
        # for another, truncated address) and was a 500 on PostgreSQL when
        # added on the e-mail page.
        from accounts.models import User

        max_length = User._meta.get_field("email").max_length
        if len(email) > max_length:
            raise forms.ValidationError(
                f"An e-mail address has at most {max_length} characters.",
                code="max_length",
            )
        return super().clean_email(email)

    def save_user(self, request, user, form, commit=True):
        # The display name asked for by SignupExtraForm (page and app API),
        # already validated by the form.
        display_name = form.cleaned_data.get("display_name") or ""
        if display_name:
            user.display_name = clean_display_name(display_name)
        return super().save_user(request, user, form, commit=commit)
