"""Login throttling: failures in a row per user name, an increasing wait kept in the database,
refusals during the wait without checking the password, each one audited (CLI included).

The store's clock is injected: no test sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ketascreen.cli import main
from ketascreen.errors import AuthenticationFailedError, LoginThrottledError
from ketascreen.records import users
from ketascreen.records.models import AuditEventRow
from ketascreen.records.repository import RecordStore
from ketascreen.records.users import (
    THROTTLE_AFTER,
    THROTTLE_MAX_DELAY,
    throttle_delay,
)
from tests.records.support import PASSWORDS

START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
WRONG = "not-the-password"


class Clock:
    """A settable clock shared by the stores of a test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clinic(database_url: str, clock: Clock) -> Iterator[RecordStore]:
    """A store on a fresh database with the test clock, an admin and Dr Smith."""
    opened = RecordStore.open(database_url, clock=clock)
    try:
        opened.add_user(None, username="admin", display_name="Clinic Admin", role="admin",
                        password=PASSWORDS["admin"])
        admin = opened.authenticate("admin", PASSWORDS["admin"])
        opened.add_user(admin, username="drsmith", display_name="Dr Jane Smith",
                        role="physician", password=PASSWORDS["drsmith"])
        yield opened
    finally:
        opened.close()


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords actually checked against a hash, in order."""
    checked: list[str] = []
    real = users.verify_password

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(users, "verify_password", counting)
    return checked


def _fail(store: RecordStore, username: str = "drsmith", times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailedError) as refused:
            store.authenticate(username, WRONG)
        assert not isinstance(refused.value, LoginThrottledError)


def _logins(store: RecordStore) -> list[tuple[str, str, dict[str, object]]]:
    with store.database.read() as session:
        rows = session.execute(select(AuditEventRow).where(AuditEventRow.action == "login")
                               .order_by(AuditEventRow.seq)).scalars()
        return [(row.username, row.outcome, json.loads(row.detail)) for row in rows]


def test_the_wait_doubles_from_one_second_to_a_minute() -> None:
    """No wait before the third failure; then 1 s, 2 s, 4 s ... capped at 60 s."""
    assert [throttle_delay(n).total_seconds() for n in range(1, 12)] == [
        0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert throttle_delay(10_000) == THROTTLE_MAX_DELAY


@given(st.integers(min_value=0, max_value=10_000))
@settings(max_examples=200)
def test_the_wait_never_shrinks_and_stays_capped(failures: int) -> None:
    assert timedelta(0) <= throttle_delay(failures) <= throttle_delay(failures + 1) \
        <= THROTTLE_MAX_DELAY


def test_during_the_wait_even_the_right_password_is_refused_unchecked(
        clinic: RecordStore, clock: Clock, password_checks: list[str]) -> None:
    """After three failures the fourth login, one moment later and with the right password, is
    refused without the password being checked, saying when to retry; at the retry time the
    right password logs in."""
    _fail(clinic, times=THROTTLE_AFTER)
    password_checks.clear()
    clock.advance(0.4)
    with pytest.raises(LoginThrottledError) as throttled:
        clinic.authenticate("drsmith", PASSWORDS["drsmith"])
    assert password_checks == []
    assert throttled.value.retry_at == START + timedelta(seconds=1)
    assert throttled.value.wait_seconds == 1
    assert throttled.value.failures == THROTTLE_AFTER
    assert str(throttled.value) == ("login refused for 'drsmith': too many failed logins in a "
                                    "row (3): try again in 1 s")
    clock.advance(0.6)
    assert clinic.authenticate("drsmith", PASSWORDS["drsmith"]).username == "drsmith"
    assert password_checks == [PASSWORDS["drsmith"]]


def test_each_failure_after_the_wait_doubles_it(clinic: RecordStore, clock: Clock) -> None:
    """Failures that come after each wait make the next wait longer: 1, 2, 4 ... 60, 60 s; a
    login just before the end of each wait is refused, naming the seconds left."""
    _fail(clinic, times=THROTTLE_AFTER - 1)
    waits: list[int] = []
    for failures in range(THROTTLE_AFTER, THROTTLE_AFTER + 9):
        _fail(clinic)
        wait = throttle_delay(failures).total_seconds()
        clock.advance(wait - 0.5)
        with pytest.raises(LoginThrottledError) as throttled:
            clinic.authenticate("drsmith", PASSWORDS["drsmith"])
        waits.append(int(wait))
        assert throttled.value.wait_seconds == 1  # 0.5 s left, rounded up
        clock.advance(0.5)
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_a_throttled_attempt_does_not_lengthen_the_wait(clinic: RecordStore,
                                                       clock: Clock) -> None:
    _fail(clinic, times=THROTTLE_AFTER)
    for _ in range(5):
        with pytest.raises(LoginThrottledError):
            clinic.authenticate("drsmith", WRONG)
    clock.advance(1)
    assert clinic.authenticate("drsmith", PASSWORDS["drsmith"]).username == "drsmith"


def test_a_successful_login_clears_the_count(clinic: RecordStore) -> None:
    _fail(clinic, times=THROTTLE_AFTER - 1)
    clinic.authenticate("drsmith", PASSWORDS["drsmith"])
    _fail(clinic, times=THROTTLE_AFTER - 1)  # two more: still no wait
    assert clinic.authenticate("drsmith", PASSWORDS["drsmith"]).username == "drsmith"


def test_the_count_is_per_account(clinic: RecordStore) -> None:
    """Dr Smith's wait does not stop the admin logging in."""
    _fail(clinic, times=THROTTLE_AFTER)
    assert clinic.authenticate("admin", PASSWORDS["admin"]).username == "admin"
    with pytest.raises(LoginThrottledError):
        clinic.authenticate("drsmith", PASSWORDS["drsmith"])


