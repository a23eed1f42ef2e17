"""MISP both ways: events and feeds imported as STIX 2.1, a MISP feed served (docs/interop.md)."""
