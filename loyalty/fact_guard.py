"""The fact guard: an LLM draft goes out only if every fact in it is one the code gave.

Why a guard and not just a stricter prompt: a model asked to announce "20%" writes "25%", "đến
30/12" or "chỉ từ 25k" often enough to matter over thousands of messages, and a promise the
cashier cannot honour costs more than a plain message. So the guard fails closed: every number,
amount and date it finds must be one of the offer's (in any usual spelling: ``30.000 ₫``,
``30,000đ``, ``30k``, ``31/12/2026``, ``31-12``, ``ngày 31 tháng 12``, ``December 31``); anything
number-like it cannot account for rejects the draft, and the caller sends the template instead.

Numbers written in names the code supplies are facts too: "Cà Phê 1989" or a favourite "Combo 2
bánh" must not turn a good draft away. Inside those names they are always allowed; numbers of
the offer's own title and item ("Giảm 15% hóa đơn từ 100.000 ₫") are also allowed elsewhere, in
the same form (the title's 100.000 ₫ as an amount, not as "100.000%").

Beyond numbers: the offer must be mentioned; no links, phone numbers, e-mail or @handles (the
sender adds the one way to reach the shop that is allowed, ``/stop``); no voucher-like codes
other than the offer's; the right language; the ``{name}`` placeholder and no other; the length
limit with a long name filled in; and no echo of instruction-like text ("bỏ qua hướng dẫn",
"ignore previous instructions"), the mark of a prompt injection that got through.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loyalty.copywriter import Offer, Traits

#: What the model writes instead of the member's name; ``copywriter.fill_name`` replaces it.
PLACEHOLDER = "{name}"
#: The length check fills the placeholder with a name this long (a long Vietnamese full name).
LONG_NAME = 30
#: Favourite item names longer than this are not menu items: they are dropped, never sent.
MAX_ITEM_NAME = 40

_VI_LOWER = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
_VI_CHARS = frozenset(_VI_LOWER + _VI_LOWER.upper())

#: English words that are not also Vietnamese syllables without their marks ("to", "me", "an",
#: "so" are, so they are left out): their share tells English text from Vietnamese.
# fmt: off
_ENGLISH_WORDS = frozenset({
    "the", "and", "you", "your", "yours", "for", "with", "our", "we", "this", "that", "these",
    "is", "are", "was", "were", "has", "have", "had", "it", "its", "of", "off", "at", "on",
    "until", "valid", "enjoy", "get", "gets", "visit", "just", "come", "back", "from", "happy",
    "birthday", "miss", "treat", "gift", "see", "will", "can", "all", "here", "there", "us",
    "or", "by", "as", "if", "would", "love", "waiting", "drop", "again", "next", "while",
    "since", "hope", "thanks", "thank",
})
# fmt: on

# ---------------------------------------------------------------------------- what is refused

_INJECTION = re.compile(
    # Matched on folded text (lower case, Vietnamese marks removed): "Bỏ qua hướng dẫn" and
    # "bo qua huong dan" are the same attempt.
    r"\b(?:bo\s+qua|phot\s+lo)\b[^.!?\n]{0,25}?\b(?:huong\s+dan|chi\s+dan|chi\s+thi|lenh|quy\s+tac)\b"
    r"|\bhuong\s+dan\s+(?:truoc|he\s+thong|ban\s+dau)\b"
    r"|\bloi\s+nhac\s+he\s+thong\b"
    r"|\b(?:ignore|disregard|forget|override)\b[^.!?\n]{0,25}?"
    r"\b(?:instructions?|rules|prompts?|directions|guidelines)\b"
    r"|\b(?:system|developer)\s+(?:prompt|message|instructions?)\b"
    r"|\b(?:previous|prior|above|new)\s+instructions?\b"
    r"|\byou\s+are\s+now\b|\bas\s+an\s+ai\b|\bjailbreak"
    r"|^\s*(?:system|assistant|user|developer)\s*:",
    re.MULTILINE,
)
_URL = re.compile(
    r"\b(?:https?://|www\.)"
    r"|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\."
    r"(?:vn|com|net|org|io|me|co|ly|gl|app|link|shop|store|info|biz|xyz|online|site|page)\b"
    r"|[\w.+-]+@[\w-]+\.\w+"  # e-mail
    r"|(?<![\w@])@[a-z]\w{2,}",  # @handle
    re.IGNORECASE,
)
_PHONE = re.compile(
    r"(?<![\w.,/+])(?:"
    r"\+\s?\d(?:[\s.\-()]*\d){7,14}"  # international
    r"|0(?:[\s.\-()]*\d){8,10}"  # Vietnamese, 0912 345 678
    r"|84(?:[\s.\-]*\d){9}"
    r"|1[89]00(?:[\s.\-]*\d){4,6}"  # hotlines
    r")(?!\w)"
)
_CODE_CANDIDATE = re.compile(
    r"(?<![\w-])(?:[A-Za-z0-9]{2,}-)+[A-Za-z0-9]{2,}(?![\w-])|(?<![\w-])[A-Za-z0-9]{5,}(?![\w-])"
)
_UNIT_SUFFIX = re.compile(r"(?i)(?:vnd|vnđ|k|st|nd|rd|th)$")
_BRACKETED = re.compile(r"\{[^{}]*\}|[{}]|\[[^\]\n]{1,40}\]|<[^>\n]{1,40}>")
_FREE = re.compile(r"\bmiễn\s+phí\b|(?<!feel )\bfree\b|\bon\s+the\s+house\b", re.IGNORECASE)
_NUMBER_WORDS = re.compile(
    r"\b(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|half|"
    r"percent|mươi|mười|trăm|nghìn|ngàn|triệu|nửa)\b|[%₫]",
    re.IGNORECASE,
)

# ----------------------------------------------------------------- numbers, amounts and dates

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<mname>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b\.?"
#: Full month names (not "may", a verb too): a month named without a day must be the expiry's.
_MONTH_WORD = re.compile(
    r"\b(january|february|march|april|june|july|august|september|october|november|december)\b",
    re.IGNORECASE,
)
_ORDINAL = r"(?:st|nd|rd|th)?"
_NOT_AFTER = r"(?<![\d.,/])"  # a number starts here, not in the middle of one
_NOT_BEFORE = r"(?!\d|[.,/]\d)"


@dataclass(frozen=True)
class _Numbers:
    percents: frozenset[int] = frozenset()
    amounts: frozenset[int] = frozenset()
    plain: frozenset[int] = frozenset()


@dataclass(frozen=True)
class _Facts:
    """What a draft may say, as numbers."""

    percent: int | None
    amount: int | None
    expiry: date
    item_offer: bool
    #: Numbers written in the offer's title and free item ("Giảm 15% hóa đơn từ 100.000 ₫",
    #: "Combo 2 bánh"): facts too, allowed anywhere in the same form (a percentage, an amount,
    #: a plain number). Numbers in the shop's or the favourite's name are allowed only inside
    #: those names.
    named: _Numbers


@dataclass
class _Found:
    """The outcome of reading the draft's numbers: a reason to refuse, and whether the offer's
    value was among them (then the offer counts as mentioned)."""

    problem: str | None = None
    value_mentioned: bool = False


def _date_ok(facts: _Facts, day: int, month: int, year: str | None) -> bool:
    if (day, month) != (facts.expiry.day, facts.expiry.month):
        return False
    return year is None or _year_ok(facts, year)


def _year_ok(facts: _Facts, year: str) -> bool:
    return int(year) == (facts.expiry.year if len(year) == 4 else facts.expiry.year % 100)


def _month_ok(facts: _Facts, month: int, year: str | None) -> bool:
    """A month without a day reads "through the end of that month": true only if the voucher
    really lasts to the month's last day."""
    expiry = facts.expiry
    last = calendar.monthrange(expiry.year, expiry.month)[1]
    return month == expiry.month and expiry.day == last and (year is None or _year_ok(facts, year))


