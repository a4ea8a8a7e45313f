"""Page forms of the listings app: they parse input; services decide."""

import json
from decimal import Decimal

from django import forms
from django.conf import settings

from core.errors import ValidationError as DomainValidationError
from listings import selectors
from listings.attributes import attribute_bounds
from listings.cities import CITIES
from listings.models import AttributeType, Category, Condition, SavedSearch
from listings.pricing import price_major_to_minor
from listings.services import (
    DESCRIPTION_MAX_LENGTH,
    DESCRIPTION_MIN_LENGTH,
    TITLE_MAX_LENGTH,
    TITLE_MIN_LENGTH,
)

ATTRIBUTE_PREFIX = "attr_"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos from one `<input type=file multiple>`: their number and
    sizes are checked here; whether each is an image the service decides
    (`core.images`, as for the API), so the page gets the same specific
    reason (too many pixels, damaged, not JPEG/PNG/WebP)."""

    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            files = [upload for upload in data if upload]
        else:
            files = [data] if data else []
        max_files = settings.LISTING_MAX_IMAGES
        max_bytes = settings.LISTING_IMAGE_MAX_BYTES
        if len(files) > max_files:
            raise forms.ValidationError(
                f"Upload at most {max_files} photos.", code="too_many"
            )
        cleaned = []
        for upload in files:
            if upload.size > max_bytes:
                raise forms.ValidationError(
                    f"“{upload.name}” is larger than {max_bytes // (1024 * 1024)} MB.",
                    code="too_large",
                )
            cleaned.append(super().clean(upload, initial))
        if self.required and not cleaned:
            raise forms.ValidationError(self.error_messages["required"])
        return cleaned


def category_choices() -> list:
    """Leaf categories (listings go there), grouped under their top category."""
    choices: list = []

    def leaves(node, trail):
        if not node.children:
            return [(str(node.id), " \u203a ".join([*trail, node.name]))]
        found = []
        for child in node.children:
            found += leaves(child, [*trail, node.name])
        return found

    for root in selectors.category_tree():
        if root.children:
            group = []
            for child in root.children:
                group += leaves(child, [])
            choices.append((root.name, group))
        else:
            choices.append((str(root.id), root.name))
    return choices


def attribute_field(attribute) -> forms.Field:
    """The form field for one category attribute."""
    label = attribute.label + (f" ({attribute.unit})" if attribute.unit else "")
    required = attribute.is_required
    if attribute.type in (AttributeType.NUMBER, AttributeType.YEAR):
        low, high = attribute_bounds(attribute)
        return forms.IntegerField(
            label=label,
            required=required,
            min_value=low,
            max_value=high,
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        )
    if attribute.type == AttributeType.CHOICE:
        options = [(str(choice), str(choice)) for choice in attribute.choices or []]
        return forms.ChoiceField(
            label=label, required=required, choices=[("", "— choose —"), *options]
        )
    if attribute.type == AttributeType.BOOLEAN:
        return forms.TypedChoiceField(
            label=label,
            required=required,
            choices=[("", "—"), ("true", "Yes"), ("false", "No")],
            coerce=lambda value: value == "true",
            empty_value=None,
        )
    return forms.CharField(label=label, required=required, max_length=200)


class PageForm(forms.Form):
    """Labels without the trailing colon, as the site design shows them."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ListingForm(PageForm):
    """Post or edit a listing; attribute fields follow the chosen category."""

    category = forms.TypedChoiceField(label="Category", coerce=int)
    title = forms.CharField(
        label="Title",
        max_length=TITLE_MAX_LENGTH,
        min_length=TITLE_MIN_LENGTH,
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. iPhone 13, 128 GB, blue", "autocomplete": "off"}
        ),
    )
    description = forms.CharField(
        label="Description",
        max_length=DESCRIPTION_MAX_LENGTH,
        min_length=DESCRIPTION_MIN_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Condition, what is included, why you sell it.",
    )
    price = forms.DecimalField(
        label="Price",
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    is_negotiable = forms.BooleanField(label="Price is negotiable", required=False)
    condition = forms.ChoiceField(
        label="Condition", choices=Condition.choices, widget=forms.RadioSelect
    )
    currency = forms.ChoiceField(label="Currency")
    city = forms.ChoiceField(label="City")
    lat = forms.FloatField(
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.HiddenInput,
    )
    lng = forms.FloatField(
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.HiddenInput,
    )
    photos = MultiplePhotoField(
        label="Photos",
        help_text="JPEG, PNG or WebP, up to 10 MB each. The first photo is the cover.",
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )

    def __init__(self, *args, listing=None, **kwargs):
        self.listing = listing
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            ("", "— choose a category —"),
            *category_choices(),
        ]
        currencies = settings.LISTING_CURRENCIES
        self.fields["currency"].choices = [(code, code) for code in currencies]
        self.fields["currency"].initial = currencies[0]
        if len(currencies) == 1:
            self.fields["currency"].widget = forms.HiddenInput()
        cities = list(CITIES)
        current_city = (listing.city if listing else "") or self.initial.get("city")
        if current_city and current_city not in cities:
            cities.append(current_city)
        self.fields["city"].choices = [
            ("", "— choose a city —"),
            *((city, city) for city in cities),
        ]
        # The map picker moves to the chosen city (see static/js/listings.js).
        self.fields["city"].widget.attrs["data-centres"] = json.dumps(CITIES)
        if listing is not None:
            self.initial.setdefault("category", listing.category_id)
            self.images = list(listing.images.all())
            self.fields["photo_order"] = forms.CharField(
                required=False, widget=forms.HiddenInput
            )
            self.fields["photo_delete"] = forms.TypedMultipleChoiceField(
                required=False,
                coerce=int,
                choices=[(image.pk, str(image.pk)) for image in self.images],
                widget=forms.CheckboxSelectMultiple,
            )
        else:
            self.images = []
        self.chosen_category = self._chosen_category()
        self.attributes = (
            list(selectors.category_attributes_for(self.chosen_category))
            if self.chosen_category
            else []
        )
        for attribute in self.attributes:
            name = ATTRIBUTE_PREFIX + attribute.name
            self.fields[name] = attribute_field(attribute)
            if listing is not None and attribute.name in (listing.attributes or {}):
                value = listing.attributes[attribute.name]
                if attribute.type == AttributeType.BOOLEAN:
                    value = "true" if value else "false"
                self.initial.setdefault(name, value)

    def _chosen_category(self):
        raw = self.data.get("category") if self.is_bound else None
        if raw in (None, ""):
            raw = self.initial.get("category")
        if self.listing is not None and str(raw) == str(self.listing.category_id):
            return self.listing.category
        try:
            return Category.objects.filter(pk=int(raw), is_active=True).first()
        except (TypeError, ValueError):
            return None

    @property
    def attribute_fields(self):
        return [self[ATTRIBUTE_PREFIX + a.name] for a in self.attributes]

    def clean_category(self):
        pk = self.cleaned_data["category"]
        if self.chosen_category is None or self.chosen_category.pk != pk:
            raise forms.ValidationError("Choose a category from the list.")
        return self.chosen_category

    def clean_price(self):
        try:
            return price_major_to_minor(self.cleaned_data["price"])
        except DomainValidationError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_photo_order(self):
        raw = self.cleaned_data.get("photo_order") or ""
        known = {image.pk for image in self.images}
        order = []
        for part in raw.replace(" ", "").split(","):
            if not part:
                continue
            # Not str.isdigit(): it passes "²", which int() refuses.
            pk = int(part) if part.isascii() and part.isdigit() else None
            if pk not in known:
                raise forms.ValidationError("The photo order names an unknown photo.")
            if pk not in order:
                order.append(pk)
        return order

    def clean(self):
        cleaned = super().clean()
        lat, lng = cleaned.get("lat"), cleaned.get("lng")
        if (lat is None) != (lng is None):
            raise forms.ValidationError("Pick the location on the map again.")
        max_photos = settings.LISTING_MAX_IMAGES
        kept = len(self.images) - len(cleaned.get("photo_delete") or [])
        if kept + len(cleaned.get("photos") or []) > max_photos:
            self.add_error(
                "photos",
                f"A listing can have at most {max_photos} photos.",
            )
        return cleaned

    def listing_fields(self) -> dict:
        """The keyword arguments that `listing_create`/`listing_update` take."""
        data = self.cleaned_data
        attributes = {}
        for attribute in self.attributes:
            value = data.get(ATTRIBUTE_PREFIX + attribute.name)
            if value is None or value == "":
                continue
            attributes[attribute.name] = value
        return {
            "category": data["category"],
            "title": data["title"],
            "description": data["description"],
            "price": data["price"],
            "currency": data["currency"],
            "is_negotiable": data["is_negotiable"],
            "condition": data["condition"],
            "city": data["city"],
            "lat": data.get("lat"),
            "lng": data.get("lng"),
            "attributes": attributes,
        }


class SaveSearchForm(PageForm):
    """The "Save this search" popover of the search page."""

    name = forms.CharField(
        label="Name",
        max_length=120,
        error_messages={
            "required": "Give the search a name (up to 120 characters).",
            "max_length": "Give the search a name (up to 120 characters).",
        },
    )
    query = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.HiddenInput,
        error_messages={
            "max_length": "This search is too long to save; remove some of its filters."
        },
    )
    frequency = forms.ChoiceField(
        label="Notify me",
        choices=SavedSearch.Frequency.choices,
        initial=SavedSearch.Frequency.DAILY,
        error_messages={
            "required": "Choose how often to be notified: instantly or daily.",
            "invalid_choice": "Choose how often to be notified: instantly or daily.",
        },
    )


class SavedSearchFrequencyForm(PageForm):
    frequency = forms.ChoiceField(
        label="Notify me", choices=SavedSearch.Frequency.choices
    )
