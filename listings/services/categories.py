"""The category tree and its attribute declarations."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from core.errors import ValidationError
from listings.attributes import attribute_declaration_check
from listings.models import (
    Category,
    CategoryAttribute,
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


@transaction.atomic
def category_attribute_save(*, attribute: CategoryAttribute) -> CategoryAttribute:
    """Create or change an attribute declaration after checking it."""
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
