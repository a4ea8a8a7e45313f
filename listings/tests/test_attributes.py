import pytest

from core.errors import ValidationError
from listings.attributes import (
    attribute_declaration_check,
    parse_attribute_filters,
    validate_attributes,
)
from listings.selectors import category_attributes_for

pytestmark = pytest.mark.django_db


def test_cars_accept_valid_values_and_normalise_types(tree):
    # given form-style string values for a car
    data = {"make": "Toyota", "model": "  Camry  ", "year": "2018", "mileage": "90 000"}
    # when validated
    cleaned = validate_attributes(tree["cars"], data)
    # then they come back typed and tidied, blanks dropped
    assert cleaned == {
        "make": "Toyota",
        "model": "Camry",
        "year": 2018,
        "mileage": 90000,
    }


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"year": 2018}, "attr_make", "Make is required."),
        ({"make": "Tesla", "year": 2018}, "attr_make", "Make: choose one of"),
        ({"make": "Kia", "year": 1800}, "attr_year", "Year: must be at least 1950."),
        ({"make": "Kia", "year": "new"}, "attr_year", "Year: enter a whole number."),
        ({"make": "Kia", "year": 2018, "mileage": -1}, "attr_mileage", "at least 0"),
        ({"make": "Kia", "year": 2018, "mileage": 2.5}, "attr_mileage", "whole"),
        ({"make": "Kia", "year": 2018, "colour": "red"}, "attr_colour", "no attribute"),
    ],
)
def test_cars_reject_bad_values(tree, data, field, message):
    with pytest.raises(ValidationError) as exc:
        validate_attributes(tree["cars"], data)
    assert exc.value.field == field
    assert message in exc.value.message


def test_year_cannot_be_after_next_year(tree):
    from django.utils import timezone

    next_year = timezone.now().year + 1
    assert validate_attributes(tree["cars"], {"make": "Kia", "year": next_year}) == {
        "make": "Kia",
        "year": next_year,
    }
    with pytest.raises(ValidationError) as exc:
        validate_attributes(tree["cars"], {"make": "Kia", "year": next_year + 1})
    assert exc.value.field == "attr_year"


def test_apartments_inherit_real_estate_declarations(tree):
    # given the apartments category, which declares nothing of its own
    names = [a.name for a in category_attributes_for(tree["apartments"])]
    assert names == ["deal", "rooms", "floor_area", "furnished"]
    # when validating form values, then the boolean and numbers are typed
    cleaned = validate_attributes(
        tree["apartments"],
        {"deal": "rent", "rooms": "2", "floor_area": "54", "furnished": "on"},
    )
    assert cleaned == {"deal": "rent", "rooms": 2, "floor_area": 54, "furnished": True}


def test_boolean_rejects_other_words(tree):
    with pytest.raises(ValidationError) as exc:
        validate_attributes(
            tree["apartments"], {"deal": "rent", "rooms": 1, "furnished": "maybe"}
        )
    assert exc.value.field == "attr_furnished"


def test_phones_require_brand_and_check_storage(tree):
    assert validate_attributes(tree["phones"], {"brand": "Apple", "storage": ""}) == {
        "brand": "Apple"
    }
    with pytest.raises(ValidationError) as exc:
        validate_attributes(tree["phones"], {"brand": "Apple", "storage": "3 GB"})
    assert exc.value.field == "attr_storage"


def test_category_without_declarations_takes_no_attributes(tree):
    assert validate_attributes(tree["books"], {}) == {}
    with pytest.raises(ValidationError):
        validate_attributes(tree["books"], {"author": "Abai"})


def test_attribute_filters_parse_ranges_and_choices(tree):
    filters = parse_attribute_filters(
        tree["cars"],
        {"attr_year_min": "2015", "attr_mileage_max": "100000", "attr_fuel": "petrol"},
    )
    assert filters == {
        "year": {"min": 2015},
        "mileage": {"max": 100000},
        "fuel": "petrol",
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"attr_fuel": "coal"}, "attr_fuel"),
        ({"attr_colour": "red"}, "attr_colour"),
        ({"attr_fuel_min": "1"}, "attr_fuel_min"),
        ({"attr_year_min": "2020", "attr_year_max": "2010"}, "attr_year_min"),
        # A bad bound names the parameter typed, not the attribute.
        ({"attr_year_min": "old"}, "attr_year_min"),
        ({"attr_mileage_max": "-1"}, "attr_mileage_max"),
        # Exact and a range of the same attribute: neither may be dropped.
        ({"attr_year": "2017", "attr_year_min": "2019"}, "attr_year_min"),
        ({"attr_year": "2017", "attr_year_max": "2019"}, "attr_year_max"),
    ],
)
def test_attribute_filters_reject_bad_input(tree, data, field):
    with pytest.raises(ValidationError) as exc:
        parse_attribute_filters(tree["cars"], data)
    assert exc.value.field == field


def test_attribute_filters_need_a_category(tree):
    with pytest.raises(ValidationError) as exc:
        parse_attribute_filters(None, {"attr_year_min": "2015"})
    assert exc.value.field == "attr_year_min"


def test_declaration_check():
    assert attribute_declaration_check(
        type="choice", choices=[" a ", "b"], min_value=None, max_value=None
    ) == ["a", "b"]
    with pytest.raises(ValidationError):
        attribute_declaration_check(
            type="choice", choices=[], min_value=None, max_value=None
        )
    with pytest.raises(ValidationError):
        attribute_declaration_check(type="number", choices=[], min_value=5, max_value=1)


def test_a_number_without_declared_bounds_still_fits_an_sql_integer(tree):
    # An unbounded number attribute took 10**30, which then broke every
    # search of the category on PostgreSQL (the filter casts to integer).
    from listings.attributes import NUMBER_MAX, attribute_bounds
    from listings.models import AttributeType, CategoryAttribute

    seats = CategoryAttribute.objects.create(
        category=tree["cars"], name="seats", label="Seats", type=AttributeType.NUMBER
    )
    assert attribute_bounds(seats) == (-(2**31), 2**31 - 1)
    base = {"make": "Kia", "year": 2018}
    assert validate_attributes(tree["cars"], {**base, "seats": NUMBER_MAX})["seats"]
    with pytest.raises(ValidationError) as exc:
        validate_attributes(tree["cars"], {**base, "seats": 10**30})
    assert exc.value.field == "attr_seats"
    assert exc.value.message == f"Seats: must be at most {NUMBER_MAX}."
    with pytest.raises(ValidationError):
        parse_attribute_filters(tree["cars"], {"attr_seats_min": str(10**30)})


def test_text_attributes_refuse_the_nul_character(tree):
    # PostgreSQL cannot store it in jsonb: this was a 500 through the API.
    with pytest.raises(ValidationError) as exc:
        validate_attributes(
            tree["cars"], {"make": "Kia", "year": 2018, "model": "Rio\x00"}
        )
    assert exc.value.field == "attr_model"
