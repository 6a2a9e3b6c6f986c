-- A machine carries one run at a time ("Each unattended bot on a machine
-- can carry one unattended desktop flow run at a time", Microsoft's Manage
-- machines). The runner checks it with the group's machines locked; the
-- database holds it too, so two replicas can never both start a run on
-- one machine: the second placement fails and its run waits its turn.
-- 2 is SessionStatus::Running.
CREATE UNIQUE INDEX flow_sessions_one_running_per_machine
    ON flow_sessions (machine_id) WHERE statuscode = 2;
