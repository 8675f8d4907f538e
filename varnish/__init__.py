"""Varnish in front of the newsroom: the VCL (default.vcl) and how it is started (run.py)."""
