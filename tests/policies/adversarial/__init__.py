"""Adversarial suite: equivalent rewrites of violations stay caught, of compliant resources stay passing."""
