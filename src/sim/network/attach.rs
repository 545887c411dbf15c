//! Attach: the subscriber's best cell, AKA authentication through the card (with one SQN
//! resynchronisation), then registration or its rejection.

use super::subscribers::{ServingCell, Subscriber};
use super::types::{AttachFailure, AuthAnswer, CAUSE_ILLEGAL_UE, CAUSE_IMSI_UNKNOWN, Registration, SimAuth};
use super::{Network, TruthKind, lock};
use crate::sim::usim::milenage::constant_time_eq;
use crate::sim::usim::{AuthVector, generate_vector, resync_sqn};

/// AMF of the vectors: the separation bit set, as an E-UTRAN network sends it (TS 33.401 §6.1.1).
const AMF: [u8; 2] = [0x80, 0x00];

/// What one AUTHENTICATE exchange settled.
enum Exchange {
    Authenticated,
    /// The card's SQN is ahead; the network has taken it and may try again.
    Resynchronised,
    Failed,
}

impl Network {
    /// Attach of the subscriber `imsi` (as read from the card): picks the subscriber's best usable
    /// cell (the oracle's rule), authenticates through `sim`, then registers. Sleeps the scaled
    /// carrier latencies. Never completes under `no_coverage`, `silent` or without a usable cell.
    pub async fn attach(&self, imsi: &str, sim: &mut dyn SimAuth) -> Result<Registration, AttachFailure> {
        let Some(sub) = self.inner.subscribers.get(imsi) else {
            return self.reject_unknown(imsi).await;
        };
        let Some(cell) = sub.reachable_cell() else {
            // Nothing the modem can camp on: it searches until its own timer gives up.
            return std::future::pending().await;
        };
        if sub.faults.silent {
            return std::future::pending().await;
        }
        self.record(imsi, TruthKind::AttachStart { plmn: cell.plmn.clone(), rat: cell.rat });
        if !self.authenticate(imsi, sub, cell, sim).await {
            self.record(imsi, TruthKind::AuthFailed);
            return self.reject(imsi, CAUSE_ILLEGAL_UE);
        }
        self.record(imsi, TruthKind::AuthOk);
        self.register(imsi, sub, cell).await
    }

    /// An IMSI the HSS does not know (e.g. garbled by `corrupt_imsi`), heard on the strongest
    /// cell: rejected with cause 2 once that carrier has looked it up.
    async fn reject_unknown(&self, imsi: &str) -> Result<Registration, AttachFailure> {
        if let Some(cell) = self.inner.cells.first() {
            self.record(imsi, TruthKind::AttachStart { plmn: cell.plmn.clone(), rat: cell.rat });
        }
        self.pause(self.inner.strongest_timing.auth_ms).await;
        self.reject(imsi, CAUSE_IMSI_UNKNOWN)
    }

    /// AKA with the card; after an AUTS the network resynchronises and tries once more, as
    /// an MME does with a fresh vector from the HSS.
    async fn authenticate(
        &self,
        imsi: &str,
        sub: &Subscriber,
        cell: &ServingCell,
        sim: &mut dyn SimAuth,
    ) -> bool {
        for _ in 0..2 {
            match self.exchange(sub, cell, sim).await {
                Exchange::Authenticated => return true,
                Exchange::Resynchronised => self.record(imsi, TruthKind::Resync),
                Exchange::Failed => return false,
            }
        }
        false
    }

    /// One AUTHENTICATE with a fresh vector, answered after the carrier's `auth_ms`.
    async fn exchange(&self, sub: &Subscriber, cell: &ServingCell, sim: &mut dyn SimAuth) -> Exchange {
        let vector = self.new_vector(sub);
        self.pause(cell.timing.auth_ms).await;
        match sim.authenticate(vector.rand, vector.autn).await {
            AuthAnswer::Res { res, .. } if constant_time_eq(&res, &vector.xres) => Exchange::Authenticated,
            AuthAnswer::Resync { auts } => match resync_sqn(&sub.milenage, &vector.rand, &auts) {
                Some(sqn_ms) => {
                    sub.resync(u48(&sqn_ms));
                    Exchange::Resynchronised
                }
                // MAC-S wrong: the token is not this subscriber's; an authentication failure.
                None => Exchange::Failed,
            },
            // Wrong RES, the card rejecting our MAC, or no usable answer: authentication reject.
            _ => Exchange::Failed,
        }
    }

    fn new_vector(&self, sub: &Subscriber) -> AuthVector {
        let rand = lock(&self.inner.rng).rand16();
        let sqn = sub.take_sqn().to_be_bytes();
        generate_vector(&sub.milenage, rand, &[sqn[2], sqn[3], sqn[4], sqn[5], sqn[6], sqn[7]], &AMF)
    }

    /// Registration after authentication: rejected (`expired`, `reject`) or accepted, after
    /// the carrier's `register_ms` (plus a `slow_attach` delay).
    async fn register(
        &self,
        imsi: &str,
        sub: &Subscriber,
        cell: &ServingCell,
    ) -> Result<Registration, AttachFailure> {
        if let Some(cause) = sub.faults.registration_reject() {
            self.pause(cell.timing.register_ms).await;
            return self.reject(imsi, cause);
        }
        self.pause(cell.timing.register_ms + sub.faults.slow_attach_ms).await;
        let id = lock(&self.inner.sessions).add_registration(imsi);
        self.record(imsi, TruthKind::Registered { plmn: cell.plmn.clone(), rat: cell.rat });
        Ok(Registration {
            imsi: imsi.to_owned(),
            plmn: cell.plmn.clone(),
            rat: cell.rat,
            roaming: cell.carrier != sub.home,
            cell_label: cell.label.clone(),
            id,
        })
    }

    fn reject(&self, imsi: &str, cause: u8) -> Result<Registration, AttachFailure> {
        self.record(imsi, TruthKind::Rejected { cause });
        Err(AttachFailure::Rejected { cause })
    }
}

fn u48(b: &[u8; 6]) -> u64 {
    b.iter().fold(0, |acc, &x| (acc << 8) | u64::from(x))
}
