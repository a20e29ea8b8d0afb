//! Hosts examples and tests.
