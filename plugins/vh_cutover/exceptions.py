"""Exceptions raised by the cutover package."""

from __future__ import annotations


class CutoverError(Exception):
    """Base class of every error raised by the cutover package."""


class PlanConfigError(CutoverError):
    """Raised when the plan or contacts configuration is missing or invalid; names the file."""


class CutoverParamsError(CutoverError):
    """Raised when run parameters are invalid; the message names the field and the expected form."""


class CutoverStepError(CutoverError):
    """Raised when a cutover step cannot reach its target state; the message is for the step's owners."""
