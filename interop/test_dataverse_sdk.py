"""Microsoft's Dataverse SDK for Python (PyPI `PowerPlatform-Dataverse-Client`
1.1.0), unchanged, on the org's own URL https://contoso.crm.dynamics.com,
reaching the platform only through the environment `padconnect env` prints
(transparent mode), reads the example world (examples/world.toml): the
"Finance bots" group shared with the app, its machines FIN-VM-01 and
FIN-VM-02, and not the standalone HR-LAPTOP-07, which is not shared with it.

What the SDK sends, recorded below by wrapping `requests.Session.send` in the
script's own interpreter (an observer: the SDK is not changed):

Sign-in (azure-identity, once per script)::

    GET  https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration
    POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token
         (client_credentials, scope=https://contoso.crm.dynamics.com/.default)

Every Dataverse request carries `Authorization: Bearer`, `Accept:
application/json`, `Content-Type: application/json`, `OData-MaxVersion: 4.0`,
`OData-Version: 4.0`, `User-Agent: DataverseSvcPythonClient:1.1.0`,
`x-ms-client-request-id` and `x-ms-correlation-id`. The SDK takes a table's
logical name and resolves its entity set once per client and table::

    GET /api/data/v9.2/EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute
        &$filter=LogicalName eq 'flowmachinegroup'

`records.list(table, select=, filter=, orderby=, top=, page_size=, count=)`::

    GET /api/data/v9.2/flowmachinegroups?$select=name,flowgrouptype&$filter=statecode eq 0
    GET /api/data/v9.2/flowmachines?$select=name,_flowmachinegroupid_value&$orderby=name asc&$count=true
        Prefer: odata.maxpagesize=1
    GET {the answer's @odata.nextLink}          (same Prefer), until there is none

`query.builder(table).select().where().order_by().top().include_formatted_values().execute()`::

    GET /api/data/v9.2/flowmachines?$select=name,_flowmachinegroupid_value,statecode
        &$filter=_flowmachinegroupid_value eq {group} and startswith(name, 'FIN')
        &$orderby=name desc&$top=5
        Prefer: odata.include-annotations="OData.Community.Display.V1.FormattedValue"

    `col(name).endswith(v)` sends `endswith(name, 'v')`, `col(name).in_(vs)`
    and `.not_in(vs)` Dataverse's query functions
    `Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=["a","b"])`
    and `NotIn`. The SDK writes a
    `uuid.UUID` bare and a `str` quoted; a lookup is an
    Edm.Guid, so Dataverse refuses the quoted one (400, 0x80060888, "A binary
    operator with incompatible types was detected ...").

`query.fetchxml(xml).execute()`::

    GET /api/data/v9.2/flowmachines?fetchXml={the FetchXML}
        Prefer: odata.include-annotations="Microsoft.Dynamics.CRM.fetchxmlpagingcookie,Microsoft.Dynamics.CRM.morerecords"
    and, while the answer says @Microsoft.Dynamics.CRM.morerecords, the same with the
    FetchXML's page="N" and paging-cookie="{the cookie of @...fetchxmlpagingcookie}".

None of the three sends `$apply`, `$batch`, `$metadata` or anything but a GET.
`client.batch` (POST /api/data/v9.2/$batch) and `query.sql` (GET
{entityset}?sql=) do: the platform serves the first (a change set of more
than one request refused, in Dataverse's format) and refuses the second, and
the last three tests say how.
"""

import json
import subprocess

import pytest

from conftest import GROUP, ROOT, SECRET_APP, TENANT, binary, serve
from transparent import Transparent, env_lines

ORG_HOST = "contoso.crm.dynamics.com"
API = "/api/data/v9.2"
EXAMPLE_SECRET = "example-secret-value"

# Runs first in each script: records what the SDK sends, then builds the
# client exactly as the SDK's README does.
PRELUDE = f"""
import json
import uuid
import requests
from urllib.parse import unquote_plus, urlsplit

SENT = []
_send = requests.Session.send

def _recording_send(self, request, **kwargs):
    response = _send(self, request, **kwargs)
    url = urlsplit(request.url)
    SENT.append({{"method": request.method, "host": url.hostname, "path": url.path,
                 "query": unquote_plus(url.query), "prefer": request.headers.get("Prefer"),
                 "status": response.status_code}})
    return response

requests.Session.send = _recording_send

from azure.identity import ClientSecretCredential
from PowerPlatform.Dataverse.client import DataverseClient
from PowerPlatform.Dataverse.core.errors import HttpError
from PowerPlatform.Dataverse.models.filters import col

client = DataverseClient("https://{ORG_HOST}", ClientSecretCredential("{TENANT}", "{SECRET_APP}", "{EXAMPLE_SECRET}"))

def rows(result):
    return [dict(record) for record in result]

def done(result):
    print(json.dumps({{"result": result, "sent": SENT}}))
"""

