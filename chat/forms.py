from django import forms
from django.conf import settings

from chat.models import ReportReason


class MessageForm(forms.Form):
    text = forms.CharField(
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "Write a message…", "autocomplete": "off"}
        ),
        label="Message",
    )
    image = forms.ImageField(required=False, label="Photo")
    # Generated per form render, so a double submit stores one message.
    client_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].max_length = settings.CHAT_MESSAGE_MAX_LENGTH
        self.fields["text"].widget.attrs["maxlength"] = settings.CHAT_MESSAGE_MAX_LENGTH


class ReportForm(forms.Form):
    reason = forms.ChoiceField(choices=ReportReason.choices, widget=forms.RadioSelect)
    details = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What happened? Moderators will read this conversation.",
    )
