//! A seeded invoice store for the ownership tests: invoice 1 belongs to user 7, invoice 2 to
//! user 8. It counts loads and handler runs, and can be made to fail.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Invoice {
    pub id: u64,
    pub user_id: u64,
    pub amount_cents: i64,
}

/// The error a failing store answers with; it names a password that must never leak.
pub const INVOICES_DOWN: &str = "connection refused (postgres://app:hunter2@db)";

#[derive(Clone, Default)]
pub struct InvoiceStore {
    invoices: Arc<Mutex<HashMap<u64, Invoice>>>,
    loads: Arc<AtomicUsize>,
    runs: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
}

impl InvoiceStore {
    /// Invoice 1 (user 7, 1200 cents) and invoice 2 (user 8, 3400 cents).
    pub fn seeded() -> Self {
        let store = InvoiceStore::default();
        {
            let mut invoices = store.invoices.lock().unwrap();
            for (id, user_id, amount_cents) in [(1, 7, 1200), (2, 8, 3400)] {
                invoices.insert(
                    id,
                    Invoice {
                        id,
                        user_id,
                        amount_cents,
                    },
                );
            }
        }
        store
    }

    /// What a `Resource::load` does: counts the load, fails when the store is down.
    pub fn load(&self, id: u64) -> Result<Option<Invoice>, &'static str> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(INVOICES_DOWN);
        }
        Ok(self.invoices.lock().unwrap().get(&id).cloned())
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn set_amount(&self, id: u64, amount_cents: i64) {
        if let Some(stored) = self.invoices.lock().unwrap().get_mut(&id) {
            stored.amount_cents = amount_cents;
        }
    }

    pub fn remove(&self, id: u64) -> Option<Invoice> {
        self.invoices.lock().unwrap().remove(&id)
    }

    pub fn contains(&self, id: u64) -> bool {
        self.invoices.lock().unwrap().contains_key(&id)
    }

    pub fn snapshot(&self) -> HashMap<u64, Invoice> {
        self.invoices.lock().unwrap().clone()
    }

    pub fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }

    /// Every handler calls this first thing.
    pub fn ran(&self) {
        self.runs.fetch_add(1, Ordering::SeqCst);
    }

    pub fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}