FETCH_JOIN = """<fetch>
  <entity name="flowmachine">
    <attribute name="name" />
    <order attribute="name" />
    <link-entity name="flowmachinegroup" from="flowmachinegroupid" to="flowmachinegroupid" alias="g" link-type="inner">
      <attribute name="name" />
      <filter><condition attribute="statecode" operator="eq" value="0" /></filter>
    </link-entity>
  </entity>
</fetch>"""

FETCH_PAGED = """<fetch count="1">
  <entity name="flowmachine">
    <attribute name="name" />
    <order attribute="name" />
  </entity>
</fetch>"""

FETCH_COUNT = """<fetch aggregate="true">
  <entity name="flowmachine">
    <attribute name="flowmachineid" alias="machines" aggregate="count" />
  </entity>
</fetch>"""


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """`padconnect serve` with examples/world.toml, and the shell after
    `eval "$(padconnect env --data-dir DIR)"`."""
    data = tmp_path_factory.mktemp("dataverse-sdk") / "data"
    process, url = serve("--data-dir", str(data), "--world", str(ROOT / "examples" / "world.toml"))
    try:
        printed = subprocess.run(
            [binary(), "env", "--data-dir", str(data)], capture_output=True, text=True, check=True, timeout=30
        ).stdout
        yield Transparent(url, data, env_lines(printed))
    finally:
        process.terminate()
        process.wait(timeout=15)


def sdk(example, code):
    """Runs PRELUDE + code in a fresh interpreter; returns what it passed to
    done() and the Dataverse requests it sent, as (method, path under the
    API, decoded query, Prefer, status)."""
    out = json.loads(example.python(PRELUDE + code).strip().splitlines()[-1])
    dataverse = [sent for sent in out["sent"] if sent["host"] == ORG_HOST]
    assert all(sent["path"].startswith(API + "/") for sent in dataverse), dataverse
    requests = [
        (sent["method"], sent["path"].removeprefix(API), sent["query"], sent["prefer"], sent["status"])
        for sent in dataverse
    ]
    return out["result"], requests


def entity_set_lookup(table):
    return (
        "GET",
        "/EntityDefinitions",
        f"$select=LogicalName,EntitySetName,PrimaryIdAttribute&$filter=LogicalName eq '{table}'",
        None,
        200,
    )


def test_records_list_reads_the_shared_group_and_its_machines_page_by_page(example):
    result, sent = sdk(example, """
groups = rows(client.records.list("flowmachinegroup", select=["name", "flowgrouptype"], filter="statecode eq 0"))
machines = rows(client.records.list("flowmachine", select=["name", "_flowmachinegroupid_value"],
                                    orderby=["name asc"], page_size=1, count=True))
done({"groups": groups, "machines": machines})
""")
    [group] = result["groups"]
    assert (group["flowmachinegroupid"], group["name"]) == (GROUP, "Finance bots")
    assert isinstance(group["flowgrouptype"], int)
    assert [(m["name"], m["_flowmachinegroupid_value"]) for m in result["machines"]] == [
        ("FIN-VM-01", GROUP),
        ("FIN-VM-02", GROUP),
    ]
    one_per_page = "odata.maxpagesize=1"
    assert sent[:4] == [
        entity_set_lookup("flowmachinegroup"),
        ("GET", "/flowmachinegroups", "$select=name,flowgrouptype&$filter=statecode eq 0", None, 200),
        entity_set_lookup("flowmachine"),
        ("GET", "/flowmachines", "$select=name,_flowmachinegroupid_value&$orderby=name asc&$count=true",
         one_per_page, 200),
    ]
    # The second page is the first answer's @odata.nextLink, as the SDK got it.
    [(method, path, query, prefer, status)] = sent[4:]
    assert (method, path, prefer, status) == ("GET", "/flowmachines", one_per_page, 200)
    assert "$skiptoken=" in query


