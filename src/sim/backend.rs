//! The backend stub (being written).
