"""Fixtures: a `padconnect serve --tls` process with a world of one tenant,
an app with a secret, an app with a certificate, and an environment."""

import datetime
import json
import os
import pathlib
import queue
import subprocess
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ROOT = pathlib.Path(__file__).resolve().parent.parent
TENANT = "8a235459-3d2c-415d-8c1e-e2fe133509ad"
SECRET_APP = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40"
SECRET_APP_OID = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
CERT_APP = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SECRET = "interop-secret-value"
ENVIRONMENT = "37520647-dbdf-49fa-ba01-6134c14680c4"
ORG = "contoso"
GROUP = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d"
PP_SCOPE = "https://api.powerplatform.com/.default"


def binary() -> str:
    return os.environ.get("PADCONNECT_BIN", str(ROOT / "target" / "debug" / "padconnect"))


class Certificate:
    """A self-signed RSA certificate and its key, as an app would register it."""

    def __init__(self, directory: pathlib.Path):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cert-pipeline")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        self.key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.sha1_hex = cert.fingerprint(hashes.SHA1()).hex()
        self.cert_path = directory / "cert.pem"
        self.cert_path.write_text(self.cert_pem)
        self.both_path = directory / "cert-and-key.pem"
        self.both_path.write_text(self.key_pem + self.cert_pem)


class Platform:
    def __init__(self, url: str, ca: pathlib.Path, certificate: Certificate):
        self.url = url
        self.ca = str(ca)
        self.certificate = certificate


def world(certificate: Certificate) -> str:
    return f"""
[[tenants]]
id = "{TENANT}"
domain = "contoso.onmicrosoft.com"

[[tenants.apps]]
display_name = "deploy-pipeline"
client_id = "{SECRET_APP}"
object_id = "{SECRET_APP_OID}"
secrets = ["{SECRET}"]

[[tenants.apps]]
display_name = "cert-pipeline"
client_id = "{CERT_APP}"
certificates = ["{certificate.cert_path.name}"]

[[tenants.environments]]
id = "{ENVIRONMENT}"
display_name = "Contoso Production"
org = "{ORG}"
application_users = ["{SECRET_APP}", "{CERT_APP}"]

[[tenants.environments.machine_groups]]
id = "{GROUP}"
name = "Finance bots"
owner = "{SECRET_APP}"
machines = ["FIN-VM-01"]
"""


def serve(*args):
    """`padconnect serve ARGS` on a free port; returns the process and the
    URL it logs once the world is loaded."""
    process = subprocess.Popen(
        [binary(), "serve", "--listen", "127.0.0.1:0", "--log-format", "json", *args],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    urls: "queue.Queue[str]" = queue.Queue()

    def drain():
        for line in process.stderr:
            try:
                url = json.loads(line).get("url")
            except ValueError:
                url = None
            if url:
                urls.put(url)

    threading.Thread(target=drain, daemon=True).start()
    try:
        return process, urls.get(timeout=60)
    except queue.Empty:
        process.kill()
        raise RuntimeError("padconnect serve did not start")


@pytest.fixture(scope="session")
def platform(tmp_path_factory):
    directory = tmp_path_factory.mktemp("platform")
    certificate = Certificate(directory)
    (directory / "world.toml").write_text(world(certificate))
    data = directory / "data"
    process, url = serve("--tls", "--data-dir", str(data), "--world", str(directory / "world.toml"))
    ca = data / "tls" / "ca.pem"
    # The SDKs use requests, which trusts this bundle: the platform's CA only.
    os.environ["REQUESTS_CA_BUNDLE"] = str(ca)
    yield Platform(url.replace("127.0.0.1", "localhost"), ca, certificate)
    process.terminate()
    process.wait(timeout=15)


@pytest.fixture(scope="session")
def transparent(tmp_path_factory):
    """A plain-HTTP platform reached only through HTTPS_PROXY (docs/transparent-mode.md)."""
    import transparent as mode

    process, platform = mode.start(tmp_path_factory.mktemp("transparent"))
    yield platform
    process.terminate()
    process.wait(timeout=15)
