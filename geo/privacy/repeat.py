"""Find repeat petitioners by the keyed hashes of their ID and phone numbers, never decrypting."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from geo.models import Petitioner
from geo.privacy.crypto import PersonalDataCipher


def find_repeat_petitioners(session: Session, cipher: PersonalDataCipher,
                            id_number: str | None = None, phone: str | None = None
                            ) -> list[int]:
    """Ids of the petitioner rows whose ID or phone number (either one given) is this one,
    in id order; ValueError when neither is given or one is not a valid number."""
    if id_number is None and phone is None:
        raise ValueError("give an id_number, a phone number or both")
    # The hash columns are indexed: this is an index lookup, not a scan with decryption.
    conditions = []
    if id_number is not None:
        conditions.append(Petitioner.id_number_hash == cipher.keyed_hash(id_number, "id_number"))
    if phone is not None:
        conditions.append(Petitioner.phone_hash == cipher.keyed_hash(phone, "phone"))
    return list(session.scalars(select(Petitioner.id).where(or_(*conditions))
                                .order_by(Petitioner.id)))
