"""Store pickup: codes issued at payment, QR tokens, the exactly-once handover, staff views, no-shows, and the
pickup report to WeChat's shipping-info API."""
