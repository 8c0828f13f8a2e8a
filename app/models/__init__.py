"""Every model, imported here so Alembic and create_all see the whole schema."""
from app.models.catalog import Category, Product, Sku, StoreStock
from app.models.customers import Customer, CustomerSession
from app.models.followers import Follower, ReplyRule
from app.models.notifications import NotificationLog, NotificationStatus
from app.models.orders import CartItem, Order, OrderEvent, OrderItem, OrderStatus
from app.models.payments import (Payment, PaymentNotification, Refund, RefundNotification,
                                 TransferNotification)
from app.models.pickup import PickupAttempt, PickupCode, ShippingReport
from app.models.staff import STAFF_ROLES, StaffInvite, StaffSeat, StaffSession
from app.models.stores import Store, StoreHours
from app.models.types import UTCDateTime, utcnow
from app.models.wechat import FollowerLinkToken, SubscriptionGrant

__all__ = [
    "CartItem", "Category", "Customer", "CustomerSession", "Follower", "NotificationLog", "NotificationStatus",
    "Order", "OrderEvent", "OrderItem", "OrderStatus", "Payment", "PaymentNotification", "Product", "Refund", "ReplyRule", "Sku", "Store", "StoreHours",
    "StoreStock", "UTCDateTime", "utcnow",
]
__all__ += ["PickupAttempt", "PickupCode", "STAFF_ROLES", "ShippingReport", "StaffInvite", "StaffSeat",
            "StaffSession"]
__all__ += ["RefundNotification", "TransferNotification"]
__all__ += ["FollowerLinkToken", "SubscriptionGrant"]
from app.models.outbox import JobStatus, OutboxJob  # noqa: E402

__all__ += ["JobStatus", "OutboxJob"]
from app.models.coupons import (  # noqa: E402 (issue 18)
    COUPON_KINDS, Alliance, AllianceMember, Coupon, CouponDefinition, CouponDefinitionStore)
from app.models.promises import OrderRating, StorePromise  # noqa: E402

__all__ += ["Alliance", "AllianceMember", "COUPON_KINDS", "Coupon", "CouponDefinition", "CouponDefinitionStore",
            "OrderRating", "StorePromise"]
# Staff attribution and the commission ledger (issue 17).
from app.models.attribution import (AttributionEvent, AttributionScene, CustomerAttribution,  # noqa: E402
                                    OrderAttribution)
from app.models.commission import CommissionEntry, CommissionRule  # noqa: E402
from app.models.payouts import CommissionPayout  # noqa: E402

__all__ += ["AttributionEvent", "AttributionScene", "CommissionEntry", "CommissionPayout", "CommissionRule",
            "CustomerAttribution", "OrderAttribution"]
from app.models.console import (CONSOLE_ROLES, ConsoleAuditEntry, ConsoleImport, ConsoleLoginNonce,  # noqa: E402
                                ConsoleUser, ConsoleUserStore)

__all__ += ["CONSOLE_ROLES", "ConsoleAuditEntry", "ConsoleImport", "ConsoleLoginNonce", "ConsoleUser",
            "ConsoleUserStore"]
