"""Scanning files against the registry: reference sets, matching, the scan pipeline."""
