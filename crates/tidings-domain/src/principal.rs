//! Who is calling: the three kinds of authenticated caller, as every service sees them.

use crate::device::Platform;
use crate::ids::{ApiKeyId, AppId, CompanyId, UserId};
use crate::user::Role;

/// A user of a company (agent, admin or owner), with the role the store holds now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// The user's company; every query on their behalf is scoped by it.
    pub company_id: CompanyId,
    /// Current role.
    pub role: Role,
}

/// An SDK device, authenticated by a client key of one app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientPrincipal {
    /// The app's company.
    pub company_id: CompanyId,
    /// The app (`X-App-Id`).
    pub app_id: AppId,
    /// The device as the SDK names it (`X-Device-Id`).
    pub device_id: String,
    /// `X-SDK-Version`, when sent.
    pub sdk_version: Option<String>,
    /// `X-Platform` (ios, android, web or desktop), when sent.
    pub platform: Option<Platform>,
    /// The key that authenticated the request.
    pub key_id: ApiKeyId,
}

/// A company's own service, authenticated by a server key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePrincipal {
    /// The key's company.
    pub company_id: CompanyId,
    /// The app the key was issued under.
    pub app_id: Option<AppId>,
    /// The key that authenticated the request.
    pub key_id: ApiKeyId,
}

/// Any authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A user, by access token.
    User(Principal),
    /// An SDK device, by client key.
    Client(ClientPrincipal),
    /// A service, by server key.
    Service(ServicePrincipal),
}

impl Caller {
    /// The company the caller acts for.
    pub fn company_id(&self) -> CompanyId {
        match self {
            Caller::User(p) => p.company_id,
            Caller::Client(c) => c.company_id,
            Caller::Service(s) => s.company_id,
        }
    }
}
