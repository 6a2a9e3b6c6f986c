"""The Dataverse SDK for Python (PyPI `PowerPlatform-Dataverse-Client`)
reads an environment's machine groups from the platform over TLS, with a
path-style base URL and an azure-identity credential."""

from azure.identity import ClientSecretCredential
from PowerPlatform.Dataverse.client import DataverseClient

from conftest import GROUP, ORG, SECRET, SECRET_APP, TENANT


def test_the_dataverse_sdk_reads_machine_groups(platform):
    credential = ClientSecretCredential(TENANT, SECRET_APP, SECRET, authority=platform.url, disable_instance_discovery=True)
    client = DataverseClient(f"{platform.url}/orgs/{ORG}", credential)
    result = client.records.list("flowmachinegroup", select=["name", "flowgrouptype"], filter="statecode eq 0")
    rows = [dict(row) for row in result]
    assert [(row["flowmachinegroupid"], row["name"]) for row in rows] == [(GROUP, "Finance bots")]
    machines = [dict(row) for row in client.records.list("flowmachine", select=["name", "_flowmachinegroupid_value"])]
    assert machines[0]["_flowmachinegroupid_value"] == GROUP
