"""Anomaly detection on flow records at the sensor (issue 4).

Indicators only catch what someone has already described; this package learns a baseline from
traffic believed normal and flags flows that do not fit it, says why in an analyst's words, and
turns them into STIX 2.1 objects a partner can share. See docs/anomaly.md.
"""
