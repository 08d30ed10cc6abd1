import time

from accounts.ids import new_object_id
from apikit.ids import is_object_id
from tests.factories import ApplicationFactory, OrganizationFactory, UserFactory


def test_new_object_id_is_24_lower_hex_and_starts_with_the_current_second():
    before = int(time.time())
    value = new_object_id()
    after = int(time.time())
    assert len(value) == 24
    assert is_object_id(value)
    assert value == value.lower()
    assert before <= int(value[:8], 16) <= after


def test_object_ids_are_unique_and_time_ordered_across_seconds():
    ids = {new_object_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    earlier = "00000001" + "f" * 16
    assert earlier < new_object_id()


def test_is_object_id_rejects_other_shapes():
    assert not is_object_id("sandbox")
    assert not is_object_id("g" * 24)
    assert not is_object_id("a" * 23)
    assert not is_object_id(None)
    assert is_object_id("ABCDEF0123456789abcdef01")


def test_api_visible_models_get_object_ids(db):
    user = UserFactory()
    org = OrganizationFactory()
    app = ApplicationFactory(organization=org)
    for obj in (user, org, app):
        assert is_object_id(obj.pk)