def test_unknown_names_wait_too_and_case_does_not_escape(clinic: RecordStore) -> None:
    """An unknown name is throttled like an account (the wait does not tell which names
    exist), and ' DrSmith ' counts against drsmith."""
    _fail(clinic, "nobody", times=THROTTLE_AFTER)
    with pytest.raises(LoginThrottledError):
        clinic.authenticate("nobody", WRONG)
    _fail(clinic, "DrSmith", times=THROTTLE_AFTER - 1)
    _fail(clinic, " drsmith ")
    with pytest.raises(LoginThrottledError):
        clinic.authenticate("drsmith", PASSWORDS["drsmith"])


def test_another_process_sees_the_same_wait(clinic: RecordStore, database_url: str,
                                            clock: Clock) -> None:
    """The wait is in the database: a second store (another connection pool, as another
    process or workstation would have) is refused too, and its failure counts."""
    other = RecordStore.open(database_url, clock=clock)
    try:
        _fail(clinic, times=THROTTLE_AFTER - 1)
        _fail(other)  # the third failure, from elsewhere
        with pytest.raises(LoginThrottledError):
            clinic.authenticate("drsmith", PASSWORDS["drsmith"])
        clock.advance(1)
        _fail(clinic)  # the fourth: 2 s
        clock.advance(1.5)
        with pytest.raises(LoginThrottledError) as throttled:
            other.authenticate("drsmith", PASSWORDS["drsmith"])
        assert throttled.value.failures == THROTTLE_AFTER + 1
    finally:
        other.close()


def test_every_failure_and_throttled_refusal_is_audited(clinic: RecordStore,
                                                        clock: Clock) -> None:
    _fail(clinic, times=THROTTLE_AFTER)
    with pytest.raises(LoginThrottledError):
        clinic.authenticate("drsmith", PASSWORDS["drsmith"])
    refused = [(who, detail) for who, outcome, detail in _logins(clinic) if outcome == "refused"]
    assert [detail["failures"] for _, detail in refused] == [1, 2, 3, 3]
    assert all(who == "drsmith" for who, _ in refused)
    assert "retry_at" not in refused[1][1]
    assert refused[2][1]["retry_at"] == (START + timedelta(seconds=1)).isoformat()
    assert refused[3][1]["reason"] == "throttled: password not checked"
    assert refused[3][1]["retry_at"] == (START + timedelta(seconds=1)).isoformat()
    report = clinic.verify_audit()
    assert report.ok, report


def test_the_cli_refuses_during_the_wait_and_says_when(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """``--user`` logins share the wait: a login during it exits 4, saying how long to wait,
    and the refusal is audited. (Twelve failures, each after the wait of the one before,
    the last one now by the real clock: the wait is then the 60 s cap, far longer than this
    test.)"""
    clock = Clock()
    clock.now = datetime.now(UTC) - timedelta(seconds=11 * 61)
    store = RecordStore.open(database_url, clock=clock)
    try:
        store.add_user(None, username="admin", display_name="Clinic Admin", role="admin",
                       password=PASSWORDS["admin"])
        for _ in range(11):
            _fail(store, "admin")
            clock.advance(61)
        _fail(store, "admin")
    finally:
        store.close()
    password = tmp_path / "password"
    password.write_text(PASSWORDS["admin"])
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", database_url)
    status = main(["users", "list", "--user", "admin", "--password-file", str(password)])
    err = capsys.readouterr().err
    assert status == 4
    assert "login refused for 'admin': too many failed logins in a row (12): try again in" in err
    seconds = int(err.split("try again in ")[1].split(" s")[0])
    assert 1 <= seconds <= 60
    store = RecordStore.open(database_url)
    try:
        last = _logins(store)[-1]
    finally:
        store.close()
    assert last[0] == "admin" and last[1] == "refused"
    assert last[2]["reason"] == "throttled: password not checked"
