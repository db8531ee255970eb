"""Support env: Tau-style customer support with a simulated user and a database changed through tools."""

from .environment import SupportAction, SupportConfig, SupportEnvironment, SupportObservation, SupportState
from .users import UserSimConfig

__all__ = [
    "SupportAction",
    "SupportConfig",
    "SupportEnvironment",
    "SupportObservation",
    "SupportState",
    "UserSimConfig",
]
