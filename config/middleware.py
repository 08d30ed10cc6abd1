"""Response headers every page carries."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

FRAME_ANCESTORS = "frame-ancestors 'none'"


class FrameAncestorsMiddleware:
    """Add CSP `frame-ancestors 'none'` to every response (RFC 9700 §4.16: no framing of the
    consent screen or of any signed-in page). X-Frame-Options covers older browsers; CSP is the
    standard. A view that sets its own CSP keeps it, with `frame-ancestors` appended if missing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = response.headers.get("Content-Security-Policy")
        if policy is None:
            response.headers["Content-Security-Policy"] = FRAME_ANCESTORS
        elif "frame-ancestors" not in policy:
            response.headers["Content-Security-Policy"] = (
                f"{policy.rstrip().rstrip(';')}; {FRAME_ANCESTORS}"
            )
        return response