def test_query_builder_filters_selects_orders_and_tops(example):
    result, sent = sdk(example, f"""
machines = (client.query.builder("flowmachine")
            .select("name", "_flowmachinegroupid_value", "statecode")
            .where(col("_flowmachinegroupid_value") == uuid.UUID("{GROUP}"))
            .where(col("name").startswith("FIN"))
            .order_by("name", descending=True)
            .top(5)
            .include_formatted_values()
            .execute())
try:
    client.query.builder("flowmachine").where(col("_flowmachinegroupid_value") == "{GROUP}").execute()
    refused = None
except HttpError as error:
    refused = {{"status": error.status_code, "code": error.details.get("service_error_code"), "message": error.message}}
def names(query):
    return sorted(m["name"] for m in rows(query.execute()))
ending = names(client.query.builder("flowmachine").select("name").where(col("name").endswith("-02")))
inside = names(client.query.builder("flowmachine").select("name").where(col("name").in_(["FIN-VM-01", "HR-LAPTOP-07"])))
outside = names(client.query.builder("flowmachine").select("name").where(col("name").not_in(["FIN-VM-01"])))
done({{"machines": rows(machines), "refused": refused, "ending": ending, "inside": inside, "outside": outside}})
""")
    refused = result["refused"]
    assert result["ending"] == ["FIN-VM-02"], result
    # HR-LAPTOP-07 is not shared with the app: In finds only what it may read.
    assert result["inside"] == ["FIN-VM-01"], result
    assert result["outside"] == ["FIN-VM-02"], result
    result = result["machines"]
    assert [m["name"] for m in result] == ["FIN-VM-02", "FIN-VM-01"]
    for machine in result:
        assert machine["_flowmachinegroupid_value"] == GROUP
        assert machine["_flowmachinegroupid_value@OData.Community.Display.V1.FormattedValue"] == "Finance bots"
        assert machine["statecode@OData.Community.Display.V1.FormattedValue"] == "Active"
    assert sent == [
        entity_set_lookup("flowmachine"),
        (
            "GET",
            "/flowmachines",
            "$select=name,_flowmachinegroupid_value,statecode"
            f"&$filter=_flowmachinegroupid_value eq {GROUP} and startswith(name, 'FIN')"
            "&$orderby=name desc&$top=5",
            'odata.include-annotations="OData.Community.Display.V1.FormattedValue"',
            200,
        ),
        ("GET", "/flowmachines", f"$filter=_flowmachinegroupid_value eq '{GROUP}'", None, 400),
        ("GET", "/flowmachines", "$select=name&$filter=endswith(name, '-02')", None, 200),
        (
            "GET",
            "/flowmachines",
            "$select=name&$filter=Microsoft.Dynamics.CRM.In"
            """(PropertyName='name',PropertyValues=["FIN-VM-01","HR-LAPTOP-07"])""",
            None,
            200,
        ),
        (
            "GET",
            "/flowmachines",
            """$select=name&$filter=Microsoft.Dynamics.CRM.NotIn(PropertyName='name',PropertyValues=["FIN-VM-01"])""",
            None,
            200,
        ),
    ]
    assert refused["status"] == 400, refused
    assert refused["code"] == "0x80060888", refused
    assert (
        "Found operand types 'Edm.Guid' and 'Edm.String' for operator kind 'Equal'." in refused["message"]
    ), refused


def test_query_fetchxml_joins_pages_with_the_cookie_aggregates_and_is_refused_in_dataverse_format(example):
    result, sent = sdk(example, f"""
joined = rows(client.query.fetchxml({FETCH_JOIN!r}).execute())
paged = [rows(page) for page in client.query.fetchxml({FETCH_PAGED!r}).execute_pages()]
counted = rows(client.query.fetchxml({FETCH_COUNT!r}).execute())
try:
    client.query.fetchxml('<fetch><entity name="flowmachine"><attribute name="nope" /></entity></fetch>').execute()
    refused = None
except HttpError as error:
    refused = {{"status": error.status_code, "code": error.details.get("service_error_code"), "message": error.message}}
done({{"joined": joined, "paged": paged, "counted": counted, "refused": refused}})
""")
    assert [(r["name"], r["g.name"]) for r in result["joined"]] == [
        ("FIN-VM-01", "Finance bots"),
        ("FIN-VM-02", "Finance bots"),
    ]
    assert [[r["name"] for r in page] for page in result["paged"]] == [["FIN-VM-01"], ["FIN-VM-02"]]
    assert result["counted"] == [{"machines": 2}]
    refused = result["refused"]
    assert (refused["status"], refused["code"]) == (400, "0x80041103"), refused
    assert "'flowmachine' entity doesn't contain attribute with Name = 'nope'" in refused["message"]

    paging = 'odata.include-annotations="Microsoft.Dynamics.CRM.fetchxmlpagingcookie,Microsoft.Dynamics.CRM.morerecords"'
    assert sent[0] == entity_set_lookup("flowmachine")
    fetches = sent[1:]
    assert [(m, p, prefer, status) for m, p, _, prefer, status in fetches] == [
        ("GET", "/flowmachines", paging, 200),
        ("GET", "/flowmachines", paging, 200),
        ("GET", "/flowmachines", paging, 200),
        ("GET", "/flowmachines", paging, 200),
        ("GET", "/flowmachines", paging, 400),
    ]
    queries = [query for _, _, query, _, _ in fetches]
    assert all(query.startswith("fetchXml=<fetch") for query in queries), queries
    assert 'alias="g"' in queries[0]
    # The second page: the first answer's cookie, decoded, with page="2".
    assert 'page="2"' in queries[2] and "paging-cookie=" in queries[2] and "FIN-VM-01" in queries[2]
    assert 'aggregate="count"' in queries[3]


