"""The commission ledger (issue 17): rules per store, entries earned at pickup, reversed by a refund, adjusted by a
manager; the figures staff see, and the monthly statement."""
