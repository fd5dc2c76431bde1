//! Paging of lists: [`Page`] (`page` ≥ 1, `per_page` 1–100, default 1 and
//! 20) and the offset/limit it stands for. Running the query is the store's job.

use crate::error::{DomainError, ErrorKind};

/// Why a page request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PageError {
    /// `page` below 1.
    #[error("page must be at least 1 (got {0})")]
    Page(i64),
    /// `per_page` outside 1–100.
    #[error("per_page must be between 1 and 100 (got {0})")]
    PerPage(i64),
}

impl PageError {
    /// Always [`ErrorKind::Invalid`].
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

impl DomainError for PageError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

/// A validated page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Page {
    page: i64,
    per_page: i64,
}

impl Page {
    /// The first page.
    pub const FIRST: i64 = 1;
    /// `per_page` when none is given.
    pub const DEFAULT_PER_PAGE: i64 = 20;
    /// The largest `per_page`.
    pub const MAX_PER_PAGE: i64 = 100;

    /// A page, 1-based.
    ///
    /// # Errors
    /// [`PageError`] naming the parameter out of range.
    pub const fn new(page: i64, per_page: i64) -> Result<Self, PageError> {
        if page < Self::FIRST {
            return Err(PageError::Page(page));
        }
        if per_page < 1 || per_page > Self::MAX_PER_PAGE {
            return Err(PageError::PerPage(per_page));
        }
        Ok(Self { page, per_page })
    }

    /// From optional query parameters, defaulting the missing ones.
    ///
    /// # Errors
    /// As [`Page::new`].
    pub fn from_query(page: Option<i64>, per_page: Option<i64>) -> Result<Self, PageError> {
        Self::new(
            page.unwrap_or(Self::FIRST),
            per_page.unwrap_or(Self::DEFAULT_PER_PAGE),
        )
    }

    /// The 1-based page number.
    #[must_use]
    pub const fn page(self) -> i64 {
        self.page
    }

    /// Items per page.
    #[must_use]
    pub const fn per_page(self) -> i64 {
        self.per_page
    }

    /// Rows to skip (saturates instead of overflowing for absurd pages).
    #[must_use]
    pub const fn offset(self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// Rows to take.
    #[must_use]
    pub const fn limit(self) -> i64 {
        self.per_page
    }
}

impl Default for Page {
    fn default() -> Self {
        Self {
            page: Self::FIRST,
            per_page: Self::DEFAULT_PER_PAGE,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_first_page_of_twenty() {
        let p = Page::default();
        assert_eq!(
            (p.page(), p.per_page(), p.offset(), p.limit()),
            (1, 20, 0, 20)
        );
        assert_eq!(Page::from_query(None, None), Ok(p));
    }

    #[test]
    fn offset_and_limit() {
        let p = Page::new(3, 25).unwrap();
        assert_eq!((p.offset(), p.limit()), (50, 25));
        assert_eq!(Page::new(1, 1).unwrap().offset(), 0);
        assert_eq!(Page::new(1, 100).unwrap().limit(), 100);
        assert_eq!(Page::new(i64::MAX, 100).unwrap().offset(), i64::MAX);
        assert_eq!(Page::from_query(Some(2), None).unwrap().offset(), 20);
    }

    #[test]
    fn out_of_range_is_refused() {
        assert_eq!(Page::new(0, 20), Err(PageError::Page(0)));
        assert_eq!(Page::new(-1, 20), Err(PageError::Page(-1)));
        assert_eq!(Page::new(1, 0), Err(PageError::PerPage(0)));
        assert_eq!(Page::new(1, 101), Err(PageError::PerPage(101)));
        assert_eq!(Page::new(1, i64::MIN), Err(PageError::PerPage(i64::MIN)));
        assert_eq!(
            PageError::PerPage(101).to_string(),
            "per_page must be between 1 and 100 (got 101)"
        );
        assert_eq!(
            PageError::Page(0).to_string(),
            "page must be at least 1 (got 0)"
        );
        assert_eq!(PageError::Page(0).kind(), ErrorKind::Invalid);
    }
}