def _integer(digits: str) -> int:
    return int(re.sub(r"\D", "", digits))


_Check = Callable[[re.Match[str], _Facts, _Found], bool]


def _dmy(match: re.Match[str], facts: _Facts, found: _Found) -> bool:
    return _date_ok(facts, int(match["d"]), int(match["m"]), match["y"] or None)


def _month_day(match: re.Match[str], facts: _Facts, found: _Found) -> bool:
    month = _MONTHS[match["mname"].lower()]
    return _date_ok(facts, int(match["d"]), month, match["y"])


def _month_year(match: re.Match[str], facts: _Facts, found: _Found) -> bool:
    return _month_ok(facts, _MONTHS[match["mname"].lower()], match["y"])


def _vi_month(match: re.Match[str], facts: _Facts, found: _Found) -> bool:
    return _month_ok(facts, int(match["m"]), match["y"])


def _day(match: re.Match[str], facts: _Facts, found: _Found) -> bool:
    return int(match["d"]) == facts.expiry.day


def _percent(match: re.Match[str], facts: _Facts, found: _Found) -> bool:
    if not match["n"].isdigit():
        return False  # "20,5%" is not a value the code gives
    value = int(match["n"])
    if value == facts.percent:
        found.value_mentioned = True
        return True
    return value in facts.named.percents


