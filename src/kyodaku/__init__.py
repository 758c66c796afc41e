"""kyodaku (許諾): a consent-first copyright guard for generative image and video AI."""

__version__ = "0.1.0"
