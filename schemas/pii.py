"""Personal information (个人信息保护法): how a field is marked and masked."""

from __future__ import annotations

from typing import Any

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
    """The model as a JSON-ready dict with every personal field masked."""
    data = model.model_dump(mode="json")
    for name, kind in personal_fields(type(model)).items():
        data[name] = MASKERS[kind](data.get(name))
    return data
