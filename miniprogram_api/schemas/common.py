"""Shared schema pieces: bounded ids and counts, paging, list pages, the error envelope of docs/api.md."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.models.types import MAX_INT

# Every id and count lives in a 32-bit INT column: larger numbers are refused as input, not by the driver.
Id = Annotated[int, Field(ge=1, le=MAX_INT)]
MAX_PER_PAGE = 100


def text(max_length: int, min_length: int = 1) -> Any:
    """A string trimmed of surrounding blanks, then bounded (what params.body_str did by hand)."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)]


class Body(BaseModel):
    """A JSON request body: strict types (a JSON "5" is not the integer 5, true is not 1); unknown fields ignored,
    as the hand validation did, so an older mini-program sending an extra field still works."""
    model_config = ConfigDict(strict=True, extra="ignore")


class Query(BaseModel):
    """Query parameters: strings by nature, so coerced; trimmed of surrounding blanks first (`?status=paid%20` is
    paid, as params.query_str had it), and an empty parameter (`?q=`) counts as absent."""
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _drop_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            trimmed = {key: value.strip() if isinstance(value, str) else value for key, value in data.items()}
            return {key: value for key, value in trimmed.items() if value != ""}
        return data


class Paging(Query):
    page: int = Field(1, ge=1, le=10_000)
    per_page: int = Field(20, ge=1, le=MAX_PER_PAGE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


class Out(BaseModel):
    """A response body: the fields named are promised; more may be added (clients ignore what they do not know)."""
    model_config = ConfigDict(extra="allow")


class Page(Out):
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=MAX_PER_PAGE)
    total: int = Field(ge=0)


class ErrorBody(BaseModel):
    code: str = Field(description="stable snake_case code; branch on it, never on message", pattern=r"^[a-z_]+$")
    message: str = Field(description="for people")
    details: dict[str, Any] | None = Field(None, description="400 invalid_request: `fields` maps each field to its problem")


class ErrorEnvelope(BaseModel):
    """Every error of the API (docs/api.md, Conventions)."""
    error: ErrorBody
