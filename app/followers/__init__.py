"""Followers of the official account: who they are, where they came from, and which Customer they are."""
