"""Signed audit checkpoints: the trail's head, signed, kept by the clinic off the machine.

``ketascreen audit checkpoint -o FILE`` writes a small JSON file::

    {"format": "ketascreen-audit-checkpoint/1",
     "payload": {"database": "...", "seq": 42, "sha256": "...", "created_at": "...Z",
                 "created_by": "drsmith"},
     "certificate": "<base64 DER>", "signature": "<base64>"}

``signature`` is made with the key of a PKCS#12 key store over the canonical bytes of
``payload`` (RSA PKCS#1 v1.5 or ECDSA, SHA-256). ``ketascreen audit verify --checkpoint FILE``
checks the signature and then that the trail still has that hash at that event number: a trail
rewritten after the checkpoint (every later event and the head) no longer does. Anyone can
check the signature with the certificate inside (``openssl dgst -sha256 -verify``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Final

from ketascreen.errors import InputFileError

FORMAT: Final = "ketascreen-audit-checkpoint/1"


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint read and its signature checked.

    Attributes:
        seq: the event number it names.
        sha256: that event's hash.
        created_at: when it was written (ISO 8601 UTC).
        created_by: the account that wrote it.
        signer: the signing certificate's common name.
        certificate_sha256: its sha256 fingerprint.
    """

    seq: int
    sha256: str
    created_at: str
    created_by: str
    signer: str
    certificate_sha256: str


def _canonical(payload: object) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def write_checkpoint(*, seq: int, sha256: str, database: str, created_at: str,
                     created_by: str, pkcs12: bytes, passphrase: bytes,
                     key_path: str | None = None) -> bytes:
    """The bytes of a signed checkpoint file for event ``seq`` with hash ``sha256``.

    Raises:
        SigningError: the key store does not open with the passphrase, or its key cannot sign.
    """
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import pkcs12 as p12  # noqa: PLC0415

    from ketascreen.reports.keys import SigningError  # noqa: PLC0415

    try:
        key, certificate, _ = p12.load_key_and_certificates(pkcs12, passphrase)
    except (ValueError, TypeError):
        raise SigningError("cannot open the key file: wrong passphrase, or not a PKCS#12 "
                           "key store", path=key_path) from None
    if key is None or certificate is None:
        raise SigningError("the key store holds no key and certificate", path=key_path)
    payload = {"database": database, "seq": seq, "sha256": sha256, "created_at": created_at,
               "created_by": created_by}
    data = _canonical(payload)
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
    else:
        raise SigningError("the key is neither RSA nor EC: it cannot sign a checkpoint",
                           path=key_path)
    der = certificate.public_bytes(serialization.Encoding.DER)
    document = {"format": FORMAT, "payload": payload,
                "certificate": base64.b64encode(der).decode("ascii"),
                "signature": base64.b64encode(signature).decode("ascii")}
    return json.dumps(document, indent=2, sort_keys=True).encode("utf-8") + b"\n"


def read_checkpoint(data: bytes, *, path: str) -> Checkpoint:
    """Read a checkpoint file and check its signature.

    Raises:
        InputFileError: not a checkpoint file, or its signature does not verify (the file was
            changed or forged).
    """
    from cryptography import x509  # noqa: PLC0415
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    try:
        document = json.loads(data)
        if document.get("format") != FORMAT:
            raise ValueError("format")
        payload = document["payload"]
        seq, digest = payload["seq"], payload["sha256"]
        if (not isinstance(seq, int) or isinstance(seq, bool) or seq < 0
                or not isinstance(digest, str) or len(digest) != 64):
            raise ValueError("payload")
        der = base64.b64decode(document["certificate"], validate=True)
        signature = base64.b64decode(document["signature"], validate=True)
        certificate = x509.load_der_x509_certificate(der)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise InputFileError(path, f"not a signed audit checkpoint ({FORMAT})") from None
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, _canonical(payload), padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, _canonical(payload), ec.ECDSA(hashes.SHA256()))
        else:
            raise InvalidSignature
    except InvalidSignature:
        raise InputFileError(path, "the checkpoint's signature does not verify: the file was "
                             "changed after it was signed, or forged") from None
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return Checkpoint(seq=seq, sha256=digest.lower(), created_at=str(payload.get("created_at")),
                      created_by=str(payload.get("created_by")),
                      signer=str(names[0].value) if names else "(unnamed certificate)",
                      certificate_sha256=hashlib.sha256(der).hexdigest())
