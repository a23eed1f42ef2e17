"""Exchanging data with the tools partners already run (MISP, OpenCTI, IOC lists)."""
