"""Coordination errors, as branches of the node's one exception tree (``accord.domain.errors``).

Each boundary already translates the base classes (the CLI to plain messages, the web layer to TAXII
error bodies), so these subclasses only make the reason precise.
"""

from __future__ import annotations

from accord.domain.errors import Conflict, NotAllowed, NotFound


class UnknownConsultation(NotFound):
    """No consultation with that id is visible to the requester (unknown and hidden look the same)."""


class InvalidTransition(Conflict):
    """The event does not fit the consultation's current state (out of order, or after its end)."""


class NotParty(NotAllowed):
    """The organisation may not take this step: only the addressee acknowledges and answers, only the
    opener sends, closes or withdraws, and only the two parties add messages and evidence."""
