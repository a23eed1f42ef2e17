"""Account passwords for the console, hashed with scrypt (RFC 7914) from the standard library.

Unlike API keys (256 random bits, so a fast hash suffices: services.auth), passwords are chosen by
people and guessable, so each guess must cost an attacker who copied the database real memory and
time. The parameters (N=2^15, r=8, p=1: 32 MiB and some 50 ms a guess) are OWASP's scrypt
recommendation; they are stored in every hash, so raising them later leaves old hashes readable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from accord.domain.errors import InvalidInput

_N, _R, _P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024
MIN_LENGTH = 12
MAX_LENGTH = 1024  # a long password costs scrypt nothing more, but the form and the request do


def check_strength(password: str) -> None:
    """NIST SP 800-63B section 5.1.1.2: a length floor, no composition rules, no silent truncation."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"a password has at most {MAX_LENGTH} characters")
    if "\x00" in password:
        raise InvalidInput("a password cannot contain NUL characters")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64), with a new 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(errors="surrogatepass"), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAXMEM,
                            dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; with no stored hash the same work is done and False
    returned, so the answer's timing does not tell whether the account has a password."""
    if stored is None:
        hash_password(password)
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        computed = hashlib.scrypt(password.encode(errors="surrogatepass"), salt=base64.b64decode(salt), n=int(n),
                                  r=int(r), p=int(p), maxmem=_MAXMEM, dklen=len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(computed, expected)
