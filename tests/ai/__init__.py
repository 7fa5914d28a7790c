"""Tests of the offline AI core (helpline.ai and helpline.adapters.ai)."""
