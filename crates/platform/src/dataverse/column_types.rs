//! The type of every column the served tables show, in one place: the
//! `AttributeType` that `EntityDefinitions(...)/Attributes` answers, and
//! the Edm type `$filter` reads it as (the Web API's `$metadata` types each
//! property by its attribute's type: a lookup's `_x_value` is an Edm.Guid,
//! a choice an Edm.Int32, a date and time an Edm.DateTimeOffset).
//!
//! Dataverse names a column the same way on every table, so most types
//! follow from the name; the few names two tables type apart are matched
//! with their table first. Sources: the tables' pages under powerapps-docs
//! `reference/entities/` (flowsession, asyncoperation, workflow, solution,
//! connectionreference, environmentvariabledefinition, credential,
//! transactioncurrency, organization).

use super::odata::Edm;
use super::solution_tables::SolutionTable;
use super::tables::Table;

/// Dataverse's `AttributeTypeCode`, for the kinds of column served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    BigInt,
    Boolean,
    DateTime,
    Decimal,
    Double,
    EntityName,
    Integer,
    Lookup,
    Memo,
    Owner,
    Picklist,
    State,
    Status,
    String,
    Uniqueidentifier,
    /// A multi-select choice: the Web API answers its values as text
    /// ("280920000", or "1,2").
    Virtual,
}

impl AttributeType {
    pub fn name(self) -> &'static str {
        match self {
            Self::BigInt => "BigInt",
            Self::Boolean => "Boolean",
            Self::DateTime => "DateTime",
            Self::Decimal => "Decimal",
            Self::Double => "Double",
            Self::EntityName => "EntityName",
            Self::Integer => "Integer",
            Self::Lookup => "Lookup",
            Self::Memo => "Memo",
            Self::Owner => "Owner",
            Self::Picklist => "Picklist",
            Self::State => "State",
            Self::Status => "Status",
            Self::String => "String",
            Self::Uniqueidentifier => "Uniqueidentifier",
            Self::Virtual => "Virtual",
        }
    }

    /// The Edm type of the column's property in the Web API.
    pub fn edm(self) -> Edm {
        match self {
            Self::BigInt => Edm::Int64,
            Self::Boolean => Edm::Boolean,
            Self::DateTime => Edm::DateTimeOffset,
            Self::Decimal => Edm::Decimal,
            Self::Double => Edm::Double,
            Self::Integer | Self::Picklist | Self::State | Self::Status => Edm::Int32,
            Self::Lookup | Self::Owner | Self::Uniqueidentifier => Edm::Guid,
            Self::EntityName | Self::Memo | Self::String | Self::Virtual => Edm::String,
        }
    }
}

impl Table {
    /// The type of `column`, one of the table's.
    pub fn attribute_type(self, column: &str) -> AttributeType {
        use AttributeType::*;
        match (self, column) {
            // A run's error is a code such as "NoCandidateMachine"; a
            // system job's is a number.
            (Self::FlowSessions, "errorcode") => String,
            (Self::Solution(SolutionTable::AsyncOperations), "errorcode") => Integer,
            (_, c) if c == self.key() => Uniqueidentifier,
            (_, "_ownerid_value") => Owner,
            (_, c) if c.starts_with('_') && c.ends_with("_value") => Lookup,
            (
                _,
                "applicationid"
                | "azureactivedirectoryobjectid"
                | "solutionid"
                | "workflowidunique",
            ) => Uniqueidentifier,
            (
                _,
                "createdon" | "modifiedon" | "installedon" | "updatedon" | "startedon"
                | "completedon" | "lastheartbeatdate",
            ) => DateTime,
            (_, "versionnumber") => BigInt,
            (_, "isdisabled" | "ismanaged" | "isvisible" | "isapimanaged" | "isrequired") => {
                Boolean
            }
            (_, "statecode") => State,
            (_, "statuscode") => Status,
            (
                _,
                "flowgrouptype" | "accessmode" | "connectiontype" | "credentialtype" | "runmode"
                | "triggertype" | "promptingbehavior" | "category" | "type" | "uiflowtype"
                | "modernflowtype" | "solutiontype" | "operationtype",
            ) => Picklist,
            (_, "languagecode" | "currencyprecision" | "retrycount" | "depth" | "subtype") => {
                Integer
            }
            (_, "executiontimespan") => Double,
            (_, "exchangerate") => Decimal,
            (_, "usagetype") => Virtual,
            (_, "primaryentity" | "primaryentitytype") => EntityName,
            (
                _,
                "description" | "clientdata" | "data" | "message" | "friendlymessage"
                | "errormessage" | "defaultvalue" | "value",
            ) => Memo,
            _ => String,
        }
    }

    /// The Edm type `$filter` compares `column` as.
    pub fn edm_type(self, column: &str) -> Edm {
        self.attribute_type(column).edm()
    }
}
