"""Fixtures of the server unit tests."""

import pytest
from server_envs import ClosingEcho


@pytest.fixture
def closing_echo():
    ClosingEcho.closed = []
    return ClosingEcho
