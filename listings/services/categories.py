"""The category tree and its attribute declarations."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from core.errors import ValidationError
from listings.attributes import attribute_declaration_check
from listings.models import (
    AttributeType,
    Category,
    CategoryAttribute,
    Listing,
)
from listings.selectors import (
    category_tree_invalidate,
)
from listings.services._common import (
    _clean_text,
)

CATEGORY_MAX_DEPTH = 5


def category_parent_check(*, category: Category | None, parent: Category | None):
    """Refuse a parent that would make a cycle or a too deep tree."""
    if parent is None:
        return
    if (
        category is not None
        and category.pk
        and (parent.pk == category.pk or parent.path.startswith(category.path))
    ):
        raise ValidationError(
            "A category cannot be inside itself or its descendants.", field="parent"
        )
    if parent.path.count("/") - 1 >= CATEGORY_MAX_DEPTH:
        raise ValidationError("The tree is deep enough here.", field="parent")


@transaction.atomic
def category_slug_check(*, category: Category | None, slug: str, name: str) -> str:
    """The slug `category` gets (the slugified `slug`, or of `name` when
    blank); ValidationError on `slug` when nothing of it is left (`___`) or
    another category has it (`CARS` where `cars` exists)."""
    slug = slugify(slug or name)[:100]
    if not slug:
        raise ValidationError(
            "Enter a slug of letters, digits or dashes.", field="slug"
        )
    clash = Category.objects.filter(slug=slug)
    if category is not None and category.pk:
        clash = clash.exclude(pk=category.pk)
    if clash.exists():
        raise ValidationError("Another category has this slug.", field="slug")
    return slug


def category_save(
    *,
    category: Category | None = None,
    parent: Category | None = None,
    name: str,
    slug: str = "",
    icon: str = "",
    order: int = 0,
    is_active: bool = True,
) -> Category:
    """Create or change a category and keep the materialized paths of it and
    its descendants right."""
    name = _clean_text(name, field="name", max_length=100)
    slug = category_slug_check(category=category, slug=slug, name=name)
    category_parent_check(category=category, parent=parent)
    category = category or Category()
    old_path = category.path if category.pk else ""
    category.parent = parent
    category.name = name
    category.slug = slug
    category.icon = (icon or "")[:32]
    category.order = max(int(order or 0), 0)
    category.is_active = bool(is_active)
    category.save()
    new_path = f"{parent.path if parent else '/'}{category.pk}/"
    if new_path != category.path:
        Category.objects.filter(pk=category.pk).update(path=new_path)
        category.path = new_path
        if old_path:
            for child in Category.objects.filter(path__startswith=old_path).exclude(
                pk=category.pk
            ):
                child.path = new_path + child.path[len(old_path) :]
                Category.objects.filter(pk=child.pk).update(path=child.path)
    transaction.on_commit(category_tree_invalidate)
    return category


# Types whose stored values read the same: whole numbers either way.
_COMPATIBLE_TYPES = {AttributeType.NUMBER, AttributeType.YEAR}


def category_attribute_type_check(*, pk: int | None, name: str, type: str) -> None:
    """Refuse changing the type or the name of the declared attribute `pk`
    once listings (of its category or below) have filled it in: their stored
    values would no longer fit it (a number filter would cast stored text, a
    renamed attribute would lose them). Declare a new attribute instead."""
    if not pk:
        return
    old = (
        CategoryAttribute.objects.filter(pk=pk)
        .values("type", "name", "category__path")
        .first()
    )
    if old is None:
        return
    same_type = old["type"] == type or {old["type"], type} <= _COMPATIBLE_TYPES
    if same_type and old["name"] == name:
        return
    stored = Listing.objects.filter(
        category__path__startswith=old["category__path"],
        attributes__has_key=old["name"],
    )
    if stored.exists():
        raise ValidationError(
            f"Listings already store values of “{old['name']}” as "
            f"{AttributeType(old['type']).label.lower()}: its name and type "
            "cannot change. Add a new attribute instead.",
            field="type" if not same_type else "name",
        )


@transaction.atomic
def category_attribute_save(*, attribute: CategoryAttribute) -> CategoryAttribute:
    """Create or change an attribute declaration after checking it."""
    category_attribute_type_check(
        pk=attribute.pk, name=attribute.name, type=attribute.type
    )
    attribute.choices = attribute_declaration_check(
        type=attribute.type,
        choices=attribute.choices,
        min_value=attribute.min_value,
        max_value=attribute.max_value,
    )
    clash = CategoryAttribute.objects.filter(
        category_id=attribute.category_id, name=attribute.name
    ).exclude(pk=attribute.pk)
    if clash.exists():
        raise ValidationError("This category already has that attribute.", field="name")
    attribute.save()
    transaction.on_commit(category_tree_invalidate)
    return attribute


@transaction.atomic
def category_attribute_delete(*, attribute: CategoryAttribute) -> None:
    """Remove an attribute declaration (listings keep stored values until edited)."""
    attribute.delete()
    transaction.on_commit(category_tree_invalidate)
