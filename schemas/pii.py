"""Personal information (个人信息保护法): how a field is marked and masked.

Two kinds: a field that *is* personal (the call-back phone, a network's
original payload) is marked with :func:`personal` and masked by its kind;
free text where a person may *type* a phone ("请联系 138 1234 5678") is
named in :data:`FREE_TEXT` and has every phone in it masked by
:func:`mask_phones_in_text` wherever a full phone must not go — department
alerts, ClickHouse rows, a case read by anyone but the command centre.
"""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import BaseModel, Field

PII_KEY = "x-personal-information"


def personal(kind: str = "phone", **kwargs: Any) -> Any:
    """A pydantic ``Field`` marked as personal information of the given kind."""
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra[PII_KEY] = kind
    return Field(json_schema_extra=extra, **kwargs)


def mask_phone(phone: str | None) -> str:
    """``13812341234`` → ``138****1234``; anything short is masked whole."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


#: fields, and keys of a record's JSON details (an event's payload), that hold free text a person typed
FREE_TEXT: Final = frozenset({"title", "description", "note", "reason"})

# Full-width digits and signs (１３８…), as Chinese input methods type them, read as ASCII ones; one
# character for one, so a position in the narrowed text is the same position in the text.
_NARROW: Final = str.maketrans("０１２３４５６７８９＋－（）\u3000", "0123456789+-() ")
# A mainland mobile (spaces or dashes between its digits, +86 or 86 before it tolerated), or a landline
# with its area code (0771-5521234, (010)12345678, 07715521234); never part of a longer run of digits
# (an 18-digit id number, a timestamp, a case number's date).
_PHONE: Final = re.compile(
    r"(?<![0-9])(?:(?:\+?86[ -]?)?(?P<mobile>1[3-9][0-9](?:[ -]?[0-9]){8})"
    r"|(?P<area>\(?0[1-9][0-9]{1,2}\)?[ -]?)(?P<local>[0-9]{7,8}))(?![0-9])"
)


def mask_phones_in_text(text: str) -> str:
    """``text`` with every phone number in it masked: ``请联系+86 138-1234-5678`` → ``请联系138****5678``.

    A landline keeps its area code and last four digits (``0771-***1234``).
    """
    if not text:
        return text
    probe = text.translate(_NARROW)
    parts: list[str] = []
    done = 0
    for found in _PHONE.finditer(probe):
        if found["mobile"]:
            shown = mask_phone(re.sub(r"[^0-9]", "", found["mobile"]))
        else:
            local = found["local"]
            shown = text[found.start("area") : found.end("area")] + "*" * (len(local) - 4) + local[-4:]
        parts += [text[done : found.start()], shown]
        done = found.end()
    return "".join(parts) + text[done:]


def mask_free_text(value: Any) -> Any:
    """``value`` (a dict, a list of them, JSON-like) with the phones masked in every FREE_TEXT key, at any depth."""
    if isinstance(value, dict):
        return {
            k: mask_phones_in_text(v) if k in FREE_TEXT and isinstance(v, str) else mask_free_text(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_free_text(v) for v in value]
    return value


def withhold(value: Any) -> str:
    """A whole personal document (a network's original payload): nothing of it leaves the case state."""
    return ""


MASKERS = {"phone": mask_phone, "payload": withhold}


def personal_fields(model: type[BaseModel]) -> dict[str, str]:
    """Field name → kind of personal information, for every marked field."""
    out: dict[str, str] = {}
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and PII_KEY in extra:
            out[name] = str(extra[PII_KEY])
    return out


def masked(model: BaseModel) -> dict[str, Any]:
    """The model as a JSON-ready dict with every personal field masked, and the phones in its free text."""
    data = model.model_dump(mode="json")
    for name, kind in personal_fields(type(model)).items():
        data[name] = MASKERS[kind](data.get(name))
    return mask_free_text(data)
