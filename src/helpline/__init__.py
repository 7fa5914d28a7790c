"""Helpline: self-hosted customer support for small teams."""

__version__ = "0.1.0"
