//! The simulated modem (being written).
