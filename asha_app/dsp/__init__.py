"""Streaming signal processing: causal stateful filters, envelopes, signal-quality measures."""
