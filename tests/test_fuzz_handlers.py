"""Random text, buttons and contacts through the handlers: polite answers, no crash, no harm."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.types import Shop
from models.members import Customer
from tests.chat import Chat, join

TELEGRAM_TEXT_LIMIT = 4096

texts = st.one_of(
    st.text(max_size=6000),
    st.sampled_from(
        [
            "/start",
            "/card",
            "/points",
            "/help",
            "/language",
            "/skip",
            "/start m_x",
            "Bỏ qua",
            "Skip",
            "31/02",
            "29/02/2023",
            "/POINTS@QuenTestBot",
            "/",
            "//",
        ]
    ),
    st.builds(
        lambda c, a: f"/{c} {a}",
        st.text(alphabet="abcxyz_", min_size=1, max_size=30),
        st.text(max_size=50),
    ),
)
actions = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda n, rest: f"j:{n}:{rest}",
        st.text(alphabet="0123456789abcdef", max_size=8),
        st.text(max_size=20),
    ),
    st.sampled_from(["lang:vi", "lang:en", "lang:", "lang:xx", "j::lang:vi", "j"]),
)
events = st.lists(
    st.one_of(
        st.tuples(st.just("say"), texts),
        st.tuples(st.just("press"), actions),
        st.tuples(st.just("contact"), st.text(max_size=30)),
        st.tuples(st.just("foreign-contact"), st.text(max_size=30)),
    ),
    min_size=1,
    max_size=12,
)


async def _play(chat: Chat, kind: str, value: str) -> None:
    if kind == "say":
        replies = await chat.say(value)
    elif kind == "press":
        replies = await chat.press(value)
    elif kind == "contact":
        replies = await chat.share_phone(value)
    else:
        replies = await chat.share_phone(value, owner="999")
    assert replies, (kind, value)
    for reply in replies:
        assert reply.text.strip()
        assert len(reply.text) < TELEGRAM_TEXT_LIMIT


counter = iter(range(10**9))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=events)
async def test_strangers_never_crash_the_bot(
    db: str, shop: Shop, script: list[tuple[str, str]]
) -> None:
    chat = Chat(shop, user_id=str(7_000_000_000 + next(counter)))
    for kind, value in script:
        await _play(chat, kind, value)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=events)
async def test_garbage_never_changes_a_members_account(
    db: str, shop: Shop, script: list[tuple[str, str]]
) -> None:
    chat = await join(Chat(shop, user_id=str(8_000_000_000 + next(counter))))
    member = await Customer.get(accounts__external_id=chat.user_id)
    before = (member.points_balance, member.phone, member.birthday_day, member.tier_code)
    members_before = await Customer.all().count()
    for kind, value in script:
        await _play(chat, kind, value)
    after = await Customer.get(id=member.id)
    assert (after.points_balance, after.phone, after.birthday_day, after.tier_code) == before
    assert await Customer.all().count() == members_before