_MULTIPLIERS = {"k": 1000, "nghìn": 1000, "ngàn": 1000, "tr": 1_000_000, "triệu": 1_000_000}


def _amount(match: re.Match[str]) -> int | None:
    """The VND an amount match says, or None for a fraction of a dong ("30,5 ₫")."""
    cents = _integer(match["n"]) * 100
    if match["dec"]:
        cents += int(match["dec"].ljust(2, "0"))
    cents *= _MULTIPLIERS.get((match["mul"] or "").lower(), 1)
    return None if cents % 100 else cents // 100


def _money(match: re.Match[str], facts: _Facts, found: _Found) -> bool:
    value = _amount(match)
    if value is not None and value == facts.amount:
        found.value_mentioned = True
        return True
    return value in facts.named.amounts


def _bare(match: re.Match[str], facts: _Facts, found: _Found) -> bool:
    """A number without a unit: the expiry year, "1" (one free item), or a number from the
    offer's own title or item. Decimals ("1.5") never: amounts were read before."""
    digits = match.group()
    if not digits.isdigit():
        return False
    value = int(digits)
    if len(digits) == 4 and value == facts.expiry.year:
        return True
    return (facts.item_offer and value == 1) or value in facts.named.plain


_PERCENT = re.compile(
    rf"{_NOT_AFTER}(?P<n>\d+(?:[.,]\d+)?)\s?(?:%|phần\s+trăm\b|percent\b|per\s+cent\b)",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"(?P<pre>(?:₫|vnđ|vnd)\s?)?"
    rf"{_NOT_AFTER}(?P<n>\d{{1,3}}(?:[.,\u00a0\u202f ]\d{{3}})+(?!\d)|\d+)"
    r"(?:[.,](?P<dec>\d{1,2})(?!\d))?"
    r"(?:\s?(?P<mul>k|nghìn|ngàn|triệu|tr)(?![^\W\d_]))?\.?"
    r"(?:\s?(?P<cur>₫|đồng|vnđ|vnd|dong|đ)(?![^\W\d_]))?",
    re.IGNORECASE,
)
_PLAIN = re.compile(r"\d+(?:[.,]\d+)*")

#: Read in this order, each match blanked out before the next pattern looks: the most specific
#: spelling wins ("31/12/2026" is a date before "2026" could be read as a bare number).
_PATTERNS: tuple[tuple[re.Pattern[str], _Check, str], ...] = (
    (
        re.compile(
            rf"{_NOT_AFTER}(?P<d>\d{{1,2}})(?P<s>[/.\-])(?P<m>\d{{1,2}})(?P=s)"
            rf"(?P<y>\d{{4}}|\d{{2}}){_NOT_BEFORE}"
        ),
        _dmy,
        "wrong_date",
    ),
    (
        re.compile(
            rf"(?:ngày\s+)?{_NOT_AFTER}(?P<d>\d{{1,2}})\s+tháng\s+(?P<m>\d{{1,2}})"
            rf"(?:,?\s+(?:năm\s+)?(?P<y>\d{{4}}))?{_NOT_BEFORE}",
            re.IGNORECASE,
        ),
        _dmy,
        "wrong_date",
    ),
    (
        re.compile(
            rf"{_NOT_AFTER}(?P<d>\d{{1,2}}){_ORDINAL}\s+(?:of\s+)?{_MONTH}(?:,?\s+(?P<y>\d{{4}}))?"
            rf"{_NOT_BEFORE}",
            re.IGNORECASE,
        ),
        _month_day,
        "wrong_date",
    ),
    (
        re.compile(
            rf"{_MONTH}\s+(?P<d>\d{{1,2}}){_ORDINAL}(?!\d)(?:,?\s+(?P<y>\d{{4}}))?{_NOT_BEFORE}",
            re.IGNORECASE,
        ),
        _month_day,
        "wrong_date",
    ),
    (
        re.compile(rf"{_MONTH}\s+(?P<y>\d{{4}}){_NOT_BEFORE}", re.IGNORECASE),
        _month_year,
        "wrong_date",
    ),
    (
        re.compile(
            rf"{_NOT_AFTER}(?P<d>\d{{1,2}})(?P<s>[/\-])(?P<m>\d{{1,2}})(?P<y>){_NOT_BEFORE}"
        ),
        _dmy,
        "wrong_date",
    ),
    (re.compile(rf"\bngày\s+(?P<d>\d{{1,2}}){_NOT_BEFORE}", re.IGNORECASE), _day, "wrong_date"),
    (
        re.compile(
            rf"\btháng\s+(?P<m>\d{{1,2}})(?:\s*(?:/|năm)\s*(?P<y>\d{{4}}))?{_NOT_BEFORE}",
            re.IGNORECASE,
        ),
        _vi_month,
        "wrong_date",
    ),
    (_PERCENT, _percent, "wrong_number"),
    (_MONEY, _money, "wrong_number"),
    (_PLAIN, _bare, "wrong_number"),
)


