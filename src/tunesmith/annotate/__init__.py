"""Annotation: Label Studio and CSV round trips, and uncertainty-first suggestions."""
