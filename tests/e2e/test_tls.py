"""``accord serve`` with TLS, and behind a TLS-terminating proxy: real node processes on 127.0.0.1."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.e2e.nodeproc import free_port, stop_process
from tests.stixgen import TAXII

pytestmark = pytest.mark.e2e


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "node.crt", directory / "node.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return cert_file, key_file


class Served:
    """``accord serve --json`` with ``args`` on a free port, ready once / answers; HTTPS with a
    self-signed certificate unless ``tls`` is false."""

    def __init__(self, tmp: Path, *args: str, tls: bool = True) -> None:
        self.port = free_port()
        command = [sys.executable, "-m", "accord", "serve", "--json", "--port", str(self.port), *args]
        self.verify: ssl.SSLContext | bool = True
        self.cert: Path | None = None
        if tls:
            cert, key = self_signed(tmp)
            self.cert = cert
            self.verify = ssl.create_default_context(cafile=str(cert))
            command += ["--tls-cert", str(cert), "--tls-key", str(key)]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._stderr = (tmp / "stderr.log").open("wb")
        self.proc = subprocess.Popen(command, env={**os.environ, "ACCORD_DATA_DIR": str(tmp / "node")},
                                     stdout=subprocess.PIPE, stderr=self._stderr)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()  # serve --json: one line at start
        if not first.strip():
            self.proc.wait(timeout=15)
            raise RuntimeError(f"node exited: {(tmp / 'stderr.log').read_text()}")
        self.started = json.loads(first)
        self._wait_ready(tmp / "stderr.log")

    def _wait_ready(self, log: Path, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited: {log.read_text()}")
            try:
                if httpx.get(self.url + "/", verify=self.verify, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("node did not answer in time")

    def stop(self) -> None:
        stop_process(self.proc)
        self._stderr.close()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    running = Served(tmp_path_factory.mktemp("tls"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A node as it runs behind a proxy on the same machine that terminates TLS for taxii.example.org."""
    running = Served(tmp_path_factory.mktemp("proxied"), "--public-url", "https://taxii.example.org/",
                     "--forwarded-allow-ips", "127.0.0.1", "--rate-limit", "0.01", "--rate-burst", "1", tls=False)
    try:
        yield running
    finally:
        running.stop()


def test_discovery_over_https_verified_against_the_nodes_certificate(node: Served) -> None:
    assert node.started["taxii_discovery"] == f"{node.url}/taxii2/"
    headers = {"Authorization": f"Bearer {node.started['api_key']}", "Accept": TAXII, "Host": "evil.example"}
    r = httpx.get(node.url + "/taxii2/", headers=headers, verify=node.verify)
    assert r.status_code == 200
    assert r.json()["default"] == f"{node.url}/taxii2/default/"
    assert r.headers["strict-transport-security"] == "max-age=31536000"
    assert r.headers["cache-control"] == "no-store" and "server" not in r.headers


def test_plain_http_and_unknown_certificates_are_refused(node: Served) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{node.port}/", timeout=5)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(node.url + "/", timeout=5)


def test_tls_1_3_is_spoken_and_nothing_older_than_1_2(node: Served) -> None:
    """TAXII 2.1 section 1 (transport): TLS 1.2 or later MUST, TLS 1.3 SHOULD."""

    def handshake(maximum: ssl.TLSVersion) -> str | None:
        context = ssl.create_default_context(cafile=str(node.cert))
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # so that this client would speak TLS 1.1 if let
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLSVersion.TLSv1_1 is deprecated
            context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            context.maximum_version = maximum
        with socket.create_connection(("127.0.0.1", node.port), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.version()

    assert handshake(ssl.TLSVersion.MAXIMUM_SUPPORTED) == "TLSv1.3"
    assert handshake(ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    with pytest.raises((ssl.SSLError, ConnectionError)), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        handshake(ssl.TLSVersion.TLSv1_1)


def test_behind_a_proxy_the_node_names_its_public_url_and_counts_forwarded_clients(proxied: Served) -> None:
    # the first request, from the readiness check, spent the bucket of the proxy's own address
    assert httpx.get(proxied.url + "/").status_code == 429
    assert httpx.get(proxied.url + "/", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 200
    assert httpx.get(proxied.url + "/", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    assert httpx.get(proxied.url + "/", headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 200
    headers = {"Authorization": f"Bearer {proxied.started['api_key']}", "Accept": TAXII, "Host": "evil.example"}
    r = httpx.get(proxied.url + "/taxii2/", headers=headers)  # the key has a bucket of its own
    assert r.json()["default"] == "https://taxii.example.org/taxii2/default/"
    assert proxied.started["taxii_discovery"] == "https://taxii.example.org/taxii2/"
    assert r.headers["strict-transport-security"] == "max-age=31536000"
