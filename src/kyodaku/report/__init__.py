"""Reports and evaluation runs built from scan results."""
