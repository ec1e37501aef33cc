"""Deflect: intent detection, help-center deflection and calibrated handoff for support chat."""

__version__ = "0.1.0"
