//! Serde helpers shared by the DTOs: timestamp formatting, tri-state
//! fields for partial updates, paging query parameters.

use actix_web::HttpResponse;
use chrono::{DateTime, SecondsFormat, Utc};
use patchbay_domain::Page;
use serde::{Deserialize, Deserializer, Serializer};
use utoipa::IntoParams;

use crate::error::ApiError;

/// Timestamps as RFC 3339 UTC with milliseconds: `2024-01-15T10:30:00.000Z`.
pub(crate) fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// For `#[serde(default, deserialize_with = "nullable")]`: absent → `None`
/// (leave unchanged), `null` → `Some(None)` (clear), value → `Some(Some(v))`.
pub(crate) fn nullable<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// For `#[serde(default, deserialize_with = "non_null")]`: absent → `None`,
/// `null` → an error (the field cannot be cleared), value → `Some(v)`.
pub(crate) fn non_null<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    match Option::<T>::deserialize(d)? {
        Some(v) => Ok(Some(v)),
        None => Err(serde::de::Error::custom("must not be null")),
    }
}

/// `?page=&per_page=` (page ≥ 1, per_page 1–100; defaults 1 and 20).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    #[param(minimum = 1, default = 1)]
    pub page: Option<i64>,
    /// Items per page, 1–100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<i64>,
}

impl PageQuery {
    pub(crate) fn page(&self) -> Result<Page, ApiError> {
        Page::from_query(self.page, self.per_page).map_err(|e| ApiError(e.into()))
    }
}

/// A bare JSON array with the total in `X-Total-Count` (the `/api/v1`
/// families' list shape).
pub(crate) fn paged_array<T: serde::Serialize>(items: &[T], total: i64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("x-total-count", total.to_string()))
        .json(items)
}

/// Pages an already loaded short list (members, invites, environments,
/// rules) and answers it as a bare array with `X-Total-Count`.
pub(crate) fn paged_slice<T: serde::Serialize>(items: Vec<T>, page: Page) -> HttpResponse {
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let limit = usize::try_from(page.limit()).unwrap_or(0);
    let slice: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    paged_array(&slice, total)
}
