"""Coupons with exact budgets, and store alliances (issue 18)."""
