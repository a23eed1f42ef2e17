"""One exception tree for the whole node; each boundary translates it (the web layer to TAXII bodies).

    AccordError
    ├── InvalidInput          bad request data that is not a STIX object (filters, tokens, envelopes)
    │   └── InvalidObject     a STIX object failed validation (reason kept for the status resource)
    ├── NotFound              unknown, or not visible to the requester: both look the same
    ├── NotAllowed            authenticated, but the role or collection access forbids the action
    ├── Unauthenticated       no credentials, or credentials that match no active key
    ├── Conflict              the request contradicts what is stored (a different object, same version)
    └── TooLarge              a body over the API root's max_content_length

Domain errors carry no HTTP status codes: only ``accord.web.errors`` maps them.
"""

from __future__ import annotations


class AccordError(Exception):
    """Base of every error the node raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(AccordError):
    pass


class InvalidObject(InvalidInput):
    def __init__(self, object_id: str | None, reason: str) -> None:
        super().__init__(f"{object_id or 'object'}: {reason}")
        self.object_id = object_id
        self.reason = reason


class NotFound(AccordError):
    pass


class NotAllowed(AccordError):
    pass


class Unauthenticated(AccordError):
    pass


class Conflict(AccordError):
    pass


class TooLarge(AccordError):
    pass
