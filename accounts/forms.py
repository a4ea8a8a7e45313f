"""Page forms of the accounts app. They validate and hand over to services."""

from django import forms

from accounts import validators
from core import errors


def _as_form_error(check, value):
    try:
        return check(value)
    except errors.ValidationError as exc:
        raise forms.ValidationError(exc.message) from exc


class SignupExtraForm(forms.Form):
    """What allauth's sign-up form (page and app API) asks besides e-mail and
    password; `AccountAdapter.save_user` stores it."""

    display_name = forms.CharField(
        label="Your name",
        max_length=80,
        help_text="Shown to buyers and sellers on your listings and profile.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def clean_display_name(self):
        return _as_form_error(
            validators.clean_display_name, self.cleaned_data["display_name"]
        )

    def signup(self, request, user):
        """allauth's hook after the user is saved; the adapter did the work."""


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        label="Display name",
        max_length=80,
        help_text="Shown on your listings and public profile.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label="Phone",
        max_length=32,
        required=False,
        help_text="Only shown to people you deal with, e.g. +7 701 234 5678.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    city = forms.CharField(label="City", max_length=80, required=False)
    bio = forms.CharField(
        label="About you",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    avatar = forms.FileField(
        label="Profile picture",
        required=False,
        help_text="JPEG, PNG or WebP. We crop it to a square and remove metadata.",
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    remove_avatar = forms.BooleanField(label="Remove my picture", required=False)
    lat = forms.FloatField(
        label="Latitude",
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    lng = forms.FloatField(
        label="Longitude",
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )

    @classmethod
    def initial_for(cls, user) -> dict:
        location = user.home_location
        return {
            "display_name": user.display_name,
            "phone": user.phone,
            "city": user.city,
            "bio": user.bio,
            "lat": round(location.y, 6) if location else None,
            "lng": round(location.x, 6) if location else None,
        }

    def clean_display_name(self):
        return _as_form_error(
            validators.clean_display_name, self.cleaned_data["display_name"]
        )

    def clean_phone(self):
        return _as_form_error(validators.clean_phone, self.cleaned_data["phone"])

    def clean(self):
        cleaned = super().clean()
        lat, lng = cleaned.get("lat"), cleaned.get("lng")
        if "lat" in cleaned and "lng" in cleaned and (lat is None) != (lng is None):
            self.add_error(
                "lng" if lng is None else "lat",
                "Enter both latitude and longitude, or leave both empty.",
            )
        if cleaned.get("avatar") and cleaned.get("remove_avatar"):
            self.add_error(
                "remove_avatar", "Upload a new picture or remove it, not both."
            )
        return cleaned

    def service_kwargs(self) -> dict:
        """The cleaned data as `services.user_profile_update` takes it."""
        data = self.cleaned_data
        location = None
        if data["lat"] is not None and data["lng"] is not None:
            location = (data["lat"], data["lng"])
        return {
            "display_name": data["display_name"],
            "phone": data["phone"],
            "city": data["city"],
            "bio": data["bio"],
            "location": location,
            "avatar": data["avatar"],
            "remove_avatar": data["remove_avatar"],
        }
