//! The values the network hands to the modem, and the modem's side of authentication.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::model::{Plmn, Rat};

/// EMM cause 2: IMSI unknown in HSS (the card's IMSI is not a subscriber, e.g. garbled).
pub const CAUSE_IMSI_UNKNOWN: u8 = 2;
/// EMM cause 3: illegal UE, what an authentication reject amounts to (wrong RES, bad card).
pub const CAUSE_ILLEGAL_UE: u8 = 3;

/// One cell a modem hears at the site.
#[derive(Debug, Clone, PartialEq)]
pub struct HeardCell {
    pub plmn: Plmn,
    /// The carrier's long name, as in `AT+COPS=?`.
    pub carrier_name: String,
    /// The carrier's short name (its long name without a trailing country or business word).
    pub short_name: String,
    pub rat: Rat,
    pub dbm: f64,
    /// The site file's `cell_id`, if it has one.
    pub label: Option<String>,
}

/// An accepted attach. Valid until [`Network::detach`](super::Network::detach).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub imsi: String,
    /// The visited network (the serving cell's carrier).
    pub plmn: Plmn,
    pub rat: Rat,
    /// Whether the serving cell's carrier is not the subscriber's home carrier.
    pub roaming: bool,
    pub cell_label: Option<String>,
    pub id: u64,
}

/// An active data context (PDP context / default EPS bearer). Valid until it is deactivated or
/// its registration is detached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub id: u64,
    /// The address the network gave it, `10.x.y.z`, unique within the network.
    pub ip: String,
    pub apn: String,
    pub imsi: String,
    pub plmn: Plmn,
}

/// The card as the network sees it during authentication: RAND and AUTN in, an answer out.
/// The modem implements it by sending AUTHENTICATE through its SIM slot.
pub trait SimAuth: Send {
    fn authenticate<'a>(
        &'a mut self,
        rand: [u8; 16],
        autn: [u8; 16],
    ) -> Pin<Box<dyn Future<Output = AuthAnswer> + Send + 'a>>;
}

/// What the card answered to AUTHENTICATE (3G context).
#[derive(Clone, PartialEq, Eq)]
pub enum AuthAnswer {
    /// `DB`: RES, CK, IK.
    Res { res: Vec<u8>, ck: [u8; 16], ik: [u8; 16] },
    /// `DC`: synchronisation failure with AUTS.
    Resync { auts: [u8; 14] },
    /// `98 62`: the card found MAC-A wrong (the network is not who it claims).
    MacFailure,
    /// Anything else: no answer, a status word the modem cannot use, a removed card.
    CardError,
}

/// RES, CK and IK are session secrets: `Debug` shows only which answer it was.
impl fmt::Debug for AuthAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthAnswer::Res { res, .. } => write!(f, "Res(<{} bytes redacted>)", res.len()),
            AuthAnswer::Resync { .. } => f.write_str("Resync(<AUTS redacted>)"),
            AuthAnswer::MacFailure => f.write_str("MacFailure"),
            AuthAnswer::CardError => f.write_str("CardError"),
        }
    }
}

/// Why an attach did not register. `NoCoverage` and `Silent` describe the futures that never
/// complete (the modem's own timers decide, as with a real network); they are never returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachFailure {
    #[error("no usable cell: the network is never reached")]
    NoCoverage,
    #[error("attach rejected with EMM cause {cause}")]
    Rejected { cause: u8 },
    #[error("the network does not answer")]
    Silent,
}

/// Why a context was not activated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivationFailure {
    #[error("context activation rejected with ESM cause {cause}")]
    Rejected { cause: u8 },
    /// The registration was detached (or never existed): no network service.
    #[error("not registered")]
    NotRegistered,
}

/// Why a request got no answer. A `data_fail` fault is not here: that request never completes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataFailure {
    /// The context was deactivated or its registration detached (possibly while in flight).
    #[error("no active data context")]
    NoContext,
    /// The network's DNS knows only the backend (and, forwarding to a backend over TCP, only
    /// on its port).
    #[error("unknown host")]
    UnknownHost,
    /// The backend behind a [`BackendRoute::Forward`](super::BackendRoute::Forward) refused,
    /// dropped or did not answer the connection.
    #[error("the backend is unreachable")]
    Unreachable,
}
