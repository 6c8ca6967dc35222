//! What a signed-in supervisor does beyond the counter's work: the day at a glance and its
//! events, the export, the chain's status and account management. Every call checks the role
//! first, so no window or command can reach these as a clerk.

use crate::accounts::{Account, Accounts, NewAccount};
use crate::audit::checkpoint::ChainStatus;
use crate::audit::day::{self, DaySummary, DaysExport, EventFilter, EventPage, Labels};
use crate::audit::export::{ExportReport, Formats};
use crate::audit::key::CounterKey;
use crate::error::Result;
use crate::station::Station;
use chrono::NaiveDate;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug)]
pub struct Supervision {
    station: Arc<Station>,
    accounts: Accounts,
    /// The counter's SM2 key (see [`crate::audit::key`]), which signs each export's checkpoint.
    key: CounterKey,
}

impl Supervision {
    pub fn new(station: Arc<Station>, key: CounterKey) -> Self {
        let accounts = Accounts::new(station.clone());
        Supervision { station, accounts, key }
    }

    /// The day at a glance, with item names and people's names beside the codes.
    pub fn day_summary(&self, date: NaiveDate) -> Result<DaySummary> {
        self.accounts.supervisor()?;
        let labels = Labels {
            items: self.station.settings().service_items.iter().map(|i| (i.code.clone(), i.name.clone())).collect(),
            people: self.accounts.list()?.into_iter().map(|a| (a.account, a.name)).collect(),
        };
        day::summarize(self.station.cache(), date, &labels)
    }

    pub fn events(&self, date: NaiveDate, filter: &EventFilter, offset: u64, limit: u32) -> Result<EventPage> {
        self.accounts.supervisor()?;
        day::events(self.station.cache(), date, filter, offset, limit)
    }

    /// Exports one day into `out_dir` (audited as the supervisor's); `None` for a day without
    /// events.
    pub fn export_day(
        &self,
        date: NaiveDate,
        formats: Formats,
        out_dir: &Path,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Option<ExportReport>> {
        self.accounts.supervisor()?;
        let by = self.station.audit_context();
        let now = self.station.clock().now_china();
        let days = DaysExport { by: &by, from: date, to: date, formats, out_dir, now };
        day::export_days(self.station.cache(), &self.key, &days, progress)
    }

    /// Walks the whole chain and its checkpoints (`AuditTampered` names the first bad event).
    pub fn chain_status(&self) -> Result<ChainStatus> {
        self.accounts.supervisor()?;
        self.station.cache().verify_chain()
    }

    pub fn accounts(&self) -> Result<Vec<Account>> {
        self.accounts.supervisor()?;
        self.accounts.list()
    }

    pub fn add_account(&self, new: &NewAccount<'_>) -> Result<Account> {
        self.accounts.supervisor()?;
        self.accounts.add(new)
    }

    pub fn set_disabled(&self, account: &str, disabled: bool) -> Result<Account> {
        self.accounts.supervisor()?;
        self.accounts.set_disabled(account, disabled)
    }

    pub fn reset_password(&self, account: &str, new_password: &str) -> Result<()> {
        self.accounts.supervisor()?;
        self.accounts.reset_password(account, new_password)
    }
}
