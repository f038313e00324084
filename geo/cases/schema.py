"""What a new case must look like, checked field by field before anything touches the database.

The same models validate HTTP bodies (FastAPI turns errors into 422 naming the field) and rows of
a bulk import (errors become row + field messages). Every check is a field validator so that the
error's location names the field at fault.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from geo.privacy.validate import normalize_id_number, normalize_phone

InputCrs = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
Channel = Literal["letter", "visit", "phone", "online", "patrol", "platform"]
CHANNEL_LABELS = {
    "letter": "来信", "visit": "来访", "phone": "来电", "online": "网上信访",
    "patrol": "网格巡查", "platform": "12345/平台转办",
}
MAX_CONTENT = 5000
MAX_ADDRESS = 300
MAX_NAME = 50
MAX_PETITIONERS = 200
MAX_NUMBER = 40  # an ID or phone number with spaces, dashes and a +86
# Clocks differ; a case "received" a few minutes in the future is a clock, not a typo.
FUTURE_SLACK = timedelta(minutes=5)
# Office time: Asia/Shanghai has had no DST since 1991, so a fixed +08:00 is exact.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


class LocationIn(BaseModel):
    """A point with the CRS it was captured in (Amap/Tencent/WeChat: gcj02, Baidu: bd09)."""

    model_config = ConfigDict(extra="forbid")

    lon: float = Field(allow_inf_nan=False)
    lat: float = Field(allow_inf_nan=False)
    crs: InputCrs = "wgs84"

    @field_validator("lon")
    @classmethod
    def _lon_range(cls, value: float) -> float:
        if abs(value) > 180:
            raise ValueError(f"lon={value} is outside -180..180")
        return value

    @field_validator("lat")
    @classmethod
    def _lat_range(cls, value: float, info: ValidationInfo) -> float:
        lon = info.data.get("lon")
        if abs(value) > 90:
            hint = " — lon and lat look swapped" if lon is not None and abs(lon) <= 90 else ""
            raise ValueError(f"lat={value} is outside -90..90{hint}")
        # In China lon (73..135) is always larger than lat (18..54): the other way round is a
        # swap, whatever the ranges allow.
        if lon is not None and 18 <= lon <= 54 and 73 <= value <= 90:
            raise ValueError(f"lon={lon}, lat={value}: lon and lat look swapped")
        return value


class PetitionerIn(BaseModel):
    """A named petitioner, optionally with ID and phone number (normalised here, encrypted at
    intake; see geo.privacy.validate for what is accepted)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
    # repr=False: a logged or printed case never shows the numbers.
    id_number: Annotated[str | None, Field(max_length=MAX_NUMBER, repr=False)] = None
    phone: Annotated[str | None, Field(max_length=MAX_NUMBER, repr=False)] = None

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str | None) -> str | None:
        return normalize_id_number(value) if value and value.strip() else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalize_phone(value) if value and value.strip() else None


class CaseIn(BaseModel):
    """A new case (案次) as registered: where, what, when, how many people."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: Annotated[str | None, Field(max_length=100)] = None
    channel: Channel = "visit"
    received_at: datetime | None = None
    category: Annotated[str, Field(min_length=1, max_length=50)]
    content: Annotated[str, Field(min_length=1, max_length=MAX_CONTENT)]
    petitioners: Annotated[list[PetitionerIn], Field(max_length=MAX_PETITIONERS)] = []
    persons_count: Annotated[int | None, Field(ge=1, le=100_000)] = None
    address: Annotated[str | None, Field(max_length=MAX_ADDRESS)] = None
    location: Annotated[LocationIn | None, Field(validate_default=True)] = None
    via_community_agent: bool = False

    @field_validator("received_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=CHINA_TZ)
        if value > datetime.now(UTC) + FUTURE_SLACK:
            raise ValueError(f"received_at {value.isoformat()} is in the future")
        return value

    @field_validator("persons_count")
    @classmethod
    def _at_least_the_named(cls, value: int | None, info: ValidationInfo) -> int | None:
        named = len(info.data.get("petitioners") or [])
        if value is not None and value < named:
            raise ValueError(f"persons_count={value} is smaller than the {named} petitioners named")
        return value

    @field_validator("address")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("location")
    @classmethod
    def _somewhere(cls, value: LocationIn | None, info: ValidationInfo) -> LocationIn | None:
        if value is None and not info.data.get("address"):
            raise ValueError("give an address, a location {lon, lat, crs}, or both")
        return value

    def persons(self) -> int:
        """人次 of this submission: as given, else the petitioners named, at least 1."""
        return self.persons_count or max(1, len(self.petitioners))
