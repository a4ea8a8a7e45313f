"""User admin for moderators and admins.

Role changes, bans and the verified badge never change fields directly: the
change form, list editing and the actions all go through the services in
`accounts.services`, which check who may do what and write the audit log.
"""

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.template.response import TemplateResponse
from django.utils.html import format_html

from accounts import selectors, services
from accounts.admin.forms import (
    MODERATION_FIELDS,
    ModerationReasonForm,
    UserAdminChangeForm,
    UserAdminCreationForm,
)
from accounts.models import User
from accounts.roles import Role, role_of
from accounts.validators import location_point
from core.errors import DomainError


class RoleFilter(admin.SimpleListFilter):
    title = "role"
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return Role.choices

    def queryset(self, request, queryset):
        if self.value() in Role.values:
            return selectors.user_filter_by_role(queryset, self.value())
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    ordering = ("-date_joined",)
    list_display = (
        "email",
        "display_name",
        "city",
        "role_label",
        "is_verified",
        "is_active",
        "date_joined",
        "last_login",
    )
    list_editable = ("is_verified",)
    list_filter = (
        RoleFilter,
        "is_active",
        "is_verified",
        ("date_joined", admin.DateFieldListFilter),
        "city",
    )
    search_fields = ("email", "display_name", "phone", "city")
    search_help_text = "Search by e-mail, name, phone or city."
    readonly_fields = ("last_login", "date_joined", "role_label", "avatar_preview")
    list_per_page = 50
    actions = [
        "ban_users",
        "unban_users",
        "make_moderators",
        "remove_moderators",
        "grant_verified_badge",
        "remove_verified_badge",
    ]
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return super().get_fieldsets(request, obj)
        role_field = "role" if request.user.is_superuser else "role_label"
        return (
            (None, {"fields": ("email", "password")}),
            (
                "Profile",
                {
                    "fields": (
                        "display_name",
                        "phone",
                        "avatar_preview",
                        "remove_avatar",
                        "city",
                        ("home_lat", "home_lng"),
                        "bio",
                    )
                },
            ),
            (
                "Role and moderation",
                {"fields": (role_field, "is_active", "is_verified", "reason")},
            ),
            ("Dates", {"fields": ("last_login", "date_joined")}),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        form_class.actor = request.user
        return form_class

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="role")
    def role_label(self, obj):
        return Role(role_of(obj)).label

    @admin.display(description="profile picture")
    def avatar_preview(self, obj):
        # Pictures are only set by their owner, through core.images; the
        # admin can remove one but never upload an unchecked file.
        if not obj.avatar:
            return "—"
        return format_html(
            '<img src="{}" alt="" width="96" height="96" style="border-radius:50%">',
            obj.avatar.url,
        )

    # --- Who may change whom -----------------------------------------------------

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        # Moderators may look at staff accounts but only admins may change them.
        return not (
            obj is not None
            and (obj.is_staff or obj.is_superuser)
            and not request.user.is_superuser
        )

    def has_manage_roles_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def user_change_password(self, request, id, form_url=""):
        # Setting someone's password is for admins only, never moderators.
        if not request.user.is_superuser:
            raise DjangoPermissionDenied
        return super().user_change_password(request, id, form_url)

    # --- Saving through the services ---------------------------------------------

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        original = User.objects.get(pk=obj.pk)
        moderation = {}
        for name in MODERATION_FIELDS:
            if name in form.cleaned_data:
                moderation[name] = getattr(obj, name)
                # The service changes it, with its checks and audit entry.
                setattr(obj, name, getattr(original, name))
        if "role" in form.cleaned_data:
            moderation["role"] = form.cleaned_data["role"]
        if "home_lat" in form.cleaned_data:
            lat, lng = form.cleaned_data["home_lat"], form.cleaned_data["home_lng"]
            obj.home_location = location_point(None if lat is None else (lat, lng))
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("remove_avatar") and original.avatar:
            services.user_avatar_delete(
                user=obj, actor=request.user, reason=form.cleaned_data.get("reason", "")
            )
        if moderation:
            updated = services.user_moderate(
                actor=request.user,
                user=obj,
                reason=form.cleaned_data.get("reason", ""),
                **moderation,
            )
            for name in MODERATION_FIELDS:
                setattr(obj, name, getattr(updated, name))

    # --- Actions -------------------------------------------------------------------

    @admin.action(description="Ban selected users…", permissions=["change"])
    def ban_users(self, request, queryset):
        return self._moderate_with_reason(
            request, queryset, action="ban_users", verb="Ban", service=_ban
        )

    @admin.action(description="Unban selected users…", permissions=["change"])
    def unban_users(self, request, queryset):
        return self._moderate_with_reason(
            request, queryset, action="unban_users", verb="Unban", service=_unban
        )

    @admin.action(
        description="Make selected users moderators", permissions=["manage_roles"]
    )
    def make_moderators(self, request, queryset):
        self._apply_each(
            request,
            queryset,
            lambda user: services.user_set_role(
                actor=request.user,
                user=user,
                role=Role.MODERATOR,
                reason="Admin action: make moderator",
            ),
            done="made moderators",
        )

    @admin.action(
        description="Remove moderator role (back to plain users)",
        permissions=["manage_roles"],
    )
    def remove_moderators(self, request, queryset):
        self._apply_each(
            request,
            queryset.filter(is_superuser=False),
            lambda user: services.user_set_role(
                actor=request.user,
                user=user,
                role=Role.USER,
                reason="Admin action: remove moderator",
            ),
            done="set back to plain users",
        )

    @admin.action(description="Grant the verified badge", permissions=["change"])
    def grant_verified_badge(self, request, queryset):
        self._apply_each(
            request,
            queryset,
            lambda user: services.user_set_verified(
                actor=request.user, user=user, is_verified=True
            ),
            done="verified",
        )

    @admin.action(description="Remove the verified badge", permissions=["change"])
    def remove_verified_badge(self, request, queryset):
        self._apply_each(
            request,
            queryset,
            lambda user: services.user_set_verified(
                actor=request.user, user=user, is_verified=False
            ),
            done="no longer verified",
        )

    def _apply_each(self, request, queryset, apply, *, done: str, skip=None):
        changed, failures = 0, []
        for user in queryset:
            if skip is not None and skip(user):
                continue
            try:
                apply(user)
            except DomainError as exc:
                failures.append(f"{user.email}: {exc.message}")
            else:
                changed += 1
        if changed:
            self.message_user(request, f"{changed} user(s) {done}.", messages.SUCCESS)
        for failure in failures:
            self.message_user(request, failure, messages.ERROR)
        if not changed and not failures:
            self.message_user(request, "Nothing to change.", messages.WARNING)

    def _moderate_with_reason(self, request, queryset, *, action, verb, service):
        is_ban = action == "ban_users"
        form = ModerationReasonForm(
            request.POST if "apply" in request.POST else None,
            reason_required=is_ban,
        )
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._apply_each(
                request,
                queryset,
                lambda user: service(actor=request.user, user=user, reason=reason),
                skip=(lambda user: not user.is_active)
                if is_ban
                else (lambda user: user.is_active),
                done="banned" if is_ban else "unbanned",
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"{verb} users",
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action": action,
            "verb": verb,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/accounts/user/moderation_reason.html", context
        )


def _ban(*, actor, user, reason):
    return services.user_ban(actor=actor, user=user, reason=reason)


def _unban(*, actor, user, reason):
    return services.user_unban(actor=actor, user=user, reason=reason)
