"""The audit signing key: derived from ``TESSERA_SECRET_KEY`` or loaded from
``TESSERA_AUDIT_SIGNING_KEY`` (PEM or ``@path``), older public keys from
``TESSERA_AUDIT_PUBLIC_KEYS``; signatures that anyone can check with the public key alone
(``openssl`` included), and clear errors for keys that cannot be used."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from tessera_app import audit_keys
from tessera_app.audit_keys import AuditKey, AuditKeyError, public_keys
from tessera_app.settings import Settings, describe

HASH = "ab" * 32


def test_the_derived_key_is_stable_per_secret() -> None:
    first, again = AuditKey.derive("s" * 32), AuditKey.derive("s" * 32)
    other = AuditKey.derive("t" * 32)
    assert first.key_id == again.key_id != other.key_id
    assert len(first.key_id) == 16 and int(first.key_id, 16) >= 0
    assert first.sign(7, HASH) == again.sign(7, HASH)  # Ed25519 is deterministic


def test_a_signature_binds_sequence_hash_and_key() -> None:
    key = AuditKey.generate()
    signature = key.sign(7, HASH)
    assert len(signature) == 88 and key.public.verify(7, HASH, signature)
    assert not key.public.verify(8, HASH, signature)
    assert not key.public.verify(7, "cd" * 32, signature)
    assert not AuditKey.generate().public.verify(7, HASH, signature)
    assert not key.public.verify(7, HASH, "not base64!")
    assert not key.public.verify(7, HASH, base64.b64encode(b"\0" * 64).decode())


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_verifies_the_documented_message(tmp_path: Path) -> None:
    key = AuditKey.generate()
    (tmp_path / "key.pem").write_text(key.public.pem)
    (tmp_path / "message").write_bytes(
        f"tessera audit checkpoint v1\n42\n{HASH}\n{key.key_id}\n".encode()
    )
    (tmp_path / "signature").write_bytes(base64.b64decode(key.sign(42, HASH)))
    result = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "key.pem",
            "-rawin",
            "-in",
            "message",
            "-sigfile",
            "signature",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Signature Verified Successfully" in result.stdout


def test_settings_choose_the_key(tmp_path: Path) -> None:
    derived = audit_keys.signing_key(Settings(secret_key="q" * 32))
    assert derived.key_id == AuditKey.derive("q" * 32).key_id
    own = AuditKey.generate()
    path = tmp_path / "audit.pem"
    path.write_text(own.pem)
    for value in (own.pem, own.pem.replace("\n", "\\n"), f"@{path}"):
        assert audit_keys.signing_key(Settings(audit_signing_key=value)).key_id == own.key_id


def test_older_public_keys_are_trusted_too(tmp_path: Path) -> None:
    current, old, older = AuditKey.generate(), AuditKey.generate(), AuditKey.generate()
    bundle = tmp_path / "old-keys.pem"
    bundle.write_text(old.public.pem + "\n" + older.public.pem)
    settings = Settings(audit_signing_key=current.pem, audit_public_keys=f"@{bundle}")
    assert set(audit_keys.trusted_keys(settings)) == {current.key_id, old.key_id, older.key_id}
    settings = Settings(audit_signing_key=current.pem, audit_public_keys=old.public.pem)
    assert set(audit_keys.trusted_keys(settings)) == {current.key_id, old.key_id}


def test_the_process_key_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    own = AuditKey.generate()
    monkeypatch.setenv("TESSERA_AUDIT_SIGNING_KEY", own.pem)
    assert audit_keys.process_key().key_id == own.key_id
    monkeypatch.delenv("TESSERA_AUDIT_SIGNING_KEY")
    monkeypatch.setenv("TESSERA_SECRET_KEY", "z" * 32)
    assert audit_keys.process_key().key_id == AuditKey.derive("z" * 32).key_id
    older = AuditKey.generate()
    monkeypatch.setenv("TESSERA_AUDIT_PUBLIC_KEYS", older.public.pem)
    trusted = audit_keys.process_trusted_keys()
    assert set(trusted) == {AuditKey.derive("z" * 32).key_id, older.key_id}


def _rsa_pem(private: bool) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if private:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("audit_signing_key", "not a key", "TESSERA_AUDIT_SIGNING_KEY: not a PEM private key"),
        ("audit_signing_key", "@/nonexistent/audit.pem", "cannot read /nonexistent/audit.pem"),
        ("audit_signing_key", "RSA", "TESSERA_AUDIT_SIGNING_KEY: not an Ed25519 key"),
        ("audit_public_keys", "nothing here", "TESSERA_AUDIT_PUBLIC_KEYS: no PEM public key"),
        ("audit_public_keys", "RSA-PUBLIC", "TESSERA_AUDIT_PUBLIC_KEYS: not an Ed25519 key"),
    ],
)
def test_unusable_keys_stop_the_settings(field: str, value: str, message: str) -> None:
    if value == "RSA":
        value = _rsa_pem(private=True)
    elif value == "RSA-PUBLIC":
        value = _rsa_pem(private=False)
    with pytest.raises(ValidationError) as caught:
        Settings(**{field: value})
    assert message in describe(caught.value)


def test_a_public_key_argument_must_hold_one() -> None:
    with pytest.raises(AuditKeyError, match="--public-key: no PEM public key"):
        public_keys(["-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"], "--public-key")
    key = AuditKey.generate()
    assert [k.key_id for k in public_keys([key.public.pem], "--public-key")] == [key.key_id]


@pytest.mark.parametrize(
    ("secret", "placeholder"),
    [
        ("development", True),
        ("  Changeme ", True),
        ("", True),
        ("short-secret", True),
        ("a-secret-of-32-characters-or-so!", False),
    ],
)
def test_placeholder_secrets(secret: str, placeholder: bool) -> None:
    assert audit_keys.placeholder_secret(secret) is placeholder


def test_an_auditor_never_trusts_a_key_anyone_can_derive() -> None:
    public = AuditKey.derive("development")
    with pytest.raises(AuditKeyError, match=r"^no audit key to trust: TESSERA_SECRET_KEY"):
        audit_keys.auditor_keys(Settings(secret_key="development"))
    assert set(audit_keys.auditor_keys(Settings(secret_key="development"), development=True)) == {
        public.key_id
    }
    older = AuditKey.generate()
    settings = Settings(secret_key="dev", audit_public_keys=older.public.pem)
    assert set(audit_keys.auditor_keys(settings)) == {older.key_id}
    real = "r" * 32
    assert set(audit_keys.auditor_keys(Settings(secret_key=real))) == {AuditKey.derive(real).key_id}
    own = AuditKey.generate()  # a signing key of its own: the secret does not matter
    settings = Settings(secret_key="development", audit_signing_key=own.pem)
    assert set(audit_keys.auditor_keys(settings)) == {own.key_id}
