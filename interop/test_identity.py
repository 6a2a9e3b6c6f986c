"""MSAL for Python and azure-identity get tokens from the platform over TLS,
changing nothing but the authority, instance discovery off and the local CA
trusted; the tokens verify against the platform's published keys."""

import jwt
import msal
import requests
from azure.identity import CertificateCredential, ClientSecretCredential

from conftest import CERT_APP, ORG, PP_SCOPE, SECRET, SECRET_APP, SECRET_APP_OID, TENANT


def verified_claims(platform, token: str, audience: str) -> dict:
    """Checks the signature with the JWKS the discovery document names."""
    discovery = requests.get(f"{platform.url}/{TENANT}/v2.0/.well-known/openid-configuration", timeout=10).json()
    keys = requests.get(discovery["jwks_uri"], timeout=10).json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in keys if k["kid"] == kid)
    return jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=audience)


def test_msal_confidential_client_with_a_secret(platform):
    app = msal.ConfidentialClientApplication(
        SECRET_APP,
        client_credential=SECRET,
        authority=f"{platform.url}/{TENANT}",
        instance_discovery=False,
    )
    result = app.acquire_token_for_client(scopes=[PP_SCOPE])
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer"
    claims = verified_claims(platform, result["access_token"], "https://api.powerplatform.com")
    assert claims["appid"] == SECRET_APP
    assert claims["oid"] == SECRET_APP_OID
    assert claims["tid"] == TENANT


def test_msal_confidential_client_with_a_certificate(platform):
    cert = platform.certificate
    app = msal.ConfidentialClientApplication(
        CERT_APP,
        client_credential={"private_key": cert.key_pem, "thumbprint": cert.sha1_hex},
        authority=f"{platform.url}/{TENANT}",
        instance_discovery=False,
    )
    result = app.acquire_token_for_client(scopes=[PP_SCOPE])
    assert "access_token" in result, result
    claims = verified_claims(platform, result["access_token"], "https://api.powerplatform.com")
    assert (claims["appid"], claims["appidacr"]) == (CERT_APP, "2")


def test_msal_with_the_public_certificate_sends_sha256_thumbprints(platform):
    cert = platform.certificate
    app = msal.ConfidentialClientApplication(
        CERT_APP,
        client_credential={"private_key": cert.key_pem, "public_certificate": cert.cert_pem},
        authority=f"{platform.url}/{TENANT}",
        instance_discovery=False,
    )
    result = app.acquire_token_for_client(scopes=[f"https://{ORG}.crm.dynamics.com/.default"])
    assert "access_token" in result, result
    claims = verified_claims(platform, result["access_token"], f"https://{ORG}.crm.dynamics.com")
    assert claims["appid"] == CERT_APP


def test_msal_reports_entra_errors(platform):
    app = msal.ConfidentialClientApplication(
        SECRET_APP,
        client_credential="not-the-secret",
        authority=f"{platform.url}/{TENANT}",
        instance_discovery=False,
    )
    result = app.acquire_token_for_client(scopes=[PP_SCOPE])
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]


def test_azure_identity_client_secret_credential(platform):
    credential = ClientSecretCredential(
        TENANT, SECRET_APP, SECRET, authority=platform.url, disable_instance_discovery=True
    )
    token = credential.get_token(PP_SCOPE)
    assert token.expires_on > 0
    claims = verified_claims(platform, token.token, "https://api.powerplatform.com")
    assert claims["idtyp"] == "app"


def test_azure_identity_certificate_credential(platform):
    credential = CertificateCredential(
        TENANT,
        CERT_APP,
        certificate_path=str(platform.certificate.both_path),
        authority=platform.url,
        disable_instance_discovery=True,
    )
    token = credential.get_token(f"{platform.url}/orgs/{ORG}/.default")
    claims = verified_claims(platform, token.token, f"{platform.url}/orgs/{ORG}")
    assert claims["appidacr"] == "2"


def test_a_token_from_azure_identity_is_accepted_by_dataverse(platform):
    credential = ClientSecretCredential(
        TENANT, SECRET_APP, SECRET, authority=platform.url, disable_instance_discovery=True
    )
    token = credential.get_token(f"{platform.url}/orgs/{ORG}/.default").token
    response = requests.get(
        f"{platform.url}/orgs/{ORG}/api/data/v9.2/WhoAmI",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["UserId"]
