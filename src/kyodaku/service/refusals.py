"""Refusals on the desk's pages in the page's language: an upload the desk will not keep
(:mod:`kyodaku.desk.storage`'s message keys), a claim step its state or deadline does
not allow (a 409) and a request FastAPI could not validate (a 422: each error said from
its pydantic ``type``, :func:`invalid_input`).  The API answers with the service's English
``detail`` (a validation 422 keeps its list and adds the ``message`` in the caller's
language, :func:`api_lang`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from starlette.requests import Request

from kyodaku.desk.lifecycle import ACTIONS
from kyodaku.desk.storage import Refusal, refusals
from kyodaku.service.deps import request_lang

__all__ = ["INVALID_KEYS", "api_lang", "invalid_input", "is_refusal", "not_possible", "refusal_text"]


def refusal_text(t: Any, exc: BaseException) -> str:
    """A storage refusal (an upload the desk will not keep: unreadable media, too large,
    over the quota) in the page's language, from its message keys
    (:func:`kyodaku.desk.storage.refusals`); other refusals as the service said them."""
    said = []
    for key, params in refusals(exc):
        params = dict(params)
        if "cause" in params:
            params["cause"] = t(f"media_cause_{params['cause']}")
        said.append(t(key, **params))
    head = [said.pop(0)] if refusals(exc)[0][0] == "media_not_registered" else []
    return " ".join([*head, t("refusal_sep").join(said)])


def is_refusal(exc: BaseException) -> bool:
    return isinstance(exc, Refusal) or any(k != "refusal_text" for k, _ in refusals(exc))


def not_possible(t: Any, claim: Any, action: str, when: Any) -> str:
    """Why a claim cannot take ``action`` now (its state, or the deadline of its step)."""
    step = ACTIONS[action]
    name = t(f"action_{action}")
    if claim.state not in step.sources:
        return t("claim_not_now", id=claim.id, action=name, state=t(f"state_{claim.state}"),
                 needs=t("or").join(t(f"state_{s}") for s in step.sources))
    if step.before_deadline:
        return t("claim_window_closed", action=name, due=when(claim.due_at))
    return t("claim_too_early", action=name, due=when(claim.due_at))


#: pydantic error types (an error's ``type``) and the message key each is said with; a
#: type not listed is ``invalid_other`` (the field and pydantic's English message).  A
#: request model's own validator says what is wrong in the reader's language by raising
#: ``pydantic_core.PydanticCustomError("<type>", "<English>", {params})`` with its type
#: listed here and a text for its key in both locales (the error's ``ctx`` are the text's
#: parameters); a plain ``ValueError`` is ``value_error``, ``invalid_value``: its English
#: detail on an English page only (the Japanese text does not take it)
INVALID_KEYS: dict[str, str] = {
    "missing": "invalid_missing",
    "string_too_long": "invalid_string_too_long", "string_too_short": "invalid_string_too_short",
    "too_long": "invalid_too_long", "too_short": "invalid_too_short",
    "int_parsing": "invalid_int", "int_type": "invalid_int", "int_from_float": "invalid_int",
    "int_parsing_size": "invalid_int",
    "float_parsing": "invalid_number", "float_type": "invalid_number", "finite_number": "invalid_number",
    "decimal_parsing": "invalid_number",
    "bool_parsing": "invalid_bool", "bool_type": "invalid_bool",
    "greater_than": "invalid_greater_than", "greater_than_equal": "invalid_greater_than_equal",
    "less_than": "invalid_less_than", "less_than_equal": "invalid_less_than_equal",
    "literal_error": "invalid_choice", "enum": "invalid_choice",
    "date_parsing": "invalid_date", "date_from_datetime_parsing": "invalid_date",
    "date_from_datetime_inexact": "invalid_date", "date_type": "invalid_date",
    "datetime_parsing": "invalid_datetime", "datetime_from_date_parsing": "invalid_datetime",
    "datetime_type": "invalid_datetime",
    "json_invalid": "invalid_json",
    "string_type": "invalid_type", "list_type": "invalid_type", "dict_type": "invalid_type",
    "model_type": "invalid_type", "model_attributes_type": "invalid_type", "bytes_type": "invalid_type",
    "extra_forbidden": "invalid_extra",
    "string_pattern_mismatch": "invalid_pattern",
    "value_error": "invalid_value", "assertion_error": "invalid_value",
    "url_parsing": "invalid_url", "url_type": "invalid_url", "url_scheme": "invalid_url",
    "uuid_parsing": "invalid_uuid", "uuid_type": "invalid_uuid",
}

#: where FastAPI found the value (the first element of an error's ``loc``)
_SOURCES = ("body", "query", "path", "header", "cookie")


def _shown(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field(t: Any, loc: Iterable[Any]) -> str:
    """The field an error is about, by its label in the page's language where it has one
    (``field_<name>``), else its name; a list's element by its place (1, 2, ...)."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    names = [p for p in parts if isinstance(p, str)]
    if not names:
        return str(t("field_body"))
    name = names[-1]
    label = t(f"field_{name}")
    label = name if label == f"field_{name}" else label
    places = [p for p in parts[parts.index(name) + 1:] if isinstance(p, int)]
    return f"{label} ({', '.join(str(p + 1) for p in places)})" if places else str(label)


def invalid_input(t: Any, errors: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each validation error (FastAPI's ``RequestValidationError.errors()``) said in the
    page's language from its pydantic ``type`` (:data:`INVALID_KEYS`): the field, and the
    limit or the value where the error has one."""
    said = []
    for e in errors:
        ctx = e.get("ctx") or {}
        key = INVALID_KEYS.get(str(e.get("type")), "invalid_other")
        limit = next((ctx[k] for k in ("gt", "ge", "lt", "le") if k in ctx), "")
        params = {"field": _field(t, e.get("loc") or ()), "value": _shown(e.get("input", "")),
                  "max": ctx.get("max_length", ""), "min": ctx.get("min_length", ""), "limit": limit,
                  "expected": ctx.get("expected", ""), "pattern": ctx.get("pattern", ""),
                  "detail": str(ctx.get("error") or e.get("msg") or "")}
        params.update({k: _shown(v) for k, v in ctx.items() if k not in params and isinstance(v, (str, int, float))})
        said.append(str(t(key, **params)))
    return said


def api_lang(request: Request) -> str:
    """The language of an API caller's messages: ``?lang=ja|en``, else the desk's choice
    for a page (the language cookie, then ``Accept-Language``)."""
    lang = request.query_params.get("lang")
    return lang if lang in ("ja", "en") else request_lang(request)
