"""Every model, imported here so Alembic and create_all see the whole schema."""
from app.models.catalog import Category, Product, Sku, StoreStock
from app.models.customers import Customer, CustomerSession
from app.models.followers import Follower, ReplyRule
from app.models.notifications import NotificationLog, NotificationStatus
from app.models.orders import CartItem, Order, OrderEvent, OrderItem, OrderStatus
from app.models.payments import Payment, PaymentNotification, Refund
from app.models.pickup import PickupAttempt, PickupCode, ShippingReport
from app.models.staff import STAFF_ROLES, StaffInvite, StaffSeat, StaffSession
from app.models.stores import Store, StoreHours
from app.models.types import UTCDateTime, utcnow

__all__ = [
    "CartItem", "Category", "Customer", "CustomerSession", "Follower", "NotificationLog", "NotificationStatus",
    "Order", "OrderEvent", "OrderItem", "OrderStatus", "Payment", "PaymentNotification", "Product", "Refund", "ReplyRule", "Sku", "Store", "StoreHours",
    "StoreStock", "UTCDateTime", "utcnow",
]
__all__ += ["PickupAttempt", "PickupCode", "STAFF_ROLES", "ShippingReport", "StaffInvite", "StaffSeat",
            "StaffSession"]
from app.models.console import (CONSOLE_ROLES, ConsoleAuditEntry, ConsoleImport, ConsoleLoginNonce,  # noqa: E402
                                ConsoleUser, ConsoleUserStore)

__all__ += ["CONSOLE_ROLES", "ConsoleAuditEntry", "ConsoleImport", "ConsoleLoginNonce", "ConsoleUser",
            "ConsoleUserStore"]
