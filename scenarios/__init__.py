"""Planners' what-if runs over the optimizer and the pure rules."""
