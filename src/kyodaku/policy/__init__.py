"""The consent decision: who may use which registered work, driven by ``policies.json``."""

from kyodaku.policy.decide import (
    Decision,
    MatchVerdict,
    Policy,
    PolicyError,
    RegistryView,
    decide,
    default_policy,
)

__all__ = ["Decision", "MatchVerdict", "Policy", "PolicyError", "RegistryView", "decide", "default_policy"]
