"""Order notifications: a mini-program subscribe message to the customer and, when the customer follows the
official account, a template message there. `enqueue_order_notification(order, kind)` is the entry point."""
from app.notifications.sending import KINDS, enqueue_order_notification, send_order_notification

__all__ = ["KINDS", "enqueue_order_notification", "send_order_notification"]
