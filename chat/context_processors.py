def unread_messages(request):
    """The navigation badge's first value; sockets keep it current."""
    from chat.selectors import unread_total

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_messages": 0}
    return {"unread_messages": unread_total(user=user)}
