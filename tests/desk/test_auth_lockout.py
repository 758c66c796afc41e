"""Wrong passwords lock one client out of one account, not the account for everyone
(issue 18, item 7); a guess spread over many clients still locks the account."""

from __future__ import annotations

from sqlalchemy import func, select

from kyodaku.desk.auth import ACCOUNT_LOCK_AFTER, LOCK_AFTER
from kyodaku.desk.models import LoginFailureRow
from tests.desk.conftest import PASSWORD

STRANGER, OWNER = "198.51.100.66", "203.0.113.7"


def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out(desk):
    svc = desk.service
    for _ in range(LOCK_AFTER):
        assert svc.login("hoshi-staff", "not the password", client=STRANGER) is None
    # the stranger is locked out, even with the right password ...
    assert svc.login("hoshi-staff", PASSWORD, client=STRANGER) is None
    # ... the owner, from another address, is not
    assert svc.login("hoshi-staff", PASSWORD, client=OWNER) is not None
    # and the stranger's lock lasts its period
    desk.clock.advance(minutes=14)
    assert svc.login("hoshi-staff", PASSWORD, client=STRANGER) is None
    desk.clock.advance(minutes=2)
    assert svc.login("hoshi-staff", PASSWORD, client=STRANGER) is not None


def test_the_lock_is_per_account(desk):
    for _ in range(LOCK_AFTER):
        desk.service.login("hoshi-staff", "not the password", client=STRANGER)
    assert desk.service.login("hoshi-staff", PASSWORD, client=STRANGER) is None
    assert desk.service.login("kumo-staff", PASSWORD, client=STRANGER) is not None


def test_a_success_clears_that_clients_count(desk):
    svc = desk.service
    for _ in range(LOCK_AFTER - 1):
        svc.login("hoshi-staff", "typo typo typo", client=OWNER)
    assert svc.login("hoshi-staff", PASSWORD, client=OWNER) is not None
    for _ in range(LOCK_AFTER - 1):
        svc.login("hoshi-staff", "typo typo typo", client=OWNER)
    assert svc.login("hoshi-staff", PASSWORD, client=OWNER) is not None


def test_a_guess_spread_over_many_clients_locks_the_account_for_everyone(desk):
    svc = desk.service
    clients = [f"192.0.2.{i}" for i in range(ACCOUNT_LOCK_AFTER)]
    for c in clients:  # one wrong password each: no client reaches its own lock
        assert svc.login("hoshi-staff", "guess", client=c) is None
    assert svc.login("hoshi-staff", PASSWORD, client=OWNER) is None  # locked for everyone
    assert svc.login("kumo-staff", PASSWORD, client=OWNER) is not None  # other accounts are not
    desk.clock.advance(minutes=16)
    assert svc.login("hoshi-staff", PASSWORD, client=OWNER) is not None
    with desk.workspace.session() as s:  # failures older than the window are pruned
        assert s.scalar(select(func.count()).select_from(LoginFailureRow)) == 0


def test_ipv6_clients_are_counted_per_64(desk):
    svc = desk.service
    for i in range(LOCK_AFTER):  # a new address of the same /64 for every guess
        assert svc.login("hoshi-staff", "guess", client=f"2001:db8:1:2::{i + 1:x}") is None
    assert svc.login("hoshi-staff", PASSWORD, client="2001:db8:1:2:ffff::9") is None
    assert svc.login("hoshi-staff", PASSWORD, client="2001:db8:1:3::1") is not None  # another network
    assert svc.login("hoshi-staff", PASSWORD, client="::ffff:203.0.113.7") is not None
