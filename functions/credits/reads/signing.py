"""Signed tokens: a payload and its HMAC-SHA256, as ``<payload>.<signature>`` in URL-safe base64.

The one format of every token this system hands out and takes back: page cursors
(:mod:`credits.reads.cursors`, integrity only) and CSV download links (:mod:`credits.reads.export_links`,
the permission itself). :func:`seal` makes a token; :func:`unseal` gives its payload back only
when the signature matches, compared in constant time before the payload is parsed, and
only for the alphabet :func:`seal` writes (base64 decoding skips other characters, which
would let many strings stand for one token).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def seal(payload: bytes, key: bytes, *, signature_bytes: int = 32) -> str:
    """The token for ``payload``; ``signature_bytes`` keeps the first bytes of the 32-byte MAC."""
    return f"{_b64(payload)}.{_b64(_mac(key, payload)[:signature_bytes])}"


def unseal(token: str, key: bytes, *, signature_bytes: int = 32) -> bytes | None:
    """The payload ``token`` carries, or None when it is malformed or its signature does not match."""
    if not _TOKEN.fullmatch(token):
        return None
    encoded_payload, encoded_signature = token.split(".")
    try:
        payload = _unb64(encoded_payload)
        signature = _unb64(encoded_signature)
    except (ValueError, binascii.Error):
        return None
    if not hmac.compare_digest(signature, _mac(key, payload)[:signature_bytes]):
        return None
    return payload


def _mac(key: bytes, payload: bytes) -> bytes:
    if not key:
        # An empty key would sign with a value anyone can guess.
        raise RuntimeError("no signing key")
    return hmac.new(key, payload, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
