"""Throwaway TLS material for local registries, token servers and tests.

``make_self_signed`` writes a small CA and a server certificate signed by it,
so clients verify the server the normal way (``verify=ca_file``) rather than
by switching verification off. ``make_signing_cert`` writes a self-signed key
pair of the kind the distribution registry's ``auth: token`` mode trusts
through its ``rootcertbundle``.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["TLSFiles", "make_self_signed", "make_signing_cert"]

# Long enough for any test session or demo, short enough that a leaked
# throwaway CA is not useful for years.
_VALIDITY = _dt.timedelta(days=30)
# Clock skew between processes (or a VM whose clock lags) must not make a
# freshly minted certificate "not yet valid".
_BACKDATE = _dt.timedelta(hours=1)

_PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class TLSFiles:
    """PEM files written by :func:`make_self_signed`."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "registrykit"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_private(path: Path, data: bytes) -> None:
    # Private keys are created 0600 from the start, never world-readable for
    # even a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _key_pem(key: _PrivateKey) -> bytes:
    # PKCS#8 without encryption: Go's crypto/tls (the registry) and PyJWT
    # both read it.
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _san(hosts: Iterable[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _certificate(
    subject: x509.Name,
    key: _PrivateKey,
    *,
    issuer: tuple[x509.Name, _PrivateKey] | None = None,
    ca: bool = False,
    extensions: Iterable[tuple[x509.ExtensionType, bool]] = (),
) -> x509.Certificate:
    """The one x509 builder: ``key``'s certificate for ``subject``, signed by
    ``issuer`` (name and key), or self-signed without one."""
    issuer_name, signing_key = issuer or (subject, key)
    now = _dt.datetime.now(_dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hashes.SHA256())


_UNUSED_KEY_USAGES = (
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "encipher_only",
    "decipher_only",
)


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    """Signatures always; certificate and CRL signing only for a CA."""
    return x509.KeyUsage(
        digital_signature=True,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        **dict.fromkeys(_UNUSED_KEY_USAGES, False),
    )


def make_self_signed(
    directory: Path | str,
    hosts: Iterable[str] = ("127.0.0.1", "localhost"),
) -> TLSFiles:
    """Write ``ca.crt``, ``server.crt`` and ``server.key`` into *directory*.

    The server certificate names every host in *hosts* as a subject
    alternative name (IP addresses as IP SANs, the rest as DNS SANs), which is
    what modern verifiers check; the common name is ignored by them.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    hosts = list(hosts)
    if not hosts:
        raise ValueError("make_self_signed needs at least one host name or IP address")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("registrykit local CA")
    ca_cert = _certificate(
        ca_name,
        ca_key,
        ca=True,
        extensions=[
            (_key_usage(signs_certificates=True), True),
            (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False),
        ],
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(
        _name(hosts[0]),
        key,
        issuer=(ca_name, ca_key),
        extensions=[
            (_key_usage(signs_certificates=False), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (_san(hosts), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
        ],
    )
    files = TLSFiles(
        ca_file=directory / "ca.crt",
        cert_file=directory / "server.crt",
        key_file=directory / "server.key",
    )
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_private(files.key_file, _key_pem(key))
    return files


def make_signing_cert(
    directory: Path | str,
    *,
    name: str = "registrykit-token-signer",
    algorithm: str = "RS256",
) -> tuple[Path, Path]:
    """Write a self-signed signing key and certificate; return ``(key, cert)``.

    The certificate goes into the registry's ``rootcertbundle`` and, as base64
    DER, into each JWT's ``x5c`` header; the key signs the tokens.
    *algorithm* is ``"RS256"`` (RSA 2048) or ``"ES256"`` (EC P-256).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key: _PrivateKey
    if algorithm == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValueError(f"unsupported signing algorithm {algorithm!r}; use 'RS256' or 'ES256'")
    cert = _certificate(_name(name), key)
    key_path = directory / f"{name}.key"
    cert_path = directory / f"{name}.crt"
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path
