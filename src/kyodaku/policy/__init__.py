"""The consent decision: who may use which registered work, driven by ``policies.json``."""

from kyodaku.policy.decide import (
    Decision,
    MatchRules,
    MatchVerdict,
    Policy,
    PolicyError,
    RegistryView,
    decide,
    default_policy,
)

__all__ = ["Decision", "MatchRules", "MatchVerdict", "Policy", "PolicyError", "RegistryView", "decide", "default_policy"]
