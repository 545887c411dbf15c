//! The virtual USIM as a card that vpcd (and the APDU bridge) can drive.

use super::card::VirtualUsim;
use crate::sim::vpcd::VirtualCard;

impl VirtualCard for VirtualUsim {
    fn atr(&self) -> Vec<u8> {
        VirtualUsim::atr(self).to_vec()
    }

    /// Powering up is a cold reset: the session starts over at the MF.
    fn power_on(&mut self) {
        VirtualUsim::reset(self);
    }

    /// An unpowered card forgets its session; files, SQN and PIN counters are kept.
    fn power_off(&mut self) {
        VirtualUsim::reset(self);
    }

    fn reset(&mut self) {
        VirtualUsim::reset(self);
    }

    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        VirtualUsim::transmit(self, apdu)
    }
}
