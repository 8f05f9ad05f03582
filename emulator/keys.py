"""RSA key pairs for API and callback signing: generated once into a state directory."""

from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True, slots=True)
class KeyPairFiles:
    """Where one key pair lives on disk."""

    private_key: Path
    public_key: Path


def generate_private_key_pem() -> bytes:
    """Return a new 2048-bit RSA private key as PKCS#8 PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(private_key_pem: bytes) -> bytes:
    """Return the public half of a PEM private key as SubjectPublicKeyInfo PEM."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def ensure_key_pair(directory: Path, name: str) -> tuple[KeyPairFiles, bool]:
    """Make `<name>_private.pem`/`<name>_public.pem` in directory unless present; say if new."""
    files = KeyPairFiles(
        directory / f"{name}_private.pem", directory / f"{name}_public.pem"
    )
    if files.private_key.is_file():
        if not files.public_key.is_file():
            files.public_key.write_bytes(public_key_pem(files.private_key.read_bytes()))
        return files, False
    directory.mkdir(parents=True, exist_ok=True)
    private_pem = generate_private_key_pem()
    # Private keys are created owner-only from the start, never world-readable for a moment.
    fd = os.open(files.private_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    files.public_key.write_bytes(public_key_pem(private_pem))
    return files, True
