"""The Azure CLI (PyPI `azure-cli`), unchanged, through transparent mode:
`az login --service-principal ... --allow-no-subscriptions`, then a Power
Platform token and the seed's PUT with `az rest`. `.ci/run` installs the CLI
in a venv of its own and names its `az` in PADCONNECT_AZ."""

import json
import os
import uuid

import jwt
import pytest

from conftest import ENVIRONMENT, GROUP, SECRET, SECRET_APP, TENANT, binary
from test_transparent import SEED_BODY
from transparent import ENV_HOST

AZ = os.environ.get("PADCONNECT_AZ")


@pytest.fixture
def az(transparent, tmp_path):
    if not AZ:
        pytest.skip("PADCONNECT_AZ names no Azure CLI (.ci/run installs one)")
    quiet = {
        "AZURE_CONFIG_DIR": str(tmp_path / "azure"),
        "AZURE_CORE_COLLECT_TELEMETRY": "false",
        "AZURE_CORE_SURVEY_MESSAGE": "false",
        "AZURE_CORE_NO_COLOR": "true",
    }

    def run(*args):
        done = transparent.run(AZ, *args, "--output", "json", extra=quiet, check=False, timeout=180)
        assert done.returncode == 0, f"az {' '.join(args[:2])}: {done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip() else None

    run.quiet = quiet
    run.transparent = transparent
    return run


def test_az_login_token_and_rest_put(az, tmp_path):
    accounts = az("login", "--service-principal", "--username", SECRET_APP, "--password", SECRET,
                  "--tenant", TENANT, "--allow-no-subscriptions")
    assert accounts[0]["tenantId"] == TENANT
    assert accounts[0]["user"] == {"name": SECRET_APP, "type": "servicePrincipal"}

    token = az("account", "get-access-token", "--resource", "https://api.powerplatform.com")
    claims = jwt.decode(token["accessToken"], options={"verify_signature": False})
    assert (claims["aud"], claims["appid"]) == ("https://api.powerplatform.com", SECRET_APP)

    body = tmp_path / "seed.json"
    body.write_text(json.dumps(SEED_BODY))
    connection = str(uuid.uuid4())
    answer = az("rest", "--method", "put", "--resource", "https://api.powerplatform.com",
                "--url", f"https://{ENV_HOST}/connectivity/connectors/shared_uiflow/connections/{connection}?api-version=1",
                "--body", f"@{body}")
    assert answer["properties"]["environment"]["name"] == ENVIRONMENT
    assert answer["properties"]["statuses"][0]["status"] == "Connected"


def test_az_cloud_register_reads_the_platforms_arm_metadata(az):
    # `az cloud register --endpoint-resource-manager` fetches
    # {arm}/metadata/endpoints?api-version=2022-09-01 (azure-cli
    # command_modules/cloud/custom.py) and maps it with cloud.py's
    # _arm_to_cli_mapper.
    az("cloud", "register", "--name", "PadconnectCloud", "--endpoint-resource-manager", "https://management.azure.com")
    cloud = az("cloud", "show", "--name", "PadconnectCloud")
    assert cloud["endpoints"]["activeDirectory"] == "https://login.microsoftonline.com"
    assert cloud["endpoints"]["activeDirectoryResourceId"] == "https://management.core.windows.net/"
    # The flag's own value wins over the metadata's (custom.py).
    assert cloud["endpoints"]["resourceManager"].rstrip("/") == "https://management.azure.com"


def test_padconnect_signs_in_with_the_az_session_and_no_secret(az):
    """A pipeline step after azure/login or AzureCLI@2: `az` has a session,
    padconnect has no AZURE_* credential and takes az's account."""
    az("login", "--service-principal", "--username", SECRET_APP, "--password", SECRET,
       "--tenant", TENANT, "--allow-no-subscriptions")
    env = {**az.quiet, "PATH": f"{os.path.dirname(AZ)}:{os.environ['PATH']}",
           "PADCONNECT_MACHINE_PASSWORD": "az-session-windows-password"}
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH"):
        az.transparent.env.pop(name, None)
    done = az.transparent.run(
        binary(), "connect", "--environment", ENVIRONMENT, "--group", GROUP,
        "--username", "CONTOSO\\az-session", "--output", "json", extra=env, check=False, timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "signing in with azurecli" in done.stderr, done.stderr
    assert json.loads(done.stdout)["status"] == "Connected", done.stdout
