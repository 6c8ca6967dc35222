//! 依职能用证: a customer's licenses looked up by the enterprise's USCC (`license/auth`) on a legal
//! ground the clerk picked, ending in the same cards, cache, audit trail and handling record as a scan.

use super::{Observer, ScanOutcome, Station};
use crate::audit::{AuditEvent, AuditKind, Outcome};
use crate::cache::Source;
use crate::domain::{Authorization, AuthorizedLicense, BizNum, Enterprise, License, Operator, ServiceItem, Uscc};
use crate::error::{Error, ErrorCode, Result};
use crate::secret::Secret;
use std::time::Instant;

/// Pages read at most: 3,000 licenses, far beyond any enterprise, so a gateway that keeps
/// answering full pages cannot keep the counter busy for ever.
const MAX_PAGES: u32 = 20;
/// How long the auth codes of a lookup stay usable (as those of an authorization, contract §5).
const AUTH_CODE_LIFETIME_MINUTES: i64 = 30;
/// Our own id for the licenses of one lookup (the service gives none): never a gateway's
/// authorization id, so the handling record knows to send none.
const HOLDER_AUTH_PREFIX: &str = "HOLDER-";

/// Whether an authorization id is one this counter made for a lookup by holder.
pub fn is_holder_lookup(auth_id: &str) -> bool {
    auth_id.starts_with(HOLDER_AUTH_PREFIX)
}

impl Station {
    /// Looks up the licenses of the enterprise `holder` for the service item on `ground` (one of
    /// `[lookup] grounds`, else `GROUND_REQUIRED` before anything goes out), then fetches each
    /// license's annotated copy and caches it as a scan does, reporting the same events. No
    /// license at all is `NO_LICENSES`, with the ground recorded.
    pub async fn lookup(
        &self,
        holder: &Uscc,
        ground: &str,
        item_code: Option<&str>,
        biz_num: &BizNum,
        observe: Observer<'_>,
    ) -> Result<ScanOutcome> {
        let started = Instant::now();
        let result = self.lookup_inner(holder, ground, item_code, biz_num, observe, started).await;
        Self::report_end(&result, observe);
        result
    }

    async fn lookup_inner(
        &self,
        holder: &Uscc,
        ground: &str,
        item_code: Option<&str>,
        biz_num: &BizNum,
        observe: Observer<'_>,
        started: Instant,
    ) -> Result<ScanOutcome> {
        let item = self.settings.service_item(item_code)?;
        let ground = self.settings.lookup.ground(ground)?;
        let event = |outcome, error: Option<&Error>, detail: String| AuditEvent {
            error_code: error.map(|e| e.code),
            service_item_code: Some(item.code.clone()),
            biz_num: Some(biz_num.as_str().to_owned()),
            uscc: Some(holder.as_str().to_owned()),
            detail: Some(format!("依据：{ground}；{detail}")),
            ..AuditEvent::new(AuditKind::Lookup, outcome)
        };
        // Who asked for whose licenses, and why, is on record before the question goes out.
        self.audit(&event(Outcome::Info, None, "查询中".to_owned()))?;

        let operator = self.operator();
        let found = match self.holder_licenses(holder, item, biz_num, &operator).await {
            Ok(found) if found.is_empty() => Err(Error::new(ErrorCode::NoLicenses)),
            other => other,
        };
        let found = match found {
            Ok(found) => found,
            Err(err) => {
                let detail = err.detail.clone().unwrap_or_else(|| err.code.as_str().to_owned());
                self.audit(&event(Outcome::Failed, Some(&err), detail))?;
                return Err(err);
            }
        };

        let (enterprise, authorization) = self.holder_authorization(holder, biz_num, &found);
        self.cache.store_authorization(&enterprise, &authorization, item, biz_num, self.clock.now_china())?;
        self.audit(&AuditEvent {
            auth_id: Some(authorization.auth_id.clone()),
            ..event(Outcome::Ok, None, format!("{} licenses found", found.len()))
        })?;
        let handling = self.open_handling(item, biz_num, (&enterprise, &authorization), Source::LicenseAuth, observe);
        let fetches =
            authorization.licenses.iter().zip(&found).map(|(authorized, (license, _))| (authorized, Some(license)));
        let licenses = self.fetch_all(&handling, fetches, None).await;
        self.finish(&handling, authorization.expires_at, licenses, started)
    }

    /// Every license of the holder, page by page, each with its auth code.
    async fn holder_licenses(
        &self,
        holder: &Uscc,
        item: &ServiceItem,
        biz_num: &BizNum,
        operator: &Operator,
    ) -> Result<Vec<(License, Secret)>> {
        let mut found = Vec::new();
        for page_index in 1..=MAX_PAGES {
            let page_size = self.settings.lookup.page_size;
            let page = self.gateway.licenses_by_holder(holder, item, biz_num, operator, page_index, page_size).await?;
            let empty = page.licenses.is_empty();
            found.extend(page.licenses.into_iter().map(|(license, code)| (license, Secret::new(code))));
            if empty || found.len() as u64 >= page.total_count {
                break;
            }
        }
        Ok(found)
    }

    /// The enterprise and a local authorization for a lookup's licenses: the holder's name as the
    /// licenses give it, no legal representative (the service does not say), the auth codes' life.
    fn holder_authorization(
        &self,
        holder: &Uscc,
        biz_num: &BizNum,
        found: &[(License, Secret)],
    ) -> (Enterprise, Authorization) {
        let name = found
            .iter()
            .map(|(license, _)| license.holder_name.trim())
            .find(|name| !name.is_empty())
            .unwrap_or(holder.as_str())
            .to_owned();
        let enterprise = Enterprise { name, uscc: holder.clone(), legal_rep_name: String::new() };
        let authorization = Authorization {
            auth_id: format!("{HOLDER_AUTH_PREFIX}{}-{}", biz_num.as_str(), self.nonces.nonce(6)),
            expires_at: self.clock.now_china() + chrono::Duration::minutes(AUTH_CODE_LIFETIME_MINUTES),
            licenses: found
                .iter()
                .map(|(license, code)| AuthorizedLicense { summary: license.summary.clone(), auth_code: code.clone() })
                .collect(),
        };
        (enterprise, authorization)
    }
}
