"""The hash-chain check on entries in memory: any change to any field is caught at that entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from celltrial.study.audit.chain import GENESIS_HASH, canonical_json, check_chain, entry_hash, stamp

START = datetime(2025, 11, 25, 8, 0, tzinfo=UTC)


def _chain(n: int) -> list[list[object]]:
    rows: list[list[object]] = []
    previous = GENESIS_HASH
    for i in range(1, n + 1):
        content: list[object] = [
            i, START + timedelta(seconds=i), "nurse", "create", "vital_signs", str(i), "pulse",
            None, str(60 + i), None, 3, 1, previous,
        ]  # fmt: skip
        digest = entry_hash(*content)  # type: ignore[arg-type]
        rows.append([i, stamp(START + timedelta(seconds=i)), *content[2:], digest])
        previous = digest
    return rows


def test_an_intact_chain_reports_ok_and_its_length() -> None:
    report = check_chain(_chain(10))
    assert (report.ok, report.count, report.first_broken_id) == (True, 10, None)


def test_the_hash_does_not_depend_on_the_time_zone_the_time_is_written_in() -> None:
    content: list[object] = [1, START, "a", "b", "c", "1", None, None, None, None, None, None, GENESIS_HASH]
    shanghai = START.astimezone(ZoneInfo("Asia/Shanghai"))
    assert entry_hash(*content) == entry_hash(*[1, shanghai, *content[2:]])  # type: ignore[arg-type]


@given(
    position=st.integers(min_value=0, max_value=7),
    column=st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
)
def test_changing_any_field_of_any_entry_is_caught_at_that_entry(position: int, column: int) -> None:
    rows = _chain(8)
    original = rows[position][column]
    if isinstance(original, int):
        rows[position][column] = original + 1
    else:
        rows[position][column] = f"{original}x"
    report = check_chain(rows)
    assert (report.ok, report.first_broken_id, report.count) == (False, position + 1, position)


def test_the_time_enters_the_hash_in_utc_to_the_microsecond() -> None:
    assert (
        stamp(datetime(2025, 11, 25, 16, 0, 0, 5, tzinfo=ZoneInfo("Asia/Shanghai")))
        == "2025-11-25 08:00:00.000005"
    )


def test_canonical_json_sorts_keys_and_keeps_characters() -> None:
    assert canonical_json({"b": [1, 2], "a": "µg/kg"}) == '{"a":"µg/kg","b":[1,2]}'
