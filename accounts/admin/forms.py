"""The user admin's forms: create, change (role, ban, badge) and the reason
asked by the moderation actions."""

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import User
from accounts.roles import (
    Role,
    check_active_change,
    check_role_change,
    check_verified_change,
    role_of,
)
from core.errors import DomainError
from core.pages import add_error_to_form

MODERATION_FIELDS = ("is_active", "is_verified")


class UserAdminCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserAdminChangeForm(UserChangeForm):
    """The change form: profile fields, plus role/ban/badge checked up front."""

    role = forms.ChoiceField(
        choices=Role.choices,
        help_text="Moderators work in this admin; admins can do everything.",
    )
    reason = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=(
            "Why you change the role, the ban or the badge: required for a ban, "
            "recorded in the audit log."
        ),
    )
    home_lat = forms.FloatField(
        label="Home latitude", required=False, min_value=-90, max_value=90
    )
    home_lng = forms.FloatField(
        label="Home longitude", required=False, min_value=-180, max_value=180
    )
    remove_avatar = forms.BooleanField(
        label="Remove the profile picture",
        required=False,
        help_text="Recorded in the audit log with the reason below.",
    )
    actor = None  # set per request by UserAdmin.get_form

    class Meta:
        model = User
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.instance
        if "role" in self.fields and user.pk:
            self.fields["role"].initial = role_of(user)
        if user.pk and user.home_location:
            self.fields["home_lat"].initial = round(user.home_location.y, 6)
            self.fields["home_lng"].initial = round(user.home_location.x, 6)

    def clean(self):
        cleaned = super().clean()
        user, actor = self.instance, self.actor
        if not user.pk or actor is None:
            return cleaned
        reason = cleaned.get("reason", "")
        lat, lng = cleaned.get("home_lat"), cleaned.get("home_lng")
        if (lat is None) != (lng is None) and not self.has_error("home_lat"):
            self.add_error("home_lng", "Enter both coordinates, or neither.")
        try:
            if "role" in cleaned and cleaned["role"] != role_of(user):
                check_role_change(actor=actor, user=user, role=cleaned["role"])
            if "is_active" in cleaned and cleaned["is_active"] != user.is_active:
                check_active_change(
                    actor=actor,
                    user=user,
                    is_active=cleaned["is_active"],
                    reason=reason,
                )
            if "is_verified" in cleaned and cleaned["is_verified"] != user.is_verified:
                check_verified_change(actor=actor, user=user)
        except DomainError as exc:
            add_error_to_form(self, exc)
        return cleaned


class ModerationReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded in the audit log.",
    )

    def __init__(self, *args, reason_required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
