"""The MARC tests read the real files in ../shared/data through the suite's one fixture."""

from pathlib import Path

import pytest


@pytest.fixture
def data(shared: Path) -> Path:
    return shared
