"""The reference echo environment."""

from .environment import EchoAction, EchoConfig, EchoEnvironment, EchoObservation, SyncEchoEnvironment

__all__ = ["EchoAction", "EchoConfig", "EchoEnvironment", "EchoObservation", "SyncEchoEnvironment"]
