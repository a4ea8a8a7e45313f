"""Message text: cleaning on the way in, safety warnings, links on the way out."""

import re
import unicodedata
from urllib.parse import urlsplit

from django.conf import settings

# Ten or more digits, optionally led by "+", with the usual separators between
# them: "+7 701 123-45-67", "8(701)1234567". Prices rarely reach ten digits.
PHONE_RE = re.compile(r"(?<![\w])\+?\d(?:[\s\-().]{0,2}\d){9,14}(?!\w)")
URL_RE = re.compile(
    r"(?i)\b(?:https?://[^\s<>\"']+|www\.[^\s<>\"']+"
    r"|(?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s<>\"']*)"
)
PAYMENT_WORDS = ("pay", "checkout", "invoice", "transfer", "wallet")


def text_clean(text: str) -> str:
    """Normalise line breaks, drop control characters, trim the ends."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        ch
        for ch in text
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )
    return text.strip()


def _host(url: str) -> str:
    if not re.match(r"(?i)https?://", url):
        url = "http://" + url
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _is_own_site(host: str) -> bool:
    own = {_host(settings.SITE_URL)} | {h.lstrip(".") for h in settings.ALLOWED_HOSTS}
    return any(host == h or host.endswith("." + h) for h in own if h and h != "*")


def payment_links(text: str) -> list[str]:
    """Links in the text that look like paying outside the platform."""
    found = []
    domains = [d.lower() for d in settings.CHAT_PAYMENT_LINK_DOMAINS]
    for match in URL_RE.finditer(text):
        url = match.group(0)
        host = _host(url)
        if not host or _is_own_site(host):
            continue
        if any(host == d or host.endswith("." + d) for d in domains) or any(
            word in url.lower() for word in PAYMENT_WORDS
        ):
            found.append(url)
    return found


def text_warning(text: str) -> str:
    """The safety warning the receiver should see, or "" (see MessageWarning)."""
    if payment_links(text):
        return "payment_link"
    if PHONE_RE.search(text):
        return "phone"
    return ""
