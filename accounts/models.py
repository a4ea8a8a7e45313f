from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.contrib.gis.db import models as gis_models
from django.db import models
from django.urls import reverse
from django.utils import timezone

from accounts.validators import validate_phone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser needs is_staff and is_superuser.")
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person on the marketplace; the e-mail address is the login."""

    email = models.EmailField("e-mail address", unique=True)
    display_name = models.CharField(max_length=80, blank=True)
    phone = models.CharField(max_length=20, blank=True, validators=[validate_phone])
    avatar = models.ImageField(upload_to="avatars/%Y/%m/", blank=True)
    city = models.CharField(max_length=80, blank=True)
    home_location = gis_models.PointField(srid=4326, null=True, blank=True)
    bio = models.TextField(max_length=2000, blank=True)
    is_verified = models.BooleanField(
        "verified badge",
        default=False,
        help_text="Identity checked by the team; shown as a badge on the profile.",
    )
    is_staff = models.BooleanField(
        "staff status",
        default=False,
        help_text="Can log into the admin (moderators and admins).",
    )
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Unset to ban the user: they can no longer log in.",
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["-date_joined"]

    def __str__(self):
        return self.display_name or self.email

    def get_absolute_url(self):
        return reverse("accounts:profile", kwargs={"pk": self.pk})

    @property
    def public_name(self) -> str:
        """The name others see; never derived from the e-mail address."""
        return self.display_name or f"Member #{self.pk}"

    @property
    def is_moderator(self) -> bool:
        from accounts.roles import MODERATORS_GROUP

        return self.is_superuser or any(
            g.name == MODERATORS_GROUP for g in self.groups.all()
        )


class NotificationKind(models.TextChoices):
    MESSAGE = "message", "New messages"
    DEAL = "deal", "Safe deal updates"
    SAVED_SEARCH = "saved_search", "Saved search matches"
    LISTING_EXPIRING = "listing_expiring", "Listings about to expire"
    MODERATION = "moderation", "Moderation decisions"
    WALLET = "wallet", "Wallet and payments"
    SYSTEM = "system", "Account and security"


class EmailFrequency(models.TextChoices):
    INSTANT = "instant", "Right away"
    DAILY = "daily", "Daily digest"
    OFF = "off", "Off"


# What a user gets until they choose otherwise: conversations and money at once,
# the chattier kinds once a day.
DEFAULT_EMAIL_FREQUENCY = {
    NotificationKind.MESSAGE: EmailFrequency.INSTANT,
    NotificationKind.DEAL: EmailFrequency.INSTANT,
    NotificationKind.SAVED_SEARCH: EmailFrequency.DAILY,
    NotificationKind.LISTING_EXPIRING: EmailFrequency.DAILY,
    NotificationKind.MODERATION: EmailFrequency.INSTANT,
    NotificationKind.WALLET: EmailFrequency.INSTANT,
    NotificationKind.SYSTEM: EmailFrequency.INSTANT,
}

# Account and security notices are always e-mailed (instantly or in the digest):
# they cannot be switched off or unsubscribed from.
MANDATORY_EMAIL_KINDS = frozenset({NotificationKind.SYSTEM})


class Notification(models.Model):
    """Something that happened which the user should know about."""

    class EmailState(models.TextChoices):
        PENDING = "pending", "Waiting for the digest"
        SENT = "sent", "E-mailed"
        SKIPPED = "skipped", "Not e-mailed"

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(
        max_length=16, choices=EmailState.choices, default=EmailState.SKIPPED
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(
                fields=["user"],
                name="notification_unread_idx",
                condition=models.Q(read_at__isnull=True),
            ),
            models.Index(
                fields=["email_state", "created_at"],
                name="notification_digest_idx",
                condition=models.Q(email_state="pending"),
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """How a user wants to be e-mailed about one kind of notification."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    email_frequency = models.CharField(
        max_length=16, choices=EmailFrequency.choices, default=EmailFrequency.INSTANT
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], name="unique_pref_per_kind"
            )
        ]

    def __str__(self):
        return f"{self.user}: {self.kind} -> {self.email_frequency}"
