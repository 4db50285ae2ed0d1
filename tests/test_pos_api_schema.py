"""The POS API against its own OpenAPI document: schemathesis generates requests for every
operation (valid ones, and ones that break the schema) and checks that no answer is a 500 or
disagrees with the document. A property test checks idempotent replays.

Schemathesis is synchronous (``requests``), so it runs in a worker thread while the server keeps
serving on the test's event loop.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from loyalty import vouchers
from models.members import Customer
from models.purchases import Purchase
from tests.conftest import FakeClock
from tests.pos import Pos, bill, pos

__all__ = ["pos"]  # the fixture

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
BUDGET_SECONDS = 40


def fuzz(base: str, key: str, examples: int) -> int:
    """Run every operation's generated cases (positive, then negative) within the time budget.
    Returns the number of requests made."""
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    deadline = time.monotonic() + BUDGET_SECONDS
    calls = 0
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=schema.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            nonlocal calls
            if time.monotonic() > deadline:
                return
            calls += 1
            case.call_and_validate(
                base_url=base, headers={"Authorization": f"Bearer {key}"}, checks=CHECKS
            )

        run()
    return calls


async def test_schemathesis_finds_no_500_and_no_schema_break(pos: Pos, clock: FakeClock) -> None:
    await vouchers.issue(
        pos.lan.id,
        reason="birthday",
        title="Free cà phê",
        kind="item",
        value=0,
        valid_days=7,
        at=clock(),
        key="bday",
    )
    await pos.purchase(bill(85_000))  # something to refund
    started = time.monotonic()
    calls = await asyncio.to_thread(fuzz, pos.base, pos.key_a, 150)
    assert calls > 100
    assert time.monotonic() - started < 60


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    amounts=st.lists(st.integers(min_value=1, max_value=5_000_000), min_size=1, max_size=4),
    replays=st.integers(min_value=1, max_value=3),
)
async def test_replays_record_one_purchase(pos: Pos, amounts: list[int], replays: int) -> None:
    """Whatever the bills and however often each is resent: one purchase per key, and a replay
    changes neither the answer nor the balance."""
    base = await Purchase.all().count()
    run = f"{time.monotonic_ns()}"
    for n, amount in enumerate(amounts):
        idem = f"{run}-{n}"
        first = await pos.purchase(bill(amount), idem=idem)
        assert first[0] == 201
        for _ in range(replays):
            assert await pos.purchase(bill(amount), idem=idem) == first
            balance = (await Customer.get(id=pos.lan.id)).points_balance
            assert balance == first[1]["balance"]
    assert await Purchase.all().count() == base + len(amounts)
