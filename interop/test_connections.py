"""The seed's request sent with requests and an azure-identity token, then
the connections listed by the Microsoft Power Platform management SDK
(Kiota-generated, PyPI `powerplatform-management`) with the platform as its
base URL."""

import asyncio
import ssl
import uuid

import httpx
import requests
from azure.identity import ClientSecretCredential
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from kiota_http.httpx_request_adapter import HttpxRequestAdapter
from mspp_management.service_client_base import ServiceClientBase

from conftest import ENVIRONMENT, GROUP, PP_SCOPE, SECRET, SECRET_APP, SECRET_APP_OID, TENANT


def credential(platform):
    return ClientSecretCredential(TENANT, SECRET_APP, SECRET, authority=platform.url, disable_instance_discovery=True)


def create_connection(platform) -> str:
    connection_id = str(uuid.uuid4())
    token = credential(platform).get_token(PP_SCOPE).token
    body = {
        "properties": {
            "environment": {"id": f"/providers/Microsoft.PowerApps/environments/{ENVIRONMENT}", "name": ENVIRONMENT},
            "connectionParametersSet": {
                "name": "azureRelay",
                "values": {
                    "username": {"value": "CONTOSO\\svc-bot"},
                    "password": {"value": "interop-windows-password"},
                    "targetId": {"value": GROUP},
                },
            },
        }
    }
    response = requests.put(
        f"{platform.url}/environments/{ENVIRONMENT}/connectivity/connectors/shared_uiflow/connections/{connection_id}",
        params={"api-version": "1"},
        json=body,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert "interop-windows-password" not in response.text
    return connection_id.replace("-", "")


def test_the_management_sdk_lists_the_environments_connections(platform):
    connection_id = create_connection(platform)
    auth = AzureIdentityAuthenticationProvider(credential(platform), scopes=[PP_SCOPE], allowed_hosts=["localhost"])

    async def list_connections():
        async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=platform.ca)) as http:
            adapter = HttpxRequestAdapter(auth, http_client=http)
            adapter.base_url = platform.url
            client = ServiceClientBase(adapter)
            builder = client.connectivity.environments.by_environment_id(ENVIRONMENT).connections
            query = builder.ConnectionsRequestBuilderGetQueryParameters(api_version="1")
            return await builder.get(RequestConfiguration(query_parameters=query))

    response = asyncio.run(list_connections())
    names = [c.name for c in response.value]
    assert connection_id in names
    connection = next(c for c in response.value if c.name == connection_id)
    assert connection.properties.api_id == "/providers/Microsoft.PowerApps/apis/shared_uiflow"
    assert connection.properties.statuses[0].status == "Connected"
    assert connection.properties.created_by.id == SECRET_APP_OID
    assert connection.properties.environment.name == ENVIRONMENT
