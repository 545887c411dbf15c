//! PIN1 (the 2G CHV1): value, enabled flag, retry counter and the session's verified state.
//!
//! The PUK is not modelled: UNBLOCK PIN answers "blocked", so a card whose PIN is blocked stays
//! blocked, which is what a bench needs to exercise a locked seed.

use std::fmt;

use super::apdu::Fail;
use super::milenage::constant_time_eq;

/// Tries a fresh card allows (TS 102 221 §9.5 leaves the number to the issuer; 3 is usual).
pub(crate) const PIN_TRIES: u8 = 3;

/// PIN values travel as 8 bytes: ASCII digits padded with FF (TS 102 221 §9.5).
pub(crate) type PinBlock = [u8; 8];

#[derive(Clone)]
pub(crate) struct Pin {
    /// None when the seed has no PIN: the card then has PIN1 disabled and no value to check.
    value: Option<PinBlock>,
    enabled: bool,
    tries_left: u8,
    /// Session state, cleared by a reset.
    verified: bool,
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pin")
            .field("enabled", &self.enabled)
            .field("verified", &self.verified)
            .field("tries_left", &self.tries_left)
            .finish_non_exhaustive()
    }
}

impl Pin {
    /// A card with PIN1 enabled and set to `digits`, or disabled when `digits` is None.
    pub(crate) fn new(digits: Option<&str>) -> Pin {
        let value = digits.map(|d| {
            let mut block = [0xFF; 8];
            for (slot, b) in block.iter_mut().zip(d.bytes()) {
                *slot = b;
            }
            block
        });
        Pin { enabled: value.is_some(), value, tries_left: PIN_TRIES, verified: false }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    pub(crate) fn tries_left(&self) -> u8 {
        self.tries_left
    }

    /// Whether an access protected by PIN1 may go ahead.
    pub(crate) fn satisfied(&self) -> bool {
        !self.enabled || self.verified
    }

    pub(crate) fn reset_session(&mut self) {
        self.verified = false;
    }

    /// VERIFY without data: 9000 when no verification is needed, else the tries left.
    pub(crate) fn status(&self) -> Result<(), Fail> {
        if self.tries_left == 0 {
            Err(Fail::PinBlocked)
        } else if self.satisfied() {
            Ok(())
        } else {
            Err(Fail::PinWrong(self.tries_left))
        }
    }

    /// VERIFY with a PIN block. A card without a PIN value accepts any, since nothing is set.
    pub(crate) fn verify(&mut self, candidate: &[u8]) -> Result<(), Fail> {
        if self.tries_left == 0 {
            return Err(Fail::PinBlocked);
        }
        let Some(value) = self.value else {
            return Ok(());
        };
        if constant_time_eq(&value, candidate) {
            self.tries_left = PIN_TRIES;
            self.verified = true;
            Ok(())
        } else {
            self.tries_left -= 1;
            self.verified = false;
            Err(Fail::PinWrong(self.tries_left))
        }
    }

    /// DISABLE PIN: needs the right PIN and an enabled PIN.
    pub(crate) fn disable(&mut self, candidate: &[u8]) -> Result<(), Fail> {
        if !self.enabled {
            return Err(Fail::ConditionsNotSatisfied);
        }
        self.verify(candidate)?;
        self.enabled = false;
        Ok(())
    }

    /// ENABLE PIN: needs the right PIN; a card without a PIN value cannot enable one.
    pub(crate) fn enable(&mut self, candidate: &[u8]) -> Result<(), Fail> {
        if self.enabled || self.value.is_none() {
            return Err(Fail::ConditionsNotSatisfied);
        }
        self.verify(candidate)?;
        self.enabled = true;
        Ok(())
    }

    /// CHANGE PIN: old and new PIN blocks; only while the PIN is enabled.
    pub(crate) fn change(&mut self, old: &[u8], new: &[u8]) -> Result<(), Fail> {
        if !self.enabled {
            return Err(Fail::ConditionsNotSatisfied);
        }
        let new: PinBlock = new.try_into().map_err(|_| Fail::WrongLength)?;
        if !is_pin_block(&new) {
            return Err(Fail::BadData);
        }
        self.verify(old)?;
        self.value = Some(new);
        Ok(())
    }
}

/// 4 to 8 ASCII digits, then FF padding.
fn is_pin_block(block: &PinBlock) -> bool {
    let digits = block.iter().take_while(|&&b| b != 0xFF).count();
    digits >= 4
        && block[..digits].iter().all(u8::is_ascii_digit)
        && block[digits..].iter().all(|&b| b == 0xFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(s: &str) -> PinBlock {
        let mut b = [0xFF; 8];
        b[..s.len()].copy_from_slice(s.as_bytes());
        b
    }

    #[test]
    fn counter_and_block() {
        let mut pin = Pin::new(Some("1234"));
        assert_eq!(pin.status(), Err(Fail::PinWrong(3)));
        assert_eq!(pin.verify(&block("0000")), Err(Fail::PinWrong(2)));
        assert_eq!(pin.verify(&block("1234")), Ok(()));
        assert_eq!(pin.tries_left(), 3);
        assert_eq!(pin.status(), Ok(()));
        for left in [2, 1, 0] {
            assert_eq!(pin.verify(&block("9999")), Err(Fail::PinWrong(left)));
        }
        assert_eq!(pin.verify(&block("1234")), Err(Fail::PinBlocked));
        assert!(!format!("{pin:?}").contains("1234"));
    }

    #[test]
    fn disable_enable_change() {
        let mut pin = Pin::new(Some("1234"));
        assert_eq!(pin.enable(&block("1234")), Err(Fail::ConditionsNotSatisfied));
        assert_eq!(pin.disable(&block("1234")), Ok(()));
        assert!(pin.satisfied());
        assert_eq!(pin.enable(&block("1234")), Ok(()));
        assert_eq!(pin.change(&block("1234"), &block("12")), Err(Fail::BadData));
        assert_eq!(pin.change(&block("1234"), &block("5678")), Ok(()));
        pin.reset_session();
        assert_eq!(pin.verify(&block("5678")), Ok(()));
        let mut none = Pin::new(None);
        assert_eq!(none.status(), Ok(()));
        assert_eq!(none.enable(&block("1234")), Err(Fail::ConditionsNotSatisfied));
    }
}
