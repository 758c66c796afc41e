"""Fingerprint methods: one small stateless class per method behind a shared interface."""

from kyodaku.fingerprint.base import Comparison, Fingerprint, FingerprintMethod

__all__ = ["Comparison", "Fingerprint", "FingerprintMethod"]
