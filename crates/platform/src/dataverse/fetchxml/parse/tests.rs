//! The planner's rules that the HTTP tests do not reach one by one.

use super::check::all_tables;
use super::*;
use crate::dataverse::fetchxml::xml;
use crate::dataverse::served::ENTITY_SETS;

fn planned(text: &str, table: Table) -> Result<Plan, Refusal> {
    plan(&xml::parse(text)?, table, Uuid::nil())
}

#[test]
fn every_entity_set_served_can_be_joined() {
    assert_eq!(all_tables().count(), ENTITY_SETS.len());
    for set in ENTITY_SETS {
        let table = Table::from_entity_set(set.name).unwrap();
        assert_eq!(table_named(table.logical_name()).unwrap(), table);
    }
}

#[test]
fn default_aliases_are_dataverses() {
    let plan = planned(
        "<fetch><entity name='flowmachine'>\
           <link-entity name='flowmachinegroup' from='flowmachinegroupid' to='flowmachinegroupid'/>\
           <link-entity name='flowmachinegroup' from='flowmachinegroupid' to='flowmachinegroupid'/>\
           <link-entity name='systemuser' from='systemuserid' to='ownerid' alias='owner'/>\
           <link-entity name='flowsession' from='machineid' to='flowmachineid'/>\
         </entity></fetch>",
        Table::Machines,
    )
    .unwrap();
    let aliases: Vec<&str> = plan.root.links.iter().map(|l| l.alias.as_str()).collect();
    // Many-to-one: the table's name, then numbered; one-to-many: numbered.
    assert_eq!(
        aliases,
        vec![
            "flowmachinegroup",
            "flowmachinegroup1",
            "owner",
            "flowsession1"
        ]
    );
    assert_eq!(plan.root.links[3].from, "_machineid_value");
    assert_eq!(plan.tables().len(), 4);
}

#[test]
fn outputs_name_root_columns_plainly_and_linked_ones_by_alias() {
    let plan = planned(
        "<fetch><entity name='flowmachine'><attribute name='flowmachinegroupid'/><attribute name='name' alias='machine'/>\
           <link-entity name='flowmachinegroup' from='flowmachinegroupid' to='flowmachinegroupid' alias='g'>\
             <attribute name='ownerid'/><attribute name='name' alias='group'/><order attribute='name'/></link-entity>\
           <order attribute='name' descending='true'/></entity></fetch>",
        Table::Machines,
    )
    .unwrap();
    let outputs: Vec<(&str, &str)> = plan
        .outputs
        .iter()
        .map(|o| (o.source.as_str(), o.name.as_str()))
        .collect();
    assert_eq!(
        outputs,
        vec![
            ("g._ownerid_value", "g.ownerid"),
            ("g.name", "group"),
            ("_flowmachinegroupid_value", "_flowmachinegroupid_value"),
            ("name", "machine"),
        ]
    );
    // The entity's orders first, the link's after ("Order rows").
    assert_eq!(
        plan.orders,
        vec![("name".to_owned(), true), ("g.name".to_owned(), false)]
    );
    assert!(plan.orders_by_link);
    assert_eq!(
        plan.selected,
        Some(vec![
            "flowmachineid".to_owned(),
            "_flowmachinegroupid_value".to_owned(),
            "name".to_owned()
        ])
    );
}

#[test]
fn conditions_and_values_are_bounded() {
    let values = "<value>x</value>".repeat(MAX_CONDITIONS);
    let text = format!(
        "<fetch><entity name='flowmachinegroup'><filter><condition attribute='name' operator='in'>{values}</condition></filter></entity></fetch>"
    );
    let refusal = planned(&text, Table::MachineGroups).unwrap_err();
    assert!(refusal.message.contains("conditions"), "{refusal:?}");
    let long = "x".repeat(MAX_PATTERN + 1);
    let text = format!(
        "<fetch><entity name='flowmachinegroup'><filter><condition attribute='name' operator='like' value='{long}'/></filter></entity></fetch>"
    );
    assert_eq!(
        planned(&text, Table::MachineGroups).unwrap_err().code,
        codes::INVALID_ARGUMENT
    );
}

proptest::proptest! {
    /// Any arrangement of FetchXML's own words plans or is refused.
    #[test]
    fn never_panics(words in proptest::collection::vec(proptest::sample::select(vec![
        "<fetch", "<fetch aggregate='true'", " top='1'", " count='2'", " page='3'", " distinct='true'", ">", "/>", "</fetch>",
        "<entity name='flowmachinegroup'", "<entity name='flowmachine'", "</entity>",
        "<attribute name='name'", " alias='a'", " aggregate='count'", " groupby='true'", "<all-attributes/>",
        "<link-entity name='flowmachine' from='flowmachinegroupid' to='flowmachinegroupid'", " link-type='outer'", "</link-entity>",
        "<filter", " type='or'", "</filter>", "<condition attribute='name' operator='in'", " operator='eq' value='x'",
        " entityname='a'", "<value>1</value>", "</condition>", "<order attribute='name'", " alias='a'",
    ]), 0..24)) {
        let text: String = words.concat();
        let _ = planned(&text, Table::MachineGroups);
    }
}
