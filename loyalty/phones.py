"""Phone numbers: accept what people and chat apps send, store E.164 (``+84912345678``)."""

from __future__ import annotations

import phonenumbers


def to_e164(raw: str, region: str = "VN") -> str | None:
    """``0912 345 678``, ``84912345678`` or ``+84 912 345 678`` -> ``+84912345678``.

    Telegram's contact button sends the number without ``+`` (``84912345678``), so a bare number
    that does not start with 0 is read as international. Returns None for anything invalid.
    """
    text = raw.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits or len(digits) > 15:
        return None
    if not text.startswith("+") and not digits.startswith("0"):
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
