"""Errors the anomaly detector raises, so the CLI can print one clear line instead of a trace."""

from __future__ import annotations


class AnomalyError(Exception):
    """Base class of every error this package raises on purpose."""


class FlowFormatError(AnomalyError):
    """A flow file could not be read as the format it was said to be."""


class SchemaMismatchError(AnomalyError):
    """The flows given to a model do not have the columns the model was trained on."""


class ModelFormatError(AnomalyError):
    """A model file is missing, damaged or of a version this code cannot read."""


class NotEnoughDataError(AnomalyError):
    """Too few normal flows to learn a baseline and set a threshold from it."""
