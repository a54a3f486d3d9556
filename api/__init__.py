"""Thin HTTP layer: translates requests into calls of dispatch and inventory."""
