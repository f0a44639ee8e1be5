"""The input guard: no character `core.text` forbids reaches a view unannounced.

A request whose path, query string or form fields carry such a character (NUL, another
control character, a bidirectional override, …) is refused here with a page that names
the field and the character (400; under /api/ a 422 JSON `invalid_text` like the API's
other refusals), so a NUL can never become a PostgreSQL 500 and an override never a
stored name that reads backwards.

Specific errors come first: a view marked `@text_checked` checks every text field it
reads (its form's validators, its services' `clean_text`) and shows a forbidden
character next to the field, keeping what was typed; the guard then leaves that view's
POST fields to it and checks only its path and query string. A Django admin page whose
ModelAdmin has `text_checked = True` is treated the same. Password fields are never
checked (they are hashed, never stored or shown) and never echoed. The terminal protocol
(/iclock/) has its own handling: a bad line is refused alone and kept in the device log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme

from .parse import parse_local_url
from .text import INVALID_TEXT, is_clean_text, problem_message, text_problem

TEXT_CHECKED = "text_checked"
SKIPPED_PREFIXES = ("/iclock/",)
API_PREFIX = "/api/"
PATH_FIELD = "path"


def text_checked(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view whose forms or services refuse forbidden characters field by field."""
    setattr(view, TEXT_CHECKED, True)
    return view


def _checks_own_fields(view_func: Callable[..., Any]) -> bool:
    if getattr(view_func, TEXT_CHECKED, False):
        return True
    model_admin = getattr(view_func, "model_admin", None)  # set by ModelAdmin.get_urls()
    return bool(getattr(model_admin, TEXT_CHECKED, False))


def _shown(name: str) -> str:
    """A field name safe to show: its forbidden characters replaced by U+FFFD."""
    return "".join(c if is_clean_text(c) else "\ufffd" for c in name)[:80]


def _first_problem(
    fields: Iterable[tuple[str, list[str]]], *, multiline: bool
) -> tuple[str, int, str] | None:
    for name, values in fields:
        for text in (name, *values):
            problem = text_problem(text, multiline=multiline)
            if problem is not None:
                return _shown(name), *problem
    return None


def clean_query(params: QueryDict) -> QueryDict:
    """A query string carried inside a form (e.g. the filters to return to), or an empty
    one when any of it carries a forbidden character: the guard only saw it encoded."""
    if _first_problem(params.lists(), multiline=False) is None:
        return params
    return QueryDict()


def _posted_fields(request: HttpRequest) -> Iterable[tuple[str, list[str]]]:
    return ((k, v) for k, v in request.POST.lists() if "password" not in k.lower())


class InputGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        path = request.path_info
        if path.startswith(SKIPPED_PREFIXES):
            return None
        found = _first_problem([(PATH_FIELD, [path])], multiline=False)
        if found is None:
            found = _first_problem(request.GET.lists(), multiline=False)
        if (
            found is None
            and request.method == "POST"
            and not path.startswith(API_PREFIX)  # JSON bodies: the API's schemas
            and not _checks_own_fields(view_func)
        ):
            found = _first_problem(_posted_fields(request), multiline=True)
        if found is None:
            return None
        return refusal(request, *found)


def refusal(request: HttpRequest, field: str, position: int, code_point: str) -> HttpResponse:
    """The answer to a forbidden character: JSON under /api/, else a page naming the field."""
    message = problem_message(field, position, code_point)
    if request.path_info.startswith(API_PREFIX):
        details = {"field": field, "position": position + 1, "character": code_point}
        return JsonResponse(
            {"code": INVALID_TEXT, "message": message, "details": details},
            status=422,
            json_dumps_params={"ensure_ascii": False},
        )
    response = TemplateResponse(
        request,
        "errors/invalid_text.html",
        {"message": message, "field": field, "back": _back(request, field)},
        status=400,
    )
    return response.render()


def _back(request: HttpRequest, field: str) -> str:
    """Where "Back" leads: the page without its query, or for a form the page it was on."""
    if field == PATH_FIELD:
        return "/"
    if request.method != "POST":
        return request.path
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        parts = urlsplit(referer)
        return parse_local_url(parts.path + (f"?{parts.query}" if parts.query else "")) or "/"
    return "/"