def test_batch_reads_through_dataverse_batch(example):
    """`client.batch` (not one of the three reads above, which never batch):
    POST /api/data/v9.2/$batch, Content-Type: multipart/mixed;
    boundary="batch_{uuid}", one part `GET https://contoso.crm.dynamics.com
    /api/data/v9.2/flowmachines?$select=name&$top=5 HTTP/1.1`."""
    result, sent = sdk(example, """
batch = client.batch.new()
batch.records.list("flowmachine", select=["name"], orderby=["name asc"], top=5)
try:
    answer = batch.execute()
    result = [{"status": r.status_code, "names": [v["name"] for v in (r.data or {}).get("value", [])]}
              for r in answer.responses]
except HttpError as error:
    result = {"status": error.status_code, "code": error.details.get("service_error_code"), "message": error.message}
done(result)
""")
    assert sent[-1][:2] == ("POST", "/$batch")
    assert result == [{"status": 200, "names": ["FIN-VM-01", "FIN-VM-02"]}], result


def test_batch_change_set_of_two_is_refused_in_dataverses_format(example):
    """`batch.changeset()` with two writes: Dataverse runs them in one
    transaction; the platform cannot promise all or none of several writes,
    so it refuses the change set with one 400 part (the SDK's error_code and
    error_message) and keeps neither; a read after it runs under
    continue_on_error."""
    result, sent = sdk(example, """
batch = client.batch.new()
with batch.changeset() as cs:
    cs.records.create("flowmachinegroup", {"name": "First of two"})
    cs.records.create("flowmachinegroup", {"name": "Second of two"})
batch.records.list("flowmachinegroup", select=["name"], filter="name eq 'First of two'")
answer = batch.execute(continue_on_error=True)
result = [{"status": r.status_code, "code": r.error_code, "message": r.error_message,
           "rows": (r.data or {}).get("value")} for r in answer.responses]
done(result)
""")
    assert sent[-1][:2] == ("POST", "/$batch")
    refused, read = result
    assert (refused["status"], refused["code"]) == (400, "0x80060888"), result
    assert "change set of one request only" in refused["message"], result
    assert (read["status"], read["rows"]) == (200, []), result


def test_query_sql_is_run_or_refused(example):
    """`query.sql` (not one of the three reads above): GET
    /api/data/v9.2/flowmachines?sql=SELECT TOP 1 name FROM flowmachine ORDER BY name.
    The platform runs no SQL: it refuses the parameter, as Dataverse refuses
    one it does not know ('The query parameter utm_source is not supported',
    rappen/FetchXMLBuilder#437; 'sql query parameter is not supported',
    microsoft/PowerPlatform-DataverseClient-Python#74), rather than answer
    every row as if it were absent."""
    result, sent = sdk(example, """
try:
    result = {"rows": rows(client.query.sql("SELECT TOP 1 name FROM flowmachine ORDER BY name"))}
except HttpError as error:
    result = {"status": error.status_code, "message": error.message}
done(result)
""")
    assert sent[-1][1:3] == ("/flowmachines", "sql=SELECT TOP 1 name FROM flowmachine ORDER BY name")
    if "rows" in result:
        assert [row.get("name") for row in result["rows"]] == ["FIN-VM-01"], result
        assert "_ownerid_value" not in result["rows"][0], result
    else:
        assert result["status"] == 400 and "not supported" in result["message"], result
