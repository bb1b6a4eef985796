"""Warnings: per-nation threat assessment and OASIS CAP 1.2 alert messages."""
