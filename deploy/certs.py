"""Make the keys a small Flower federation needs, for a test or a workshop (NOT for patients).

    python deploy/certs.py OUT_DIR [--ip 127.0.0.1 --ip 10.77.0.1] [--node cleveland --node va]

writes into ``OUT_DIR``:

- ``ca.crt`` / ``ca.key``           a private certificate authority (P-384, 30 days);
- ``server.pem`` / ``server.key``   the SuperLink's TLS certificate, signed by the CA, valid for
                                    ``localhost`` and every ``--ip`` (SuperNodes check it with
                                    ``--root-certificates ca.crt``);
- ``<node>`` / ``<node>.pub``       one EC P-384 key pair per hospital in OpenSSH format: the
                                    SuperNode signs with the private key
                                    (``--auth-supernode-private-key``), the SuperLink operator
                                    registers the public one (``flwr supernode register <node>.pub``).

Follows Flower's guides https://flower.ai/docs/framework/how-to-enable-tls-connections.html and
https://flower.ai/docs/framework/how-to-authenticate-supernodes.html, written with the
``cryptography`` package (a Flower dependency) instead of the guides' openssl/ssh-keygen scripts.
In a real project each site makes its own key pair and sends only the public key; the CA is run by
whoever hosts the SuperLink (see docs/two_hospital_checklist.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DAYS = 30


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name | None,
          issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool, ips: Sequence[str] = ()) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=DAYS))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        names = [x509.DNSName("localhost")] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_certs(out: Path, ips: Sequence[str] = ("127.0.0.1",), nodes: Sequence[str] = ()) -> dict[str, Path]:
    """Write the CA, the SuperLink's certificate (valid for ``ips``) and one key pair per node."""
    out.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca = _cert("fedlite course CA (testing only)", ca_key, None, ca_key, ca=True)
    server_key = _key()
    server = _cert("superlink", server_key, ca.subject, ca_key, ca=False, ips=ips)
    files = {"ca.crt": ca.public_bytes(serialization.Encoding.PEM), "ca.key": _pem_key(ca_key),
             "server.pem": server.public_bytes(serialization.Encoding.PEM), "server.key": _pem_key(server_key)}
    for node in nodes:
        key = _key()
        files[node] = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                        serialization.NoEncryption())
        files[f"{node}.pub"] = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                             serialization.PublicFormat.OpenSSH) + b"\n"
    paths = {}
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        path.chmod(0o600 if name.endswith(".key") or (name in nodes) else 0o644)
        paths[name] = path
    return paths


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the keys into")
    parser.add_argument("--ip", action="append", default=None, help="an address the SuperLink serves on")
    parser.add_argument("--node", action="append", default=[], help="a SuperNode that needs a key pair")
    args = parser.parse_args(argv)
    paths = make_certs(args.out, args.ip or ["127.0.0.1"], args.node)
    print("\n".join(str(p) for p in paths.values()))


if __name__ == "__main__":
    main()
