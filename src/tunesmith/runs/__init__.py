"""Finished runs side by side: list them, compare two, reproduce one."""
