from django import forms

from accounts.models import MANDATORY_EMAIL_KINDS, NotificationKind
from accounts.selectors_notifications import notification_frequency_choices


class NotificationPreferencesForm(forms.Form):
    """One e-mail frequency per notification kind."""

    def __init__(self, *args, preferences: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in NotificationKind.choices:
            self.fields[kind] = forms.ChoiceField(
                label=label,
                choices=notification_frequency_choices(kind),
                initial=preferences[kind],
                widget=forms.RadioSelect,
                help_text=(
                    "Always e-mailed: it may concern your account's security."
                    if kind in MANDATORY_EMAIL_KINDS
                    else ""
                ),
            )
