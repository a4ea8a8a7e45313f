"""Fixtures of the listings page tests: a small catalogue and photo files."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from listings.models import AttributeType, CategoryAttribute
from listings.selectors import category_tree_invalidate
from listings.tests.factories import CategoryFactory


def jpeg_upload(name="photo.jpg", size=(64, 48), color=(139, 94, 60)):
    """A real little JPEG, as a browser would upload it."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def catalogue(db):
    """Vehicles > Cars (with mileage, year, fuel, has_warranty) and Electronics."""
    vehicles = CategoryFactory(name="Vehicles", slug="vehicles", icon="🚗")
    cars = CategoryFactory(name="Cars", slug="cars", parent=vehicles)
    electronics = CategoryFactory(name="Electronics", slug="electronics")
    CategoryAttribute.objects.create(
        category=cars,
        name="mileage",
        label="Mileage",
        type=AttributeType.NUMBER,
        unit="km",
        is_required=True,
        min_value=0,
        max_value=2_000_000,
        order=1,
    )
    CategoryAttribute.objects.create(
        category=cars, name="year", label="Year", type=AttributeType.YEAR, order=2
    )
    CategoryAttribute.objects.create(
        category=cars,
        name="fuel",
        label="Fuel",
        type=AttributeType.CHOICE,
        choices=["petrol", "diesel", "electric"],
        order=3,
    )
    CategoryAttribute.objects.create(
        category=cars,
        name="has_warranty",
        label="Under warranty",
        type=AttributeType.BOOLEAN,
        order=4,
    )
    category_tree_invalidate()
    return {"vehicles": vehicles, "cars": cars, "electronics": electronics}
