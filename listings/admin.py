"""Moderation in the admin: thin adapters over listings.services."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils.html import format_html

from core.errors import DomainError
from listings import services
from listings.attributes import attribute_declaration_check
from listings.models import Category, CategoryAttribute, Listing, ListingImage
from listings.selectors import category_tree_invalidate
from listings.services.categories import (
    category_attribute_type_check,
    category_parent_check,
    category_slug_check,
)

# --- Categories -----------------------------------------------------------------


class CategoryAttributeForm(forms.ModelForm):
    class Meta:
        model = CategoryAttribute
        fields = [
            "name",
            "label",
            "type",
            "choices",
            "unit",
            "is_required",
            "is_filterable",
            "min_value",
            "max_value",
            "order",
        ]

    def clean(self):
        data = super().clean()
        if self.errors or data.get("DELETE"):
            return data
        try:
            data["choices"] = attribute_declaration_check(
                type=data.get("type"),
                choices=data.get("choices") or [],
                min_value=data.get("min_value"),
                max_value=data.get("max_value"),
            )
            category_attribute_type_check(
                pk=self.instance.pk, name=data.get("name"), type=data.get("type")
            )
        except DomainError as exc:
            field = exc.field if exc.field in self.fields else None
            self.add_error(field, exc.message)
        return data


class CategoryAttributeInline(admin.TabularInline):
    model = CategoryAttribute
    form = CategoryAttributeForm
    extra = 0
    ordering = ("order", "pk")


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["parent", "name", "slug", "icon", "order", "is_active"]

    def clean(self):
        data = super().clean()
        try:
            category_parent_check(
                category=self.instance if self.instance.pk else None,
                parent=data.get("parent"),
            )
        except DomainError as exc:
            self.add_error("parent", exc.message)
        if "name" in data and "slug" in data:
            # The service slugifies and checks the slug on save: say it here,
            # as a form error, not as a 500 from save_model.
            try:
                data["slug"] = category_slug_check(
                    category=self.instance if self.instance.pk else None,
                    slug=data["slug"],
                    name=data["name"],
                )
            except DomainError as exc:
                self.add_error("slug", exc.message)
        return data


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = ("name", "parent", "slug", "icon", "order", "is_active", "path")
    list_editable = ("order", "is_active")
    list_filter = ("is_active", ("parent", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("path", "order")
    list_select_related = ("parent",)
    inlines = [CategoryAttributeInline]

    def save_model(self, request, obj, form, change):
        services.category_save(
            category=obj,
            parent=obj.parent,
            name=obj.name,
            slug=obj.slug,
            icon=obj.icon,
            order=obj.order,
            is_active=obj.is_active,
        )

    def save_formset(self, request, form, formset, change):
        attributes = formset.save(commit=False)
        for attribute in formset.deleted_objects:
            services.category_attribute_delete(attribute=attribute)
        for attribute in attributes:
            services.category_attribute_save(attribute=attribute)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(category_tree_invalidate)


# --- Listings -------------------------------------------------------------------


class ListingImageInline(admin.TabularInline):
    model = ListingImage
    extra = 0
    can_delete = False
    fields = ("preview", "position", "width", "height", "created_at")
    readonly_fields = fields
    ordering = ("position", "pk")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Photo")
    def preview(self, image):
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="" '
            'style="height:90px;border-radius:4px"></a>',
            image.image.url,
            image.thumbnail.url,
        )


class ModerationReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=2000,
        help_text="Sent to each owner with the decision.",
    )


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = (
        "cover_preview",
        "title",
        "owner",
        "category",
        "city",
        "price_display",
        "status",
        "published_at",
        "created_at",
    )
    list_display_links = ("cover_preview", "title")
    list_filter = (
        "status",
        ("category", admin.RelatedOnlyFieldListFilter),
        "city",
        ("created_at", admin.DateFieldListFilter),
        ("published_at", admin.DateFieldListFilter),
    )
    search_fields = ("=id", "title", "description", "owner__email", "city")
    date_hierarchy = "created_at"
    list_select_related = ("owner", "category")
    list_per_page = 50
    actions = ["approve_listings", "reject_listings", "hide_listings"]
    inlines = [ListingImageInline]
    # Content is the owner's; moderators decide through the actions above.
    readonly_fields = (
        "owner",
        "category",
        "title",
        "description",
        "price",
        "currency",
        "is_negotiable",
        "condition",
        "city",
        "location",
        "attributes",
        "status",
        "rejection_reason",
        "created_at",
        "updated_at",
        "published_at",
        "expires_at",
        "bumped_at",
        "featured_until",
        "top_until",
        "view_count",
        "favourite_count",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("images")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting goes through the owner (files are removed with the row);
        # moderators hide instead.
        return False

    @admin.display(description="Photo")
    def cover_preview(self, listing):
        cover = listing.cover
        if cover is None:
            return "—"
        return format_html(
            '<img src="{}" alt="" style="height:48px;border-radius:4px">',
            cover.thumbnail.url,
        )

    @admin.display(description="Price", ordering="price")
    def price_display(self, listing):
        return listing.price_display

    def _moderate(self, request, queryset, action, reason=""):
        done, failed = 0, []
        for listing in queryset.order_by("pk"):
            try:
                services.listing_moderate(
                    listing=listing,
                    moderator=request.user,
                    action=action,
                    reason=reason,
                )
                done += 1
            except DomainError as exc:
                failed.append(f"#{listing.pk}: {exc.message}")
        if done:
            messages.success(request, f"{action.capitalize()}: {done} listing(s).")
        for failure in failed:
            messages.warning(request, failure)

    def _moderate_with_reason(self, request, queryset, action, title):
        if "apply" in request.POST:
            form = ModerationReasonForm(request.POST)
            if form.is_valid():
                self._moderate(request, queryset, action, form.cleaned_data["reason"])
                return None
        else:
            form = ModerationReasonForm()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "listings": queryset,
            "action": request.POST.get("action"),
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/listings/listing/moderation_reason.html", context
        )

    @admin.action(description="Approve selected listings", permissions=["change"])
    def approve_listings(self, request, queryset):
        self._moderate(request, queryset, "approve")

    @admin.action(description="Reject selected listings…", permissions=["change"])
    def reject_listings(self, request, queryset):
        return self._moderate_with_reason(
            request, queryset, "reject", "Reject listings: tell the owners why"
        )

    @admin.action(description="Hide selected listings…", permissions=["change"])
    def hide_listings(self, request, queryset):
        return self._moderate_with_reason(
            request, queryset, "hide", "Hide listings: tell the owners why"
        )
