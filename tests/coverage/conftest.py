import pytest

from coverage.regions import region_index


@pytest.fixture(scope="module")
def index(django_db_setup, django_db_blocker):
    """The in-memory region index, built once per module from the loaded divisions and
    aliases (the same two queries every import makes)."""
    with django_db_blocker.unblock():
        return region_index()
