import io

import pytest
from django.core.management import call_command

from tests.factories import StaffFactory, staff_member


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the real catalogue once; each test then runs in a transaction rolled back."""
    with django_db_blocker.unblock():
        call_command("load_catalogue", stdout=io.StringIO())


@pytest.fixture
def staff_user():
    """An administrator (管理员) of every insurer: the tests that are not about access."""
    return staff_member("admin")


@pytest.fixture
def staff_without_role():
    return StaffFactory()


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(username="root", password="root-password-1")


def ensure_catalogue() -> None:
    """Transactional tests (a live server, a real Celery worker) end with a flush that
    empties every table; tests running after one load the catalogue again."""
    from benefits.models import Product

    if not Product.objects.exists():
        call_command("load_catalogue", stdout=io.StringIO())


@pytest.fixture
def catalogue(db):
    ensure_catalogue()
