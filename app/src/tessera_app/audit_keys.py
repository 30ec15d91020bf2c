"""The audit log's signing key: an Ed25519 key that is never stored in the database.

    AuditKey.derive(secret) / AuditKey.from_pem(text) / AuditKey.generate()
    key.sign(seq, hash) -> signature            base64 of the Ed25519 signature of message()
    key.public                                  its PublicKey (``key_id``, ``pem``, ``verify``)
    signing_key(settings) -> AuditKey           TESSERA_AUDIT_SIGNING_KEY, else derived from
                                                TESSERA_SECRET_KEY
    trusted_keys(settings) -> TrustedKeys       that key's public half and
                                                TESSERA_AUDIT_PUBLIC_KEYS (older keys)
    process_key() / process_trusted_keys()      the same for this process's environment
    auditor_keys(settings, development=False)   the keys an auditor's ``tessera audit verify``
                                                trusts: never a key anyone can derive, unless
                                                ``development`` says so

Every audit event carries a signature over ``message(seq, hash, key_id)``; a checkpoint (the
head of the log kept elsewhere: a registry commit's trailers, a checkpoint file) carries the
same signature. Whoever holds the database but not the key cannot forge a row, rewrite rows
with recomputed hashes, or make a checkpoint. The key id is the first 16 hex digits of the
SHA-256 of the raw 32-byte public key, so a signature names the key that made it (keys
rotate: verification accepts every public key it is given).

By default the key is derived from ``TESSERA_SECRET_KEY`` with HKDF-SHA256, so a deployment
needs nothing new; ``TESSERA_AUDIT_SIGNING_KEY`` (PEM text or ``@/path``) sets it instead.
The process's key is read from the environment, once per distinct value: the service, its
workers and ``tessera audit`` on the same host agree on it without passing it around.

A key derived from a placeholder secret (the default ``development``, or any secret the
settings refuse outside development) is public: anyone can derive it and sign with it. The
service in development still signs with it, but verification by an auditor never trusts it
unless told that the database is a development one (``auditor_keys``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from .settings import Settings

DOMAIN = b"tessera audit checkpoint v1\n"
"""The first line of every signed message: these signatures mean nothing anywhere else."""
HKDF_SALT = b"tessera-audit-signing-key"
HKDF_INFO = b"ed25519"
SIGNING_VARIABLE = "TESSERA_AUDIT_SIGNING_KEY"
PUBLIC_KEYS_VARIABLE = "TESSERA_AUDIT_PUBLIC_KEYS"
SECRET_VARIABLE = "TESSERA_SECRET_KEY"
MIN_SECRET_LENGTH = 16
"""Shorter secrets are refused outside development, like placeholders."""
_PEM_BLOCK = re.compile(r"-----BEGIN (?P<kind>[A-Z ]+)-----.+?-----END (?P=kind)-----", re.DOTALL)

TrustedKeys = Mapping[str, "PublicKey"]
"""Public keys by key id: the keys whose signatures verification accepts."""


class AuditKeyError(ValueError):
    """A key setting or argument that cannot be used (the message says which and why)."""


def message(seq: int, hash: str, key_id: str) -> bytes:
    """The bytes an audit signature signs: the domain line, then the sequence number, the
    event's hash and the key id, one per line."""
    return DOMAIN + f"{seq}\n{hash}\n{key_id}\n".encode()


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class PublicKey:
    """A public key that verifies audit signatures, with its key id."""

    key: Ed25519PublicKey
    key_id: str

    @classmethod
    def of(cls, key: Ed25519PublicKey) -> PublicKey:
        return cls(key, key_id_of(key))

    @property
    def pem(self) -> str:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def verify(self, seq: int, hash: str, signature: str) -> bool:
        """Whether ``signature`` (base64) is this key's signature of ``(seq, hash)``."""
        try:
            raw = base64.b64decode(signature, validate=True)
            self.key.verify(raw, message(seq, hash, self.key_id))
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True, eq=False)
class AuditKey:
    """The private key that signs audit events and checkpoints."""

    key: Ed25519PrivateKey
    public: PublicKey

    @classmethod
    def of(cls, key: Ed25519PrivateKey) -> AuditKey:
        return cls(key, PublicKey.of(key.public_key()))

    @classmethod
    def generate(cls) -> AuditKey:
        return cls.of(Ed25519PrivateKey.generate())

    @classmethod
    def derive(cls, secret: str) -> AuditKey:
        """The key derived from ``secret`` (``TESSERA_SECRET_KEY``): the same secret always
        gives the same key."""
        seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO).derive(
            secret.encode()
        )
        return cls.of(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_pem(cls, text: str, where: str = SIGNING_VARIABLE) -> AuditKey:
        """An Ed25519 private key in PEM (PKCS #8, unencrypted)."""
        try:
            key = serialization.load_pem_private_key(text.strip().encode(), password=None)
        except (ValueError, TypeError) as err:
            raise AuditKeyError(f"{where}: not a PEM private key ({err})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditKeyError(f"{where}: not an Ed25519 key ({type(key).__name__})")
        return cls.of(key)

    @property
    def key_id(self) -> str:
        return self.public.key_id

    @property
    def pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def sign(self, seq: int, hash: str) -> str:
        """The base64 signature of ``message(seq, hash, self.key_id)``."""
        return base64.b64encode(self.key.sign(message(seq, hash, self.key_id))).decode()


def read_value(value: str, where: str) -> str:
    """A key setting's text: ``@path`` reads the file, anything else is the PEM itself (with
    ``\\n`` escapes allowed, for one-line environment variables)."""
    if value.startswith("@"):
        path = Path(value[1:]).expanduser()
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            reason = getattr(err, "strerror", None) or str(err)
            raise AuditKeyError(f"{where}: cannot read {path}: {reason}") from None
    return value.replace("\\n", "\n")


def public_keys(values: Iterable[str], where: str) -> list[PublicKey]:
    """Every public key in ``values``: each one PEM text or ``@path`` holding one or more PEM
    ``PUBLIC KEY`` blocks."""
    found: list[PublicKey] = []
    for value in values:
        text = read_value(value.strip(), where)
        blocks = [m for m in _PEM_BLOCK.finditer(text) if m["kind"] == "PUBLIC KEY"]
        if not blocks:
            raise AuditKeyError(f"{where}: no PEM public key (-----BEGIN PUBLIC KEY-----) found")
        for block in blocks:
            try:
                key = serialization.load_pem_public_key(block[0].encode())
            except ValueError as err:
                raise AuditKeyError(f"{where}: not a PEM public key ({err})") from None
            if not isinstance(key, Ed25519PublicKey):
                raise AuditKeyError(f"{where}: not an Ed25519 key ({type(key).__name__})")
            found.append(PublicKey.of(key))
    return found


def split_values(value: str | None) -> list[str]:
    """A comma-separated list of PEM texts or ``@path`` (PEM has no commas)."""
    return [part for part in (value or "").split(",") if part.strip()]


def signing_key(settings: Settings) -> AuditKey:
    """The key audit events are signed with under ``settings``."""
    if settings.audit_signing_key:
        text = read_value(settings.audit_signing_key, SIGNING_VARIABLE)
        return AuditKey.from_pem(text)
    return AuditKey.derive(settings.secret_key)


def trusted(keys: Iterable[PublicKey]) -> dict[str, PublicKey]:
    return {key.key_id: key for key in keys}


def trusted_keys(settings: Settings) -> dict[str, PublicKey]:
    """The signing key's public half and the older keys of ``TESSERA_AUDIT_PUBLIC_KEYS``."""
    older = public_keys(split_values(settings.audit_public_keys), PUBLIC_KEYS_VARIABLE)
    return trusted([signing_key(settings).public, *older])


def placeholder_secret(secret: str) -> bool:
    """Whether ``secret`` is a placeholder or shorter than ``MIN_SECRET_LENGTH`` (what the
    settings refuse outside development): a key derived from it is anybody's."""
    from .settings import PLACEHOLDERS

    value = secret.strip()
    return value.lower() in PLACEHOLDERS or len(value) < MIN_SECRET_LENGTH


def derived_from_placeholder(settings: Settings) -> bool:
    """Whether the signing key of ``settings`` is derived from a placeholder secret."""
    return not settings.audit_signing_key and placeholder_secret(settings.secret_key)


def auditor_keys(settings: Settings, development: bool = False) -> dict[str, PublicKey]:
    """The keys ``tessera audit verify`` trusts without ``--public-key``: those of
    ``trusted_keys``, less the signing key when it is derived from a placeholder secret
    (trusted only with ``development``, for a development database). ``AuditKeyError``
    saying how to give a key when none remains."""
    keys = trusted_keys(settings)
    if development or not derived_from_placeholder(settings):
        return keys
    keys.pop(signing_key(settings).key_id, None)
    if not keys:
        raise AuditKeyError(
            f"no audit key to trust: {SECRET_VARIABLE} is unset, a placeholder or too short, "
            "and the key derived from it is public (anyone can sign with it); give the "
            f"service's public key with --public-key @FILE or {PUBLIC_KEYS_VARIABLE} (`tessera "
            "audit public-key`, run with the service's settings, prints it), set the service's "
            f"{SECRET_VARIABLE}, or pass --trust-development-key for a development database"
        )
    return keys


def process_key() -> AuditKey:
    """The signing key of this process's environment (derived or loaded once per value)."""
    return _process_key(os.environ.get(SIGNING_VARIABLE), os.environ.get(SECRET_VARIABLE))


def process_trusted_keys() -> dict[str, PublicKey]:
    """The keys this process's environment trusts."""
    return dict(
        _process_trusted(
            os.environ.get(SIGNING_VARIABLE),
            os.environ.get(SECRET_VARIABLE),
            os.environ.get(PUBLIC_KEYS_VARIABLE),
        )
    )


@functools.lru_cache(maxsize=8)
def _process_key(_signing: str | None, _secret: str | None) -> AuditKey:
    # the arguments are the cache key: a changed environment gives a new key
    from .settings import Settings

    return signing_key(Settings())


@functools.lru_cache(maxsize=8)
def _process_trusted(
    _signing: str | None, _secret: str | None, _public: str | None
) -> dict[str, PublicKey]:
    from .settings import Settings

    return trusted_keys(Settings())
