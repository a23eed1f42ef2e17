"""STIX 2.1: timestamps, validation of objects and patterns."""
