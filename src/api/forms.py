"""Forms on the pages: one pydantic model per form (the API's own model where the API has one), read from
the posted fields, and ONE mapping from a validation error or a refused step to the GOV.UK error summary
and the message beside each field. What the person typed always comes back with the errors.

How a form field is read depends on the model field's type: a date from `NAME-day`, `NAME-month` and
`NAME-year` (the GOV.UK date input), a list from repeated values (checkboxes) or a comma-separated line,
a yes/no from radios, everything else as trimmed text, where an empty answer counts as no answer.
"""

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from litestar.enums import RequestEncodingType
from litestar.params import Body
from pydantic import BaseModel, ValidationError, field_validator

from matching.errors import DomainError, InvalidInput

Posted = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
M = TypeVar("M", bound=BaseModel)
DATE_PARTS = ("day", "month", "year")
PAGE = "main-content"  # where a summary line that belongs to no one field links to


@dataclass
class Form(Generic[M]):
    """A form as a page shows it: what is in each field, and the errors by the id they link to."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    model: M | None = None

    @property
    def ok(self) -> bool:
        return self.model is not None and not self.errors

    def refuse(self, error: DomainError, labels: Mapping[str, str] | None = None) -> "Form[M]":
        """The domain said no: say why on the form, beside the field it names where it names one."""
        if isinstance(error, InvalidInput):
            anchor = _anchor(self.values, error.field)
            self.errors[anchor] = _sentence(f"{(labels or {}).get(error.field, _label(error.field))}: {error.reason}")
        else:
            self.errors[PAGE] = _sentence(str(error))
        self.model = None
        return self


def _is_code_list(metadata: tuple) -> bool:
    """A vocabulary type (matching.vocab.code): answered by choosing, as radios or a select."""
    return any("_member_of" in getattr(getattr(item, "func", None), "__qualname__", "") for item in metadata)


def _kind(annotation: Any) -> str:
    """date, list, bool, choice or text: how a field of this type is read and what its errors say."""
    while typing.get_origin(annotation) is Annotated:
        if _is_code_list(annotation.__metadata__):
            return "choice"
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is typing.Literal:
        return "choice"
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _kind(inner[0]) if len(inner) == 1 else "text"
    if annotation is date:
        return "date"
    if annotation is bool:
        return "bool"
    if typing.get_origin(annotation) in (list, set, tuple) or annotation in (list, set, tuple):
        return "list"
    return "text"


def _as_list(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else [raw] if raw is not None else []
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def _one(raw: Any) -> str:
    return (raw[-1] if raw else "") if isinstance(raw, list) else str(raw if raw is not None else "")


def typed_twice(field: str, again: str):
    """A validator for a form that asks for a password twice: `_same = typed_twice("password", "password_again")`."""
    def same(cls, value: str, info) -> str:
        if info.data.get(field) not in (None, value):
            raise ValueError("Enter the same password in both boxes")
        return value
    return field_validator(again)(same)


def typed(model: type[BaseModel], data: Mapping[str, Any]) -> dict[str, Any]:
    """What the person typed, field by field, in the shape the templates fill back in."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        kind = _kind(info.annotation)
        if kind == "date":
            values[name] = {part: _one(data.get(f"{name}-{part}")).strip() for part in DATE_PARTS}
        elif kind == "list":
            values[name] = _as_list(data.get(name))
        elif name in data:
            values[name] = _one(data.get(name)).strip()
    return values


