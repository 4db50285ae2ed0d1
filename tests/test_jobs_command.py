"""Owners in chat: ``/jobs`` shows every scheduled job, ``/settings birthday|winback`` picks what
the scheduler gives (refused politely when the reward cannot be used)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from handlers.team import OWNER_ONLY, ROLE_COMMANDS, STAFF_ONLY
from handlers.types import Shop
from locales import t
from loyalty import rules, vouchers
from loyalty.staff import OWNER
from models.audit import AuditEntry
from models.rewards import Reward
from models.staff import ProgramRules
from scheduler.jobs import BIRTHDAY, JOBS, WINBACK, run
from tests.chat import Chat, join

OWNER_ID = "9001"


@pytest.fixture
def owner_shop(shop: Shop) -> Shop:
    return replace(shop, owners=frozenset({("telegram", OWNER_ID)}))


def test_jobs_is_an_owner_command() -> None:
    assert "jobs" in ROLE_COMMANDS[OWNER] and "jobs" in STAFF_ONLY and "jobs" in OWNER_ONLY
    assert t("vi", "command-jobs") and t("en", "command-jobs")


async def test_jobs_lists_every_job_with_its_last_and_next_run(db: str, owner_shop: Shop) -> None:
    owner = Chat(owner_shop, user_id=OWNER_ID)
    replies = await owner.say("/jobs")
    text = replies[0].text
    for name, job in JOBS.items():
        assert t("vi", f"jobs-name-{name}") in text
        assert f"{job.at:%H:%M} hằng ngày" in text
    assert text.count("Chưa chạy lần nào") == len(JOBS)
    # The shop's clock says 10:00 on 22/11: the birthday job is next due tomorrow at 09:00.
    assert "Lần tới: 09:00 ngày 23/11/2026" in text
    assert "Lần tới: 10:30 ngày 22/11/2026" in text

    await run(
        BIRTHDAY, datetime(2026, 11, 22, 2, 0, tzinfo=UTC), owner_shop.zone, owner_shop.voice()
    )
    await rules.current()
    await ProgramRules.filter(id=rules.RULES_ID).update(winback_reward_id=77)
    await run(
        WINBACK, datetime(2026, 11, 22, 3, 0, tzinfo=UTC), owner_shop.zone, owner_shop.voice()
    )
    text = (await owner.say("/jobs"))[0].text
    assert "Lần gần nhất: ngày 22/11/2026, xong lúc 09:00 — chưa chọn quà" in text
    assert "quà số 77 không còn hoặc đang tạm dừng" in text

    english = Chat(owner_shop, user_id=OWNER_ID, language_hint="en")
    await english.say("/language")
    await english.press("lang:en")
    text = (await english.say("/jobs"))[0].text
    for name in JOBS:
        assert t("en", f"jobs-name-{name}") in text
    assert "no reward chosen" in text and "Next run: 09:00 on 23/11/2026" in text


async def test_jobs_is_not_for_customers_or_cashiers(db: str, owner_shop: Shop) -> None:
    lan = await join(Chat(owner_shop, user_id="1001", name="Lan"))
    replies = await lan.say("/jobs")
    assert "Lần tới" not in replies[0].text
    assert replies[0].text == t("vi", "unknown-command", shop=owner_shop.name)


async def test_owner_chooses_the_birthday_and_winback_rewards(db: str, owner_shop: Shop) -> None:
    owner = Chat(owner_shop, user_id=OWNER_ID)
    text = (await owner.say("/settings"))[0].text
    assert "Quà sinh nhật: đang tắt" in text and "Quà mời quay lại: đang tắt" in text
    assert "/settings birthday 3 2" in text

    cake = await Reward.create(
        title="Bánh kem", kind="item", item_name="Bánh kem", cost_points=300, valid_days=14
    )
    paused = await Reward.create(
        title="Giảm 20%", kind="percent", value=20, cost_points=500, valid_days=30, active=False
    )
    refusals = {
        "/settings birthday 999": "Không có quà số này",
        f"/settings birthday {paused.id}": "đang tạm dừng",
        f"/settings birthday {cake.id} 31": "từ 0 đến 30",
        f"/settings winback {cake.id} 6": "từ 7 đến 365",
        f"/settings winback {cake.id} 366": "từ 7 đến 365",
        "/settings birthday cake": "Giá trị chưa đúng",
        "/settings birthday 99999999999": "Giá trị chưa đúng",
        f"/settings birthday {cake.id} 2 3": "Giá trị chưa đúng",
        "/settings winback": "Giá trị chưa đúng",
    }
    for typed, expected in refusals.items():
        replies = await owner.say(typed)
        assert expected in replies[0].text and "✅" not in replies[0].text, typed
    program = await rules.current()
    assert (program.birthday_reward_id, program.winback_reward_id) == (None, None)

    replies = await owner.say(f"/settings birthday {cake.id} 2")
    assert replies[0].text.startswith("✅")
    assert f"Quà sinh nhật: «Bánh kem» (quà số {cake.id}), gửi trước sinh nhật 2 ngày" in (
        replies[1].text
    )
    await owner.say(f"/settings winback #{cake.id} 30")
    await owner.say("/settings winback off")
    program = await rules.current()
    assert (program.birthday_reward_id, program.birthday_days_ahead) == (cake.id, 2)
    assert (program.winback_reward_id, program.winback_days) == (None, 30)
    audited = await AuditEntry.filter(action="rules.change").order_by("id")
    assert [(a.subject, a.details["after"]) for a in audited] == [
        ("birthday", [cake.id, 2]),
        ("winback", [cake.id, 30]),
        ("winback", [None, 30]),
    ]
    assert audited[0].details["before"] == [None, 3]

    # Pausing the chosen reward later: the summary warns that nothing will be sent.
    await vouchers.set_active(1, cake.id, active=False)
    text = (await owner.say("/settings"))[0].text
    assert f"⚠️ Quà số {cake.id} không còn hoặc đang tạm dừng" in text
