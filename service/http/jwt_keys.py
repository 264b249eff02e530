"""The keys that verify access tokens, several at once so that a key can be rotated.

- HS256: `JWT_SECRET`, then each secret of `JWT_EXTRA_SECRETS`. The first signs what this
  service mints (the development login, `vividly-notify token`); the others only verify.
- RS256: `JWT_PUBLIC_KEY` and the RSA keys of `JWT_JWKS_FILE`, a JSON Web Key Set as identity
  providers publish it (`{"keys": [{"kty": "RSA", "kid": ..., "n": ..., "e": ...}]}`).
- A token whose header names a `kid` that a JWKS key has is checked against that key alone;
  any other token against every configured key in turn, until one verifies its signature.
  Claims (`exp`, `aud`, ...) are checked only with a key whose signature matched, so a token is
  refused for the same reasons as with one key. A key taken out of the settings (or the file)
  verifies nothing from then on.
- The JWKS file is read again when its modification time changes (a mounted secret rotating
  under a running process); a file that cannot be read then keeps the keys read last, with a
  warning, rather than refusing every token. At start-up it must hold at least one RSA key
  (`Settings` refuses it otherwise).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import HMACAlgorithm
from pydantic import SecretStr


class KeySettings(Protocol):
    """The settings a key ring is made of (`HttpSettings`; settings.py imports this module to
    check a JWKS file at start-up, so the type is described here, not imported)."""

    @property
    def jwt_algorithm(self) -> str: ...
    @property
    def jwt_public_key(self) -> str | None: ...
    @property
    def jwt_jwks_file(self) -> Path | None: ...
    @property
    def jwt_secret(self) -> SecretStr | None: ...
    @property
    def jwt_extra_secrets(self) -> list[SecretStr]: ...


logger = logging.getLogger(__name__)


class _PreparedHmac(HMACAlgorithm):
    """PyJWT's HS256, with each secret's checks (not a PEM, SSH or DER key) done once.

    PyJWT prepares the key again for every token it verifies, and for a secret that means
    trying to parse it as a DER public key and failing: a tenth of a stream's connect
    (issue 25). Same checks, same errors, once per distinct secret."""

    @functools.lru_cache(maxsize=32)  # noqa: B019 - one algorithm object, a few secrets
    def prepare_key(self, key: str | bytes) -> bytes:
        prepared: bytes = super().prepare_key(key)
        return prepared


# PyJWT's algorithms are process-wide: verifying and minting use this one from import on.
HS256 = _PreparedHmac(HMACAlgorithm.SHA256)
jwt.unregister_algorithm("HS256")
jwt.register_algorithm("HS256", HS256)


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The verification keys of one configuration."""

    unnamed: tuple[Any, ...] = ()
    named: dict[str, Any] = field(default_factory=dict)

    def candidates(self, kid: object) -> tuple[Any, ...]:
        """The keys to try, in order, for a token whose header has `kid` (or none)."""
        if isinstance(kid, str) and kid in self.named:
            return (self.named[kid],)
        return (*self.unnamed, *self.named.values())


def read_jwks(path: Path) -> dict[str, Any]:
    """The RSA public keys of the JWKS file at `path` by `kid` (unnamed ones by position);
    ValueError saying what is wrong with it."""
    try:
        document = json.loads(path.read_text())
        keys = document["keys"] if isinstance(document, dict) else None
        found = jwt.PyJWKSet(keys).keys if isinstance(keys, list) else []
    except (OSError, ValueError, jwt.PyJWTError) as error:
        raise ValueError(f"JWT_JWKS_FILE {path}: not a readable JWK Set ({error})") from error
    # Public RSA keys for signatures only: a private key has no place in this file.
    usable = {
        key.key_id or f"#{number}": key.key
        for number, key in enumerate(found)
        if isinstance(key.key, RSAPublicKey)
        and key.algorithm_name == "RS256"
        and key.public_key_use in (None, "sig")
    }
    if not usable:
        raise ValueError(f"JWT_JWKS_FILE {path}: no RSA public key for RS256 in its `keys`")
    return usable


class _JwksFile:
    """A JWKS file's keys, read again when the file changes; the last good keys on failure."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # sync routes verify tokens in worker threads
        self._read: dict[Path, tuple[int, dict[str, Any]]] = {}

    def keys(self, path: Path) -> dict[str, Any]:
        with self._lock:
            known = self._read.get(path)
            try:
                changed = path.stat().st_mtime_ns
                if known is None or known[0] != changed:
                    known = (changed, read_jwks(path))
                    self._read[path] = known
            except (OSError, ValueError) as error:
                if known is None:
                    raise
                logger.warning("keeping the JWKS keys read before: %s", error)
            return known[1]


_JWKS = _JwksFile()


def key_ring(settings: KeySettings) -> KeyRing:
    """The keys that verify tokens under `settings` (none when misconfigured: every token fails)."""
    if settings.jwt_algorithm == "RS256":
        unnamed = (settings.jwt_public_key,) if settings.jwt_public_key else ()
        named = _JWKS.keys(settings.jwt_jwks_file) if settings.jwt_jwks_file else {}
        return KeyRing(unnamed, named)
    secrets = [settings.jwt_secret, *settings.jwt_extra_secrets]
    return KeyRing(tuple(s.get_secret_value() for s in secrets if s is not None))
