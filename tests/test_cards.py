"""Member cards: random tokens stored hashed, a few recent cards valid, old ones revoked."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta

import zxingcpp
from PIL import Image

from loyalty import members
from loyalty.cards import render_card
from models.members import Customer, MemberCard

AT = datetime(2026, 11, 22, tzinfo=UTC)


async def test_newest_cards_stay_valid_older_ones_are_revoked(db: str) -> None:
    customer = await Customer.create(display_name="Lan")
    tokens = [
        await members.issue_card(customer, AT + timedelta(minutes=i))
        for i in range(members.ACTIVE_CARDS + 2)
    ]
    assert len(set(tokens)) == len(tokens)
    assert all(len(token) == 22 for token in tokens)
    for token in tokens[:2]:
        assert await members.member_by_card(token) is None
    for token in tokens[2:]:
        found = await members.member_by_card(token)
        assert found is not None and found.id == customer.id
    stored = {card.token_hash for card in await MemberCard.all()}
    assert hashlib.sha256(tokens[-1].encode()).hexdigest() in stored
    assert not stored & set(tokens)
    assert await members.member_by_card("not-a-token") is None


async def test_deleted_members_cards_stop_working(db: str) -> None:
    customer = await Customer.create(display_name="Lan")
    token = await members.issue_card(customer, AT)
    await Customer.filter(id=customer.id).update(deleted_at=AT)
    assert await members.member_by_card(token) is None


def test_card_image_scans_even_with_long_decomposed_names() -> None:
    link = members.card_link("QuenBot", "A" * 22)
    decomposed = "Nguye\u0302\u0303n Thi\u0323 A\u0301nh " * 4
    png = render_card(
        shop_name="Cà Phê " * 10, member_name=decomposed, tier_label="Hạng: Vàng", link=link
    )
    image = Image.open(io.BytesIO(png))
    assert image.size == (900, 560)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [link]
    small = image.resize((300, 187)).convert("L")  # a phone photo of a phone screen, roughly
    assert [r.text for r in zxingcpp.read_barcodes(small)] == [link]
