"""Member tokens, reader ids and entitlement JWTs (no Flask: callers pass secrets, keys and `now`).

- Member token: itsdangerous URLSafeTimedSerializer over {member id, token version}, signed with
  SECRET_KEY. It is only ever read back by this service, so a symmetric signature is enough and
  keeps it short; bumping the member's token_version revokes every older token.
- Reader id: a random id signed with SECRET_KEY (itsdangerous Signer), so a reader cannot pick
  another reader's id to reset or spend their meter.
- Entitlement: an Ed25519 JWT (PyJWT, alg EdDSA) that the website or CDN verifies offline against
  /.well-known/jwks.json. All configured keys are published; the first one signs.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from itsdangerous import BadData, Signer, TimestampSigner, URLSafeTimedSerializer

MEMBER_SALT = "paywall.member-token.v1"
READER_SALT = "paywall.reader-id.v1"
MAX_TOKEN_LENGTH = 2000
MAX_READER_ID_LENGTH = 200


class _ClockSigner(TimestampSigner):
    """TimestampSigner that takes "now" from the service's clock, so tests can expire tokens."""

    def __init__(self, *args: Any, clock: Callable[[], datetime], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


def _member_serializer(secret: str, clock: Callable[[], datetime]) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=MEMBER_SALT, signer=_ClockSigner,
                                  signer_kwargs={"clock": clock, "digest_method": hashlib.sha256})


@dataclass(frozen=True)
class MemberClaim:
    member_id: int
    version: int


def issue_member_token(secret: str, member_id: int, version: int, now: datetime) -> str:
    return _member_serializer(secret, lambda: now).dumps({"m": member_id, "v": version})


@functools.lru_cache(maxsize=4096)
def _verified_member_token(secret: str, token: str) -> tuple[Any, int] | None:
    """(payload, signing time) of a token whose signature is good, else None. Pure, so memoised per
    process (bounded): a member's site sends the same token with every page view, and itsdangerous
    builds its signers anew for each call. The age is checked by the caller against the service clock."""
    serializer = URLSafeTimedSerializer(secret, salt=MEMBER_SALT, signer_kwargs={"digest_method": hashlib.sha256})
    try:
        data, signed_at = serializer.loads(token, return_timestamp=True)
    except (BadData, ValueError, OverflowError, OSError):  # the last three: an impossible signing time
        return None
    return data, int(signed_at.timestamp())


def read_member_token(secret: str, token: str | None, now: datetime, max_age: timedelta) -> MemberClaim | None:
    """The member and version a token names, or None when it is absent, malformed, tampered or expired."""
    if not token or not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    verified = _verified_member_token(secret, token)
    if verified is None:
        return None
    data, signed_at = verified
    age = int(now.timestamp()) - signed_at
    if age < 0 or age > int(max_age.total_seconds()):  # itsdangerous' own rule for max_age
        return None
    if not isinstance(data, dict):
        return None
    member_id, version = data.get("m"), data.get("v")
    if type(member_id) is not int or type(version) is not int:
        return None
    return MemberClaim(member_id, version)


@functools.lru_cache(maxsize=8)
def _reader_signer(secret: str) -> Signer:
    return Signer(secret, salt=READER_SALT, digest_method=hashlib.sha256)


def new_reader_id(secret: str) -> tuple[str, str]:
    """(signed reader id for the website's cookie, the bare id the meter stores)."""
    bare = secrets.token_urlsafe(16)
    return _reader_signer(secret).sign(bare).decode(), bare


def read_reader_id(secret: str, signed: str | None) -> str | None:
    """The bare id inside a signed reader id, or None when absent, malformed, tampered or foreign."""
    if not signed or not isinstance(signed, str) or len(signed) > MAX_READER_ID_LENGTH:
        return None
    try:
        bare = _reader_signer(secret).unsign(signed).decode()
    except (BadData, UnicodeDecodeError):
        return None
    return bare if 0 < len(bare) <= 64 else None


# --- entitlement keys and JWTs ---------------------------------------------------------------


class KeyConfigError(ValueError):
    """ENTITLEMENT_KEYS cannot be used (names the problem, never the key)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey

    @property
    def public_jwk(self) -> dict[str, str]:
        x = self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64(x), "kid": self.kid, "use": "sig", "alg": "EdDSA"}


def thumbprint(public: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256 of the canonical members crv, kty, x), base64url."""
    x = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": _b64(x)}, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode()).digest())


class KeyRing:
    """The configured Ed25519 keys: the first signs, all are published (rotation keeps the old one a while)."""

    def __init__(self, keys: list[Ed25519PrivateKey], generated: bool = False) -> None:
        if not keys:
            raise KeyConfigError("no entitlement keys")
        self.keys = [SigningKey(thumbprint(k.public_key()), k) for k in keys]
        self.generated = generated

    @classmethod
    def from_pem(cls, text: str) -> KeyRing:
        """One or more PEM private keys, concatenated (literal `\\n` accepted, for one-line env vars)."""
        text = text.replace("\\n", "\n").strip()
        marker = "-----BEGIN "
        blocks = [marker + part for part in text.split(marker) if part.strip()]
        if not blocks:
            raise KeyConfigError("ENTITLEMENT_KEYS holds no PEM private key")
        keys: list[Ed25519PrivateKey] = []
        for i, block in enumerate(blocks, 1):
            try:
                key = serialization.load_pem_private_key(block.strip().encode(), password=None)
            except (ValueError, TypeError) as exc:
                raise KeyConfigError(f"ENTITLEMENT_KEYS key {i} is not a readable PEM private key") from exc
            if not isinstance(key, Ed25519PrivateKey):
                raise KeyConfigError(f"ENTITLEMENT_KEYS key {i} is not an Ed25519 key")
            keys.append(key)
        return cls(keys)

    @classmethod
    def generate(cls) -> KeyRing:
        return cls([Ed25519PrivateKey.generate()], generated=True)

    @property
    def signing(self) -> SigningKey:
        return self.keys[0]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk for k in self.keys]}

    def issue(self, member_id: int, now: datetime, ttl: timedelta, issuer: str) -> tuple[str, datetime]:
        expires = now + ttl
        claims = {"sub": str(member_id), "entitlement": "member", "iat": int(now.timestamp()),
                  "exp": int(expires.timestamp()), "iss": issuer}
        token = jwt.encode(claims, self.signing.private, algorithm="EdDSA", headers={"kid": self.signing.kid})
        return token, expires


def pem_of(key: Ed25519PrivateKey) -> str:
    """A key as PKCS#8 PEM (for `flask paywall keygen` and tests)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()
