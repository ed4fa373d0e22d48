"""200 wrong passwords were tried in one second: nothing slowed guessing down."""

from __future__ import annotations

from app.server import SignIn


def test_after_five_wrong_passwords_a_name_is_refused_until_the_window_passes() -> None:
    now = [1000.0]
    slept: list[float] = []
    sign_in = SignIn([("ana", "a long passphrase")], clock=lambda: now[0], sleep=slept.append)
    assert sign_in("ana", "a long passphrase")
    assert not any(sign_in("ana", f"guess {i}") for i in range(SignIn.MAX_FAILURES))
    assert slept == [SignIn.DELAY] * SignIn.MAX_FAILURES  # each wrong attempt costs time
    assert not sign_in("ana", "a long passphrase")  # locked, even with the right password
    assert sign_in("bo", "x") is False  # unknown names never pass
    now[0] += SignIn.WINDOW + 1
    assert sign_in("ana", "a long passphrase")  # the window has passed


def test_passwords_are_compared_whole() -> None:
    sign_in = SignIn([("ana", "secret")], sleep=lambda s: None)
    assert not sign_in("ana", "secre") and not sign_in("ana", "secret ") and not sign_in("ana", "")
