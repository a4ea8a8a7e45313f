"""django-filter pieces shared by the API's filter sets."""

import django_filters
from django import forms

TRUE_VALUES = {"true", "1", "yes", "on"}
FALSE_VALUES = {"false", "0", "no", "off"}


class StrictNullBooleanField(forms.Field):
    """true/false (or 1/0, yes/no, on/off); empty means "no filter"; anything
    else is an error. django-filter's NullBooleanField read every unknown
    value (`?is_read=banana`) as "no filter" and answered the whole list."""

    default_error_messages = {"invalid": "Answer true or false."}

    def to_python(self, value):
        if value is None:
            return None
        text = str(value).strip().lower()
        if text == "":
            return None
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictNullBooleanField
