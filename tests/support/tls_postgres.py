"""A Postgres that speaks TLS only, with certificates made for the test.

`tls_postgres(directory)` makes a certificate authority and a server certificate for
`localhost`/127.0.0.1 signed by it (plus a second, unrelated authority), runs `initdb` and
starts a server on a free TCP port of 127.0.0.1 whose `pg_hba.conf` accepts TLS connections only
(`hostssl`): a connection that works there used TLS. pgserver's PostgreSQL is built without SSL,
so the server is the machine's own (Debian's `postgresql`, /usr/lib/postgresql/N/bin); the tests
that need it are skipped where there is none. As root the server runs as the OS user
`pgserver`, as pgserver itself does.
"""

from __future__ import annotations

import datetime
import os
import shutil
import socket
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def server_programs() -> Path | None:
    """The newest PostgreSQL server programs installed on the machine (built with SSL)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name)
    )
    return found[-1].parent if found else None


@dataclass(frozen=True)
class TlsServer:
    port: int
    ca_file: Path  # the authority that signed the server's certificate
    wrong_ca_file: Path  # another authority

    def url(self, query: str = "", host: str = "localhost") -> str:
        """A URL for the `postgres` database; `query` like `sslmode=verify-full&...`."""
        return f"postgresql://postgres@{host}:{self.port}/postgres" + (f"?{query}" if query else "")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _authority(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return key, certificate


def _server_certificate(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, certificate


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def tls_postgres(directory: Path) -> Iterator[TlsServer]:
    """A running TLS-only Postgres with its data and certificates in `directory`."""
    binaries = server_programs()
    if binaries is None:
        raise RuntimeError("no PostgreSQL server programs in /usr/lib/postgresql")
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca = _authority("vividly test CA")
    _, wrong_ca = _authority("vividly other CA")
    server_key, server_certificate = _server_certificate(ca_key, ca)
    (directory / "ca.crt").write_bytes(_pem(ca))
    (directory / "wrong-ca.crt").write_bytes(_pem(wrong_ca))

    data = directory / "data"
    data.mkdir()
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:  # postgres refuses to run as root
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from pgserver.utils import (
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        entry = ensure_user_exists("pgserver")
        assert entry is not None
        ensure_prefix_permissions(data)
        os.chown(data, entry.pw_uid, entry.pw_gid)
        run_as = {"user": entry.pw_uid, "group": entry.pw_gid}
    data.chmod(0o700)
    subprocess.run(
        [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
        check=True, capture_output=True, cwd=directory, **run_as,
    )  # fmt: skip
    (data / "server.crt").write_bytes(_pem(server_certificate))
    (data / "server.key").write_bytes(_key_pem(server_key))
    (data / "server.key").chmod(0o600)
    port = _free_port()
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\nlisten_addresses = '127.0.0.1'\nport = {port}\n"
            f"unix_socket_directories = '{data}'\nssl = on\n"
            "ssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
        )
    (data / "pg_hba.conf").write_text("local all all trust\nhostssl all all 127.0.0.1/32 trust\n")
    if run_as:
        for name in ("server.crt", "server.key", "postgresql.conf", "pg_hba.conf"):
            os.chown(data / name, run_as["user"], run_as["group"])
    pg_ctl = str(binaries / "pg_ctl")
    started = subprocess.run(
        [pg_ctl, "-D", str(data), "-l", str(data / "log"), "-w", "start"],
        capture_output=True, cwd=directory, **run_as,
    )  # fmt: skip
    if started.returncode != 0:
        log = (data / "log").read_text() if (data / "log").exists() else started.stderr.decode()
        raise RuntimeError(f"the TLS test server did not start: {log[-2000:]}")
    try:
        yield TlsServer(port, directory / "ca.crt", directory / "wrong-ca.crt")
    finally:
        subprocess.run(
            [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            check=False, capture_output=True, **run_as,
        )  # fmt: skip
        shutil.rmtree(directory, ignore_errors=True)