def _cleaned(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """The typed values as the model takes them: empty answers left out, so a default or 'missing' applies."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        value, kind = values.get(name), _kind(info.annotation)
        if kind == "date" and isinstance(value, dict) and any(value.values()):
            day, month, year = (value[p] for p in DATE_PARTS)
            out[name] = f"{year.zfill(4)}-{month.zfill(2)}-{day.zfill(2)}" if (day + month + year).isdigit() else "x"
        elif kind == "bool" and value:
            out[name] = {"yes": True, "true": True, "on": True, "no": False, "false": False}.get(value.lower(), value)
        elif kind == "list":
            out[name] = value or []
        elif isinstance(value, str) and value:
            out[name] = value
    return out


def read(model: type[M], data: Mapping[str, Any], **context: Any) -> Form[M]:
    """Validate a posted form with `model`; `context` adds values the form does not carry (ids, versions)."""
    values = typed(model, data)
    try:
        return Form(values, {}, model.model_validate({**_cleaned(model, values), **context}))
    except ValidationError as error:
        return Form(values, messages(model, error, values))


def filled(model: type[BaseModel], record: Mapping[str, Any]) -> Form:
    """A form showing a stored record, ready to change (dates split into their parts)."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        value = record.get(name)
        if _kind(info.annotation) == "date":
            values[name] = ({"day": str(value.day), "month": str(value.month), "year": str(value.year)}
                            if isinstance(value, date) else {p: "" for p in DATE_PARTS})
        elif value is None:
            values[name] = ""
        elif isinstance(value, bool):
            values[name] = "yes" if value else "no"
        else:
            values[name] = value if isinstance(value, list) else str(value)
    return Form(values)


def _label(name: str) -> str:
    return name.replace("_", " ")


def _lower(label: str) -> str:
    """A label inside a sentence: 'Date you met' -> 'date you met', but 'DBS check date' stays."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _anchor(values: Mapping[str, Any], name: str) -> str:
    """The id a summary line links to: a date input's day box, otherwise the field (or first radio) itself."""
    return f"{name}-day" if isinstance(values.get(name), dict) else name


def messages(model: type[BaseModel], error: ValidationError, values: Mapping[str, Any]) -> dict[str, str]:
    """Each problem as the GOV.UK pattern words it, keyed by the id of the field it belongs to."""
    found: dict[str, str] = {}
    for problem in error.errors():
        location = [part for part in problem["loc"] if isinstance(part, str)]
        name = location[0] if location else next(iter(model.model_fields))
        info = model.model_fields.get(name)
        label = (info.title if info and info.title else _label(name))
        choosing = info is not None and (_kind(info.annotation) in ("bool", "list", "choice")
                                         or _is_code_list(tuple(info.metadata)))
        found.setdefault(_anchor(values, name), _message(problem, label, choosing))
    return found


def _message(problem: dict[str, Any], label: str, choosing: bool) -> str:
    kind, context = problem["type"], problem.get("ctx") or {}
    choosing = choosing or "literal" in kind or "enum" in kind
    if kind == "missing" or (kind == "string_too_short" and context.get("min_length") == 1):
        return f"{'Select' if choosing else 'Enter'} {_lower(label)}"
    worded = {
        "int_parsing": f"{label} must be a whole number",
        "int_from_float": f"{label} must be a whole number",
        "float_parsing": f"{label} must be a number",
        "greater_than_equal": f"{label} must be {context.get('ge')} or more",
        "less_than_equal": f"{label} must be {context.get('le')} or less",
        "greater_than": f"{label} must be more than {context.get('gt')}",
        "less_than": f"{label} must be less than {context.get('lt')}",
        "string_too_short": f"{label} must be {context.get('min_length')} characters or more",
        "string_too_long": f"{label} must be {context.get('max_length')} characters or fewer",
        "too_long": f"Select no more than {context.get('max_length')} for {_lower(label)}",
        "date_parsing": f"{label} must be a real date",
        "date_from_datetime_parsing": f"{label} must be a real date",
        "date_from_datetime_inexact": f"{label} must be a real date",
        "bool_parsing": f"Select yes or no for {_lower(label)}",
        "value_error": problem["msg"].removeprefix("Value error, "),
        "assertion_error": problem["msg"].removeprefix("Assertion failed, "),
    }.get(kind)
    if worded is None and choosing:
        worded = f"Select {_lower(label)} from the list"
    return _sentence(worded or f"{label}: {problem['msg']}")
