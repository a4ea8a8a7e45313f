from core.views import healthz


class HealthCheckMiddleware:
    """Answer `/healthz` before host validation and the HTTPS redirect.

    Load balancers and container health checks call a backend directly, over
    plain HTTP and with its internal address as Host. Neither is in
    ALLOWED_HOSTS nor behind the TLS proxy, and the probe must still get an
    honest answer rather than a 400 or a redirect.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return healthz(request)
        return self.get_response(request)
