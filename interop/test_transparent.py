"""Transparent mode: unchanged tools, with their default settings and the
cloud's own host names, reach the platform through `HTTPS_PROXY` and trust
of its CA, set by `eval "$(padconnect env --data-dir DIR)"` (docs/transparent-mode.md)."""

import json
import uuid

from conftest import ENVIRONMENT, GROUP, PP_SCOPE, SECRET, SECRET_APP, SECRET_APP_OID, TENANT, binary
from transparent import ENV_HOST, LOGIN

SEED_BODY = {
    "properties": {
        "environment": {"id": f"/providers/Microsoft.PowerApps/environments/{ENVIRONMENT}", "name": ENVIRONMENT},
        "connectionParametersSet": {
            "name": "azureRelay",
            "values": {
                "username": {"value": "CONTOSO\\svc-bot"},
                "password": {"value": "transparent-windows-password"},
                "targetId": {"value": GROUP},
            },
        },
    }
}


def test_env_prints_the_proxy_and_trust_for_every_ecosystem(transparent):
    env = transparent.env
    assert env["HTTPS_PROXY"] == env["https_proxy"] == transparent.url
    assert env["NO_PROXY"] == "localhost,127.0.0.1,::1"
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        assert open(env[name]).read().endswith(open(transparent.ca).read())
    assert env["NODE_EXTRA_CA_CERTS"] == transparent.ca
    undo = transparent.run(binary(), "env", "--unset").stdout
    assert "unset HTTPS_PROXY" in undo and "unset SSL_CERT_FILE" in undo


def test_curl_sends_the_seeds_request_verbatim(transparent):
    token = json.loads(transparent.run(
        "curl", "-sS", "--fail-with-body", f"https://{LOGIN}/{TENANT}/oauth2/v2.0/token",
        "-d", "grant_type=client_credentials", "-d", f"client_id={SECRET_APP}",
        "-d", f"client_secret={SECRET}", "--data-urlencode", f"scope={PP_SCOPE}",
    ).stdout)["access_token"]
    connection = str(uuid.uuid4())
    # The seed's request: its URL, its headers, its body.
    put = transparent.run(
        "curl", "-sS", "--fail-with-body", "-X", "PUT",
        f"https://{ENV_HOST}/connectivity/connectors/shared_uiflow/connections/{connection}?api-version=1",
        "-H", "Content-Type: application/json", "-H", f"Host: {ENV_HOST}",
        "-H", "Accept: application/json", "-H", f"Authorization: Bearer {token}",
        "--data-binary", json.dumps(SEED_BODY),
    ).stdout
    answer = json.loads(put)
    assert answer["properties"]["statuses"][0]["status"] == "Connected", answer
    assert "transparent-windows-password" not in put


def test_python_requests_with_no_settings_of_its_own(transparent):
    out = transparent.python(f"""
import json, uuid, requests
token = requests.post("https://{LOGIN}/{TENANT}/oauth2/v2.0/token", data={{
    "grant_type": "client_credentials", "client_id": "{SECRET_APP}",
    "client_secret": "{SECRET}", "scope": "{PP_SCOPE}"}}).json()["access_token"]
url = "https://{ENV_HOST}/connectivity/connectors/shared_uiflow/connections/" + str(uuid.uuid4())
answer = requests.put(url, params={{"api-version": "1"}}, json={SEED_BODY!r},
    headers={{"Authorization": "Bearer " + token}})
print(answer.status_code, answer.json()["properties"]["statuses"][0]["status"])
""")
    assert out.split() == ["201", "Connected"]


def test_msal_with_its_default_authority_and_instance_discovery(transparent):
    out = transparent.python(f"""
import msal
app = msal.ConfidentialClientApplication("{SECRET_APP}", client_credential="{SECRET}",
    authority="https://{LOGIN}/{TENANT}")
result = app.acquire_token_for_client(scopes=["{PP_SCOPE}"])
print(result.get("token_type"), result.get("error_description", ""))
""")
    assert out.strip() == "Bearer"


def test_azure_identity_with_no_authority_override(transparent):
    out = transparent.python(f"""
import jwt
from azure.identity import ClientSecretCredential
token = ClientSecretCredential("{TENANT}", "{SECRET_APP}", "{SECRET}").get_token("{PP_SCOPE}").token
claims = jwt.decode(token, options={{"verify_signature": False}})
print(claims["aud"], claims["oid"])
""")
    assert out.split() == ["https://api.powerplatform.com", SECRET_APP_OID]


def test_padconnect_connect_takes_its_cloud_path(transparent):
    done = transparent.run(
        binary(), "connect", "--environment", ENVIRONMENT, "--group", GROUP,
        "--username", "CONTOSO\\cloud-path", "--output", "json",
        extra={"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": SECRET_APP, "AZURE_CLIENT_SECRET": SECRET,
               "PADCONNECT_MACHINE_PASSWORD": "transparent-windows-password"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "Connected", done.stdout


def test_a_foreign_host_is_refused(transparent):
    done = transparent.run("curl", "-sS", "https://example.com/", check=False)
    assert done.returncode == 56, done.stderr
    assert "403" in done.stderr


def test_the_tunnel_certificate_is_checked_by_name(transparent):
    proxy = transparent.url.removeprefix("http://")

    def handshake(name):
        return transparent.run(
            "openssl", "s_client", "-proxy", proxy, "-connect", f"{LOGIN}:443", "-servername", LOGIN,
            "-verify_hostname", name, "-CAfile", transparent.ca, "-verify_return_error", "-brief",
            check=False, timeout=30,
        )

    good = handshake(LOGIN)
    assert good.returncode == 0 and "Verification: OK" in good.stderr, good.stderr
    wrong = handshake("login.microsoftonline.us")
    assert wrong.returncode != 0, wrong.stderr


def test_the_dataverse_sdk_on_the_orgs_own_url(transparent):
    out = transparent.python(f"""
from azure.identity import ClientSecretCredential
from PowerPlatform.Dataverse.client import DataverseClient
client = DataverseClient("https://contoso.crm.dynamics.com", ClientSecretCredential("{TENANT}", "{SECRET_APP}", "{SECRET}"))
rows = [dict(r) for r in client.records.list("flowmachinegroup", select=["name"])]
print(rows[0]["flowmachinegroupid"])
""")
    assert out.strip() == GROUP


def test_the_management_sdk_on_its_default_base_url(transparent):
    out = transparent.python(f"""
import asyncio
from azure.identity import ClientSecretCredential
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from kiota_http.httpx_request_adapter import HttpxRequestAdapter
from mspp_management.service_client_base import ServiceClientBase

async def main():
    auth = AzureIdentityAuthenticationProvider(ClientSecretCredential("{TENANT}", "{SECRET_APP}", "{SECRET}"),
        scopes=["{PP_SCOPE}"])
    client = ServiceClientBase(HttpxRequestAdapter(auth))
    builder = client.connectivity.environments.by_environment_id("{ENVIRONMENT}").connections
    query = builder.ConnectionsRequestBuilderGetQueryParameters(api_version="1")
    response = await builder.get(RequestConfiguration(query_parameters=query))
    print(client.request_adapter.base_url, len(response.value) >= 0)

asyncio.run(main())
""")
    assert out.split() == ["https://api.powerplatform.com", "True"]