def _numbers_in(text: str) -> _Numbers:
    """The percentages, amounts and plain numbers written in ``text`` (the offer's names)."""
    percents = {int(m["n"]) for m in _PERCENT.finditer(text) if m["n"].isdigit()}
    text = _PERCENT.sub(" ", text)
    amounts = {_amount(m) for m in _MONEY.finditer(text) if _is_money(m)}
    text = _MONEY.sub(lambda m: " " if _is_money(m) else m.group(), text)
    return _Numbers(
        frozenset(percents),
        frozenset(amount for amount in amounts if amount is not None),
        frozenset(int(digits) for digits in re.findall(r"\d+", text)),
    )


def _is_money(match: re.Match[str]) -> bool:
    """A number is an amount only with a unit or thousands separators; otherwise it is left for
    the bare-number rule."""
    return bool(match["pre"] or match["mul"] or match["cur"] or re.search(r"\D", match["n"]))


def _read_numbers(text: str, facts: _Facts) -> _Found:
    found = _Found()
    for pattern, check, reason in _PATTERNS:
        kept: list[str] = []
        end = 0
        for match in pattern.finditer(text):
            if pattern is _MONEY and not _is_money(match):
                continue
            if not check(match, facts, found):
                found.problem = reason
                return found
            kept.append(text[end : match.start()])
            kept.append(" " * (match.end() - match.start()))
            end = match.end()
        kept.append(text[end:])
        text = "".join(kept)
    for month in _MONTH_WORD.findall(text):
        if not _month_ok(facts, _MONTHS[month.lower()], None):
            found.problem = "wrong_date"
            return found
    if _NUMBER_WORDS.search(text):
        found.problem = "wrong_number"  # "twenty percent", "nửa giá", a stray "%"
    return found


# ---------------------------------------------------------------------------- text helpers


