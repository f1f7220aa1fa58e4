"""Every end-to-end test starts on an empty Emulator Suite: no documents, no users."""

from __future__ import annotations

import pytest
from emulators import Suite

from e2e import helpers


@pytest.fixture(autouse=True)
def clean_suite(suite: Suite) -> Suite:
    suite.reset()
    return suite


@pytest.fixture
def admin() -> helpers.User:
    """A signed-in user whose ID token carries ``admin: true``."""
    user = helpers.make_admin(helpers.sign_up(helpers.unique("admin") + "@example.com"))
    assert helpers.token_claims(user.id_token).get("admin") is True
    return user


@pytest.fixture
def member() -> helpers.User:
    """A signed-in user without the admin claim."""
    return helpers.sign_up(helpers.unique("member") + "@example.com")
