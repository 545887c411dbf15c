//! The simulated network (being written).