def fold(text: str) -> str:
    """Lower case without Vietnamese marks: how the injection patterns compare text."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def has_vietnamese(text: str) -> bool:
    """Whether ``text`` has a letter only Vietnamese (among our two languages) writes."""
    return any(ch in _VI_CHARS for ch in text)


def _has_hidden_characters(text: str) -> bool:
    """Control and format characters (bidi overrides, zero-width spaces) can hide text from the
    guard or reorder it on screen; the zero-width joiner that emoji sequences use is fine."""
    return any(
        (unicodedata.category(ch) == "Cc" and ch != "\n")
        or (unicodedata.category(ch) == "Cf" and ch != "\u200d")
        for ch in text
    )


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _name_pattern(name: str) -> re.Pattern[str]:
    """``name`` as whole words, but not as the start of a longer number: the title "Giảm 20"
    must not eat the "giảm 20" of "giảm 20%" and leave a stray "%" behind."""
    words = [re.escape(word) for word in name.split()]
    unit = r"(?!\s?(?:[%₫]|(?:k|đ|đồng|vnd|vnđ|nghìn|ngàn|triệu|tr|phần)(?![^\W\d_])))"
    return re.compile(
        r"(?<![\w.,/₫])"
        + r"\s+".join(words)
        + r"(?![\w%₫]|[.,/\-]\d)"
        + (unit if name[-1].isdigit() else ""),
        re.IGNORECASE,
    )


def _without(text: str, names: Iterable[str]) -> tuple[str, set[str]]:
    """``text`` with each name (whole words, any case) blanked out, and the names found."""
    found = set()
    for name in sorted({n for n in names if n.strip()}, key=len, reverse=True):
        text, count = _name_pattern(name).subn(" ", text)
        if count:
            found.add(name)
    return text, found


def usable_item_name(name: str | None) -> str | None:
    """A favourite item's name if it looks like a menu item, else None.

    Menu and till data are typed by people and imported from files: a "name" holding a link, a
    phone number, braces or an instruction is not sent to the model nor shown in a template (the
    message then simply leaves the favourite out). The favourite is data in quoted JSON anyway;
    this is the second lock on the door.
    """
    if name is None:
        return None
    cleaned = " ".join(unicodedata.normalize("NFC", name).split())
    if (
        not cleaned
        or len(cleaned) > MAX_ITEM_NAME
        or _has_hidden_characters(cleaned)
        or _BRACKETED.search(cleaned)
        or _URL.search(cleaned)
        or _PHONE.search(cleaned)
        or _INJECTION.search(fold(cleaned))
    ):
        return None
    return cleaned


def _words(text: str) -> list[str]:
    return [word for word in re.findall(r"[^\W\d_]+", text) if len(word) > 1]


def _language_ok(text: str, language: str) -> bool:
    """Vietnamese: most words carry Vietnamese marks and English function words are rare.
    English: nearly no Vietnamese letters, and English function words are there (so unmarked
    Vietnamese does not pass as English)."""
    words = _words(text)
    if not words:
        return False
    marked = sum(has_vietnamese(word) for word in words) / len(words)
    english = sum(word.lower() in _ENGLISH_WORDS for word in words) / len(words)
    if language == "vi":
        return marked >= 0.3 and english < 0.2
    return marked <= 0.1 and english >= 0.15


def _looks_like_code(token: str) -> bool:
    """Letters and digits mixed (``GIAM20``, ``7K3M9QXD2F``), or capital groups joined by dashes
    (``7K3M-9QXD-2F``, ``VIP-GOLD``). A capitalised word alone is emphasis, not a code."""
    bare = _UNIT_SUFFIX.sub("", token.replace("-", ""))
    has_letter = any(ch.isalpha() for ch in bare)
    if has_letter and any(ch.isdigit() for ch in bare):
        return True
    return "-" in token and has_letter and bare.upper() == bare and len(bare) >= 6


# ------------------------------------------------------------------------------ the guard


def check_draft(text: str, offer: Offer, traits: Traits, shop_name: str, limit: int) -> str | None:
    """Why ``text`` must not be sent for ``offer``, or None when every fact in it is right.

    Reasons: ``empty``, ``hidden_characters``, ``no_placeholder``, ``placeholder``,
    ``too_long``, ``injection``, ``url``, ``phone``, ``code``, ``language``, ``wrong_date``,
    ``wrong_number``, ``wrong_offer`` (calls a discount free), ``offer_missing``.
    """
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        return "empty"
    if _has_hidden_characters(text):
        return "hidden_characters"
    if PLACEHOLDER not in text:
        return "no_placeholder"
    rest = text.replace(PLACEHOLDER, " ")
    if len(text.replace(PLACEHOLDER, "x" * LONG_NAME)) > limit:
        return "too_long"

    favourite = usable_item_name(traits.favourite_item)
    code_spellings = [offer.code, offer.code.replace("-", "")] if offer.code else []
    title, item = _nfc(offer.title), _nfc(offer.item_name)
    rest, mentioned = _without(
        rest, [_nfc(shop_name), title, item, favourite or "", *code_spellings]
    )
    if _BRACKETED.search(rest):
        return "placeholder"  # "{shop}", "[Tên]", "<name>" (brackets in a title are the title's)
    if _INJECTION.search(fold(rest)):
        return "injection"  # the owner's own names may say anything; the favourite was vetted
    if _URL.search(rest):
        return "url"
    if _PHONE.search(rest):
        return "phone"
    if any(_looks_like_code(m.group()) for m in _CODE_CANDIDATE.finditer(rest)):
        return "code"
    if not _language_ok(rest, traits.language):
        return "language"

    facts = _Facts(
        percent=offer.value if offer.reward_kind == "percent" else None,
        amount=offer.value if offer.reward_kind == "amount" else None,
        expiry=offer.expires_on,
        item_offer=offer.reward_kind == "item",
        named=_numbers_in(f"{title}\n{item}"),
    )
    found = _read_numbers(rest, facts)
    if found.problem:
        return found.problem
    if offer.reward_kind != "item" and _FREE.search(rest):
        return "wrong_offer"
    if not (found.value_mentioned or title in mentioned or item in mentioned):
        return "offer_missing"
    return None
