"""Failures at fleet scale: default rates with sources, interruption maths, the failure
processes of a run, and fitting a failure model to a fault log."""
