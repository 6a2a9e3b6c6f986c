"""The v1 token endpoint (`/{tenant}/oauth2/token`) with the clients that
still call it: ADAL for Python (PyPI `adal`, deprecated, still in older
pipelines) and curl sending an older PowerShell script's form verbatim."""

import json
import subprocess

import adal
import jwt

from conftest import CERT_APP, PP_SCOPE, SECRET, SECRET_APP, TENANT

RESOURCE = PP_SCOPE.removesuffix("/.default")


def context(platform):
    # ADAL's authority must be https; its validation knows only the cloud's
    # hosts, so it is turned off for the platform's own address.
    return adal.AuthenticationContext(f"{platform.url}/{TENANT}", validate_authority=False)


def test_adal_with_a_client_secret(platform):
    result = context(platform).acquire_token_with_client_credentials(RESOURCE, SECRET_APP, SECRET)
    assert result["tokenType"] == "Bearer"
    assert result["resource"] == RESOURCE
    assert result["expiresIn"] == 3599
    claims = jwt.decode(result["accessToken"], options={"verify_signature": False})
    assert (claims["aud"], claims["appid"], claims["tid"]) == (RESOURCE, SECRET_APP, TENANT)


def test_adal_with_a_certificate(platform):
    cert = platform.certificate
    result = context(platform).acquire_token_with_client_certificate(
        RESOURCE, CERT_APP, cert.key_pem, cert.sha1_hex
    )
    claims = jwt.decode(result["accessToken"], options={"verify_signature": False})
    assert (claims["appid"], claims["appidacr"]) == (CERT_APP, "2")


def test_adal_reports_a_wrong_secret_with_its_aadsts_code(platform):
    try:
        context(platform).acquire_token_with_client_credentials(RESOURCE, SECRET_APP, "wrong")
    except adal.AdalError as error:
        assert error.error_response["error"] == "invalid_client"
        assert error.error_response["error_codes"] == [7000215]
    else:
        raise AssertionError("a wrong secret was accepted")


def test_curl_posts_the_scripts_form_verbatim(platform):
    # As the script sends it: client id, secret and resource in the body.
    body = (
        f"grant_type=client_credentials&client_id={SECRET_APP}"
        f"&client_secret={SECRET}&resource={RESOURCE}"
    )
    out = subprocess.run(
        ["curl", "-sS", "--fail-with-body", "--cacert", platform.ca,
         "-H", "Content-Type: application/x-www-form-urlencoded",
         "--data-raw", body, f"{platform.url}/{TENANT}/oauth2/token"],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout
    answer = json.loads(out)
    assert answer["token_type"] == "Bearer"
    assert answer["resource"] == RESOURCE
    assert answer["expires_in"] == "3599"
    assert int(answer["expires_on"]) - int(answer["not_before"]) == 3599
