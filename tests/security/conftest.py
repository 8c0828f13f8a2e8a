"""Issue 11's findings, one test file each, reproduced as an attacker would (over real HTTP where it matters).
Fixtures are borrowed from the packages that own them."""
from tests.checkout.conftest import live, notifier, placed  # noqa: F401 (fixtures)
from tests.pickup.conftest import paid_order, shop, staff_member  # noqa: F401 (fixtures)
