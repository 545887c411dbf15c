//! The reference failover firmware (being written).
