"""Service promises: when an order will be ready, whether it was, what customers think of it (issue 18)."""
