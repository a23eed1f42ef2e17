"""Coordination between partners (issue 6): the pure rules, with no storage, web or transport.

Constituencies (who answers for an address), the consultation state machine with its deadlines,
the attribution rule, protected-sector norms and the cooperation record. The services in
``accord.coordination`` map these values to and from STIX 2.1 objects in the node's store.
"""
