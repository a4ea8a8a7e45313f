"""Chat pages. They work as plain form posts; static/js/chat.js makes them live."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from chat import selectors, services
from chat.forms import MessageForm, ReportForm
from core.errors import DomainError, NotFound
from core.pages import add_error_to_form, flash_error

PAGE_SIZE = 30
INBOX_PAGE_SIZE = 30


def _conversation_or_404(user, pk, **kwargs):
    try:
        return selectors.access_conversation(user, pk, **kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _new_message_form(data=None, files=None):
    return MessageForm(data, files, initial={"client_id": uuid.uuid4().hex})


@login_required
def inbox(request):
    archived = request.GET.get("archived") == "1"
    page = Paginator(
        selectors.conversation_inbox(user=request.user, archived=archived),
        INBOX_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    rows = []
    for conversation in page.object_list:
        state = conversation.my_states[0]
        images = conversation.listing.ordered_images
        rows.append(
            {
                "conversation": conversation,
                "state": state,
                "other": (
                    conversation.seller
                    if conversation.buyer_id == request.user.pk
                    else conversation.buyer
                ),
                "thumbnail": images[0].thumbnail.url if images else None,
            }
        )
    return render(
        request,
        "chat/inbox.html",
        {"rows": rows, "archived": archived, "page_obj": page},
    )


@login_required
def conversation(request, pk):
    convo = _conversation_or_404(request.user, pk)
    if request.method == "POST":
        form = MessageForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.message_send(
                    user=request.user,
                    conversation=convo,
                    text=form.cleaned_data["text"],
                    client_id=form.cleaned_data["client_id"],
                    image=form.cleaned_data["image"],
                )
            except DomainError as exc:
                add_error_to_form(form, exc)
            else:
                return redirect(convo.get_absolute_url() + "#composer")
    else:
        form = _new_message_form()

    before = request.GET.get("before")
    try:
        before = int(before) if before else None
    except ValueError:
        before = None
    rows, has_more = selectors.message_list(
        conversation=convo, before=before, limit=PAGE_SIZE
    )
    for row in rows:
        row.is_mine = row.sender_id == request.user.pk
    if before is None and request.method == "GET":
        services.conversation_mark_read(user=request.user, conversation=convo)
    other = convo.seller if convo.buyer_id == request.user.pk else convo.buyer
    other_state = selectors.participant_get(conversation=convo, user=other)
    my_state = selectors.participant_get(conversation=convo, user=request.user)
    block = selectors.block_between(user_a_id=request.user.pk, user_b_id=other.pk)
    listing = convo.listing
    thumbnail = listing.images.order_by("position", "pk").first()
    return render(
        request,
        "chat/conversation.html",
        {
            "conversation": convo,
            "listing": listing,
            "thumbnail": thumbnail.thumbnail.url if thumbnail else None,
            "chat_messages": rows,
            "has_more": has_more,
            "oldest_id": rows[0].pk if rows else None,
            "is_latest_page": before is None,
            "other": other,
            "other_last_read_id": other_state.last_read_message_id,
            "my_state": my_state,
            "i_blocked": bool(block and block.blocker_id == request.user.pk),
            "they_blocked": bool(block and block.blocker_id == other.pk),
            "form": form,
            "is_seller": convo.seller_id == request.user.pk,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def conversation_read(request, pk):
    convo = _conversation_or_404(request.user, pk)
    services.conversation_mark_read(user=request.user, conversation=convo)
    return redirect(convo)


@login_required
@require_POST
def conversation_archive(request, pk):
    convo = _conversation_or_404(request.user, pk)
    archived = request.POST.get("archived", "1") == "1"
    services.conversation_archive(
        user=request.user, conversation=convo, archived=archived
    )
    if archived:
        messages.success(request, "Conversation archived.")
        return redirect("chat:inbox")
    messages.success(request, "Conversation moved back to the inbox.")
    return redirect(convo)


@login_required
@require_POST
def conversation_block(request, pk):
    convo = _conversation_or_404(request.user, pk)
    other_id = convo.other_party_id(request.user.pk)
    try:
        if request.POST.get("action") == "unblock":
            services.user_unblock(user=request.user, blocked_user_id=other_id)
            messages.success(request, "User unblocked: you can message each other.")
        else:
            services.user_block(user=request.user, blocked_user_id=other_id)
            messages.success(
                request, "User blocked: they can no longer send you messages."
            )
    except DomainError as exc:
        flash_error(request, exc)
    return redirect(convo)


@login_required
def conversation_report(request, pk):
    convo = _conversation_or_404(request.user, pk)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.conversation_report(
                user=request.user,
                conversation=convo,
                reason=form.cleaned_data["reason"],
                details=form.cleaned_data["details"],
            )
        except DomainError as exc:
            add_error_to_form(form, exc)
        else:
            messages.success(
                request, "Thank you. Moderators will look at this conversation."
            )
            return redirect(convo)
    return render(
        request,
        "chat/report.html",
        {"conversation": convo, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def conversation_start(request, listing_id):
    from listings.models import Listing

    existing = selectors.conversation_list_for_user(user=request.user).filter(
        listing_id=listing_id, buyer=request.user
    )
    existing = existing.first()
    if existing is not None and request.method == "GET":
        return redirect(existing)
    listing = (
        Listing.objects.select_related("owner")
        .filter(pk=listing_id)
        .exclude(status__in=["draft", "rejected"])
        .first()
    )
    if listing is None and existing is None:
        raise Http404("Listing not found.")
    if listing is not None and listing.owner_id == request.user.pk:
        messages.info(
            request, "This is your listing: buyers' messages are in your inbox."
        )
        return redirect("chat:inbox")
    if request.method == "POST":
        form = MessageForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                convo, _message = services.conversation_start(
                    user=request.user,
                    listing_id=listing_id,
                    text=form.cleaned_data["text"],
                    client_id=form.cleaned_data["client_id"],
                    image=form.cleaned_data["image"],
                )
            except DomainError as exc:
                add_error_to_form(form, exc)
            else:
                return redirect(convo)
    else:
        form = _new_message_form()
        form.initial["text"] = "Hello! Is this still available?"
    thumbnail = listing.images.order_by("position", "pk").first() if listing else None
    return render(
        request,
        "chat/start.html",
        {
            "listing": listing,
            "thumbnail": thumbnail.thumbnail.url if thumbnail else None,
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def blocked_users(request):
    blocks = selectors.block_list(user=request.user)
    return render(request, "chat/blocked.html", {"blocks": blocks})


@login_required
@require_POST
def unblock(request, user_id):
    if services.user_unblock(user=request.user, blocked_user_id=user_id):
        messages.success(request, "Unblocked.")
    return redirect(reverse("chat:blocked"))
