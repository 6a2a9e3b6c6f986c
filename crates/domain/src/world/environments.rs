//! Checking a world file's environments: their members, machine groups,
//! standalone machines and shares (`Checker`'s half that knows the fleet).

use super::*;

impl Checker<'_> {
    /// A fleet column's value under the rule every surface applies.
    fn column(&mut self, path: &str, value: &str, column: TextColumn) -> Option<String> {
        match column.check(value) {
            Ok(value) => Some(value),
            Err(invalid) => {
                self.problem(
                    path,
                    match invalid.reason {
                        Reason::Missing => "must not be empty".to_owned(),
                        Reason::TooLong { max } => format!("must be at most {max} characters"),
                        Reason::ControlCharacter => {
                            "must not contain control characters".to_owned()
                        }
                        _ => invalid.describe(),
                    },
                );
                None
            }
        }
    }

    pub(super) fn environment(
        &mut self,
        path: &str,
        e: &EnvironmentSpec,
        tenant: &TenantPrincipals,
    ) -> Option<WorldEnvironment> {
        let id = match e.id.parse::<EnvironmentId>() {
            Ok(id) => {
                Self::unique(
                    &mut self.problems,
                    &mut self.seen.environments,
                    &id,
                    &format!("{path}.id"),
                    "this environment id",
                );
                Some(id)
            }
            Err(err) => {
                self.problem(&format!("{path}.id"), err);
                None
            }
        };
        let display_name = self.non_empty(&format!("{path}.display_name"), &e.display_name);
        let org = e.org.trim().to_ascii_lowercase();
        if !is_org_name(&org) {
            self.problem(
                &format!("{path}.org"),
                format!(
                    "'{}' is not an org name: one DNS label, as in contoso.crm.dynamics.com",
                    e.org
                ),
            );
        } else {
            Self::unique(
                &mut self.problems,
                &mut self.seen.orgs,
                &org,
                &format!("{path}.org"),
                "this org",
            );
        }
        let application_users: Vec<Uuid> = e
            .application_users
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let field = format!("{path}.application_users[{i}]");
                match Uuid::try_parse(v)
                    .ok()
                    .filter(|id| tenant.apps.contains(id))
                {
                    Some(id) => Some(id),
                    None => {
                        self.problem(
                            &field,
                            format!(
                                "'{v}' is not the client_id of an app of tenant {}",
                                tenant.domain
                            ),
                        );
                        None
                    }
                }
            })
            .collect();
        let makers: Vec<String> = e
            .makers
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let upn = v.trim().to_ascii_lowercase();
                if tenant.users.contains(&upn) {
                    return Some(upn);
                }
                self.problem(
                    &format!("{path}.makers[{i}]"),
                    format!("'{v}' is not the upn of a user of tenant {}", tenant.domain),
                );
                None
            })
            .collect();
        let members = EnvironmentMembers {
            apps: &application_users,
            makers: &makers,
        };
        let mut machine_names = BTreeMap::new();
        let mut groups: Vec<WorldGroup> = e
            .machine_groups
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                self.group(
                    &format!("{path}.machine_groups[{i}]"),
                    g,
                    id,
                    &members,
                    &mut machine_names,
                )
            })
            .collect();
        groups.extend(e.machines.iter().enumerate().filter_map(|(i, m)| {
            self.standalone(
                &format!("{path}.machines[{i}]"),
                m,
                id,
                &members,
                &mut machine_names,
            )
        }));
        let credentials = e
            .credentials
            .iter()
            .enumerate()
            .filter_map(|(i, c)| self.credential(&format!("{path}.credentials[{i}]"), c, &members))
            .collect();
        Some(WorldEnvironment {
            id: id?,
            display_name: display_name?,
            org,
            application_users,
            makers,
            machine_groups: groups,
            credentials,
            ready_after_seconds: e.ready_after_seconds,
            import_seconds: e.import_seconds,
        })
    }

    fn group(
        &mut self,
        path: &str,
        g: &MachineGroupSpec,
        env: Option<EnvironmentId>,
        members: &EnvironmentMembers,
        machine_names: &mut BTreeMap<String, String>,
    ) -> Option<WorldGroup> {
        let id = self.record_id(path, &g.id);
        let name = self.column(&format!("{path}.name"), &g.name, GROUP_NAME);
        let owner = self.member(&format!("{path}.owner"), &g.owner, members);
        let shared_with = self.shares(path, &g.shared_with, members);
        let machines: Vec<WorldMachine> = g
            .machines
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let field = format!("{path}.machines[{i}]");
                let (name, accounts, runtime) = match m {
                    MachineSpec::Name(name) => {
                        let name = self.machine_name(&field, name, machine_names);
                        (name, Vec::new(), MachineRuntime::default())
                    }
                    MachineSpec::Table(m) => {
                        self.unknown_keys(&field, &m.unknown, &GroupMachineSpec::KEYS);
                        (
                            self.machine_name(&format!("{field}.name"), &m.name, machine_names),
                            self.accounts(&field, &m.traits.accounts),
                            self.runtime(&field, &m.traits),
                        )
                    }
                };
                let name = name?;
                let id = derived_id(&["flowmachine", &env?.to_string(), &name]);
                Some(WorldMachine {
                    id,
                    name,
                    description: String::new(),
                    accounts,
                    runtime,
                })
            })
            .collect();
        if machines.len() > MAX_MACHINES_PER_GROUP {
            self.problem(
                &format!("{path}.machines"),
                format!("a machine group holds at most {MAX_MACHINES_PER_GROUP} machines"),
            );
        }
        Some(WorldGroup {
            id: id?,
            name: name?,
            description: g.description.clone(),
            hidden: false,
            owner: owner?,
            machines,
            shared_with: shared_with?,
        })
    }

    fn standalone(
        &mut self,
        path: &str,
        m: &StandaloneMachineSpec,
        env: Option<EnvironmentId>,
        members: &EnvironmentMembers,
        machine_names: &mut BTreeMap<String, String>,
    ) -> Option<WorldGroup> {
        self.unknown_keys(path, &m.unknown, &StandaloneMachineSpec::KEYS);
        let name = self.machine_name(&format!("{path}.name"), &m.name, machine_names);
        let env = env?.to_string();
        let id = match &m.id {
            Some(v) => self.guid(&format!("{path}.id"), v),
            None => name.as_ref().map(|n| derived_id(&["flowmachine", &env, n])),
        };
        let group_id = match &m.group_id {
            Some(v) => self.guid(&format!("{path}.group_id"), v),
            None => name
                .as_ref()
                .map(|n| derived_id(&["flowmachinegroup-default", &env, n])),
        };
        for (field, record) in [("id", id), ("group_id", group_id)] {
            if let Some(record) = record {
                Self::unique(
                    &mut self.problems,
                    &mut self.seen.records,
                    &record,
                    &format!("{path}.{field}"),
                    "this id",
                );
            }
        }
        let owner = self.member(&format!("{path}.owner"), &m.owner, members);
        let shared_with = self.shares(path, &m.shared_with, members);
        let name = name?;
        Some(WorldGroup {
            id: group_id?,
            name: name.clone(),
            description: String::new(),
            hidden: true,
            owner: owner?,
            machines: vec![WorldMachine {
                id: id?,
                name,
                description: m.description.clone(),
                accounts: self.accounts(path, &m.traits.accounts),
                runtime: self.runtime(path, &m.traits),
            }],
            shared_with: shared_with?,
        })
    }

    /// A machine's Windows accounts: each a Windows account name, once, with
    /// a password within Windows' length.
    fn accounts(&mut self, path: &str, accounts: &[AccountSpec]) -> Vec<WorldAccount> {
        let mut seen = BTreeMap::new();
        let mut checked = Vec::new();
        for (i, a) in accounts.iter().enumerate() {
            let field = format!("{path}.accounts[{i}]");
            let username = a.username.trim();
            if !is_windows_account(username) || username.starts_with("@environmentVariables(") {
                self.problem(
                    &format!("{field}.username"),
                    format!("'{username}' is not a Windows account: write user, .\\user, MACHINE\\user, DOMAIN\\user, user@domain or AzureAD\\user@domain"),
                );
                continue;
            }
            if username.chars().count() > MAX_ACCOUNT_CHARS {
                self.problem(
                    &format!("{field}.username"),
                    format!("must be at most {MAX_ACCOUNT_CHARS} characters"),
                );
                continue;
            }
            let length = a.password.chars().count();
            if length == 0 || length > MAX_PASSWORD_CHARS {
                self.problem(
                    &format!("{field}.password"),
                    format!("must have 1 to {MAX_PASSWORD_CHARS} characters"),
                );
                continue;
            }
            let key = username.to_ascii_lowercase();
            Self::unique(
                &mut self.problems,
                &mut seen,
                &key,
                &format!("{field}.username"),
                "this account",
            );
            checked.push(WorldAccount {
                username: username.to_owned(),
                password: a.password.clone(),
                can_log_on: a.can_log_on,
                signed_in: a.signed_in,
            });
        }
        checked
    }

    /// How a machine runs flows: a run takes at most the longest run
    /// RunDesktopFlow allows, and fails only with a code the platform
    /// knows the meaning of.
    fn runtime(&mut self, path: &str, machine: &MachineTraits) -> MachineRuntime {
        let defaults = MachineRuntime::default();
        let run_seconds = match machine.run_seconds.map(i64::try_from) {
            None => defaults.run_seconds,
            Some(Ok(seconds)) if seconds <= MAX_TIMEOUT_SECONDS => seconds,
            Some(_) => {
                self.problem(
                    &format!("{path}.run_seconds"),
                    format!("must be at most {MAX_TIMEOUT_SECONDS} (24 hours, the longest a run may take)"),
                );
                defaults.run_seconds
            }
        };
        let fail_with = machine.fail_with.as_deref();
        if let Some(code) = fail_with
            && run_error(code).is_none()
        {
            let known: Vec<&str> = RUN_ERRORS.iter().map(|e| e.code).collect();
            self.problem(
                &format!("{path}.fail_with"),
                format!(
                    "'{code}' is not a run-time error code the platform knows: use one of {}",
                    known.join(", ")
                ),
            );
        }
        MachineRuntime {
            online: machine.online,
            run_seconds,
            fail_with: fail_with.map(str::to_owned),
            lockout_threshold: machine
                .lockout_threshold
                .map_or(defaults.lockout_threshold, i64::from),
        }
    }

    fn machine_name(
        &mut self,
        path: &str,
        name: &str,
        seen: &mut BTreeMap<String, String>,
    ) -> Option<String> {
        let name = self.column(path, name, MACHINE_NAME)?;
        let key = name.to_ascii_lowercase();
        Self::unique(
            &mut self.problems,
            seen,
            &key,
            path,
            "a machine of this name",
        )
        .then_some(name)
    }

    /// A row's `id`: a GUID no other row of the world has.
    fn record_id(&mut self, path: &str, value: &str) -> Option<Uuid> {
        let field = format!("{path}.id");
        let id = self.guid(&field, value)?;
        Self::unique(
            &mut self.problems,
            &mut self.seen.records,
            &id,
            &field,
            "this id",
        );
        Some(id)
    }

    fn credential(
        &mut self,
        path: &str,
        c: &CredentialSpec,
        members: &EnvironmentMembers,
    ) -> Option<WorldCredential> {
        let id = self.record_id(path, &c.id);
        let name = self.column(&format!("{path}.name"), &c.name, CREDENTIAL_NAME);
        let kind = match c.kind.as_deref() {
            None => Some(CredentialType::UsernamePassword),
            Some(label) => CredentialType::parse(label).or_else(|| {
                let names: Vec<_> = CredentialType::ALL.iter().map(|k| k.label()).collect();
                self.problem(
                    &format!("{path}.type"),
                    format!(
                        "'{label}' is not a credential type: use one of {}",
                        names.join(", ")
                    ),
                );
                None
            }),
        };
        let owner = self.member(&format!("{path}.owner"), &c.owner, members);
        let shared_with = self.shares(path, &c.shared_with, members);
        Some(WorldCredential {
            id: id?,
            name: name?,
            kind: kind?,
            owner: owner?,
            shared_with: shared_with?,
        })
    }

    /// A principal with a systemuser in the environment.
    fn member(
        &mut self,
        path: &str,
        value: &str,
        members: &EnvironmentMembers,
    ) -> Option<PrincipalRef> {
        if let Some(id) = Uuid::try_parse(value)
            .ok()
            .filter(|id| members.apps.contains(id))
        {
            return Some(PrincipalRef::App(id));
        }
        let upn = value.trim().to_ascii_lowercase();
        if members.makers.contains(&upn) {
            return Some(PrincipalRef::User(upn));
        }
        self.problem(
            path,
            format!("'{value}' must be one of the environment's makers (upn) or application_users (client_id)"),
        );
        None
    }

    fn shares(
        &mut self,
        path: &str,
        shares: &[ShareSpec],
        members: &EnvironmentMembers,
    ) -> Option<Vec<(PrincipalRef, ShareRole)>> {
        let before = self.problems.len();
        let mut out = Vec::new();
        for (i, s) in shares.iter().enumerate() {
            let field = format!("{path}.shared_with[{i}]");
            let role = s
                .role
                .parse::<ShareRole>()
                .map_err(|e| self.problem(&format!("{field}.role"), e))
                .ok();
            let principal = match (&s.client_id, &s.upn) {
                (Some(v), None) => self.member(&format!("{field}.client_id"), v, members),
                (None, Some(v)) => self.member(&format!("{field}.upn"), v, members),
                _ => {
                    self.problem(&field, "give exactly one of client_id or upn");
                    None
                }
            };
            if let (Some(p), Some(r)) = (principal, role) {
                out.push((p, r));
            }
        }
        (self.problems.len() == before).then_some(out)
    }
}

struct EnvironmentMembers<'a> {
    apps: &'a [Uuid],
    makers: &'a [String],
}
