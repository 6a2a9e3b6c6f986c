//! The Dataverse Web API of one org, for what the seed reads and shares.

use padconnect_core::GroupType;
use padconnect_core::{AccessRights, ShareRole};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{ClientError, Org, Secret, Target, http};

pub struct DataverseClient {
    http: reqwest::Client,
    /// `https://{org}.crm.dynamics.com/api/data/v9.2`, or a platform's.
    base: String,
    token: http::Bearer,
}

/// A query value quoted for `$filter` ('' doubles a quote).
pub(crate) fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl DataverseClient {
    pub fn new(
        http: reqwest::Client,
        target: &Target,
        org: &Org,
        token: impl Into<http::Bearer>,
    ) -> Self {
        Self {
            http,
            base: format!("{}/api/data/v9.2", target.dataverse(org)),
            token: token.into(),
        }
    }

    pub(crate) async fn get(&self, path_and_query: &str) -> Result<Value, ClientError> {
        let url = format!("{}/{path_and_query}", self.base);
        Ok(http::send(&self.http, Method::GET, &url, &self.token, None)
            .await?
            .1)
    }

    /// `method` on `{base}/{path}` with an optional body: the answer's JSON.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let url = format!("{}/{path}", self.base);
        Ok(http::send(&self.http, method, &url, &self.token, body)
            .await?
            .1)
    }

    pub(crate) async fn rows(&self, path_and_query: &str) -> Result<Vec<Value>, ClientError> {
        Ok(self.get(path_and_query).await?["value"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// The machine groups the caller may read.
    pub async fn machine_groups(&self) -> Result<Vec<Value>, ClientError> {
        self.rows("flowmachinegroups?$select=flowmachinegroupid,name,flowgrouptype,statecode&$orderby=name").await
    }

    /// A group by id, by name, or by the name of a standalone machine (whose
    /// hidden group the seed's "Flow Machine Group" column names).
    pub async fn find_group(&self, name_or_id: &str) -> Result<Option<Value>, ClientError> {
        if uuid::Uuid::try_parse(name_or_id).is_ok() {
            return match self.get(&format!("flowmachinegroups({name_or_id})")).await {
                Ok(group) => Ok(Some(group)),
                Err(ClientError::Service { code, .. }) if code == "0x80040217" => Ok(None),
                Err(other) => Err(other),
            };
        }
        let by_name = self
            .rows(&format!(
                "flowmachinegroups?$filter=name eq {}&$select=flowmachinegroupid,name,flowgrouptype,statecode,_ownerid_value",
                quoted(name_or_id)
            ))
            .await?;
        let mut groups: Vec<Value> = by_name
            .into_iter()
            .filter(|g| g["flowgrouptype"] != GroupType::Default.code())
            .collect();
        // Names are not unique: another maker may make a group of the same
        // name and share it with the caller. Taking either would send the
        // Windows credentials to whoever won the order, so neither is taken.
        if groups.len() > 1 {
            return Err(ambiguous("machine group", name_or_id, &groups));
        }
        if let Some(group) = groups.pop() {
            return Ok(Some(group));
        }
        let machines = self
            .rows(&format!(
                "flowmachines?$filter=name eq {}&$select=flowmachineid,name,_flowmachinegroupid_value,_ownerid_value",
                quoted(name_or_id)
            ))
            .await?;
        // Two machines of one name (in two groups, or re-registered) are
        // as ambiguous as two groups.
        if machines.len() > 1 {
            return Err(ambiguous("machine", name_or_id, &machines));
        }
        match machines
            .first()
            .and_then(|m| m["_flowmachinegroupid_value"].as_str())
        {
            Some(group_id) => Box::pin(self.find_group(group_id)).await,
            None => Ok(None),
        }
    }

    /// The systemuser of an app (its application user) or of a person.
    pub async fn system_user(
        &self,
        app_client_id: Option<&str>,
        upn: Option<&str>,
    ) -> Result<Option<Value>, ClientError> {
        let filter = match (app_client_id, upn) {
            (Some(app), _) => format!("applicationid eq {app}"),
            (None, Some(upn)) => format!("domainname eq {}", quoted(upn)),
            (None, None) => return Ok(None),
        };
        Ok(self
            .rows(&format!("systemusers?$filter={filter}"))
            .await?
            .into_iter()
            .next())
    }

    /// Registers a standalone machine (with its hidden group): the row made.
    /// With `force`, a machine of that name is deleted first, as the silent
    /// registration's `-force` overrides a registration: the connections that
    /// targeted it break.
    pub async fn register_machine(
        &self,
        name: &str,
        description: Option<&str>,
        force: bool,
    ) -> Result<Value, ClientError> {
        if force && let Some(existing) = self.find_machine(name).await? {
            let id = existing["flowmachineid"].as_str().unwrap_or_default();
            let url = format!("{}/flowmachines({id})", self.base);
            http::send(&self.http, Method::DELETE, &url, &self.token, None).await?;
        }
        let mut body = json!({ "name": name });
        if let Some(description) = description {
            body["description"] = json!(description);
        }
        let url = format!("{}/flowmachines", self.base);
        let http = self.http.clone();
        let (_, row) = http::send_with(
            &http,
            &http::Retry::default(),
            Method::POST,
            &url,
            &self.token,
            Some(&body),
            &[("Prefer", "return=representation")],
        )
        .await?;
        Ok(row)
    }

    /// The caller's systemuser id (`WhoAmI`): fails with 0x80072560 when a
    /// service principal has no application user in the environment.
    pub async fn who_am_i(&self) -> Result<String, ClientError> {
        let reply = self.get("WhoAmI").await?;
        reply["UserId"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ClientError::Protocol {
                url: format!("{}/WhoAmI", self.base),
                reason: "no UserId in the answer".into(),
            })
    }

    /// Who a machine group was shared with, and the rights each holds
    /// (`RetrieveSharedPrincipalsAndAccess`); its owner is not among them.
    pub async fn shared_access(
        &self,
        group_id: &str,
    ) -> Result<Vec<(String, AccessRights)>, ClientError> {
        let path = format!(
            "RetrieveSharedPrincipalsAndAccess(Target=@p1)?@p1={{'@odata.id':'flowmachinegroups({group_id})'}}"
        );
        let reply = self.get(&path).await?;
        let mut shares = Vec::new();
        for access in reply["PrincipalAccesses"].as_array().into_iter().flatten() {
            let principal = access["Principal"]["ownerid"].as_str().unwrap_or_default();
            let rights = access["AccessMask"]
                .as_str()
                .unwrap_or_default()
                .parse()
                .map_err(|e: padconnect_core::ParseError| ClientError::Protocol {
                    url: format!("{}/{path}", self.base),
                    reason: e.to_string(),
                })?;
            shares.push((principal.to_ascii_lowercase(), rights));
        }
        Ok(shares)
    }

    /// A machine by id or by name; a name that several machines have is
    /// refused with them listed.
    pub async fn find_machine(&self, name_or_id: &str) -> Result<Option<Value>, ClientError> {
        let filter = match uuid::Uuid::try_parse(name_or_id) {
            Ok(id) => format!("flowmachineid eq {id}"),
            Err(_) => format!("name eq {}", quoted(name_or_id)),
        };
        let mut machines = self.rows(&format!("flowmachines?$filter={filter}")).await?;
        if machines.len() > 1 {
            return Err(ambiguous("machine", name_or_id, &machines));
        }
        Ok(machines.pop())
    }

    /// Moves a standalone machine into a group (silent registration's
    /// `-joinmachinegroup`); the first machine to join sets the password.
    pub async fn join_group(
        &self,
        machine_id: &str,
        group_id: &str,
        group_password: &Secret,
    ) -> Result<(), ClientError> {
        let body = json!({ "GroupId": group_id, "GroupPassword": group_password.expose() });
        self.machine_action(machine_id, "JoinGroup", Some(&body))
            .await
    }

    /// Makes a machine standalone again, in a new hidden group.
    pub async fn leave_group(&self, machine_id: &str) -> Result<(), ClientError> {
        self.machine_action(machine_id, "LeaveGroup", None).await
    }

    async fn machine_action(
        &self,
        machine_id: &str,
        action: &str,
        body: Option<&Value>,
    ) -> Result<(), ClientError> {
        let url = format!(
            "{}/flowmachines({machine_id})/Microsoft.Dynamics.CRM.{action}",
            self.base
        );
        http::send(&self.http, Method::POST, &url, &self.token, body)
            .await
            .map(|_| ())
    }

    /// GrantAccess: gives the systemuser the role's rights on the group.
    pub async fn share_group(
        &self,
        group_id: &str,
        system_user_id: &str,
        role: ShareRole,
    ) -> Result<(), ClientError> {
        let body = json!({
            "Target": { "flowmachinegroupid": group_id, "@odata.type": "Microsoft.Dynamics.CRM.flowmachinegroup" },
            "PrincipalAccess": {
                "AccessMask": role.rights().to_string(),
                "Principal": { "systemuserid": system_user_id, "@odata.type": "Microsoft.Dynamics.CRM.systemuser" }
            }
        });
        let url = format!("{}/GrantAccess", self.base);
        http::send(&self.http, Method::POST, &url, &self.token, Some(&body))
            .await
            .map(|_| ())
    }
}

/// A name that several rows the caller can see have: each one's id and
/// owner, so the caller can name the right one by id.
fn ambiguous(what: &str, name: &str, rows: &[Value]) -> ClientError {
    let key = match what {
        "machine" => "flowmachineid",
        _ => "flowmachinegroupid",
    };
    let listed: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} (owner {})",
                r[key].as_str().unwrap_or("?"),
                r["_ownerid_value"].as_str().unwrap_or("?")
            )
        })
        .collect();
    ClientError::Ambiguous(format!(
        "{} {what}s visible to this identity are named '{name}': {}. Give the one you mean by its id (--group ID, or the machine's id), so that the Windows credentials go to the group you trust",
        rows.len(),
        listed.join(", ")
    ))
}
