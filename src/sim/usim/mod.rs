//! Virtual USIM cards built from seed fixtures: a UICC file system with ADF.USIM and the 2G
//! view, the APDUs a modem sends, PIN1, and Milenage authentication.
//!
//! The model is a dual-mode card like the sysmoUSIM-SJS1 whose ATR it gives: UICC commands
//! (class `00`/`80`, ETSI TS 102 221 and 3GPP TS 31.102) and 2G SIM commands (class `A0`,
//! TS 51.011) on one file system. Commands arrive as T=0 TPDUs; case 4 answers come through
//! `61xx` (`9Fxx` in 2G) and GET RESPONSE.
//!
//! Behaviour chosen where the specifications leave room or the bench needs a decision:
//! - **SQN.** The card keeps one SQN_MS, the highest SQN it accepted (the seed's `sqn`, else
//!   0x20). An AUTN is fresh if SQN_MS < SQN ≤ SQN_MS + 2^28; otherwise the card answers with
//!   AUTS. There is no IND array (TS 33.102 Annex C): the network is expected to count up.
//! - **MNC length** in EF_AD: 3 for MCC 310–316, else 2, unless given to
//!   [`VirtualUsim::from_seed_with_mnc_len`] or [`VirtualUsim::from_seed_with_carrier`].
//! - **Files.** Every mandatory EF of TS 31.102 §4.2 and the optional ones a commercial USIM
//!   commonly carries (listed in docs/virtual-bench.md); EF_UST/EF_SST announce exactly the
//!   services whose files exist. EF_SPN/EF_PNN show the home carrier's name (its id unless
//!   given to [`VirtualUsim::from_seed_with_carrier`]); EF_MSISDN and EF_SMSP hold made-up
//!   numbers in ranges no subscriber has (`numbers.rs`).
//! - **Access conditions** follow TS 31.102 §4.2: EF_IMSI and most ADF files need PIN1 to be
//!   read (6982 before VERIFY), while EF_AD, EF_SPN, EF_LI, EF_ECC and the MF's files are always
//!   readable. Files the network provisions (IMSI, AD, UST, ACC, ...) need ADM to be updated,
//!   which the card never grants; the location and key files need PIN1.
//! - **PIN.** A seed without a PIN gives a card with PIN1 disabled and no value: VERIFY with any
//!   value succeeds, ENABLE PIN is refused (6985). A wrong PIN answers 63Cx with the tries left
//!   (63C0 on the third); after that VERIFY answers 6983. The PUK is not modelled: UNBLOCK PIN
//!   answers 6983. The 2G dialect answers 9804 / 9840 / 9808 (CHV disabled) instead.
//! - **Le.** Under T=0 a case 2 answer of known length (STATUS, READ RECORD, GET RESPONSE with
//!   too large an Le) answers 6Cxx with the right length. READ BINARY returns fewer bytes than
//!   the file holds when asked; Le = 00 reads to the end of the file (at most 256 bytes); an Le
//!   past the end answers 6Cxx with the bytes left, not 6282 with partial data, because a T=0
//!   card must send exactly P3 bytes or none. An offset past the end answers 6B00.
//! - **GET RESPONSE** is valid only right after the 61xx/9Fxx that announced the data; any
//!   other command discards it. Without data it answers 6F00, as commercial UICCs are seen to
//!   (e.g. the G&D UICC in seek-for-android issue 77, the card in OpenSC issue 632). An Le
//!   smaller than the data hands out a part and announces the rest with 61xx (ISO 7816-4
//!   chaining of GET RESPONSE); a 2G card drops the rest.
//! - **Toolkit.** TERMINAL PROFILE, TERMINAL RESPONSE, ENVELOPE and TERMINAL CAPABILITY answer
//!   9000; the card has no toolkit application, so it never announces 91xx, and FETCH (which a
//!   terminal sends only after 91xx) finds nothing pending and answers 6F00.
//! - **Logical channels.** Only the basic channel: MANAGE CHANNEL and any class byte naming
//!   another channel answer 6881 (the ATR advertises channels, but no modem on the bench uses them).
//! - **SELECT** accepts P2 = 04 (FCP), 0C (no data) and, leniently, 00 (treated as 04). The FCP
//!   template carries 82, 83, (84), 8A = 05, 8B (rules in EF_ARR 2F06 / 6F06, which exist),
//!   80 and 88 for EFs, and C6 with PS_DO for directories.

mod access;
mod apdu;
mod auth;
mod card;
mod fcp;
mod files;
pub mod milenage;
mod names;
mod numbers;
mod pin;
mod select;
mod vpcd_card;

#[cfg(test)]
mod tests;

pub use card::{UsimError, VirtualUsim};
pub use milenage::{AuthVector, Milenage, autn, auts, generate_vector, kc, resync_sqn, sres};
