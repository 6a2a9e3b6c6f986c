//! Workload identity federation's fixed names, shared by the client (which
//! asks the platform's issuer for a token) and the platform (which trusts it).

/// The audience Microsoft Graph says an Entra-bound federated token carries
/// (learn.microsoft.com/graph/api/resources/federatedidentitycredential:
/// "should be set to api://AzureADTokenExchange for Microsoft Entra ID").
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// The `iss` of the tokens the local platform issues as a workload's identity
/// provider (`padconnect token --federated`), as GitHub Actions issues
/// `https://token.actions.githubusercontent.com`. A world trusts it like any
/// issuer: `federated_credentials = [{ issuer = PLATFORM_ISSUER, subject = "..." }]`.
pub const PLATFORM_ISSUER: &str = "https://federation.padconnect.localhost";
